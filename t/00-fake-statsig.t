#!/usr/bin/perl

# Self-test of the fake Statsig server in t/lib/FakeStatsig.pm.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Compress::Gzip qw(gzip);
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time);

use FakeStatsig;

my $dir = tempdir('statsig-fake-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP});
my $f = FakeStatsig->new(dir => "$dir/fake");
my $u = $f->url;
my $json = JSON::PP->new->canonical;

# keep-alive on: one connection serves several requests, as curl does
my $ua = HTTP::Tiny->new(keep_alive => 1, timeout => 5);

my $specs = { has_updates => JSON::PP::true, time => 1700000000000,
              feature_gates => [], dynamic_configs => [],
              layer_configs => [], layers => {} };
$f->set_specs($specs);
$f->set_specs({ %$specs, time => 1700000000999 }, 'secret-other');

my $r = $ua->get("$u/v1/download_config_specs/secret-k.json");
is($r->{status}, 200, 'dcs 200');
is($json->decode($r->{content})->{time}, 1700000000000, 'dcs body');

$r = $ua->get("$u/v1/download_config_specs/secret-other.json");
is($json->decode($r->{content})->{time}, 1700000000999, 'per-key specs');

$r = $ua->get("$u/v1/download_config_specs/secret-k.json?sinceTime=1700000000000");
is($r->{content}, '{"has_updates":false}', 'sinceTime up to date');

$r = $ua->get("$u/v1/download_config_specs/secret-k.json?sinceTime=1");
is($json->decode($r->{content})->{time}, 1700000000000, 'sinceTime older');

# id lists: index + file with Range
$f->add_id_list('company_ids', "+abc\n+def\n-abc\n");
$r = $ua->post("$u/v1/get_id_lists", { content => '{}',
    headers => { 'Content-Type' => 'application/json' } });
my $idx = $json->decode($r->{content});
is($idx->{company_ids}{size}, 15, 'id list index size');
like($idx->{company_ids}{url}, qr{^\Q$u\E/idlists/company_ids$}, 'index url');

$r = $ua->get($idx->{company_ids}{url});
is($r->{content}, "+abc\n+def\n-abc\n", 'id list file');
$r = $ua->get($idx->{company_ids}{url}, { headers => { Range => 'bytes=5-' } });
is($r->{status}, 206, 'range 206');
is($r->{content}, "+def\n-abc\n", 'range body');
is($r->{headers}{'content-range'}, 'bytes 5-14/15', 'content-range');
$r = $ua->get($idx->{company_ids}{url}, { headers => { Range => 'bytes=15-' } });
is($r->{status}, 416, 'range past the end');

# log_event, gzip body recorded decoded
my $events = { events => [ { eventName => 'statsig::gate_exposure' } ] };
my $gz;
gzip(\($json->encode($events)) => \$gz);
$r = $ua->post("$u/v1/log_event", { content => $gz, headers => {
    'Content-Type' => 'application/json', 'Content-Encoding' => 'gzip',
    'STATSIG-API-KEY' => 'secret-k' } });
is($r->{status}, 202, 'log_event 202');
is($r->{content}, '{"success":true}', 'log_event body');

my @le = $f->requests(path => qr{^/v1/log_event$});
is(scalar @le, 1, 'one log_event recorded');
is($le[0]{json}{events}[0]{eventName}, 'statsig::gate_exposure',
   'gzip body decoded');
is($le[0]{headers}{'statsig-api-key'}, 'secret-k', 'headers recorded');
is($le[0]{method}, 'POST', 'method recorded');

my @q = $f->requests(path => qr{download_config_specs});
is($q[2]{query}{sinceTime}, '1700000000000', 'query recorded');

# chunked request body
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $f->port) or die;
print $s "POST /v1/log_event HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
my $raw = do { local $/; <$s> };
like($raw, qr{^HTTP/1.1 202}, 'chunked POST answered');
is(($f->requests(path => qr{log_event}))[1]{json}{a}, 1, 'chunked body');

# failure modes
$f->control(dcs => 'status500');
is($ua->get("$u/v1/download_config_specs/k.json")->{status}, 500, '500 mode');
is($ua->post("$u/v1/log_event", { content => '{}' })->{status}, 202,
   'other endpoints unaffected');

$f->control(dcs => 'garbage');
$r = $ua->get("$u/v1/download_config_specs/k.json");
ok(!eval { $json->decode($r->{content}); 1 }, 'garbage is not JSON');

$f->control(dcs => 'truncated');
$r = $ua->get("$u/v1/download_config_specs/k.json");
is($r->{status}, 200, 'truncated 200');
ok(!eval { $json->decode($r->{content}); 1 }, 'truncated JSON');

$f->control(dcs => 'short');
$r = HTTP::Tiny->new(timeout => 5)->get("$u/v1/download_config_specs/k.json");
isnt($r->{status}, 200, 'short body is a transfer error');

$f->control(dcs => 'no_updates');
is($ua->get("$u/v1/download_config_specs/k.json")->{content},
   '{"has_updates":false}', 'no_updates mode');

$f->control(dcs => 'timeout');
my $t0 = time;
$r = HTTP::Tiny->new(timeout => 1)->get("$u/v1/download_config_specs/k.json");
is($r->{status}, 599, 'timeout mode holds the connection');
cmp_ok(time - $t0, '>=', 0.9, 'client waited for its timeout');

# the control endpoint
$r = $ua->get("$u/_control?dcs=normal");
is($json->decode($r->{content})->{dcs}, 'normal', 'control endpoint');
is($ua->get("$u/v1/download_config_specs/k.json")->{status}, 200,
   'back to normal');

is($ua->get("$u/nope")->{status}, 404, 'unknown path 404');

$f->control();
ok($f->wait_requests(3, path => qr{idlists}, timeout => 2),
   'wait_requests');

$f->stop;
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $f->port),
   'stopped');

done_testing;
