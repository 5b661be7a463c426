#!/usr/bin/perl

# Every upstream failure keeps serving the last good snapshot, shows in
# the status with its reason and is logged once per change of state:
# refused, timeout, 5xx, garbage, truncated JSON, a short body; then the
# sync recovers.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json status all_workers server_conf);
use FakeStatsig;

my $KEY = 'secret-failfailfail98765';

my $t = StatsigTest->new(fake => 1, workers => 2);
my $f = $t->fake;

$f->set_specs(dcs_json(time => 1000, flag => 1));
$t->write_file('key', $KEY);

$t->write_conf(server_conf(http => 'statsig_upstream_timeout 700ms;'));

ok($t->run, 'started');
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 1000 }, 5),
   'first specs loaded');

# the fake answers with newer specs (time 9000, flag off) when it answers
# at all: a failure must never publish them

$f->set_specs(dcs_json(time => 9000, flag => 0));

my @modes = (
    [ status500 => qr/HTTP status 500/ ],
    [ timeout   => qr/[Tt]imeout|timed out/ ],
    [ garbage   => qr/response does not compile/ ],
    [ truncated => qr/response does not compile/ ],
    [ short     => qr/transfer closed|[Pp]artial|\(18\)/ ],
    [ status401 => qr/HTTP status 401/ ],
);

for my $m (@modes) {
    my ($mode, $re) = @$m;

    $f->control(dcs => $mode);

    my $s;
    ok(wait_for(sub {
        $s = status($t);
        $s->{specs}{sync}{state} eq 'failing'
            && ($s->{specs}{sync}{error} // '') =~ $re;
    }, 6), "$mode: status shows the failure")
        or diag(explain($s->{specs}{sync}));

    is($s->{_status}, 200, "$mode: still ready");
    is($s->{specs}{time}, 1000, "$mode: last good specs kept");
    is($t->get('/flag')->{content}, '1', "$mode: answers unchanged");
}

# refused: nobody listens on the port any more

my $port = $f->port;
$f->stop;
ok(wait_for(sub { (status($t)->{specs}{sync}{error} // '')
                  =~ /[Cc]ouldn't connect|[Cc]onnection refused/ }, 6),
   'refused: status shows the failure');
is(status($t)->{specs}{time}, 1000, 'refused: last good specs kept');
is($t->get('/flag')->{content}, '1', 'refused: answers unchanged');

# logged once per change of reason, not once per attempt

sleep 1.5;
my @lines = grep { /specs sync failed/ } split /\n/, $t->error_log;
my $failures = status($t)->{specs}{sync}{failures};
cmp_ok($failures, '>', scalar @lines, 'more failures than log lines');
cmp_ok(scalar @lines, '<=', scalar @modes + 2,
       'one log line per change of reason') or diag(join "\n", @lines);
ok(!grep({ !/\[error\]/ } @lines), 'logged at error level');

# back: the newer specs are published

$f = FakeStatsig->new(dir => $f->dir, port => $port);
$f->control();
$t->{fake} = $f;
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 9000 }, 6),
   'recovered: every worker sees the new specs');
is(status($t)->{specs}{sync}{state}, 'ok', 'state ok');
ok($t->wait_for_log(qr/specs sync works again/, 3), 'recovery logged');
is($t->get('/flag')->{content}, '0', 'new answer');

my $prom = $t->get('/status?format=prometheus')->{content};
like($prom, qr/^statsig_specs_sync_failures_total\{zone="statsig"\} [1-9]/m,
     'failures in prometheus');

unlike($t->error_log . $prom, qr/failfailfail/, 'the key is in no log');

$t->stop;

done_testing;
