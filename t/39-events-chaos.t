#!/usr/bin/perl

# Chaos with the event sink failing: kill -9 of workers, a reload and a
# graceful quit under load, then a start with Statsig back.  Every
# purchase served is delivered once or counted as lost:
#
#   served = delivered + dropped_lost, exactly, none delivered twice.
#
# statsig_event_spool carries the queue across the quit.  The kills come
# between bursts of load (a request killed half-way, response sent but
# event not yet made, would be neither served nor lost); each burst
# leaves events in the workers' open packs, which the kills lose and the
# module counts.  Bounded: about 30 s.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigEvents qw(events_nginx status_json delivered);
use StatsigLoad qw(load);

my $KEY = 'secret-ChAoS0123456789';

my ($t, $f) = events_nginx(key => $KEY, http => <<'EOF',
    statsig_flush_interval 100ms;
    statsig_user_id $arg_u;
    statsig_event_spool %%TESTDIR%%/spool;
EOF
    server => <<'EOF');
        location = /buy {
            statsig_event purchase;
            return 200 "1";
        }
EOF

sub sink { status_json($t)->{events}{sinks}{statsig} // {} }

sub burst {
    my ($tag, $secs, $during) = @_;
    my $stop = load(dir => $t->dir, url => $t->url('/buy'), tag => $tag,
                    clients => 3, body => '1', pause => 0.002);
    sleep $secs;
    $during->() if $during;
    return $stop->();
}

sub kill_one {
    my ($what) = @_;
    my @w = $t->worker_pids;
    my $victim = $w[0];
    # the last response's event reaches the open pack at the end of its
    # event-loop iteration, a moment after the client has the response
    sleep 0.01;
    ok(kill('KILL', $victim), "$what: kill -9 worker $victim");
    ok(wait_for(sub { my @n = $t->worker_pids;
                      @n == 2 && !grep { $_ == $victim } @n }, 10),
       "$what: respawned");
    return $victim;
}

my @served;
my @killed;

push @served, burst('a', 2);
ok(@served > 50, 'burst a: ' . @served . ' served, Statsig up');

$f->control(log_event => 'status500');
ok(wait_for(sub { (sink()->{failures} // 0) > 0 }, 10), 'Statsig down');

push @served, burst('b', 2);
push @killed, kill_one('after burst b');

push @served, burst('c', 3, sub {
    $t->reload;
    pass('reloaded under load');
});
push @killed, kill_one('after burst c');

ok(wait_for(sub { (sink()->{queue}{buffered} // -1) == 0 }, 10),
   'the dead workers\' open packs reaped');
my $lost = sink()->{dropped_lost};
note("events lost with the killed workers: $lost");

# a graceful quit under load, Statsig still down
push @served, burst('d', 1, sub { $t->stop(check => 0) });

my $log = $t->error_log;
like($log, qr/were written to the spool/, 'the queue went to the spool');
unlike($log, qr/events of sink "statsig" were lost/, 'none lost at quit');
# what the kills took (the open packs of the moment, the flusher's
# batches) depends on timing; when anything, it is logged
if ($lost) {
    like($log, qr/statsig: (worker \d+ died with \d+ events not yet queued|the previous event flusher died with \d+ events in flight)/,
         'the losses logged');
} else {
    unlike($log, qr/died with \d+ events/, 'no loss, none logged');
}
my @bad = $t->bad_log_lines_but_kills(@killed);
ok(!@bad, 'no other alert') or diag(join "\n", @bad);

# back, with Statsig up: the spool is sent
$f->control(log_event => 'normal');
ok($t->run, 'started again');

my %served = map { $_ => 1 } @served;
my $n = scalar keys %served;
my ($got, $arrived);
ok(wait_for(sub {
    $got = delivered($f);
    $arrived = grep { $got->{$_} } keys %served;
    $arrived + $lost == $n;
}, 30), "served = delivered + dropped_lost: $n = "
        . ($arrived // 0) . " + $lost");
my @twice = grep { ($got->{$_} // 0) > 1 } keys %served;
is(scalar @twice, 0, 'none twice') or do {
    my %w = map { $_ => 1 } @twice[0 .. ($#twice > 4 ? 4 : $#twice)];
    for my $r ($f->requests(path => qr{^/v1/log_event$})) {
        my @u = grep { $w{$_} } map { $_->{user}{userID} // '' }
                @{ $r->{json}{events} // [] };
        diag(sprintf "%.3f %s %d events, %s", $r->{time},
             $r->{control}{log_event} // 'normal',
             scalar @{ $r->{json}{events} // [] }, join ' ', @u) if @u;
    }
    diag('twice: ' . scalar @twice);
};
is(scalar(grep { !$served{$_} } grep { /^[abcd]-/ } keys %$got), 0,
   'nothing delivered that was not served');

$t->stop(check => 0);
@bad = $t->bad_log_lines_but_kills(@killed);
ok(!@bad, 'no alert but the kills\' ') or diag(join "\n", @bad);

done_testing;
