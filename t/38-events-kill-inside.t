#!/usr/bin/perl

# A worker killed (kill -9) at the worst moments, which t/38 and t/39's
# kills only hit by chance: gdb stops the worker at a function and kills
# it there.  Every event served is then delivered or counted lost:
#
#   served = delivered + dropped_lost, exactly, and none twice.
#
# 1. Inside the zone's lock, putting its open pack into the ring: the
#    master unlocks the zone (its "was locked by" alert), and the pack's
#    events, still counted in the dead worker's slot, are counted lost.
# 2. The flusher, Statsig down, writing a spill of its ring to the spool:
#    the events cut from the ring are in flight until written, so the
#    next flusher counts them lost with its held batch.
#
# The breakpoints wait for the iteration's events to have reached the
# open packs (an event killed in its own iteration is lost uncounted, as
# the README says).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use POSIX qw(WNOHANG);
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(purchase_nginx spill_nginx status_json delivered);

my $KEY = 'secret-KiLlInSiDe0123456789';

plan skip_all => 'gdb is not installed' unless -x '/usr/bin/gdb';

# a container without ptrace: said, not failed
{
    my $child = fork // die "fork: $!";
    if ($child == 0) { sleep 30; POSIX::_exit(0) }
    my $out = `/usr/bin/gdb -q -nx -batch -p $child -ex detach 2>&1`;
    kill 'KILL', $child;
    waitpid $child, 0;
    plan skip_all => "gdb cannot attach here: $1"
        if $out =~ /(ptrace: Operation not permitted)/;
}

# gdb attached to $pid, stopped at $where (when $cond holds), kills it;
# returns gdb's pid once the breakpoint is set and the worker runs on
sub kill_at {
    my ($t, $pid, $where, $cond, $name) = @_;
    my $log = $t->dir . "/gdb-$name.log";
    my $ready = $t->dir . "/gdb-$name.ready";

    my $gdb = fork // die "fork: $!";
    if ($gdb == 0) {
        open STDOUT, '>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        exec('/usr/bin/gdb', '-q', '-nx', '-batch', '-p', $pid,
             '-ex', 'set pagination off',
             '-ex', "break $where if $cond",
             '-ex', "shell touch $ready",
             '-ex', 'continue',
             '-ex', 'kill')
            or POSIX::_exit(127);
    }

    if (!wait_for(sub { -e $ready }, 60)) {
        kill 'KILL', $gdb;
        waitpid $gdb, 0;
        BAIL_OUT("gdb did not attach to worker $pid:\n"
                 . (slurp($log) // ''));
    }

    return $gdb;
}

sub gdb_done {
    my ($gdb) = @_;
    return waitpid($gdb, WNOHANG) == $gdb || !kill(0, $gdb);
}

# served = delivered + lost, none twice, the kill's lines the only bad
# ones; then stops nginx
sub accounted {
    my ($t, $f, $what, $victim, $served, $lost) = @_;

    my ($got, $arrived);
    ok(wait_for(sub {
        $got = delivered($f);
        $arrived = grep { $got->{$_} } @$served;
        $arrived + $lost == @$served;
    }, 30), "$what: served = delivered + dropped_lost: " . @$served
            . " = " . ($arrived // 0) . " + $lost");
    is(scalar(grep { ($got->{$_} // 0) > 1 } @$served), 0, "$what: none twice");

    $t->stop(check => 0);
    my @bad = $t->bad_log_lines_but_kills($victim);
    ok(!@bad, "$what: no alert but the kill's") or diag(join "\n", @bad);
}

# The iteration's events are in the open packs.
my $PACKED = 'ngx_http_statsig_events.pending.len == 0';

# ---- 1. killed inside the zone's lock, putting its open pack ----

my ($t, $f) = purchase_nginx(key => $KEY, interval => '1s');

my ($w) = $t->worker_pids;
ok($w, 'one worker') or BAIL_OUT('no worker');

my $gdb = kill_at($t, $w, 'ngx_http_statsig_ring_put_locked', $PACKED,
                  'put');

# the pack closes at the next tick (250 ms), or at a tick in the middle
# (a request then waits for the kill, and is not served)
my @served;
for my $i (1 .. 20) {
    push @served, "p$i" if $t->get("/buy?u=p$i")->{status} == 204;
}
ok(wait_for(sub { gdb_done($gdb) }, 30), 'killed at the ring put')
    or kill 'KILL', $gdb;

my $w2;
ok(wait_for(sub { ($w2) = $t->worker_pids; $w2 && $w2 != $w }, 10),
   'a new worker');
like($t->error_log, qr/shared memory zone "statsig" was locked by $w\b/,
     'it died holding the zone\'s lock; the master unlocked it');

# its open pack counted lost and logged; with a batch of the last tick
# still in flight (a slow machine), the next flusher counts that too
my ($s, $packed, $flight);
ok(wait_for(sub {
    $s = status_json($t)->{events}{sinks}{statsig};
    my $log = $t->error_log;
    ($packed) = $log =~ /statsig: worker $w died with (\d+) events not yet/;
    ($flight) = $log =~ /the previous event flusher died with (\d+) events/;
    ($s->{queue}{buffered} // -1) == 0 && $packed
        && ($s->{dropped_lost} // 0) == $packed + ($flight // 0);
}, 10), 'its open pack counted lost and logged: dropped_lost '
        . ($s->{dropped_lost} // 0) . ' = ' . ($packed // 0)
        . ($flight ? " + $flight in flight" : ''))
    or diag(encode_json($s // {}));

# the zone works after the master's unlock
push @served, 'after' if $t->get('/buy?u=after')->{status} == 204;
accounted($t, $f, 'a kill in the lock', $w, \@served, $s->{dropped_lost});

# ---- 2. the flusher killed writing a spill ----

($t, $f) = spill_nginx(key => $KEY, workers => 1);
$f->control(log_event => 'status500');

($w) = $t->worker_pids;
ok($w, 'one worker') or BAIL_OUT('no worker');
$gdb = kill_at($t, $w, 'ngx_http_statsig_spool_write_path', $PACKED,
               'spill');

# padding of its own a request (no rotation of another), so that packs do
# not shrink it away: the ring fills, however well the encoder does; until
# the spill, however slow the machine (a loaded ASan run took more than
# the 600 requests this once sent)
@served = ();
my $until = time + 60;
for my $i (1 .. 5000) {
    last if gdb_done($gdb) || time > $until;
    my $pad = md5_hex("pad $i") . md5_hex("more $i");
    push @served, "s$i"
        if $t->get("/buy?u=s$i&pad=$pad")->{status} == 204;
    sleep 0.01 if $i % 20 == 0;
}
if (!ok(wait_for(sub { gdb_done($gdb) }, 30), 'killed writing a spill')) {
    # the worker first: gdb killed with its breakpoint set leaves a trap
    kill 'KILL', $w;
    kill 'KILL', $gdb;
}

ok(wait_for(sub { ($w2) = $t->worker_pids; $w2 && $w2 != $w }, 10),
   'a new worker');
ok(wait_for(sub { $t->error_log =~
                  /the previous event flusher died with (\d+) events in/ },
            15), 'the next flusher counts what the dead one had out');
($flight) = $t->error_log =~
    /the previous event flusher died with (\d+) events in flight/;
$s = status_json($t)->{events}{sinks}{statsig};
is($s->{dropped_lost}, $flight, "dropped_lost is those $flight");

$f->control(log_event => 'normal');
accounted($t, $f, 'a kill in a spill', $w, \@served, $s->{dropped_lost});

done_testing;
