#!/usr/bin/perl

# statsig_api for Statsig's browser SDK (@statsig/js-client 3.33.5), in
# remote mode with the fake Statsig:
#
# 1. statsig_client_key (a key as it is, one from a file, two directives):
#    a client key opens initialize, rgstr and log_event, from the
#    statsig-api-key header or ?k=; never a server path (every other
#    method, the DCS by path, the ID lists, the relays: 401); an unknown
#    key, or the API key in ?k=, is 401; a server key in the directive
#    stops nginx -t without echoing it.
# 2. initialize as the SDK posts it (text/plain, statsigMetadata.stableID,
#    no clientKey in the body) equals statsig-node's
#    getClientInitializeResponse for the key (target apps, entities) and
#    the user with that stable ID as customIDs.stableID (../shared/oracle,
#    t/init-client-key.js); the same body Statsig-encoded (se=1) gets the
#    same answer, Latin-1 text comes back as UTF-8; a malformed se=1 body
#    is 400 with the reason.
# 3. rgstr: events reach the fake Statsig with the client's stable ID in
#    their user, its sdkType, sdkVersion and sessionID in their own
#    statsigMetadata, their times moved by the clock skew of ?t=; a gz=1
#    body too.
# 4. CORS on the client paths: the default (any Origin: "*"), preflights
#    (204, the methods, the headers asked for, Max-Age), a configured list
#    (the Origin and Vary: Origin; another Origin 403 without Access-
#    Control-Allow-Origin, preflight or not); errors carry it; server
#    paths get none; statsig_cors_origins's checks.
# 5. js-client itself in Node (t/js-client.js, build/clients) against
#    nginx on generated specs: its gate, config, experiment and layer
#    values for 100 users equal statsig-node's client initialize response
#    for the same users and key; its events (custom and exposures, half of
#    them gzip'd by the SDK, gz=1) arrive at the fake Statsig through the
#    edge, each with its stable ID and the SDK's type, times corrected
#    for a client clock one hour behind.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use IO::Compress::Gzip qw(gzip $GzipError);
use Test::More;
use StatsigTest qw(slurp wait_for);
use EvalTest qw(oracle_dir run_ok);
use ClientSDK qw(with_stable_id statsig_encode entity_names
    client_values_diff);

my $root = StatsigTest::root();
my $J = JSON::PP->new->canonical->ascii;
my $API = 'edge-api-key-47';
my $mods = "$root/build/clients/node_modules";
my $oracle = oracle_dir();

my $t = StatsigTest->new(fake => 1);
my $f = $t->fake;
my $d = $t->dir;
my $dcs = slurp("$root/t/initialize/client-keys.dcs.json");
$f->set_specs($dcs);
$t->write_file('key', 'secret-upstream-47');
$t->write_file('api.key', $API);
$t->write_file('client.key', "client-entities\n");
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 4m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_api_key file:%%TESTDIR%%/api.key;
    statsig_client_key client-plain file:%%TESTDIR%%/client.key;
    statsig_client_key client-hashed;
    %%FAKE_STATSIG%%
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_sync_interval 1s;
    statsig_flush_interval 100ms;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /statsig/ { statsig_api; }
        location /strict/ {
            statsig_api;
            statsig_cors_origins http://app.example https://b.example:8443;
        }
    }
}
EOF
ok($t->run, 'nginx runs');
ok(wait_for(sub { $t->get('/status')->{status} == 200 }, 15),
   'specs synced from the fake Statsig');

