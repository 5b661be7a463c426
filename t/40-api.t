#!/usr/bin/perl

# statsig_api: every endpoint's shape, authentication, bad input, 503
# before specs, download_config_specs (the file, sinceTime, a file that
# does not hold the current specs).  Local mode with statsig_api_key on
# conf-examples/demo-specs.json plus a layer; t/41 covers exposures and
# log_event delivery, t/42 compares results with statsig-node.

use strict;
use warnings;

use lib 't/lib';
use IO::Compress::Gzip qw(gzip);
use JSON::PP;
use Test::More;
use StatsigTest;
use StatsigDCS qw(api_specs);

my $KEY = 'edge-api-key-0123456789';
my $J = JSON::PP->new->canonical;

my $specs = api_specs();
my $specs_json = $J->encode($specs);
my $time = $specs->{time};

my $t = StatsigTest->new;
$t->write_file('specs.json', $specs_json);
$t->write_file('api.key', "$KEY\n");
$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_api_key file:%%TESTDIR%%/api.key;
    statsig_sync_interval 1s;
    client_max_body_size 8m;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /statsig/ { statsig_api; }
        location /small/ {
            client_max_body_size 1k;
            statsig_api;
        }
    }
}
EOF

ok($t->run, 'started');

my %auth = ('statsig-api-key' => $KEY, 'content-type' => 'application/json');

sub api {
    my ($path, $body, %o) = @_;
    my $r = $t->request($o{method} // 'POST', $path,
                        headers => $o{headers} // \%auth,
                        content => ref $body ? $J->encode($body) : $body);
    $r->{json} = eval { decode_json($r->{content}) };
    return $r;
}

my $user = { userID => 'u1', email => 'a@example.com', country => 'US' };

# ---------------------------------------------------------------- shapes

my $r = api('/statsig/v1/check_gate',
            { user => $user, gateName => 'beta_users' });
is($r->{status}, 200, 'check_gate: 200');
is($r->{headers}{'content-type'}, 'application/json', 'JSON');
is_deeply($r->{json}, { name => 'beta_users', value => JSON::PP::true,
                        rule_id => $r->{json}{rule_id}, group_name => undef },
          'check_gate: name, value, rule_id, group_name')
    or diag($r->{content});
