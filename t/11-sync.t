#!/usr/bin/perl

# Specs sync against the fake Statsig server, 2 workers: the first fetch
# and its headers, sinceTime, the specs file rewritten, a change seen by
# every worker within one interval plus a second, has_updates:false and
# older times change nothing, specs made for another key are refused, one
# fetcher, the key in no log.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);
use StatsigDCS qw(dcs dcs_json status all_workers server_conf);

my $KEY = 'secret-K3yK3yK3y0123456789';

my $t = StatsigTest->new(fake => 1, workers => 2);
my $f = $t->fake;

$f->set_specs(dcs_json(time => 1000, flag => 1));
$t->write_file('key', "$KEY\n");

$t->write_conf(server_conf(
    http => 'statsig_specs_file %%TESTDIR%%/specs.json;'));

my $dcs = qr{^/v1/download_config_specs/};

ok($t->run, 'started');

# ---- first fetch ----

my @r = $f->wait_requests(1, path => $dcs, timeout => 5);
ok(@r, 'specs fetched');
my $h = $r[0]{headers};
is($r[0]{method}, 'GET', 'GET');
is($r[0]{path}, "/v1/download_config_specs/$KEY.json", 'URL: base/<key>.json');
ok(!exists $r[0]{query}{sinceTime}, 'no sinceTime on the first fetch');
is($h->{'statsig-api-key'}, $KEY, 'STATSIG-API-KEY');
like($h->{'statsig-client-time'}, qr/^\d{13}$/, 'STATSIG-CLIENT-TIME (ms)');
like($h->{'statsig-server-session-id'},
     qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
     'STATSIG-SERVER-SESSION-ID is a UUID');
ok($h->{'statsig-sdk-type'} && $h->{'statsig-sdk-version'},
   'STATSIG-SDK-TYPE and -VERSION');
like($h->{'content-type'} // '', qr{^application/json}, 'Content-Type');

ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 1000 }, 5),
   'every worker sees the fetched specs');
my $s = status($t);
is($s->{_status}, 200, 'ready');
is($s->{mode}, 'server', 'server mode');
is($s->{specs}{source}, 'network', 'source: network');
is($t->get('/flag')->{content}, '1', 'gate from the fetched specs');
ok(wait_for(sub { slurp($t->dir . '/specs.json') eq dcs_json(time => 1000,
                                                            flag => 1) }, 3),
   'specs file written with the fetched document');
ok(!glob($t->dir . '/specs.json.tmp*'), 'no temporary file left');

# ---- sinceTime, has_updates:false ----

my $gen = status($t)->{zone}{generation};
@r = $f->wait_requests(3, path => $dcs, timeout => 5);
is($r[-1]{query}{sinceTime}, '1000', 'then sinceTime=<time>');
$s = status($t);
cmp_ok($s->{specs}{sync}{no_updates}, '>=', 1, 'has_updates:false counted');
is($s->{zone}{generation}, $gen, 'has_updates:false publishes nothing');
cmp_ok($s->{specs}{sync}{latency_ms}{max}, '>', 0, 'latency measured');

my %sessions = map { $_->{headers}{'statsig-server-session-id'} => 1 }
               $f->requests(path => $dcs);
is(scalar keys %sessions, 1, 'one worker fetches');

# ---- a change is seen by every worker within interval + 1s ----

$f->set_specs(dcs_json(time => 2000, flag => 0));
my $took = all_workers($t, sub { $_[0]{worker}{specs_time} == 2000 }, 5);
ok(defined $took && $took < 2.0, 'change seen by every worker in < 2s')
    or diag('took ' . ($took // 'forever'));
is($t->get('/flag')->{content}, '0', 'new answer');

# ---- an older time is ignored ----

$f->set_specs(dcs_json(time => 1500, flag => 1));
$f->control(dcs => 'full');
ok(wait_for(sub { status($t)->{specs}{sync}{ignored} >= 1 }, 5),
   'older specs counted as ignored');
$s = status($t);
is($s->{specs}{time}, 2000, 'older specs not published');
is($s->{specs}{sync}{state}, 'ok', 'not an error');
is($t->get('/flag')->{content}, '0', 'answer unchanged');

# ---- {"has_updates":false} as the whole body ----

$f->control(dcs => 'no_updates');
my $n = status($t)->{specs}{sync}{no_updates};
ok(wait_for(sub { status($t)->{specs}{sync}{no_updates} > $n + 1 }, 5),
   'no_updates answers counted');
is(status($t)->{specs}{time}, 2000, 'has_updates:false changes nothing');
$f->control();

# ---- hashed_sdk_key_used: specs made for another key are refused ----

# djb2 as the SDKs compute it (UTF-16 units; these keys are ASCII)
sub djb2 {
    my $h = 0;
    $h = ($h * 31 + ord($_)) % 4294967296 for split //, $_[0];
    return "$h";
}

my $other = dcs(time => 3000, flag => 1);
$other->{hashed_sdk_key_used} = djb2('secret-someone-else');
$f->set_specs(JSON::PP->new->canonical->encode($other));
ok(wait_for(sub {
       my $st = status($t);
       $st->{specs}{sync}{state} eq 'failing'
           && ($st->{specs}{sync}{error} // '') =~ /another server key/;
   }, 5), 'specs for another key refused, with the reason in status');
is(status($t)->{specs}{time}, 2000, 'refused specs not published');
is($t->get('/flag')->{content}, '0', 'answer unchanged');

my $ours = dcs(time => 3000, flag => 1);
$ours->{hashed_sdk_key_used} = djb2($KEY);
$f->set_specs(JSON::PP->new->canonical->encode($ours));
ok(wait_for(sub { status($t)->{specs}{time} == 3000 }, 5),
   'specs made for our key are published');
is($t->get('/flag')->{content}, '1', 'their answer');

# ---- the key stays secret ----

my $all = $t->error_log . $t->get('/status')->{content}
          . $t->get('/status?format=prometheus')->{content};
unlike($all, qr/\Q$KEY\E/, 'the key is in no log and no status');

$t->stop;

unlike($t->error_log, qr/K3yK3yK3y/, 'not in the log after stop either');

done_testing;
