#!/usr/bin/perl

# statsig_status: JSON and Prometheus, 503 until specs are loaded;
# statsig_api without a key: 401 (t/40-api.t tests the API).

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest;

my $t = StatsigTest->new;

$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone edge_flags 2m;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /v1/ { statsig_api; }
    }
}
EOF

ok($t->run, 'started');

my $r = $t->get('/status');
is($r->{status}, 503, 'no specs loaded: 503');
is($r->{headers}{'content-type'}, 'application/json', 'JSON content type');
is($r->{headers}{'cache-control'}, 'no-store', 'not cacheable');

my $s = eval { decode_json($r->{content}) };
ok($s, 'body is JSON') or diag($r->{content});
is($s->{zone}{name}, 'edge_flags', 'zone name');
is($s->{zone}{size}, 2 * 1024 * 1024, 'zone size');
cmp_ok($s->{zone}{used}, '>', 0, 'zone used > 0');
cmp_ok($s->{zone}{used}, '<', $s->{zone}{size}, 'zone used < size');
is($s->{zone}{reloads}, 0, 'no reloads yet');
ok(JSON::PP::is_bool($s->{specs}{loaded}) && !$s->{specs}{loaded},
   'specs.loaded is false');
is($s->{mode}, 'local', 'no key: local mode');

$r = $t->get('/status?format=json');
is($r->{status}, 503, 'format=json');

$r = $t->get('/status?format=prometheus');
is($r->{status}, 503, 'prometheus: 503 too');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'prometheus content type');
like($r->{content}, qr/^statsig_specs_loaded\{zone="edge_flags"\} 0$/m,
     'statsig_specs_loaded 0');
like($r->{content},
     qr/^statsig_zone_size_bytes\{zone="edge_flags"\} 2097152$/m,
     'zone size metric');
like($r->{content}, qr/^statsig_zone_used_bytes\{zone="edge_flags"\} \d+$/m,
     'zone used metric');
like($r->{content}, qr/^# TYPE statsig_specs_loaded gauge$/m, 'TYPE line');

# every line is well-formed exposition text
my @bad = grep { !/^(# (HELP|TYPE) \w+ .+|\w+\{zone="[^"]*"(,\w+="[^"]*")*\} \d+)$/ }
          split /\n/, $r->{content};
is_deeply(\@bad, [], 'exposition format');

is($t->get('/status?format=xml')->{status}, 400, 'unknown format: 400');

$r = $t->request('HEAD', '/status');
is($r->{status}, 503, 'HEAD');
is($r->{content} // '', '', 'HEAD has no body');

is($t->request('POST', '/status', content => 'x')->{status}, 405,
   'POST not allowed');

$r = $t->request('POST', '/v1/check_gate', content => '{}');
is($r->{status}, 401, 'statsig_api without a key: 401');
like($r->{content}, qr/statsig-api-key/, 'statsig_api says why');

# a server key puts the status in server mode and is never shown
my $t2 = StatsigTest->new;
$t2->write_file('key', "secret-0123456789abcdef\n");
$t2->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_server_key file:%%TESTDIR%%/key;
    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
    }
}
EOF
ok($t2->run, 'started with a key');
$r = $t2->get('/status');
is(decode_json($r->{content})->{mode}, 'server', 'server mode');
unlike($r->{content} . $t2->get('/status?format=prometheus')->{content},
       qr/0123456789abcdef/, 'key not in the status');
$t2->stop;
unlike($t2->error_log, qr/0123456789abcdef/, 'key not in the error log');

$t->stop;

done_testing;
