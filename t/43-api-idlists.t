#!/usr/bin/perl

# statsig_api serves the ID lists the module synced: POST .../v1/
# get_id_lists answers the index ({name: {name, size, url, creationTime,
# fileID}}) with URLs under the same location, and each URL serves the
# list's "+id" lines with Range (206, 416) as Statsig's CDN does.  Then
# statsig-node (../shared/oracle, "make oracle") with nginx as its API
# syncs specs and ID lists from the edge, and its answers for generated
# specs and users equal the oracle's, which reads the same ID lists
# directly: ID-list segments included (without get_id_lists they differ);
# its events reach Statsig through the edge; and a running statsig-node
# follows a list that changes upstream (a new file at the edge, fetched
# whole; no fetch when nothing changed).

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp wait_for);
use StatsigDCS qw(idlist_id status);
use EvalTest qw(need_oracle run_ok);

my $root = StatsigTest::root();
my $nusers = $ENV{STATSIG_ORACLE_USERS} || 300;
my $KEY = 'secret-edge-api-key';

my $oracle = need_oracle();

my $t = StatsigTest->new(fake => 1);
my $f = $t->fake;
my $d = $t->dir;

run_ok($d, "node $oracle/gen.js --seed 4242 --specs 50 --users $nusers "
       . "--out $d/gen", 'generate specs, users and ID lists');
$t->write_file('idlists-none.json', '{}');
run_ok($d, "node $oracle/oracle.js --idlists $d/gen/idlists.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/eval.jsonl",
       'oracle: evaluations with the ID lists');
run_ok($d, "node $oracle/oracle.js --idlists $d/idlists-none.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/eval-none.jsonl",
       'oracle: evaluations without them');

my $FIELDS = '--fields value,rule_id,group_name,secondary_exposures';

# the test can fail: the ID lists change some answers
system("node $oracle/compare.js $d/eval.jsonl $d/eval-none.jsonl $FIELDS "
       . "> $d/none.diff 2>&1");
is($? >> 8, 1, 'without the ID lists statsig-node answers differently')
    or diag(slurp("$d/none.diff"));

# the fake Statsig serves the lists as Statsig's files: hashed ids, plus
# an id added and removed again
my $lists = decode_json(slurp("$d/gen/idlists.json"));
my %want;
for my $name (sort keys %$lists) {
    my %ids = map { idlist_id($_) => 1 } @{ $lists->{$name} };
    my $gone = idlist_id("gone-$name");
    my $text = join('', map { "+$_\n" } sort keys %ids)
               . "+$gone\n-$gone\n";
    $f->add_id_list($name, $text);
    $want{$name} = [ sort keys %ids ];
}
ok(keys %want >= 2, scalar(keys %want) . ' ID lists');

$f->set_specs(slurp("$d/gen/dcs.json"));
$t->write_file('key', 'secret-upstream-key');
$t->write_file('api.key', $KEY);
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_server_key file:%%TESTDIR%%/key;
    %%FAKE_STATSIG%%
    statsig_flush_interval 100ms;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_sync_interval 1s;
    statsig_id_lists_sync_interval 1s;
    statsig_api_key file:%%TESTDIR%%/api.key;
    statsig_exposures off;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /edge/ { statsig_api; }
    }
}
EOF
ok($t->run, 'nginx syncs from the fake Statsig');

