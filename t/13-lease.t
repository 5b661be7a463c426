#!/usr/bin/perl

# The fetch lease: kill -9 of the fetching worker hands it to another
# worker within two intervals and fetching goes on; the snapshot survives.
# A reload keeps the zone and its snapshot: answers do not change, there
# is no gap in readiness and no burst of fetches.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json status all_workers server_conf);

my $t = StatsigTest->new(fake => 1, workers => 3);
my $f = $t->fake;

$f->set_specs(dcs_json(time => 1000, flag => 1));
$t->write_file('key', 'secret-lease-0123456789');

$t->write_conf(server_conf());

my $dcs = qr{^/v1/download_config_specs/};

ok($t->run, 'started');
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 1000 }, 5),
   'specs loaded');

# ---- kill -9 of the lease holder ----

my $s = status($t);
my $holder = $s->{lease}{pid};
ok($holder && grep({ $_ == $holder } $t->worker_pids),
   'the lease is held by a live worker');
my $changes = $s->{lease}{changes};

ok(kill('KILL', $holder), 'kill -9 the fetching worker');
my $t0 = time;

my $new;
ok(wait_for(sub {
    $new = status($t)->{lease}{pid};
    $new && $new != $holder;
}, 5), 'another worker took the lease');
my $took = time - $t0;
cmp_ok($took, '<', 2.0, 'within two intervals') or diag("took $took");
ok(grep({ $_ == $new } $t->worker_pids), 'the new holder is alive');
is(status($t)->{lease}{changes}, $changes + 1, 'one handover');

my $n = () = $f->requests(path => $dcs);
ok($f->wait_requests($n + 2, path => $dcs, timeout => 5),
   'fetching goes on');
$f->set_specs(dcs_json(time => 2000, flag => 0));
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 2000 }, 5),
   'a change after the handover reaches every worker (the respawned one '
   . 'too)');
is($t->get('/flag')->{content}, '0', 'new answer');
is(status($t)->{zone}{processes}, 3, 'the dead worker\'s slot was freed');

# ---- reload: same answers, no gap, no fetch storm ----

my $gen = status($t)->{zone}{generation};
my @before = $f->requests(path => $dcs);

my $pid = fork() // die;
if ($pid == 0) {
    # readiness and answers all through the reload
    my $bad = 0;
    my $end = time + 3;
    while (time < $end) {
        my $r = $t->get('/flag');
        $bad++ if $r->{status} != 200 || $r->{content} ne '0';
        sleep 0.01;
    }
    # _exit: no END blocks, which would stop nginx
    POSIX::_exit($bad ? 1 : 0);
}

sleep 0.5;
my $tr = time;
ok($t->reload, 'reloaded');
waitpid($pid, 0);
is($? >> 8, 0, 'every answer during the reload was 200 and unchanged');

$s = status($t);
is($s->{zone}{reloads}, 1, 'zone reused');
is($s->{specs}{time}, 2000, 'snapshot kept');
is($s->{zone}{generation}, $gen, 'nothing re-published');

sleep 1.0;
my @after = grep { $_->{time} >= $tr } $f->requests(path => $dcs);
my $span = time - $tr;
cmp_ok(scalar @after, '<=', int($span) + 2,
       'no burst of fetches after the reload (one per interval)')
    or diag(scalar(@after) . " fetches in $span s");

$t->stop(check => 0);
my @bad = $t->bad_log_lines_but_kills;
is_deeply(\@bad, [], 'no alert other than the killed worker');

done_testing;