sub post {
    my ($path, $body, %h) = @_;
    my $r = $t->request('POST', $path,
        headers => { 'Content-Type' => 'text/plain;charset=UTF-8',
                     %{ $h{headers} // {} } },
        content => ref $body ? $J->encode($body) : $body);
    $r->{json} = eval { JSON::PP->new->utf8->decode($r->{content}) };
    return $r;
}

my $meta = { sdkType => 'javascript-client', sdkVersion => '3.33.5',
             stableID => 'stable-0', sessionID => 'session-47' };
my $init = { user => { userID => 'u1' }, hash => 'djb2',
             deltasResponseRequested => JSON::PP::false,
             statsigMetadata => $meta };
my $rg = { events => [ { eventName => 'auth', time => 1,
                         user => { userID => 'u1' } } ],
           statsigMetadata => $meta };

# ---- 1. which key opens what ----

my $q = 'st=javascript-client&sv=3.33.5&sid=s';
is(post("/statsig/v1/initialize?k=client-plain&$q", $init)->{status}, 200,
   'initialize, a client key in ?k=: 200');
is(post('/statsig/v1/initialize', $init,
        headers => { 'statsig-api-key' => 'client-entities' })->{status},
   200, 'initialize, the key read from a file, in statsig-api-key: 200');
is(post('/statsig/v1/initialize?k=client-hashed', $init)->{status}, 200,
   'initialize, a key of a second statsig_client_key: 200');
is(post('/statsig/v1/initialize?k=client%2Dplain', $init)->{status}, 200,
   'a percent-encoded ?k=: 200');
for my $p (qw(rgstr log_event)) {
    is(post("/statsig/v1/$p?k=client-plain&ec=1", $rg)->{status}, 202,
       "$p, a client key: 202");
}
is(post('/statsig/v1/rgstr', $rg,
        headers => { 'statsig-api-key' => $API })->{status}, 202,
   'rgstr, the API key: 202');
is(post('/statsig/v1/initialize', $init,
        headers => { 'statsig-api-key' => $API })->{status}, 200,
   'initialize, the API key: 200');

my $r = post('/statsig/v1/initialize?k=client-nope', $init);
is($r->{status}, 401, 'an unknown client key: 401');
like($r->{json}{error} // '', qr/client key/, '... saying a client key does');
is(post('/statsig/v1/rgstr?k=client-nope', $rg)->{status}, 401,
   'rgstr, an unknown key: 401');
is(post('/statsig/v1/initialize', $init)->{status}, 401, 'no key: 401');
is(post("/statsig/v1/initialize?k=$API", $init)->{status}, 401,
   'the API key in ?k= (a URL, logged): 401');

my $user = { user => { userID => 'u1' }, gateName => 'gate_a',
             gateNames => ['gate_a'], configName => 'config_a',
             experimentName => 'exp_a', layerName => 'layer_a',
             events => [ { eventName => 'x' } ] };
my @server = (qw(check_gate check_gate_multiple get_config get_experiment
                 get_layer download_config_specs get_id_lists log-event
                 events custom-events customers/c1/events));
my @open;
for my $m (@server) {
    for my $how ('header', 'query') {
        my $r = post("/statsig/v1/$m" . ($how eq 'query'
                                         ? '?k=client-plain' : ''),
                     $user, headers => $how eq 'header'
                     ? { 'statsig-api-key' => 'client-plain' } : {});
        push @open, "$m ($how): $r->{status}" if $r->{status} != 401;
    }
}
for my $p ('/statsig/v1/download_config_specs/client-plain.json',
           '/statsig/v1/download_config_specs?k=client-plain') {
    my $s = $t->get($p)->{status};
    push @open, "GET $p: $s" if $s != 401;
}
ok(!@open, 'a client key opens no server path (' . (2 * @server + 2)
   . ' requests, each 401)') or diag(join("\n", @open));
is(post('/statsig/v1/check_gate', $user,
        headers => { 'statsig-api-key' => $API })->{status}, 200,
   '... which the API key opens');

# a server key in statsig_client_key: refused, not echoed
my ($rc, $out) = $t->test_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    statsig_zone statsig 1m;
    statsig_client_key client-ok secret-Sh0uldN0tB3Here;
}
EOF
isnt($rc, 0, 'statsig_client_key secret-...: nginx -t fails');
like($out, qr/server secret key/, '... saying why');
unlike($out, qr/Sh0uldN0tB3Here/, '... without the key');

# ---- 2. initialize as the SDK asks, against statsig-node ----

my @users = map { JSON::PP->new->utf8->decode($_) } grep { /\S/ }
            split /\n/, slurp("$root/t/initialize/users.jsonl");
push @users, { userID => 'u5', customIDs => { stableID => 'own-id' } },
             { email => "\x{e9}t\x{e9}\@x.io" };

# each user's request, and the user statsig-node sees
my (@bodies, @seen);
for my $i (0 .. $#users) {
    my %u = %{ $users[$i] };
    push @bodies, { user => \%u, hash => 'djb2', sinceTime => 0,
                    deltasResponseRequested => JSON::PP::false,
                    statsigMetadata => { %$meta, stableID => "stable-$i" } };
    push @seen, with_stable_id(\%u, "stable-$i");
}
{
    open my $fh, '>', "$d/seen.jsonl" or die;
    print $fh JSON::PP->new->canonical->utf8->encode($_), "\n" for @seen;
    close $fh;
}

sub strip {
    my ($x) = @_;
    return $x unless ref $x eq 'HASH';
    delete $x->{time};
    delete $x->{sdkInfo}{sessionId} if ref $x->{sdkInfo};
    return $x;
}

my %how = ('client-plain' => 'query', 'client-entities' => 'header',
           'client-hashed' => 'se=1');
SKIP: {
    skip 'no build/oracle (make oracle)', 3 unless $oracle;
    for my $key (sort keys %how) {
        run_ok($d, "node $root/t/init-client-key.js $oracle "
               . "$root/t/initialize/client-keys.dcs.json $d/seen.jsonl "
               . "$key djb2 > $d/want-$key.jsonl", "oracle: key $key");
        my @want = map { JSON::PP->new->utf8->decode($_)->{response} }
                   grep { /\S/ } split /\n/, slurp("$d/want-$key.jsonl");
        my @bad;
        for my $i (0 .. $#bodies) {
            # fetch() sends UTF-8; btoa() takes the text's code units
            my $text = JSON::PP->new->canonical->utf8->encode($bodies[$i]);
            my $r = $how{$key} eq 'query'
                ? post("/statsig/v1/initialize?k=$key&$q", $text)
                : $how{$key} eq 'header'
                ? post('/statsig/v1/initialize', $text,
                       headers => { 'statsig-api-key' => $key })
                : post("/statsig/v1/initialize?k=$key&$q&se=1",
                       statsig_encode(JSON::PP->new->canonical->latin1
                                      ->encode($bodies[$i])));
            my ($g, $w) = (strip($r->{json}), strip($want[$i]));
            push @bad, "user $i: $r->{status} "
                       . substr($J->encode($g // $r->{content}), 0, 300)
                       . "\n  want " . substr($J->encode($w), 0, 300)
                unless $r->{status} == 200
                       && $J->encode($g) eq $J->encode($w);
        }
        ok(!@bad, "key $key ($how{$key}): " . scalar(@bodies)
           . " answers equal statsig-node's getClientInitializeResponse "
           . "(the stable ID as customIDs.stableID, the key's target apps)")
            or diag(join("\n", @bad));
    }
}

$r = post("/statsig/v1/initialize?k=client-plain&se=1",
          statsig_encode(JSON::PP->new->latin1->encode($bodies[-1])));
is($r->{json}{user}{email}, "\x{e9}t\x{e9}\@x.io",
   'se=1: Latin-1 text (btoa) comes back as UTF-8');
is($r->{json}{user}{customIDs}{stableID}, "stable-$#bodies",
   '... and the stable ID is the user\'s');
is(post('/statsig/v1/initialize?k=client-plain', $bodies[4])
   ->{json}{user}{customIDs}{stableID}, 'own-id',
   "a user's own customIDs.stableID is kept");

for my $bad (['{"user":{"userID":"u"}}', 'plain JSON'],
             ['QfxojI==hJye', 'padding in the middle'],
             ['==QfxojIhJy', 'cut short'],
             ['==Qf*ojIhJye', 'a "*"'],
             [statsig_encode('{"user":'), 'encoded bad JSON']) {
    $r = post('/statsig/v1/initialize?k=client-plain&se=1', $bad->[0]);
    is($r->{status}, 400, "se=1, $bad->[1]: 400");
    like($r->{json}{error} // '', $bad->[1] eq 'encoded bad JSON'
         ? qr/bad JSON/ : qr/se=1 body is not Statsig-encoded/,
         "... $r->{json}{error}");
}
is(post("/statsig/v1/initialize?k=client-plain&se=1",
        statsig_encode($J->encode($init)))->{status}, 200,
   'nginx answers after them');

# ---- 3. rgstr: the client's events ----

my $skew = 3_600_000;
my $now = int(time * 1000);
my $ev = {
    events => [
        { eventName => 'rg_custom', time => $now - $skew, value => 3,
          user => { userID => 'rg-1', customIDs => { companyID => 'c' },
                    privateAttributes => { p => 1 } },
          metadata => { k => 'v' } },
        { eventName => 'statsig::gate_exposure', time => $now - $skew,
          user => { userID => 'rg-1', customIDs => { stableID => 'mine' } },
          metadata => { gate => 'gate_a', gateValue => 'true' },
          statsigMetadata => { currentPage => 'https://x/p',
                               sdkType => 'own-type' } },
    ],
    statsigMetadata => { %$meta, stableID => 'rg-stable' },
};
$r = post('/statsig/v1/rgstr?k=client-plain&st=javascript-client&ec=2&t='
          . ($now - $skew), $ev);
is($r->{status}, 202, 'rgstr: 202');

# the first event of that name (and user, when given) posted to Statsig
sub event {
    my ($name, $uid) = @_;
    for my $req ($f->requests(path => qr{^/v1/log_event})) {
        for (@{ $req->{json}{events} || [] }) {
            return ($_, $req) if ($_->{eventName} // '') eq $name
                && (!defined $uid || ($_->{user}{userID} // '') eq $uid);
        }
    }
    return;
}

ok(wait_for(sub { event('rg_custom') }, 15), 'the events reach Statsig');
my ($e, $req) = event('rg_custom');
cmp_ok(abs($e->{time} - $now), '<', 60_000,
       'their time moved by the skew of ?t= (an hour)');
is_deeply($e->{user}, { userID => 'rg-1',
                        customIDs => { companyID => 'c',
                                       stableID => 'rg-stable' } },
          "the client's stable ID in the user, privateAttributes gone");
is_deeply($e->{statsigMetadata},
          { sdkType => 'javascript-client', sdkVersion => '3.33.5',
            sessionID => 'session-47' },
          "the client's sdkType, sdkVersion and sessionID with the event");
is($req->{json}{statsigMetadata}{sdkType}, 'ngx-http-statsig-module',
   "the batch's own envelope is the module's (it mixes clients)")
    or diag($J->encode($req->{json}{statsigMetadata}));
($e) = event('statsig::gate_exposure', 'rg-1');
is($e->{user}{customIDs}{stableID}, 'mine', "a user's own stable ID kept");
is_deeply($e->{statsigMetadata},
          { currentPage => 'https://x/p', sdkType => 'own-type',
            sdkVersion => '3.33.5', sessionID => 'session-47' },
          "an event's own statsigMetadata kept, the client's added");

my $gz;
gzip(\ $J->encode({ events => [ { eventName => 'rg_gzip', time => $now,
                                  user => { userID => 'g' } } ],
                    statsigMetadata => $meta }) => \$gz)
    or die $GzipError;
is(post("/statsig/v1/rgstr?k=client-plain&gz=1&t=$now", $gz)->{status},
   202, 'rgstr, a gz=1 body: 202');
ok(wait_for(sub { event('rg_gzip') }, 15), '... its event arrives');
is(post('/statsig/v1/rgstr?k=client-plain&gz=1', 'not gzip')->{status}, 400,
   'gz=1 on a body that is not: 400');

# ---- 4. CORS ----

my %o = (Origin => 'http://page.example');
$r = post('/statsig/v1/initialize?k=client-plain', $init, headers => \%o);
is($r->{headers}{'access-control-allow-origin'}, '*',
   'default: Access-Control-Allow-Origin: *');
unlike($r->{headers}{vary} // '', qr/Origin/, '... no Vary: Origin');

my $pre = sub {
    my ($path, %h) = @_;
    return $t->request('OPTIONS', $path, headers => {
        'Access-Control-Request-Method' => 'POST', %h });
};
my $acrh = 'statsig-event-count,statsig-retry-count,statsig-sdk-type,'
           . 'statsig-sdk-version';
$r = $pre->('/statsig/v1/rgstr?k=client-plain', %o,
            'Access-Control-Request-Headers' => $acrh);
is($r->{status}, 204, 'preflight: 204');
is($r->{headers}{'access-control-allow-origin'}, '*', '... any origin');
like($r->{headers}{'access-control-allow-methods'} // '', qr/\bPOST\b/,
     '... POST');
is($r->{headers}{'access-control-allow-headers'}, $acrh,
   '... the headers it asked for');
ok(($r->{headers}{'access-control-max-age'} // 0) > 0, '... Max-Age');
$r = $pre->('/statsig/v1/initialize', %o);
like($r->{headers}{'access-control-allow-headers'} // '',
     qr/statsig-api-key/i, 'preflight naming no headers: the SDK\'s');
$r = $pre->('/statsig/v1/initialize', %o,
            'Access-Control-Request-Headers' => "x-a\x01");
unlike($r->{headers}{'access-control-allow-headers'} // '', qr/x-a/,
       'headers asked with odd bytes are not echoed');

my %app = (Origin => 'http://app.example');
$r = $pre->('/strict/v1/initialize', %app);
is($r->{status}, 204, 'a listed origin: preflight 204');
is($r->{headers}{'access-control-allow-origin'}, 'http://app.example',
   '... that origin');
like($r->{headers}{vary} // '', qr/Origin/, '... Vary: Origin');
$r = post('/strict/v1/initialize?k=client-plain', $init, headers => \%app);
is($r->{status}, 200, 'a listed origin: 200');
is($r->{headers}{'access-control-allow-origin'}, 'http://app.example',
   '... Access-Control-Allow-Origin');
is($pre->('/strict/v1/rgstr', Origin => 'https://b.example:8443')
   ->{headers}{'access-control-allow-origin'}, 'https://b.example:8443',
   'the second listed origin');

my %evil = (Origin => 'http://evil.example');
$r = $pre->('/strict/v1/initialize', %evil);
is($r->{status}, 403, 'another origin: preflight 403');
ok(!exists $r->{headers}{'access-control-allow-origin'},
   '... no Access-Control-Allow-Origin');
$r = post('/strict/v1/rgstr?k=client-plain', $rg, headers => \%evil);
is($r->{status}, 403, 'another origin: POST 403');
ok(!exists $r->{headers}{'access-control-allow-origin'}, '... none either');
like($r->{json}{error} // '', qr/statsig_cors_origins/, '... saying why');
is(post('/strict/v1/initialize?k=client-plain', $init)->{status}, 200,
   'no Origin (not a browser): served');

$r = post('/strict/v1/initialize?k=client-nope', $init, headers => \%app);
is($r->{status}, 401, 'an error to a listed origin');
is($r->{headers}{'access-control-allow-origin'}, 'http://app.example',
   '... carries Access-Control-Allow-Origin (the page reads it)');

$r = post('/statsig/v1/check_gate', $user,
          headers => { %o, 'statsig-api-key' => $API });
is($r->{status}, 200, 'a server path with an Origin: 200');
ok(!exists $r->{headers}{'access-control-allow-origin'}, '... no CORS');
$r = $pre->('/statsig/v1/check_gate', %o);
is($r->{status}, 405, 'a server path: no preflight (405)');
ok(!exists $r->{headers}{'access-control-allow-origin'}, '... no CORS');

for my $bad ('http://app.example/', 'http://*.example', 'app.example', '') {
    my ($rc, $out) = $t->test_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    statsig_zone statsig 1m;
    statsig_cors_origins "$bad";
}
EOF
    ok($rc != 0 && $out =~ /invalid origin/,
       "statsig_cors_origins \"$bad\": nginx -t fails") or diag($out);
}

$t->stop;

# ---- 5. js-client in Node against statsig-node ----

SKIP: {
    skip 'no build/oracle (make oracle)', 1 unless $oracle;
    skip 'no @statsig/js-client in build/clients (make clients)', 1
        unless -d "$mods/\@statsig/js-client";

    my $n = $ENV{STATSIG_JS_USERS} || 100;
    my $KEY = 'client-edge-47';
    my $o = StatsigTest->new(fake => 1);
    my $od = $o->dir;
    my $of = $o->fake;
    run_ok($od, "node $oracle/gen.js --seed 4747 --specs 40 --users $n "
           . "--out $od/gen", 'generate specs and users');
    my $names = entity_names(JSON::PP->new->utf8->decode(
                                 slurp("$od/gen/dcs.json")));
    $o->write_file('names.json', $J->encode($names));

    # the SDK keeps the stable ID apart (statsigMetadata); the oracle sees
    # it in customIDs, where the edge puts it
    my (@js, @seen);
    my @gen = map { JSON::PP->new->utf8->decode($_) } grep { /\S/ }
              split /\n/, slurp("$od/gen/users.jsonl");
    for my $i (0 .. $#gen) {
        my %u = %{ $gen[$i] };
        my $sid = "js-stable-$i";
        if (ref $u{customIDs} eq 'HASH' && defined $u{customIDs}{stableID}) {
            my %c = %{ $u{customIDs} };
            $sid = delete $c{stableID};
            $u{customIDs} = \%c;
        }
        push @js, { user => \%u, stableID => $sid };
        push @seen, with_stable_id(\%u, $sid);
    }
    my $w = sub {
        my ($file, $rows) = @_;
        open my $fh, '>', "$od/$file" or die;
        print $fh JSON::PP->new->canonical->utf8->encode($_), "\n"
            for @$rows;
        close $fh;
    };
    $w->('js-users.jsonl', \@js);
    $w->('seen.jsonl', \@seen);
    ok(scalar(grep { ref $_->{user}{customIDs} eq 'HASH'
                     && exists $_->{user}{customIDs}{companyID} } @js) > 5
       && $n == @js, "$n users, the stable ID apart from the user");

    run_ok($od, "node $root/t/init-client-key.js $oracle $od/gen/dcs.json "
           . "$od/seen.jsonl $KEY none > $od/want.jsonl",
           "oracle: statsig-node's client initialize responses");
    my @want = map { JSON::PP->new->utf8->decode($_)->{response} } grep { /\S/ }
               split /\n/, slurp("$od/want.jsonl");

    $of->set_specs(slurp("$od/gen/dcs.json"));
    $o->write_file('key', 'secret-upstream-47b');
    $o->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_client_key $KEY;
    %%FAKE_STATSIG%%
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_flush_interval 100ms;
    statsig_exposures off;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /edge/ { statsig_api; }
    }
}
EOF
    ok($o->run, 'nginx on the generated specs, remote mode');
    ok(wait_for(sub { $o->get('/status')->{status} == 200 }, 15),
       'specs synced');

    my $api = $o->url('/edge/v1');
    run_ok($od, "NODE_PATH=$mods JS_CLIENT_SKEW_MS=$skew "
           . "JS_CLIENT_FORCE_GZIP=1 node $root/t/js-client.js $api $KEY "
           . "$od/js-users.jsonl $od/names.json > $od/got.jsonl",
           'js-client initializes from the edge for every user');
    my @got = map { JSON::PP->new->utf8->decode($_) } grep { /\S/ }
              split /\n/, slurp("$od/got.jsonl");
    is(scalar @got, $n, "$n users answered");

    my ($count, @diffs) = client_values_diff(\@got, \@want, $names);
    my %count = %$count;
    ok(!@diffs, "js-client's values equal statsig-node's ($count{gate} "
       . "gates, $count{config} configs and experiments, $count{layer} "
       . "layers; $count{on} gates on)") or diag(join("\n", @diffs));
    ok(($count{on} // 0) > 0 && $count{on} < ($count{gate} // 0),
       'some gates on, some off');

    # the events, through the edge
    my %sid = map { $_->{i} => $_->{stableID} } @got;
    my @mine;
    ok(wait_for(sub {
        @mine = map { [ $_->{time}, $_ ] } grep {
            ($_->{eventName} // '') eq 'js_client_event' }
            map { @{ $_->{json}{events} || [] } }
            $of->requests(path => qr{^/v1/log_event});
        @mine >= $n }, 30), "the $n custom events arrive")
        or diag(scalar(@mine) . ' arrived');
    my %seen_i = map { $_->[1]{metadata}{user_index} => 1 } @mine;
    is(scalar keys %seen_i, $n, '... each once');
    my @bad = grep {
        my $e = $_->[1];
        my $i = $e->{metadata}{user_index};
        ($e->{user}{customIDs}{stableID} // '') ne $sid{$i}
        || ($e->{statsigMetadata}{sdkType} // '') ne $got[0]{sdkType}
        || abs($e->{time} - time * 1000) > 120_000 } @mine;
    ok(!@bad, "each with its stable ID, the SDK's type ($got[0]{sdkType}) "
       . 'and its time corrected for a clock an hour behind')
        or diag($J->encode($bad[0][1]));
    is($got[0]{sdkType}, 'javascript-client', "the SDK's type");
    my @exp = grep { ($_->{eventName} // '') =~ /^statsig::.*_exposure$/ }
              map { @{ $_->{json}{events} || [] } }
              $of->requests(path => qr{^/v1/log_event});
    ok(@exp > $n && !grep({ ($_->{statsigMetadata}{sdkType} // '')
                             ne 'javascript-client' } @exp),
       scalar(@exp) . " of the SDK's exposures, with its type");

    my $log = slurp("$od/logs/access.log");
    my $gzipped = () = $log =~ m{POST /edge/v1/rgstr\?[^ ]*gz=1[^ ]* [^"]*" 202}g;
    my $plain = () = $log =~ m{POST /edge/v1/rgstr\?(?![^ ]*gz=1)[^ ]* [^"]*" 202}g;
    ok($gzipped > 0 && $plain > 0,
       "the SDK's event requests, gzip'd (gz=1: $gzipped) and not "
       . "($plain), accepted");
    $o->stop;
}

done_testing;