like($r->{json}{rule_id} // '', qr/./, 'rule_id set');

$r = api('/statsig/v1/check_gate',
         { user => { userID => 'u1', email => 'a@other.org' },
           gateName => 'beta_users' });
is($r->{json}{value}, JSON::PP::false, 'check_gate: another user is out');

$r = api('/statsig/v1/check_gate',
         { user => $user, gateName => 'no_such_gate' });
is($r->{status}, 200, 'unknown gate: 200');
is($r->{json}{value}, JSON::PP::false, 'unknown gate: false');

$r = api('/statsig/v1/check_gate',
         { user => $user, gateNames => [ 'beta_users', 'public_launch',
                                         'beta_users', 'nope' ] });
is($r->{status}, 200, 'gateNames: 200');
is_deeply([ sort keys %{ $r->{json} || {} } ],
          [ qw(beta_users nope public_launch) ], 'gateNames: one per name');
is($r->{json}{public_launch}{value}, JSON::PP::true, 'gateNames: values');
is($r->{json}{beta_users}{name}, 'beta_users', 'gateNames: full results');

$r = api('/statsig/v1/check_gate_multiple',
         { user => $user, gateNames => [ 'public_launch' ] });
is_deeply([ keys %{ $r->{json} || {} } ], [ 'public_launch' ],
          'check_gate_multiple');

$r = api('/statsig/v1/get_config', { user => $user, configName => 'pricing' });
is($r->{status}, 200, 'get_config: 200');
is_deeply([ sort keys %{ $r->{json} || {} } ],
          [ qw(group group_name name rule_id value) ], 'get_config: keys');
is($r->{json}{value}{currency}, 'USD', 'get_config: value');
is($r->{json}{group}, $r->{json}{rule_id}, 'group is rule_id');

$r = api('/statsig/v1/get_experiment',
         { user => $user, experimentName => 'button_color' });
is($r->{status}, 200, 'get_experiment: 200');
like($r->{json}{group_name} // '', qr/^(Control|Test)$/,
     'get_experiment: group_name');
ok(exists $r->{json}{value}{color}, 'get_experiment: value');

$r = api('/statsig/v1/get_experiment',
         { user => $user, configName => 'button_color' });
is($r->{json}{name}, 'button_color', 'get_experiment takes configName too');

$r = api('/statsig/v1/get_config', { user => $user, configName => 'nope' });
is($r->{status}, 200, 'unknown config: 200');
is_deeply($r->{json}{value}, {}, 'unknown config: {}');

$r = api('/statsig/v1/get_layer',
         { user => $user, layerName => 'checkout_layer' });
is($r->{status}, 200, 'get_layer: 200');
is_deeply($r->{json}, { name => 'checkout_layer',
                        value => { color => 'green', size => 2 },
                        rule_id => 'layer_all', group_name => undef,
                        allocated_experiment_name => undef },
          'get_layer: value, rule, no experiment') or diag($r->{content});

for my $h (qw(djb2 sha256 none)) {
    $r = api('/statsig/v1/initialize', { user => $user, hash => $h });
    is($r->{status}, 200, "initialize $h: 200");
    is($r->{json}{hash_used}, $h, "initialize $h: hash_used");
    is($r->{json}{time}, $time, "initialize $h: time");
}
ok($r->{json}{feature_gates}{beta_users}, 'initialize none: plain names');
ok(exists $r->{json}{layer_configs}{checkout_layer}, 'initialize: layers');

$r = api('/statsig/v1/initialize', { user => {} });
is($r->{status}, 200, 'initialize: any user, as statsig-node');
is($r->{json}{hash_used}, 'djb2', 'initialize: djb2 by default');

# gzip bodies, as the server SDKs send them
my $gz;
gzip(\($J->encode({ user => $user, gateName => 'public_launch' })) => \$gz);
$r = api('/statsig/v1/check_gate', $gz,
         headers => { %auth, 'content-encoding' => 'gzip' });
is($r->{json}{value}, JSON::PP::true, 'gzip body');

# ---------------------------------------------------------- auth failures

for my $case ([ 'no key', { 'content-type' => 'application/json' } ],
              [ 'wrong key', { 'statsig-api-key' => 'nope' } ],
              [ 'key prefix', { 'statsig-api-key' => substr($KEY, 0, 10) } ],
              [ 'key + more', { 'statsig-api-key' => "${KEY}x" } ])
{
    my ($name, $h) = @$case;
    for my $m (qw(check_gate initialize log_event download_config_specs)) {
        $r = api("/statsig/v1/$m", { user => $user, gateName => 'x',
                                     events => [] }, headers => $h);
        is($r->{status}, 401, "$name: $m 401");
    }
    unlike($r->{content}, qr/\Q$KEY\E/, "$name: the key is not echoed");
}

$r = api("/statsig/v1/download_config_specs/$KEY.json", undef,
         method => 'GET', headers => {});
is($r->{status}, 200, 'DCS: the key in the path');
$r = api('/statsig/v1/download_config_specs/wrong.json', undef,
         method => 'GET', headers => {});
is($r->{status}, 401, 'DCS: a wrong key in the path');

# --------------------------------------------------------------- methods

is(api('/statsig/v1/nope', {})->{status}, 404, 'unknown method: 404');
is(api('/statsig/check_gate', {})->{status}, 404, 'no /v1/: 404');
$r = api('/statsig/v1/check_gate', undef, method => 'GET');
is($r->{status}, 405, 'GET check_gate: 405');
ok($r->{json}{error}, '405 has a JSON error');

# ------------------------------------------------------------- bad input

my @bad = (
    [ 'invalid JSON', '{"user":', 400 ],
    [ 'empty body', '', 400 ],
    [ 'not an object', '[1,2]', 400 ],
    [ 'no user', { gateName => 'x' }, 400 ],
    [ 'user a string', { user => 'u1', gateName => 'x' }, 400 ],
    [ 'user without ids', { user => { email => 'a@b.c' }, gateName => 'x' },
      400 ],
    [ 'no gateName', { user => $user }, 400 ],
    [ 'gateName a number', { user => $user, gateName => 5 }, 400 ],
    [ 'gateName empty', { user => $user, gateName => '' }, 400 ],
    [ 'gateNames a string', { user => $user, gateNames => 'x' }, 400 ],
    [ 'gateNames with a number', { user => $user, gateNames => [ 'a', 1 ] },
      400 ],
    [ 'too many gateNames',
      { user => $user, gateNames => [ map { "g$_" } 1 .. 1001 ] }, 400 ],
    [ 'deep nesting', '{"user":' . ('[' x 5000) . (']' x 5000) . '}', 400 ],
    [ 'NUL in JSON', "{\"user\":{\"userID\":\"a\0\"},\"gateName\":\"x\"}",
      400 ],
);
for my $case (@bad) {
    my ($name, $body, $status) = @$case;
    $r = api('/statsig/v1/check_gate', $body);
    is($r->{status}, $status, "$name: $status");
    ok($r->{json} && $r->{json}{error}, "$name: JSON error")
        or diag($r->{content});
}

for my $case (
    [ 'get_config', { user => $user }, 'no configName' ],
    [ 'get_config', { user => $user, configName => [] }, 'configName array' ],
    [ 'get_layer', { user => $user }, 'no layerName' ],
    [ 'get_layer', { user => $user, layerName => 'checkout_layer',
                     parameters => 'color' }, 'parameters a string' ],
    [ 'initialize', { user => $user, hash => 'md5' }, 'unknown hash' ],
    [ 'initialize', { user => $user, clientKey => 7 }, 'clientKey number' ],
    [ 'initialize', { hash => 'djb2' }, 'initialize without user' ],
    [ 'log_event', { events => {} }, 'events an object' ],
    [ 'log_event', { events => [ { user => $user } ] }, 'no eventName' ],
    [ 'log_event', { events => [ 'x' ] }, 'event a string' ],
    [ 'download_config_specs', { sinceTime => [] }, 'sinceTime array' ])
{
    my ($m, $body, $name) = @$case;
    $r = api("/statsig/v1/$m", $body);
    is($r->{status}, 400, "$m, $name: 400");
    ok($r->{json} && $r->{json}{error}, "$m, $name: JSON error");
}

$r = api('/statsig/v1/check_gate', "\x1f\x8b garbage",
         headers => { %auth, 'content-encoding' => 'gzip' });
is($r->{status}, 400, 'broken gzip: 400');
$r = api('/statsig/v1/check_gate', '{}',
         headers => { %auth, 'content-encoding' => 'br' });
is($r->{status}, 415, 'unknown encoding: 415');

# bodies over the API's 4 MB, plain and as a gzip bomb
my $huge = '{"user":{"userID":"' . ('x' x (5 * 1024 * 1024)) . '"}}';
$r = api('/statsig/v1/check_gate', $huge);
is($r->{status}, 413, 'a 5 MB body: 413');
ok($r->{json} && $r->{json}{error}, '413 is JSON');
gzip(\$huge => \$gz);
ok(length $gz < 100_000, 'the bomb is small');
$r = api('/statsig/v1/check_gate', $gz,
         headers => { %auth, 'content-encoding' => 'gzip' });
is($r->{status}, 413, 'gzip to 5 MB: 413');

# a body nginx writes to a temporary file is read from it
my $big = { user => { userID => 'u1', custom => { pad => 'y' x 300_000 } },
            gateName => 'public_launch' };
$r = api('/statsig/v1/check_gate', $big);
is($r->{json}{value}, JSON::PP::true, 'a 300 KB body (temp file)');

# client_max_body_size is nginx's
$r = api('/small/v1/check_gate', { user => $user, gateName => 'x' x 2000 });
is($r->{status}, 413, 'client_max_body_size 1k: 413');

# still serving
$r = api('/statsig/v1/check_gate', { user => $user, gateName => 'public_launch' });
is($r->{json}{value}, JSON::PP::true, 'still serving after bad input');

# ------------------------------------------------- download_config_specs

$r = api('/statsig/v1/download_config_specs', undef, method => 'GET');
is($r->{status}, 200, 'DCS GET: 200');
is($r->{content}, $specs_json, 'DCS: the document as it is');
is($r->{headers}{'content-type'}, 'application/json', 'DCS: JSON');

$r = api('/statsig/v1/download_config_specs', undef, method => 'HEAD');
is($r->{status}, 200, 'DCS HEAD: 200');
is($r->{headers}{'content-length'}, length $specs_json,
   'DCS HEAD: content-length');

$r = api("/statsig/v1/download_config_specs?sinceTime=$time", undef,
         method => 'GET');
is_deeply($r->{json}, { has_updates => JSON::PP::false },
          'DCS: sinceTime = time: no updates');
$r = api('/statsig/v1/download_config_specs?sinceTime=' . ($time + 5), undef,
         method => 'GET');
is_deeply($r->{json}, { has_updates => JSON::PP::false },
          'DCS: sinceTime > time: no updates');
$r = api('/statsig/v1/download_config_specs?sinceTime=' . ($time - 1), undef,
         method => 'GET');
is($r->{content}, $specs_json, 'DCS: sinceTime < time: the document');
$r = api('/statsig/v1/download_config_specs?sinceTime=0', undef,
         method => 'GET');
is($r->{content}, $specs_json, 'DCS: sinceTime=0: the document');
$r = api('/statsig/v1/download_config_specs?sinceTime=abc', undef,
         method => 'GET');
is($r->{status}, 400, 'DCS: sinceTime=abc: 400');

$r = api('/statsig/v1/download_config_specs', { sinceTime => $time });
is_deeply($r->{json}, { has_updates => JSON::PP::false },
          'DCS POST sinceTime: no updates');
$r = api('/statsig/v1/download_config_specs', { sinceTime => 1 });
is($r->{content}, $specs_json, 'DCS POST: the document');
$r = api('/statsig/v1/download_config_specs', '');
is($r->{content}, $specs_json, 'DCS POST, empty body: the document');

# a file that no longer holds the loaded specs: 503, never other specs
my $bad = $J->encode({ %$specs, time => $time + 1000, feature_gates => 5 });
$t->write_file('specs.json', $bad);
$r = api('/statsig/v1/download_config_specs', undef, method => 'GET');
is($r->{status}, 503, 'DCS: file time differs: 503');
like($r->{json}{error} // '', qr/does not hold the current specs/,
     'DCS: says why');
$r = api('/statsig/v1/check_gate', { user => $user, gateName => 'public_launch' });
is($r->{json}{value}, JSON::PP::true, 'evaluation goes on');

# a new good file: loaded (local mode), then served
my $next = $J->encode({ %$specs, time => $time + 2000 });
$t->write_file('specs.json', $next);
ok(StatsigTest::wait_for(sub {
       my $x = api('/statsig/v1/download_config_specs', undef,
                   method => 'GET');
       $x->{status} == 200 && $x->{content} eq $next;
   }, 15), 'DCS: the new file once it is loaded');

$t->stop;

# ------------------------------------------------- no specs, no key

my $t2 = StatsigTest->new;
$t2->write_file('api.key', "$KEY\n");
$t2->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_api_key file:%%TESTDIR%%/api.key;

    server {
        listen %%LISTEN%%;
        location /statsig/ { statsig_api; }
    }
}
EOF
ok($t2->run, 'started without specs');

