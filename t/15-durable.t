#!/usr/bin/perl

# Nothing lost across restarts and faults (issue 17): the ID lists kept
# on disk beside the specs file and loaded at start, a failed specs-file
# write retried until it succeeds, idle workers letting go of old
# snapshots, and the smaller ones (a specs document too big for the zone,
# a refused connect counted as a request, the log's wording when there is
# no last good snapshot).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Compress::Gzip qw(gzip);
use JSON::PP;
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json idlist_id status all_workers server_conf);

# the fetcher has applied the specs with time $time: it asks with it
sub applied {
    my ($f, $time) = @_;
    return wait_for(sub {
               grep { ($_->{query}{sinceTime} // '') eq $time }
                   $f->requests(path => qr{^/v1/download_config_specs/})
           }, 10);
}

# ---- idle workers let go of old snapshots ----
#
# Every worker has served a request (each holds a generation); then new
# specs come every second and no request reaches the workers.  Before,
# a worker kept the generation of its last request: the zone held every
# snapshot published since.  Now an idle worker lets go at its tick.

{
    my $t = StatsigTest->new(fake => 1, workers => 4);
    my $f = $t->fake;

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(server_conf());

    ok($t->run, 'idle: started with 4 workers');
    ok(all_workers($t, sub { $_[0]{worker}{loaded} }, 20),
       'idle: every worker has served with the specs');

    # one request after each: it moves one worker, the others stay idle
    my @retired;
    for my $i (1 .. 6) {
        my $time = 1000 + $i;
        $f->set_specs(dcs_json(time => $time, flag => $i % 2));
        ok(applied($f, $time), "idle: specs $time applied");
        push @retired, status($t)->{zone}{retired};
    }

    my $max = (sort { $b <=> $a } @retired)[0];
    ok($max <= 2, 'idle: at most 2 snapshots retired and still held')
        or diag("retired after each publish: @retired");

    $t->stop;
}

# ---- the ID lists are kept on disk beside the specs file ----
#
# Restarted with Statsig unreachable, in_segment_list answers as before
# the restart; restarted with Statsig reachable, the lists go on with
# Range from the offsets kept.  Before, they were empty after a restart.

my ($alice, $bob) = (idlist_id('alice'), idlist_id('bob'));

sub durable_conf {
    return server_conf(http => "statsig_specs_file %%TESTDIR%%/specs.json;\n"
                             . "    statsig_id_lists_sync_interval 1s;");
}

sub vip { $_[0]->get("/vip?u=$_[1]")->{content} }

{
    my $t = StatsigTest->new(fake => 1, workers => 2);
    my $f = $t->fake;
    my $file = $t->dir . '/specs.json.idlists';

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $f->add_id_list('vips', "+$alice\n");
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(durable_conf());

    ok($t->run, 'idlists: started');
    ok(wait_for(sub { vip($t, 'alice') eq '1' }, 10), 'idlists: alice is in');
    ok(wait_for(sub { -s $file
                      && (status($t)->{id_lists}{file_state}{writes} // 0)
                         >= 1 }, 10),
       'idlists: kept on disk beside the specs file');
    is(status($t)->{id_lists}{file}, $file, 'idlists: status names it');
    $t->stop;

    # Statsig unreachable: the lists come from the file
    $f->control(dcs => 'status500', id_lists => 'status500',
                id_list => 'status500');
    ok($t->run, 'idlists: restarted with Statsig unreachable');
    ok(all_workers($t, sub { $_[0]{worker}{id_lists} == 1 }, 10),
       'idlists: every worker sees the list');
    is(vip($t, 'alice'), '1', 'idlists: alice is still in');
    is(vip($t, 'bob'), '0', 'idlists: bob is not');
    like($t->error_log, qr/1 ID lists loaded from "\Q$file\E"/,
         'idlists: logged');
    $t->stop;

    # Statsig reachable: the list goes on from the offset kept
    my $size = length "+$alice\n";
    my $seen = () = $f->requests(path => qr{^/idlists/vips$});
    $f->control();
    $f->add_id_list('vips', "+$alice\n+$bob\n");
    ok($t->run, 'idlists: restarted with Statsig reachable');
    ok(wait_for(sub { vip($t, 'bob') eq '1' }, 10),
       'idlists: the appended line applied');
    is(vip($t, 'alice'), '1', 'idlists: alice still in');
    my @all = $f->requests(path => qr{^/idlists/vips$});
    my @after = @all[$seen .. $#all];
    ok(!grep({ ($_->{headers}{range} // '') eq 'bytes=0-' } @after),
       'idlists: not downloaded from the start')
        or diag(join ' ', map { $_->{headers}{range} // '-' } @after);
    ok(grep({ ($_->{headers}{range} // '') eq "bytes=$size-" } @after),
       "idlists: but with Range: bytes=$size-");
    ok(wait_for(sub { status($t)->{id_lists}{file_state}{writes} >= 1 }, 10),
       'idlists: written again');
    $t->stop;

    # a corrupt file is reported and ignored
    my $good = StatsigTest::slurp($file);
    $good = 'x' x 64 if length $good < 64;      # none: still a bad file
    my $bad = $good;
    substr($bad, length($bad) - 3, 1) ^= "\x55";
    $t->write_file($file, $bad);
    $f->control(dcs => 'status500', id_lists => 'status500',
                id_list => 'status500');
    ok($t->run, 'idlists: started with a corrupt file');
    like($t->error_log, qr/ID lists file "\Q$file\E" is ignored: its checksum/,
         'idlists: the corrupt file is reported');
    is(vip($t, 'alice'), '0', 'idlists: and ignored');
    $t->stop;

    $t->write_file($file, substr($good, 0, 40));
    ok($t->run, 'idlists: started with a file cut short');
    like($t->error_log, qr/is ignored: its header does not match its size/,
         'idlists: reported');
    $t->stop;
}

# ---- local mode: an operator's ID lists beside the specs file ----

{
    my $t = StatsigTest->new(workers => 1);
    $t->write_file('specs.json', dcs_json(time => 1000, flag => 1));
    $t->write_file('specs.json.idlists', '{"vips": ["alice", "carol"]}');
    $t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_user_id $arg_u;
    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location = /vip { return 200 "$statsig_gate_vip"; }
    }
}
EOF
    ok($t->run, 'local: started');
    is(vip($t, 'alice'), '1', 'local: alice from the operator\'s file');
    is(vip($t, 'carol'), '1', 'local: carol too');
    is(vip($t, 'bob'), '0', 'local: bob is not');

    # a changed file is read on reload
    $t->write_file('specs.json.idlists', '{"vips": ["bob"]}');
    ok($t->reload, 'local: reloaded');
    is(vip($t, 'bob'), '1', 'local: the changed file read on reload');
    is(vip($t, 'alice'), '0', 'local: alice is gone');

    # a file that is not JSON lists: reported, the lists kept
    $t->write_file('specs.json.idlists', '{"vips": [1, 2]}');
    ok($t->reload, 'local: reloaded with a bad file');
    like($t->error_log, qr/is ignored: ID list "vips": id 0 is not a string/,
         'local: the bad file is reported');
    is(vip($t, 'bob'), '1', 'local: the lists in the zone are kept');
    $t->stop;
}

# ---- a failed specs-file write is retried until it works ----
#
# The tests may run as root, for whom a directory without write
# permission is writable: the write is made to fail with a directory in
# place of each worker's temporary file (open() fails with EISDIR for
# root too), then the directories are removed.  The file must catch up
# with no new specs from Statsig.  Before, it stayed at the old specs.

sub file_time {
    my $d = eval { JSON::PP->new->decode(StatsigTest::slurp($_[0])) };
    return $d ? $d->{time} // 0 : 0;
}

{
    my $t = StatsigTest->new(fake => 1, workers => 2);
    my $f = $t->fake;
    my $specs = $t->dir . '/specs.json';

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(durable_conf());

    ok($t->run, 'write: started');
    ok(wait_for(sub { file_time($specs) == 1000 }, 10),
       'write: the specs file written');

    my @tmp = map { "$specs.tmp.$_" } $t->worker_pids;
    mkdir $_ for @tmp;

    $f->set_specs(dcs_json(time => 2000, flag => 0));
    my $st;
    ok(wait_for(sub { $st = status($t);
                      ($st->{specs}{time} // 0) == 2000
                      && $st->{specs}{file_state}{pending} }, 10),
       'write: new specs in the zone, their file write pending');
    like($st->{specs}{file_state}{error} // '', qr/Is a directory/,
         'write: status says why');
    is(file_time($specs), 1000, 'write: the file is behind');
    ok($t->wait_for_log(qr/cannot write the specs file "\Q$specs\E"/, 5),
       'write: logged');

    rmdir $_ for @tmp;
    ok(wait_for(sub { file_time($specs) == 2000 }, 15),
       'write: the file catches up with no new specs from Statsig');
    ok(wait_for(sub { $st = status($t);
                      !$st->{specs}{file_state}{pending} }, 5),
       'write: nothing pending');
    ok(!defined $st->{specs}{file_state}{error}, 'write: no error');
    ok($t->wait_for_log(qr/the specs file "\Q$specs\E" is written again/, 5),
       'write: the recovery logged');
    $t->stop;
}

# ---- the API's bodies and the access log ----
#
# A gzip body of several members is read whole (only the first member was);
# JSON nested past the limit says so (it said "out of memory"); the key in
# a download_config_specs path is masked in the access log by the map the
# README shows.

{
    my $KEY = 'edge-api-key-0123456789';
    my $t = StatsigTest->new(workers => 1);
    $t->write_file('specs.json', dcs_json(time => 1000, flag => 1));
    $t->write_file('api.key', "$KEY\n");
    $t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_api_key file:%%TESTDIR%%/api.key;

    # README, "Keys in the access log"
    map $request $statsig_masked_request {
        "~^(?<sg_a>.*/download_config_specs/)[^/?]+?(?<sg_b>(\.json)?(\?.*)?( HTTP/.*)?)$"
            "${sg_a}***${sg_b}";
        default $request;
    }
    log_format statsig_masked '$remote_addr - $remote_user [$time_local] '
                              '"$statsig_masked_request" $status '
                              '$body_bytes_sent "$http_referer" '
                              '"$http_user_agent"';

    server {
        listen %%LISTEN%%;
        access_log %%TESTDIR%%/logs/masked.log statsig_masked;
        location /statsig/ { statsig_api; }
    }
}
EOF
    ok($t->run, 'api: started');

    my %h = ('statsig-api-key' => $KEY, 'content-type' => 'application/json',
             'content-encoding' => 'gzip');
    my $json = '{"user":{"userID":"u1"},"gateName":"flag"}';
    my ($one, $two);
    my ($a, $b) = (substr($json, 0, 10), substr($json, 10));
    gzip(\$a => \$one) or die;
    gzip(\$b => \$two) or die;
    my $r = $t->request('POST', '/statsig/v1/check_gate', headers => \%h,
                        content => $one . $two);
    is($r->{status}, 200, 'api: a gzip body of two members: 200')
        or diag($r->{content});
    like($r->{content}, qr/"value":true/, 'api: read whole');
    $r = $t->request('POST', '/statsig/v1/check_gate', headers => \%h,
                     content => $one . $two . ("\0" x 8));
    is($r->{status}, 200, 'api: zeros after the last member are padding');
    $r = $t->request('POST', '/statsig/v1/check_gate', headers => \%h,
                     content => $one . 'garbage');
    is($r->{status}, 400, 'api: garbage after a member: 400');

    delete $h{'content-encoding'};
    $r = $t->request('POST', '/statsig/v1/check_gate', headers => \%h,
                     content => '{"user":{"userID":"u1","custom":{"a":'
                         . ('[' x 100) . (']' x 100) . '}},'
                         . '"gateName":"flag"}');
    is($r->{status}, 400, 'api: nested 100 deep: 400');
    like($r->{content}, qr/nested deeper than 64 levels/,
         'api: and says so, not "out of memory"');

    $r = $t->request('GET', "/statsig/v1/download_config_specs/$KEY.json"
                            . '?sinceTime=1', headers => \%h);
    is($r->{status}, 200, 'api: download_config_specs with the key in '
                          . 'the path');
    my $log = '';
    wait_for(sub { $log = StatsigTest::slurp($t->dir . '/logs/masked.log');
                   $log =~ /download_config_specs/ }, 5);
    unlike($log, qr/\Q$KEY\E/, 'api: the key is not in the access log');
    like($log, qr{"GET /statsig/v1/download_config_specs/\*\*\*\.json\?sinceTime=1 HTTP/1\.1"},
         'api: the path is there, masked');
    $t->stop;
}

# ---- a refused connect is a request; the log says what is true ----
#
# Statsig refuses the connection and no specs were ever loaded: each
# failed request is counted as one (requests were fewer than failures),
# and the log does not claim a last good snapshot (it did).

{
    my $t = StatsigTest->new(workers => 1);
    my $closed = StatsigTest::free_port();
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_specs_url http://127.0.0.1:$closed/v1/download_config_specs;
    statsig_id_lists_url http://127.0.0.1:$closed/v1/get_id_lists;
    statsig_sync_interval 1s;
    statsig_id_lists_sync_interval 1s;
    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
    }
}
EOF
    ok($t->run, 'refused: started');
    my $s;
    ok(wait_for(sub { $s = status($t);
                      ($s->{specs}{sync}{failures} // 0) >= 2
                      && ($s->{id_lists}{sync}{failures} // 0) >= 2 }, 15),
       'refused: failures counted');
    for my $k ('specs', 'id_lists') {
        my $sync = $s->{$k}{sync};
        ok($sync->{requests} >= $sync->{failures},
           "refused: $k: requests ($sync->{requests}) >= failures "
           . "($sync->{failures})");
    }
    my $log = $t->error_log;
    like($log, qr/specs sync failed: .*; no specs are loaded yet/,
         'refused: the log says no specs are loaded');
    like($log, qr/ID lists sync failed: .*; no ID lists are loaded yet/,
         'refused: and no ID lists');
    unlike($log, qr/serving the last good snapshot/,
           'refused: not that it serves a last good snapshot');
    $t->stop;
}

# ---- specs that can never fit the zone ----
#
# Logged once, not compiled again, fetched less often; specs that fit end
# it.  Before, the document was downloaded and compiled every interval
# with an [error] line each time.

{
    my $t = StatsigTest->new(fake => 1, workers => 1);
    my $f = $t->fake;

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(server_conf());

    ok($t->run, 'big: started');
    ok(wait_for(sub { (status($t)->{specs}{time} // 0) == 1000 }, 10),
       'big: small specs loaded');

    # a 1.5 MB salt: the compiled specs are larger than the 1 MB zone
    my $big = StatsigDCS::dcs(time => 2000, flag => 0);
    $big->{feature_gates}[0]{salt} = 'x' x 1_500_000;
    $f->set_specs(JSON::PP->new->canonical->encode($big));

    my $s;
    ok(wait_for(sub { $s = status($t);
                      ($s->{specs}{sync}{failures} // 0) >= 3 }, 30),
       'big: three failed syncs')
        or diag(JSON::PP->new->encode($s->{specs}{sync}));
    like($s->{specs}{sync}{error}, qr/do not fit in the statsig zone/,
         'big: status says why');
    is($s->{specs}{time}, 1000, 'big: the small specs still serve');
    my @lines = grep { /\[error\]/ } split /\n/, $t->error_log;
    ok(@lines <= 2, 'big: logged once (2 lines: the zone, the sync)')
        or diag(join "\n", @lines);

    # polls after the first failure come after 2 s, then 4 s: fewer than
    # one a second
    my @dcs = map { $_->{time} }
        $f->requests(path => qr{^/v1/download_config_specs/});
    my $gaps = 0;
    for my $i (1 .. $#dcs) { $gaps++ if $dcs[$i] - $dcs[$i - 1] > 1.9 }
    ok($gaps >= 2, 'big: fetched less often') or diag("@dcs");

    $f->set_specs(dcs_json(time => 3000, flag => 1));
    ok(wait_for(sub { (status($t)->{specs}{time} // 0) == 3000 }, 30),
       'big: specs that fit are loaded');
    ok($t->wait_for_log(qr/specs sync works again/, 5),
       'big: the recovery logged');
    $t->stop;
}

done_testing;
