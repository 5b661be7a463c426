#!/usr/bin/perl

# Events under load across "nginx -s reload" and "nginx -s quit": every
# request that was served has its exposure delivered, exactly once; the
# old workers hand the queue over (reload) or flush it before they leave
# (quit).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(events_nginx status_json);

my $KEY = 'secret-ShUtDoWn0123456789';

my ($t, $f) = events_nginx(key => $KEY, zone => '4m', http => <<'EOF',
    statsig_flush_interval 200ms;
    statsig_flush_batch 100;
    statsig_user_id $arg_u;
EOF
    server => '        location = /gate { return 200 "$statsig_gate_public_launch"; }');

my $dir = $t->dir;
my $url = $t->url('/gate');

# load: $n clients, each requesting with fresh user ids until $stop
# exists; the ids served are written to $dir/served-$tag-$i
sub load {
    my ($tag, $n) = @_;
    my @pids;
    unlink "$dir/stop-$tag";
    for my $i (1 .. $n) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my $ua = HTTP::Tiny->new(keep_alive => 0, timeout => 5);
            open my $out, '>', "$dir/served-$tag-$i" or _exit(1);
            $out->autoflush(1);
            my $k = 0;
            until (-e "$dir/stop-$tag") {
                my $u = "$tag-$i-" . $k++;
                my $r = $ua->get("$url?u=$u");
                if ($r->{status} == 200 && $r->{content} eq '1') {
                    print $out "$u\n";
                } elsif ($r->{status} == 599) {
                    sleep 0.01;
                }
                sleep 0.003;    # a few hundred requests/s per client
            }
            close $out;
            _exit(0);
        }
        push @pids, $pid;
    }
    return sub {
        open my $fh, '>', "$dir/stop-$tag";
        close $fh;
        waitpid($_, 0) for @pids;
        my @served;
        push @served, split /\n/, slurp("$dir/served-$tag-$_") for 1 .. $n;
        return @served;
    };
}

# user id => times it arrived; reads only what the fake added since
my (%received, $offset);
sub received {
    my $log = "$dir/fake/requests.jsonl";
    open my $fh, '<', $log or return \%received;
    seek $fh, $offset // 0, 0;
    while (my $line = <$fh>) {
        last unless $line =~ /\n$/;
        $offset = tell $fh;
        next unless $line =~ m{"path":"/v1/log_event"};
        my $r = eval { decode_json($line) } or next;
        $received{ $_->{user}{userID} // '' }++
            for @{ $r->{json}{events} // [] };
    }
    return \%received;
}

sub check {
    my ($what, $served, $got) = @_;
    my @missing = grep { !$got->{$_} } @$served;
    my @twice = grep { $got->{$_} > 1 } @$served;
    ok(@$served > 50, "$what: load was served (" . @$served . " requests)");
    diag("$what: " . @$served . " requests served") if $ENV{TEST_VERBOSE};
    is(scalar @missing, 0, "$what: every served request's exposure arrived")
        or diag("missing: @missing[0 .. ($#missing > 9 ? 9 : $#missing)]");
    is(scalar @twice, 0, "$what: none arrived twice");
}

# ---- reload under load ----

my $stop = load('r', 3);

ok(wait_for(sub { keys %{ received() } > 100 }, 20), 'events flowing');
ok($t->reload, 'reloaded under load');
my $n0 = keys %{ received() };
ok(wait_for(sub { keys %{ received() } > $n0 + 100 }, 20),
   'events flow from the new workers');

my @served = $stop->();
ok(wait_for(sub {
    my $g = received();
    return !grep { !$g->{$_} } @served;
}, 20), 'reload: delivered');
check('reload', \@served, received());

my $s = status_json($t);
my $sink = $s->{events}{sinks}{statsig} // {};
is($sink->{dropped}, 0, 'reload: nothing dropped');
is($s->{zone}{reloads}, 1, 'the zone (and its queue) was kept');

# ---- quit under load ----

$stop = load('q', 3);
ok(wait_for(sub { grep({ /^q-/ } keys %{ received() }) > 200 }, 20),
   'events flowing again');

my $took = $t->stop;
@served = $stop->();
ok($took < 15, sprintf('nginx quit in %.1f s', $took));
check('quit', \@served, received());
unlike($t->error_log, qr/went back to the queue|were lost/,
       'quit: nothing left behind');

done_testing;