$t = $t2;
$r = api('/statsig/v1/check_gate', { user => $user, gateName => 'x' });
is($r->{status}, 503, 'no specs: check_gate 503');
ok($r->{json}{error}, 'no specs: JSON error');
is(api('/statsig/v1/initialize', { user => $user })->{status}, 503,
   'no specs: initialize 503');
is(api('/statsig/v1/download_config_specs', undef, method => 'GET')
       ->{status}, 503, 'no specs: DCS 503');
$r = api('/statsig/v1/log_event',
         { events => [ { eventName => 'e', user => $user } ] });
is($r->{status}, 202, 'no specs: log_event 202');
is_deeply($r->{json}, { success => JSON::PP::true }, 'log_event: success');
$t2->stop;

# local mode without any key: every request 401, a warning at start
my $t3 = StatsigTest->new;
$t3->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;

    server {
        listen %%LISTEN%%;
        location /statsig/ { statsig_api; }
    }
}
EOF
ok($t3->run, 'started without a key');
$t = $t3;
is(api('/statsig/v1/log_event', { events => [] })->{status}, 401,
   'no key at all: 401');
is(api('/statsig/v1/log_event', { events => [] },
       headers => { 'statsig-api-key' => '' })->{status}, 401,
   'no key at all: an empty header is no key');
like($t3->error_log, qr/"statsig_api" in .* has no key/, 'warned at start');
$t3->stop;

done_testing;
