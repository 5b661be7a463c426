#!/usr/bin/perl

# statsig_api serves DCS v2 at .../v2/download_config_specs[/<key>.json],
# as Statsig's CDN serves the Rust-core SDKs, made from the v1 document
# the module synced: byte for byte what the oracle's converter
# (../shared/oracle/lib/convert.js) writes, with the v1 endpoint's key,
# sinceTime, HEAD and gzip.  Then the real @statsig/statsig-node-core
# 0.23.2 (installed with the oracle, "make oracle") runs twice on generated
# specs and users: once against the fake Statsig (v2 from convert.js, ID
# lists, log_event) and once with nginx as its API (specsUrl, idListsUrl,
# logEventUrl at the edge); its answers for every gate, config, experiment
# and layer are the same, ID-list segments included (without the lists
# they differ); its events, posted to the edge in zstd, reach the fake
# Statsig; and a running statsig-node-core follows a change upstream
# through the edge (a new v2 for the new specs; sinceTime answered with
# has_updates false meanwhile); and a burst of v2 requests made as newer
# specs land is answered whole, each worker converting once while the
# requests that come meanwhile wait.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use IO::Uncompress::Gunzip qw(gunzip);
use StatsigTest qw(slurp wait_for);
use StatsigDCS qw(idlist_id status all_workers);
use EvalTest qw(need_oracle run_ok);

my $root = StatsigTest::root();
my $nusers = $ENV{STATSIG_ORACLE_USERS} || 300;
my $KEY = 'secret-edge-core-key';

my $oracle = need_oracle();
plan skip_all => 'no statsig-node-core in build/oracle (make oracle)'
    unless -d "$oracle/node_modules/\@statsig/statsig-node-core";
plan skip_all => 'the zstd tool is not installed (make deps)'
    unless system('zstd --version >/dev/null 2>&1') == 0;

my $t = StatsigTest->new(fake => 1);
my $f = $t->fake;
my $d = $t->dir;

run_ok($d, "node $oracle/gen.js --seed 4646 --specs 50 --users $nusers "
       . "--out $d/gen", 'generate specs, users and ID lists');
run_ok($d, "node $oracle/lib/convert.js $d/gen/dcs.json $d/v2.json",
       'convert.js: the v2 document');
$t->write_file('idlists-none.json', '{}');

# the fake Statsig serves the lists as Statsig's files (t/43's way)
my $lists = decode_json(slurp("$d/gen/idlists.json"));
for my $name (sort keys %$lists) {
    my %ids = map { idlist_id($_) => 1 } @{ $lists->{$name} };
    $f->add_id_list($name, join('', map { "+$_\n" } sort keys %ids));
}
ok(keys %$lists >= 2, scalar(keys %$lists) . ' ID lists');

$f->set_specs(slurp("$d/gen/dcs.json"));
$f->set_specs_v2(slurp("$d/v2.json"));
$t->write_file('key', 'secret-upstream-key');
$t->write_file('api.key', $KEY);
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    log_format enc '\$request_method \$uri "\$args" "\$http_content_encoding" '
                   '\$status \$body_bytes_sent "\$http_statsig_sdk_type"';
    statsig_zone statsig 32m;
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
        location /edge/ {
            statsig_api;
            access_log %%TESTDIR%%/logs/edge.log enc;
            gzip on;
            gzip_types application/json;
        }
    }
}
EOF
ok($t->run, 'nginx syncs from the fake Statsig');

