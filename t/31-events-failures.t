#!/usr/bin/perl

# The event sink failing: a non-retryable 400 drops the batch (counted,
# logged, not retried); "success":false is retried; an outage of
# STATSIG_OUTAGE seconds (default 60) with a small queue: the queue
# fills and drops new events (counted), the flusher backs off, and after
# recovery every event that fit in the queue arrives exactly once.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigEvents qw(events_nginx status_json);

my $KEY = 'secret-FaIlUrEs0123456789';
my $OUTAGE = $ENV{STATSIG_OUTAGE} // 60;

my ($t, $f) = events_nginx(key => $KEY, zone => '1m', http => <<'EOF',
    statsig_event_queue 8k;
    statsig_flush_interval 100ms;
    statsig_flush_batch 5;
    statsig_upstream_timeout 2s;
    statsig_user_id $arg_u;
EOF
    server => <<'EOF');
        location = /gate { return 200 "$statsig_gate_public_launch"; }
        location = /five {
            statsig_event e1 value=$arg_u;
            statsig_event e2 value=$arg_u;
            statsig_event e3 value=$arg_u;
            statsig_event e4 value=$arg_u;
            statsig_event e5 value=$arg_u;
            return 204;
        }
EOF

# events of the requests answered in mode $mode (default: accepted ones)
sub events {
    my ($mode) = @_;
    $mode //= 'normal';
    my @e;
    for my $r ($f->requests(path => qr{^/v1/log_event$})) {
        next unless ($r->{control}{log_event} // 'normal') eq $mode;
        push @e, @{ $r->{json}{events} // [] };
    }
    return @e;
}

sub sink { status_json($t)->{events}{sinks}{statsig} // {} }

sub users { map { $_->{user}{userID} } @_ }

# ---- 400: dropped, counted, logged, not retried ----

$f->control(log_event => 'status400');
$t->get("/gate?u=bad$_") for 1 .. 3;

ok(wait_for(sub { (sink()->{dropped_rejected} // 0) == 3 }, 10),
   '400: the events are dropped and counted as rejected');
my $s = sink();
is($s->{dropped}, 3, '400: counted in dropped');
is($s->{retried}, 0, '400: not retried');
like($s->{error}, qr/HTTP 400/, '400: the reason in the status');
like($t->error_log, qr/refused \d+ events: HTTP 400.*not retryable, dropped/,
     '400: the reason in the error log');
is(scalar(events('status400')), 3, '400: each event was sent once');

# ---- success:false: kept and sent again ----

$f->control(log_event => 'refuse');
$t->get('/gate?u=refused');
ok(wait_for(sub { (sink()->{failures} // 0) > 3 }, 10),
   '"success":false is a failure');
$f->control(log_event => 'normal');
ok(wait_for(sub { grep { $_ eq 'refused' } users(events()) }, 10),
   '"success":false: retried until accepted');
ok(sink()->{retried} >= 1, 'counted as retried');

# ---- 413: the batch is split until the sink takes it ----

# one request logs 5 events: one pack of 5 (statsig_flush_batch), which
# the sink refuses as too large until a request carries at most 2
$f->control(log_event => 'max_events2');
my $split0 = sink();
$t->get('/five?u=big');

ok(wait_for(sub { sink()->{sent} - $split0->{sent} == 5 }, 15),
   '413: every event of the refused batch is sent in smaller ones');
my @split = grep { ($_->{control}{log_event} // '') eq 'max_events2' }
            $f->requests(path => qr{^/v1/log_event$});
my @sizes = map { scalar @{ $_->{json}{events} } } @split;
# the requests the sink took: at most 2 events
my @big = grep { $_->{value} eq 'big' }
          map { @{ $_->{json}{events} } }
          grep { @{ $_->{json}{events} } <= 2 } @split;
is(join(',', sort map { $_->{eventName} } @big), 'e1,e2,e3,e4,e5',
   '413: each event arrived once');
is($sizes[0], 5, '413: the first request carried the whole pack');
ok($sizes[-1] <= 2 && @sizes >= 4,
   "413: split until a request carries at most 2 (@sizes)");
like($t->error_log, qr/refused 5 events as too large/, '413: logged');
is(sink()->{dropped} - $split0->{dropped}, 0, '413: nothing dropped');
$f->control(log_event => 'normal');

# ---- an outage with a small queue ----

my $base = sink();
my @sent_before = events();

$f->control(log_event => 'status500');
my $t0 = time;

# the queue holds packs of up to 5 events, ~0.5 KB each: 8k fill up
my @users = map { "out$_" } 1 .. 200;
for my $u (@users) {
    is($t->get("/gate?u=$u")->{content}, '1', "request $u served")
        or last;
}

ok(wait_for(sub {
    my $x = sink();
    return $x->{queued} + $x->{dropped_full}
           - $base->{queued} - $base->{dropped_full} == @users;
}, 10), 'every exposure was queued or dropped as full');

$s = sink();
my $queued = $s->{queued} - $base->{queued};
my $full = $s->{dropped_full} - $base->{dropped_full};
ok($full > 0, "a full queue drops new events ($full dropped)");
ok($queued > 0, "and keeps the ones that fit ($queued)");
ok($s->{queue}{used} <= $s->{queue}{size}, 'the queue stays in its size');

# the outage lasts; the flusher backs off meanwhile
ok(wait_for(sub { time - $t0 >= $OUTAGE && sink()->{failures} > 0 },
            $OUTAGE + 10), "outage of $OUTAGE s");
my $tries = grep { $_->{control}{log_event} eq 'status500' }
            $f->requests(path => qr{^/v1/log_event$});
ok($tries < 20, "backed off during the outage ($tries attempts)");
my @at = map { $_->{time} }
         grep { $_->{control}{log_event} eq 'status500' }
         $f->requests(path => qr{^/v1/log_event$});
my $gap = 0;
for my $i (1 .. $#at) {
    $gap = $at[$i] - $at[$i - 1] if $at[$i] - $at[$i - 1] > $gap;
}
cmp_ok($gap, '<', 12, sprintf('a probe at least every 10 s (+1/8 jitter) '
       . 'while down: longest wait %.1f s', $gap));
like($t->error_log, qr/events sink "statsig" failed: HTTP 500.*kept/,
     'the failure is logged');

$f->control(log_event => 'normal');
my $t1 = time;

# while down, a probe every 10 s at most: delivery resumes soon after
ok(wait_for(sub { sink()->{sent} > $base->{sent} }, 30),
   'delivery resumes after the recovery');
cmp_ok(time - $t1, '<', 13, 'within the probe interval (10 s), not the '
       . 'doubled wait of a long outage');

ok(wait_for(sub {
    my $x = sink();
    return $x->{sent} - $base->{sent} == $queued && $x->{in_flight} == 0
           && $x->{queue}{events} == 0;
}, 75), 'after recovery everything queued is sent');

my %out = map { $_ => 1 } @users;
my @got = grep { $out{$_} } users(events());
is(scalar @got, $queued, 'every queued event arrived');
my %n;
$n{$_}++ for @got;
is(scalar(grep { $n{$_} > 1 } keys %n), 0, 'none arrived twice');
$s = sink();
is($s->{dropped_expired}, 0, 'no batch given up');
is($s->{dropped_lost}, 0, 'nothing lost');
like($t->error_log, qr/accepting events again/, 'the recovery is logged');

$t->stop;
unlike($t->error_log, qr/\Q$KEY\E/, 'key not in the error log');

done_testing;
