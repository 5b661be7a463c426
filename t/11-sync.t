#!/usr/bin/perl

# Specs sync against the fake Statsig server, 2 workers: the first fetch
# and its headers, sinceTime, the specs file rewritten, a change seen by
# every worker within one interval plus a second, has_updates:false and
# older times change nothing, one fetcher, the key in no log.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);
use StatsigDCS qw(dcs_json status all_workers server_conf);

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

# ---- the key stays secret ----

my $all = $t->error_log . $t->get('/status')->{content}
          . $t->get('/status?format=prometheus')->{content};
unlike($all, qr/\Q$KEY\E/, 'the key is in no log and no status');

$t->stop;

unlike($t->error_log, qr/K3yK3yK3y/, 'not in the log after stop either');

done_testing;
