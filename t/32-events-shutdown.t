#!/usr/bin/perl

# Events under load across "nginx -s reload" and "nginx -s quit": every
# request that was served has its exposure delivered, exactly once; the
# old workers hand the queue over (reload) or flush it before they leave
# (quit).  The load, the reload and the quit: t/lib/StatsigLoad.pm.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use StatsigEvents qw(events_nginx status_json);
use StatsigLoad qw(reload_and_quit line_reader);

my $KEY = 'secret-ShUtDoWn0123456789';

my ($t, $f) = events_nginx(key => $KEY, zone => '4m', http => <<'EOF',
    statsig_flush_interval 200ms;
    statsig_flush_batch 100;
    statsig_user_id $arg_u;
EOF
    server => '        location = /gate { return 200 "$statsig_gate_public_launch"; }');

my $dir = $t->dir;

# user id => times it arrived at log_event
my %received;
my $next = line_reader("$dir/fake/requests.jsonl");
sub received {
    for my $line ($next->()) {
        next unless $line =~ m{"path":"/v1/log_event"};
        my $r = eval { decode_json($line) } or next;
        $received{ $_->{user}{userID} // '' }++
            for @{ $r->{json}{events} // [] };
    }
    return \%received;
}

sub check {
    my ($what, $served) = @_;
    my $got = received();
    my @missing = grep { !$got->{$_} } @$served;
    my @twice = grep { $got->{$_} > 1 } @$served;
    diag("$what: " . @$served . " requests served") if $ENV{TEST_VERBOSE};
    is(scalar @missing, 0, "$what: every served request's exposure arrived")
        or diag("missing: @missing[0 .. ($#missing > 9 ? 9 : $#missing)]");
    is(scalar @twice, 0, "$what: none arrived twice");
}

reload_and_quit(
    t => $t, url => $t->url('/gate'), body => '1',
    clients => 3, pause => 0.003,    # a few hundred requests/s per client
    counts => sub {
        my ($tag) = @_;
        return scalar grep { /^$tag-/ } keys %{ received() };
    },
    flowing => [100, 100, 200],
    arrived => sub {
        my ($served) = @_;
        my $g = received();
        return !grep { !$g->{$_} } @$served;
    },
    min_served => 50,
    check => \&check,
    after_reload => sub {
        my $s = status_json($t);
        my $sink = $s->{events}{sinks}{statsig} // {};
        is($sink->{dropped}, 0, 'reload: nothing dropped');
        is($s->{zone}{reloads}, 1, 'the zone (and its queue) was kept');
    });

done_testing;