ok(wait_for(sub {
    my $s = status($t);
    return ($s->{id_lists}{count} // 0) == keys %$lists
           && $s->{_status} == 200;
}, 15), 'specs and ID lists loaded');

# ---- the v2 document ----

my $H = { 'statsig-api-key' => $KEY };
my $want = slurp("$d/v2.json");
my $time = decode_json($want)->{time};
my $v2 = "/edge/v2/download_config_specs";

# the first v2 request of a worker waits for the conversion: a POST's too
my $r = $t->request('POST', $v2, headers => $H, content => '{}');
is($r->{status}, 200, 'POST {}, the first v2 request: 200');
ok($r->{content} eq $want, 'POST: the whole v2 text');

$r = $t->get("$v2/$KEY.json");
is($r->{status}, 200, 'v2 with the key in the path: 200');
ok($r->{content} eq $want, 'the v2 text is convert.js\'s, byte for byte ('
   . length($want) . ' bytes)')
    or diag(substr($r->{content}, 0, 300));
like($r->{headers}{'content-type'} // '', qr{^application/json},
     'Content-Type: application/json (the Rust core requires it)');
is($t->get($v2, headers => $H)->{content}, $want, 'the key in the header');
is($t->get($v2)->{status}, 401, 'no key: 401');
is($t->get("$v2/secret-not-the-key.json")->{status}, 401,
   'another key in the path: 401');
is($t->get("$v2/$KEY.json?sinceTime=$time")->{content},
   '{"has_updates":false}', 'sinceTime = its time: no updates');
is($t->get("$v2/$KEY.json?sinceTime=" . ($time - 1))->{content}, $want,
   'an older sinceTime: the document');
is($t->request('POST', $v2, headers => $H,
               content => qq({"sinceTime":$time}))->{content},
   '{"has_updates":false}', 'POST {"sinceTime"}');
is($t->get("$v2/$KEY.json?sinceTime=soon")->{status}, 400,
   'sinceTime not a number: 400');
$r = $t->request('HEAD', "$v2/$KEY.json");
is($r->{status}, 200, 'HEAD: 200');
is($r->{headers}{'content-length'}, length $want, 'HEAD: Content-Length');
is($r->{content} // '', '', 'HEAD: no body');
is($t->get('/edge/v2/check_gate', headers => $H)->{status}, 404,
   'no other method under /v2/');
is($t->get("$v2/x/$KEY.json")->{status}, 404, 'a path below: 404');

$r = $t->get("$v2/$KEY.json", headers => { 'Accept-Encoding' => 'gzip' });
my $plain;
gunzip(\$r->{content} => \$plain);
is($r->{headers}{'content-encoding'} // '', 'gzip', 'gzip when asked');
ok(defined $plain && $plain eq $want, 'and gunzipped the same');

$r = $t->get("/edge/v1/download_config_specs/$KEY.json");
is(eval { decode_json($r->{content})->{time} }, $time,
   'v1 beside it, the same specs');
ok(!exists eval { decode_json($r->{content}) }->{condition_map},
   'v1 is v1');

# ---- statsig-node-core: directly, and through the edge ----

my $FIELDS = '--fields value,rule_id,group_name,id_type,secondary_exposures,'
    . 'undelegated_secondary_exposures,allocated_experiment,'
    . 'explicit_parameters,is_experiment_group,reason';
my $sdk = "node $root/t/sdk-core-eval.js $oracle";
my $edge = $t->url('/edge');

run_ok($d, "$sdk " . $f->url . " $KEY $d/gen/dcs.json $d/gen/users.jsonl "
       . "> $d/direct.jsonl", 'statsig-node-core with the fake Statsig');
run_ok($d, "CORE_EVENTS=500 $sdk $edge $KEY $d/gen/dcs.json "
       . "$d/gen/users.jsonl > $d/edge.jsonl",
       'statsig-node-core initializes from the edge');

my @lines = grep { /\S/ } split /\n/, slurp("$d/edge.jsonl");
my $ents = @lines / $nusers;
ok(@lines >= $nusers * 50, scalar(@lines) . " answers ($nusers users x "
   . "$ents gates, configs, experiments and layers)");

system("node $oracle/compare.js $d/direct.jsonl $d/edge.jsonl $FIELDS "
       . "> $d/edge.diff 2>&1");
is($? >> 8, 0, 'through the edge it answers as with the fake Statsig, '
   . 'field for field')
    or diag(slurp("$d/edge.diff"));

# the test can fail: without the ID lists the SDK answers differently
run_ok($d, "node $oracle/oracle-core.js --idlists $d/idlists-none.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/none.jsonl",
       'the oracle\'s statsig-node-core without ID lists');
system("node $oracle/compare.js $d/none.jsonl $d/edge.jsonl "
       . "--fields value,rule_id > $d/none.diff 2>&1");
is($? >> 8, 1, 'which answers differently: ID-list segments evaluated '
   . 'through the edge')
    or diag(slurp("$d/none.diff"));

run_ok($d, "node $oracle/oracle-core.js --idlists $d/gen/idlists.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/oracle.jsonl",
       'the oracle\'s statsig-node-core with them');
system("node $oracle/compare.js $d/oracle.jsonl $d/edge.jsonl $FIELDS "
       . "> $d/oracle.diff 2>&1");
is($? >> 8, 0, 'equal to it too') or diag(slurp("$d/oracle.diff"));

sub edge_log {
    my ($re) = @_;
    return grep { /$re/ } split /\n/, slurp("$d/logs/edge.log");
}

ok(edge_log(qr{^GET $v2/\Q$KEY\E\.json \S+ \S+ 200 \d+ "statsig-server-core}),
   'it downloaded v2 from the edge');
my @files = edge_log(qr{^GET /edge/v1/id_list_file/\S+ \S+ \S+ 20[06] });
ok(@files >= keys %$lists, scalar(@files) . ' ID-list files from the edge');

# ---- its events ----

sub fake_events {
    my ($name) = @_;
    return grep { ($_->{eventName} // '') eq $name }
        map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}

ok(wait_for(sub { fake_events('core_sdk_event') >= 500 }, 20),
   "statsig-node-core's 500 events arrive at the fake Statsig via the edge")
    or diag(scalar(fake_events('core_sdk_event')) . ' arrived');
my %seen = map { $_->{value} => 1 } fake_events('core_sdk_event');
is(scalar keys %seen, 500, 'each once, with its value');
ok(fake_events('statsig::gate_exposure') >= 1,
   'and its exposures: ' . scalar(fake_events('statsig::gate_exposure')));
my @posts = edge_log(qr{^POST /edge/v1/log_event });
ok(@posts && !grep({ !/ "zstd" 20[02] / } @posts),
   scalar(@posts) . ' posts to the edge, each in zstd, each taken')
    or diag(join("\n", @posts));
my @carried = grep { grep { ($_->{eventName} // '') eq 'core_sdk_event' }
                      @{ $_->{json}{events} || [] } }
              $f->requests(path => qr{^/v1/log_event});
ok(@carried && !grep({ ($_->{headers}{'statsig-sdk-type'} // '') ne
                       'ngx-http-statsig-module' } @carried),
   'none went to the fake Statsig directly: nginx posted them');

# ---- a running statsig-node-core across a change upstream ----

my (%gate) = ();
for my $l (@lines) {
    my $e = decode_json($l);
    next unless $e->{kind} eq 'gate' && $e->{entity} eq 'feature_gate'
        && $e->{value};
    %gate = (name => $e->{name}, user => $e->{user_index});
    last;
}
ok($gate{name}, "a gate that passes: $gate{name} for user $gate{user}");

my $fd = "$d/follow";
mkdir $fd or die "mkdir: $!";
my $pid = fork() // die "fork: $!";
if (!$pid) {
    open(STDOUT, '>', "$fd/out.jsonl");
    open(STDERR, '>', "$fd/node.err");
    $ENV{CORE_FOLLOW} = $fd;
    $ENV{CORE_GATE} = $gate{name};
    $ENV{CORE_USER} = $gate{user};
    exec('node', "$root/t/sdk-core-eval.js", $oracle, $edge, $KEY,
         "$d/gen/dcs.json", "$d/gen/users.jsonl");
    exit 127;
}

ok(wait_for(sub { -s "$fd/ready.json" }, 60), 'a statsig-node-core runs')
    or diag(slurp("$fd/node.err"));
my $ready = eval { decode_json(slurp("$fd/ready.json")) } || {};
ok($ready->{value}, "it says $gate{name} passes (time $ready->{time})");

# its syncs (each second) ask with sinceTime: nothing new (a few bytes,
# gzipped: it takes gzip), not the document
ok(wait_for(sub {
    return edge_log(qr{^GET\ $v2/\Q$KEY\E\.json\ "\S*sinceTime=$time\S*"
                       \ "-"\ 200\ \d\d?\ "statsig-server-core}x);
}, 10), 'its syncs ask with sinceTime=<time>: {"has_updates":false}');

# upstream the gate loses its rules, in newer specs ("enabled": false
# would not do: statsig-node-core 0.23.2 evaluates a disabled gate's rules)
my $dcs = decode_json(slurp("$d/gen/dcs.json"));
my $new = $time + 5000;
$dcs->{time} = $new;
$_->{rules} = []
    for grep { $_->{name} eq $gate{name} } @{ $dcs->{feature_gates} };

# and grows to ~5 MB (copies of its biggest gate): a conversion of 50 ms
# or more, long enough for requests to come while it runs (below)
my $J = JSON::PP->new->utf8->canonical;
my ($big) = sort { length($J->encode($b)) <=> length($J->encode($a)) }
            @{ $dcs->{feature_gates} };
my $copies = int(5_000_000 / length($J->encode($big))) + 1;
push @{ $dcs->{feature_gates} },
    map { +{ %{ $J->decode($J->encode($big)) }, name => "pad_gate_$_" } }
    1 .. $copies;
$t->write_file('new.json', $J->encode($dcs));
run_ok($d, "node $oracle/lib/convert.js $d/new.json $d/new-v2.json",
       'convert.js: the new v2');
$f->set_specs(slurp("$d/new.json"), undef, time => $new);
$f->set_specs_v2(slurp("$d/new-v2.json"), time => $new);

ok(all_workers($t, sub { $_[0]{worker}{specs_time} == $new }, 20),
   'nginx has the new specs (' . (-s "$d/new.json") . ' bytes), every '
   . 'worker');

open(my $go, '>', "$fd/go") or die "$fd/go: $!";
close $go;
ok(wait_for(sub { -s "$fd/changed.json" }, 40),
   'statsig-node-core syncs again')
    or diag(slurp("$fd/node.err"));
my $changed = eval { decode_json(slurp("$fd/changed.json")) } || {};
is($changed->{time}, $new, 'the new specs, through the edge');
ok(!$changed->{value}, "$gate{name} is off for it now");
is($changed->{rule_id}, 'default', 'rule "default"');

waitpid($pid, 0);
is($? >> 8, 0, 'statsig-node-core ends cleanly')
    or diag(slurp("$fd/node.err"));

# ---- many v2 requests as new specs land ----
#
# Newer specs again (no SDK running now): as soon as every worker has
# them, 24 requests at once; each worker converts once, the requests that
# come meanwhile wait for it, every answer is the new v2, whole

my $newer = $new + 5000;
$dcs->{time} = $newer;
$t->write_file('newer.json', $J->encode($dcs));
run_ok($d, "node $oracle/lib/convert.js $d/newer.json $d/newer-v2.json",
       'convert.js: the newer v2');
$f->set_specs(slurp("$d/newer.json"), undef, time => $newer);

ok(all_workers($t, sub { $_[0]{worker}{specs_time} == $newer }, 20),
   'nginx has the newer specs, every worker');
# v2 is made from the specs file, written after the zone took the specs
# (a 503 until then): the burst must find it written
ok(wait_for(sub { (eval { slurp("$t->{dir}/specs.json") } // '')
                  =~ /"time":$newer\b/ }, 30),
   'and the specs file holds them');

my @urls = map { "-o $d/burst-$_.json " . $t->url("$v2/$KEY.json") } 1 .. 24;
system("curl -s -Z --parallel-immediate --parallel-max 24 @urls "
       . "2>/dev/null");
my $newer_want = slurp("$d/newer-v2.json");
my @bad = grep { slurp("$d/burst-$_.json") ne $newer_want } 1 .. 24;
ok(!@bad, '24 requests at once: each the newer v2, whole ('
   . length($newer_want) . ' bytes)')
    or diag('different: ' . join(',', @bad) . '; the first begins '
            . substr(eval { slurp("$d/burst-$bad[0].json") } // '', 0, 200));

my $made_re = qr/DCS v2 of the specs of time $newer made in (\d+) ms, \d+ /
    . qr/bytes, (\d+) requests waited/;
my @made = $t->error_log =~ /$made_re/g;
my @ms = @made[grep { $_ % 2 == 0 } 0 .. $#made];
my @waits = @made[grep { $_ % 2 == 1 } 0 .. $#made];
ok(@ms >= 1 && @ms <= 2, 'converted once a worker (' . @ms . '), in '
   . join(' and ', map { "$_ ms" } @ms) . ', in the thread pool');
my $waited = 0;
$waited += $_ for @waits;
# more than the requests that started them: others came meanwhile
ok($waited > @waits && !grep({ $_ < 1 } @waits), "$waited requests waited "
   . 'for a conversion (' . join(' and ', @waits) . ')');

$t->stop;

done_testing;
