#!/usr/bin/perl

# statsig_event_spool: events left when nginx quits with the sink down
# are written to the spool by the master and sent after the next start,
# each once; without a spool the loss is counted and logged truthfully;
# a sink down long enough to fill its queue spills to the spool instead
# of dropping, and everything arrives once it is back.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigEvents qw(events_nginx spill_nginx status_json delivered);

my $KEY = 'secret-SpOoL0123456789';

sub buy {
    my ($t, $prefix, $n) = @_;
    my @u;
    for my $i (1 .. $n) {
        push @u, "$prefix$i" if $t->get("/buy?u=$prefix$i")->{status} == 204;
    }
    return @u;
}

my $SERVER = <<'EOF';
        location = /buy {
            statsig_event purchase;
            return 204;
        }
EOF

# ---- 1. a quit with Statsig down: spooled, sent after the restart ----

my ($t, $f) = events_nginx(key => $KEY, http => <<'EOF', server => $SERVER);
    statsig_flush_interval 100ms;
    statsig_upstream_timeout 1s;
    statsig_user_id $arg_u;
    statsig_event_spool %%TESTDIR%%/spool;
EOF
my $spool = $t->dir . '/spool';

$f->control(log_event => 'status500');
my @users = buy($t, 'q', 50);
is(scalar @users, 50, '50 purchases served, Statsig down');
ok(wait_for(sub { (status_json($t)->{events}{sinks}{statsig}{failures} // 0)
                  >= 1 }, 10), 'the sink is failing');
$t->stop;

my @files = glob "$spool/statsig-*.spool";
ok(@files >= 1, 'spool files written at quit (' . @files . ')');
like($t->error_log,
     qr/at exit 50 events of sink "statsig" were written to the spool/,
     'the master logs the 50 it spooled');
unlike($t->error_log, qr/were lost/, 'none lost');

$f->control(log_event => 'normal');
ok($t->run, 'started again, Statsig up');
ok(wait_for(sub { my $d = delivered($f); !grep { !$d->{$_} } @users }, 15),
   'every spooled purchase delivered after the restart');
my $d = delivered($f);
is(scalar(grep { $d->{$_} > 1 } @users), 0, 'each once');
ok(wait_for(sub { !glob "$spool/*.spool" }, 10), 'the spool is empty');
is(status_json($t)->{events}{sinks}{statsig}{unspooled}, 50,
   'status: 50 unspooled');
like($t->error_log, qr/50 events of sink "statsig" read back from the spool/,
     'the read-back logged');
$t->stop;

# ---- 2. no spool: the loss at quit is counted truthfully ----

($t, $f) = events_nginx(key => $KEY, http => <<'EOF', server => $SERVER);
    statsig_flush_interval 100ms;
    statsig_upstream_timeout 1s;
    statsig_user_id $arg_u;
EOF
$f->control(log_event => 'status500');
@users = buy($t, 'n', 30);
ok(wait_for(sub { (status_json($t)->{events}{sinks}{statsig}{failures} // 0)
                  >= 1 }, 10), 'no spool: the sink is failing');
$t->stop;
like($t->error_log,
     qr/at exit 30 events of sink "statsig" were lost \(no statsig_event_spool\)/,
     'no spool: "30 events were lost" at quit');

# ---- 3. a long outage: the full queue spills instead of dropping ----

($t, $f) = spill_nginx(key => $KEY);
$spool = $t->dir . '/spool';
$f->control(log_event => 'status500');

# distinct padding so that packs do not shrink it away
my @many;
for my $i (1 .. 600) {
    my $pad = join '', map { chr(97 + ($i * 7 + $_ * 13) % 26) } 1 .. 40;
    push @many, "s$i"
        if $t->get("/buy?u=s$i&pad=$pad")->{status} == 204;
    sleep 0.01 if $i % 20 == 0;
}
is(scalar @many, 600, '600 purchases served, Statsig down');
my $s = status_json($t)->{events}{sinks}{statsig};
cmp_ok($s->{spooled}, '>', 0, "spilled to the spool ($s->{spooled})");
is($s->{dropped_full}, 0, 'nothing dropped for a full queue')
    or diag(encode_json($s));
like($t->error_log, qr/queue is half full: \d+ events moved to the spool/,
     'the spill logged');

$f->control(log_event => 'normal');
ok(wait_for(sub { my $d = delivered($f); !grep { !$d->{$_} } @many }, 30),
   'after the outage every purchase arrived');
$d = delivered($f);
is(scalar(grep { $d->{$_} > 1 } @many), 0, 'each once');
ok(wait_for(sub { !glob "$spool/*.spool" }, 10), 'the spool is empty again');
$t->stop;

done_testing;