ok(wait_for(sub {
    my $s = status($t);
    return ($s->{id_lists}{count} // 0) == keys %want
           && $s->{_status} == 200;
}, 15), 'specs and ID lists loaded');

# ---- the index ----

my $H = { 'statsig-api-key' => $KEY };

my $r = $t->request('POST', '/edge/v1/get_id_lists', content => '{}');
is($r->{status}, 401, 'get_id_lists without the key: 401');

$r = $t->request('POST', '/edge/v1/get_id_lists', content => '{}',
                 headers => $H);
is($r->{status}, 200, 'get_id_lists: 200');
my $index = eval { decode_json($r->{content}) } || {};
is_deeply([sort keys %$index], [sort keys %want], 'every list');

my $base = $t->url('/edge/v1/id_list_file/');
for my $name (sort keys %want) {
    my $e = $index->{$name};
    is($e->{name}, $name, "$name: name");
    is($e->{size}, 10 * @{ $want{$name} }, "$name: size, 10 bytes an id");
    like($e->{url}, qr{^\Q$base\E[0-9a-f]{32}/[0-9a-f]{24}/\Q$name\E$},
         "$name: url under the same location");
    is($e->{fileID}, ($e->{url} =~ m{/([0-9a-f]{24})/[^/]+$})[0],
       "$name: fileID, as in the url");
    is($e->{creationTime}, 0, "$name: creationTime");
}

# ---- a file, with and without Range ----

my ($name) = sort keys %want;
my $e = $index->{$name};
my $full = join('', map { "+$_\n" } @{ $want{$name} });
(my $path = $e->{url}) =~ s{^http://[^/]+}{};

$r = $t->get($path);
is($r->{status}, 200, 'file: 200 without Range');
is($r->{content}, $full, 'file: the ids, sorted, one "+id" line each');
is($r->{headers}{'content-length'}, length $full, 'file: Content-Length');

$r = $t->get($path, headers => { Range => 'bytes=0-' });
is($r->{status}, 206, 'bytes=0-: 206');
is($r->{content}, $full, 'bytes=0-: all of it');
is($r->{headers}{'content-range'}, 'bytes 0-' . (length($full) - 1) . '/'
   . length($full), 'bytes=0-: Content-Range');

$r = $t->get($path, headers => { Range => 'bytes=10-' });
is($r->{content}, substr($full, 10), 'bytes=10-: from the second line');

$r = $t->get($path, headers => { Range => 'bytes=13-24' });
is($r->{status}, 206, 'bytes=13-24: 206');
is($r->{content}, substr($full, 13, 12), 'bytes=13-24: within lines');

$r = $t->get($path, headers => { Range => 'bytes=' . length($full) . '-' });
is($r->{status}, 416, 'a Range past the end: 416');
is($r->{headers}{'content-range'}, 'bytes */' . length($full),
   '416: Content-Range');

$r = $t->request('HEAD', $path);
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'content-length'}, length $full, 'HEAD: Content-Length');

(my $bad = $path) =~ s{/id_list_file/[0-9a-f]}{/id_list_file/x};
is($t->get($bad)->{status}, 404, 'a wrong token: 404');
($bad = $path) =~ s{/([0-9a-f]{24})/}{/000000000000000000000000/};
is($t->get($bad)->{status}, 404, 'another fileID: 404');
($bad = $path) =~ s{/[^/]+$}{/nosuchlist};
is($t->get($bad)->{status}, 404, 'a token for another name: 404');
is($t->get('/edge/v1/id_list_file/')->{status}, 404, 'no token: 404');
is($t->request('POST', $path, content => 'x')->{status}, 405,
   'POST a file: 405');

# ---- statsig-node with the edge as its API ----

my $api = $t->url('/edge/v1');
run_ok($d, "EDGE_EVENTS=2500 node $root/t/sdk-edge-eval.js $oracle $api $KEY "
       . "$d/gen/dcs.json $d/gen/users.jsonl $d/sdk-lists.json "
       . "> $d/edge.jsonl", 'statsig-node initializes from the edge');

my $held = eval { decode_json(slurp("$d/sdk-lists.json")) } || {};
for my $n (sort keys %want) {
    is($held->{$n}{ids}, scalar @{ $want{$n} },
       "statsig-node holds list $n whole");
    is($held->{$n}{fileID}, $index->{$n}{fileID}, "$n: with its fileID");
}

system("node $oracle/compare.js $d/eval.jsonl $d/edge.jsonl $FIELDS "
       . "> $d/edge.diff 2>&1");
is($? >> 8, 0, "statsig-node through the edge answers as the oracle "
   . "($nusers users, ID-list segments included)")
    or diag(slurp("$d/edge.diff"));

my @r = $f->requests(path => qr{^/idlists/});
ok(@r >= keys %want, 'nginx fetched the lists from the fake Statsig');

