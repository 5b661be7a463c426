#!/usr/bin/perl

# The shipped examples stay valid: every conf-examples/*.conf passes
# "nginx -t", the demo config serves requests, and the demo specs file is
# a download_config_specs document the official SDK (the oracle) accepts
# with the assignments the README describes.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest;

my $root = StatsigTest::root();
my $t = StatsigTest->new;
my $bin = StatsigTest::nginx_bin();
my $so = $t->{module};

my %env = StatsigTest::env_for_nginx();
local @ENV{keys %env} = values %env;

for my $conf (glob "$root/conf-examples/*.conf") {
    my $dir = $t->dir . '/ex';
    mkdir $dir;
    mkdir "$dir/logs";
    my $g = "load_module $so; pid $dir/nginx.pid;";
    my $out = `$bin -t -p $dir/ -c $conf -e $dir/error.log -g '$g' 2>&1`;
    is($? >> 8, 0, "nginx -t $conf") or diag($out);
}

# run demo.conf on a free port, inside the test dir
my $demo = StatsigTest::slurp("$root/conf-examples/demo.conf");
$demo =~ s/^\s*(worker_processes|error_log)\b.*$//mg;
$demo =~ s/^events \{.*?^\}//ms;
$demo =~ s/listen 127\.0\.0\.1:8080;/listen %%LISTEN%%;/;
$demo =~ s{ logs/}{ %%TESTDIR%%/logs/}g;
$demo =~ s{statsig_specs_file demo-specs\.json;}
          {statsig_specs_file $root/conf-examples/demo-specs.json;};
$t->write_conf("%%TEST_GLOBALS%%\n$demo");
$t->write_file('demo-api-key',
               StatsigTest::slurp("$root/conf-examples/demo-api-key"));

ok($t->run, 'demo.conf runs');
my $r = $t->get('/', headers => { 'X-User-Id' => 'alice' });
is($r->{status}, 200, 'demo /');
like($r->{content}, qr/^public_launch=\[.*\] beta_users=/, 'demo / body');
$r = $t->get('/checkout', headers => { 'X-User-Id' => 'bob' });
like($r->{content}, qr/^checkout=(classic|new) price=[\d.]+ /,
     'demo /checkout');
is($t->get('/statsig/status')->{status}, 200, 'demo status: specs loaded');
$r = $t->request('POST', '/statsig/mcp',
                 headers => { authorization => 'Bearer demo-local-api-key',
                              'content-type' => 'application/json' },
                 content => '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
                            . '"params":{"name":"check-gate","arguments":'
                            . '{"user":{"userID":"a","email":"a@example.com"},'
                            . '"gateName":"beta_users"}}}');
like($r->{content}, qr/"structuredContent":\{"name":"beta_users","value":true/,
     'demo /statsig/mcp: check-gate');
$r = $t->request('POST', '/statsig/flags/ofrep/v1/evaluate/flags/beta_users',
                 headers => { authorization => 'Bearer demo-local-api-key',
                              'content-type' => 'application/json' },
                 content => '{"context":{"targetingKey":"a",'
                            . '"email":"a@example.com"}}');
like($r->{content}, qr/"value":true/, 'demo OFREP: beta_users')
    or diag($r->{status} . ' ' . $r->{content});
$t->stop;

# the demo specs, evaluated by the official SDK
SKIP: {
    my $oracle = "$root/build/oracle";
    skip 'no build/oracle (make oracle)', 6
        unless -d "$oracle/node_modules" && `node --version 2>/dev/null`;

    my $users = $t->write_file('users.jsonl', join '', map { "$_\n" }
        '{"userID":"alice","email":"alice@example.com"}',
        '{"userID":"bob","country":"DE"}',
        '{"userID":"carol"}');
    my @lines = `node $oracle/oracle.js $root/conf-examples/demo-specs.json $users 2>/dev/null`;
    is($? >> 8, 0, 'oracle accepts demo-specs.json');
    my %v;
    for (@lines) {
        my $e = decode_json($_);
        $v{"$e->{user_index}:$e->{name}"} = $e;
    }
    ok($v{'0:beta_users'}{value}, 'alice (email) is in beta_users');
    ok($v{'1:beta_users'}{value}, 'bob (country DE) is in beta_users');
    ok(!$v{'2:beta_users'}{value}, 'carol is not');
    is($v{'1:pricing'}{value}{currency}, 'EUR', 'bob gets EU pricing');
    like($v{'0:button_color'}{group_name} // '', qr/^(Control|Test)$/,
         'button_color experiment assigns a group');
}

done_testing;