# the SDK's events (batches of 999, gzip) reach Statsig through the edge
sub sdk_events {
    return grep { ($_->{eventName} // '') eq 'edge_sdk_event' }
        map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}
ok(wait_for(sub { sdk_events() >= 2500 }, 20),
   "statsig-node's 2,500 events arrive at the fake Statsig via the edge")
    or diag(scalar(sdk_events()) . ' arrived; the edge answered: '
            . join(' | ', grep { m{/log_event} }
                   split /\n/, (eval { slurp("$t->{dir}/logs/access.log") }
                                 // '')));
my %seen = map { $_->{value} => 1 } sdk_events();
is(scalar keys %seen, 2500, 'each once, with its value');
unlike($t->error_log, qr/buffered to a temporary file/,
       'no batch went through a temporary file');

# ---- a running statsig-node across a change upstream ----
#
# The list changes at Statsig (an id added, one removed: appended lines,
# same file there); nginx applies them, the edge's file for the list is a
# new one (another fileID), and the SDK's next sync fetches that list whole
# again and nothing else; a sync with no change fetches nothing.

my $sd = "$d/resync";
mkdir $sd or die "mkdir: $!";
my $pid = fork() // die "fork: $!";
if (!$pid) {
    open(STDERR, '>', "$sd/node.err");
    exec('node', "$root/t/sdk-edge-idlists.js", $oracle, $api, $KEY, $sd);
    exit 127;
}

sub held {
    my ($n) = @_;
    return undef unless wait_for(sub { -e "$sd/held-$n.json" }, 30);
    return eval { decode_json(slurp("$sd/held-$n.json")) };
}

sub file_fetches {
    my $log = slurp("$d/logs/access.log");
    return () = $log =~ m{"GET /edge/v1/id_list_file/}g;
}

sub sync_sdk {
    my ($n) = @_;
    $t->write_file("go-$n", '');
    rename("$d/go-$n", "$sd/go-$n") or die "rename: $!";
    return held($n);
}

my $h0 = held(0);
ok($h0, 'a running statsig-node synced from the edge')
    or diag(slurp("$sd/node.err"));
is_deeply($h0->{$name}{ids}, $want{$name}, "it holds ${name}'s ids");

my ($old, $new) = ($want{$name}[0], idlist_id('newcomer'));
my $text = join('', map { "+$_\n" } @{ $want{$name} })
           . "+" . idlist_id("gone-$name") . "\n-" . idlist_id("gone-$name")
           . "\n+$new\n-$old\n";
$f->add_id_list($name, $text);
my @now = sort(grep({ $_ ne $old } @{ $want{$name} }), $new);

my $index2;
ok(wait_for(sub {
    my $r = $t->request('POST', '/edge/v1/get_id_lists', content => '{}',
                        headers => $H);
    $index2 = eval { decode_json($r->{content}) } || {};
    return ($index2->{$name}{fileID} // '') ne $index->{$name}{fileID};
}, 15), "nginx applied the change: $name is a new file at the edge");
is($index2->{$name}{size}, 10 * @now, 'of the new size');

my $before = file_fetches();
my $h1 = sync_sdk(1);
is_deeply($h1->{$name}{ids}, \@now,
          'the SDK holds the new set: the id added, the one removed')
    or diag(slurp("$sd/node.err"));
is($h1->{$name}{fileID}, $index2->{$name}{fileID}, 'with the new fileID');
is($h1->{$name}{readBytes}, 10 * @now, 'read from byte 0 again, whole');
for my $other (grep { $_ ne $name } sort keys %want) {
    is_deeply($h1->{$other}, $h0->{$other}, "$other untouched");
}
is(file_fetches() - $before, 1, 'one file fetched: the changed list');

$before = file_fetches();
my $h2 = sync_sdk(2);
is_deeply($h2, $h1, 'a sync with no change: the same lists');
is(file_fetches() - $before, 0, 'and no file fetched');

$t->write_file('stop', '');
rename("$d/stop", "$sd/stop");
waitpid($pid, 0);
is($? >> 8, 0, 'statsig-node ends cleanly');

$t->stop;

done_testing;
