#!/usr/bin/perl

# The vendors' sinks (statsig_sink customerio, gainsight_px) across
# "nginx -s reload" and "nginx -s quit", and a relay's 503 when its
# sink's queue is full.
#
# 1. Load (a purchase event per request, a fresh user each) with the
#    vendors' endpoints slowed (delay_ms 50: requests are in flight at
#    every moment, about ten reach them after the QUIT), a reload mid-way,
#    then a graceful quit under load: every served request's event
#    reaches Customer.io and Gainsight PX.  The guarantee asserted is
#    t/32-events-shutdown.t's, exactly once: for Customer.io one event id
#    per user (it dedupes by the id, and a retry carries the same one) and
#    one v2 batch item per id; for Gainsight PX, which has no id, one
#    request per user.  The load (~170 requests/s) stays within what the
#    sinks drain (Gainsight: 16 requests in flight, 50 ms each: 320/s;
#    Customer.io: batches), so nothing is in
#    flight at the 5 s shutdown deadline, where README allows a resend
#    ("at least once" for those): t/32 does not allow it either, and
#    "went back to the queue" must not be logged.
# 2. A 64k event queue (about 21k a sink) while Gainsight PX hangs
#    (delay_ms 3000: its 16 requests in flight hold, nothing else drains;
#    not "timeout" mode, see below): relayed bodies (POST
#    /v1/custom-events) are 202 until the ring is full, then 503 with
#    Retry-After and {"error":...}; when the endpoint recovers, every
#    202'ed event arrives, exactly once, and none of the 503'ed.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use StatsigTest qw(wait_for);
use StatsigEvents qw(events_nginx status_json);
use StatsigLoad qw(reload_and_quit line_reader);

my $KEY = 'secret-SiNkQuIt0123456789';
my $API = 'local-api-key-sinkquit';
my $PRODUCT = 'AP-QUIT-1';
my %files = (cio_site => 'site-q', cio_key => 'cio-key-q',
             gpx_key => 'px-key-q', api_key => $API);

my $SINKS = <<"EOF";
    statsig_sink customerio site_id=file:%%TESTDIR%%/cio_site
                 api_key=file:%%TESTDIR%%/cio_key url=%%FAKE_URL%%/api/v1
                 rate=5000;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key
                 product_key=$PRODUCT url=%%FAKE_URL%%/v1 rate=5000;
EOF

my ($t, $f) = events_nginx(key => $KEY, zone => '4m', files => \%files,
                           http => <<"EOF",
    statsig_flush_interval 100ms;
    statsig_user_id \$arg_u;
$SINKS
EOF
    server => '        location = /buy { statsig_event purchase; '
              . 'return 200 "ok"; }');

$f->control(delay_ms => 50);

# what the fake's vendor endpoints received:
# $cio{user}{id} = batch items with that event id; $gpx{user} = requests
my (%cio, %gpx);
my $next = line_reader($t->dir . '/fake/requests.jsonl');
sub received {
    for my $line ($next->()) {
        if ($line =~ m{"path":"/api/v2/batch"}) {
            my $r = eval { decode_json($line) } or next;
            $cio{ $_->{identifiers}{id} // '' }{ $_->{id} // '' }++
                for @{ $r->{json}{batch} // [] };
        } elsif ($line =~ m{"path":"/v1/events/custom"}) {
            my $r = eval { decode_json($line) } or next;
            $gpx{ $r->{json}{identifyId} // '' }++;
        }
    }
}

sub got {
    my ($re) = @_;
    received();
    return (scalar(grep { /$re/ } keys %cio),
            scalar(grep { /$re/ } keys %gpx));
}

sub all_arrived {
    my ($served) = @_;
    received();
    return !grep { !$cio{$_} || !$gpx{$_} } @$served;
}

sub first { my @l = @_; join ' ', @l[0 .. ($#l > 9 ? 9 : $#l)] }

sub check {
    my ($what, $served) = @_;
    received();

    my @missing = grep { !$cio{$_} } @$served;
    is(scalar @missing, 0, "$what: Customer.io got every served user's event")
        or diag('missing: ' . first(@missing));
    my @ids = grep { keys %{ $cio{$_} // {} } > 1 } @$served;
    is(scalar @ids, 0, "$what: Customer.io: one event id a user")
        or diag('several ids: ' . first(@ids));
    my @twice = grep { my $h = $cio{$_} // {}; grep { $_ > 1 } values %$h }
                @$served;
    is(scalar @twice, 0, "$what: Customer.io: each event sent once")
        or diag('resent: ' . first(@twice));

    @missing = grep { !$gpx{$_} } @$served;
    is(scalar @missing, 0, "$what: Gainsight PX got every served user's "
       . 'event') or diag('missing: ' . first(@missing));
    @twice = grep { ($gpx{$_} // 0) > 1 } @$served;
    is(scalar @twice, 0, "$what: Gainsight PX: none arrived twice")
        or diag('twice: ' . first(@twice));
}

sub sinks_clean {
    my ($what) = @_;
    my $s = status_json($t);
    for my $n (qw(customerio gainsight_px)) {
        my $k = $s->{events}{sinks}{$n} // {};
        is($k->{dropped}, 0, "$what: $n dropped nothing");
    }
    return $s;
}

# ---- reload, then quit, under load (t/lib/StatsigLoad.pm) ----

reload_and_quit(
    t => $t, url => $t->url('/buy'), body => 'ok',
    clients => 2, pause => 0.005,    # ~150 requests/s per client
    counts => sub { my ($tag) = @_; return got(qr/^$tag-/) },
    flowing => [60, 60, 100],
    flowing_name => 'events flowing to both vendors',
    arrived => \&all_arrived,
    min_served => 100,
    check => \&check,
    after_reload => sub {
        my $s = sinks_clean('reload');
        is($s->{zone}{reloads}, 1, 'the zone (and its queues) was kept');
    },
    before_quit => sub { sinks_clean('before quit') });

# ---- a relay's 503: Gainsight PX's ring full while it hangs ----

$f->stop;

($t, $f) = events_nginx(key => $KEY, zone => '1m', files => \%files,
                        http => <<"EOF",
    statsig_flush_interval 100ms;
    statsig_event_queue 64k;
    statsig_api_key file:%%TESTDIR%%/api_key;
$SINKS
EOF
    server => '        location /edge/ { statsig_api; }');

sub gpx_sink { status_json($t)->{events}{sinks}{gainsight_px} // {} }

# slow rather than failing: concurrent failures each double the sink's
# backoff (16 requests timing out together: the next attempt 60 s later,
# though the log says "next attempt in 1000 ms"), which would make the
# recovery's wait depend on how many requests were in flight at the hang
$f->control(delay_ms => 3000);

my $J = JSON::PP->new->canonical;
my (@accepted, $refused, $other);
for my $i (1 .. 3000) {
    my $r = $t->request('POST', '/edge/v1/custom-events',
                        headers => { 'statsig-api-key' => $API },
                        content => $J->encode({ eventName => 'relayed',
                                                identifyId => "relay-$i",
                                                attributes => { n => $i } }));
    if ($r->{status} == 202) {
        push @accepted, "relay-$i";
    } elsif ($r->{status} == 503) {
        $refused = { %$r, id => "relay-$i" };
        last;
    } else {
        $other = $r;
        last;
    }
}

ok(!$other, 'only 202 until the queue is full')
    or diag("$other->{status} $other->{content}");
ok(@accepted > 20, 'the queue took ' . @accepted . ' events first');
ok($refused, 'then a 503');
$refused //= { headers => {}, content => '' };
like($refused->{headers}{'retry-after'} // '', qr/^\d+$/,
     '503: Retry-After');
my $err = eval { decode_json($refused->{content}) } // {};
like($err->{error} // '', qr/\S/, '503: {"error":...}')
    or diag($refused->{content});
like($refused->{headers}{'content-type'} // '', qr{^application/json},
     '503: JSON');

# one more while still full: refused too, nothing queued
my $r = $t->request('POST', '/edge/v1/custom-events',
                    headers => { 'statsig-api-key' => $API },
                    content => $J->encode({ eventName => 'relayed',
                                            identifyId => 'relay-again' }));
is($r->{status}, 503, 'still full: 503');

my $k = gpx_sink();
cmp_ok($k->{in_flight} + $k->{queue}{events}, '>=', scalar @accepted,
       'the accepted events wait (in flight or queued)')
    or diag(encode_json($k));

# recovery: every 202'ed event arrives once, no 503'ed one
$f->control(delay_ms => 0);

my %relayed;
my $rnext = line_reader($t->dir . '/fake/requests.jsonl');
sub relayed_read {
    for my $line ($rnext->()) {
        next unless $line =~ m{"path":"/v1/events/custom"};
        my $q = eval { decode_json($line) } or next;
        $relayed{ $q->{json}{identifyId} // '' }++;
    }
    return \%relayed;
}

ok(wait_for(sub { my $g = relayed_read(); !grep { !$g->{$_} } @accepted },
            15), 'after recovery every 202\'ed event arrived');
ok(wait_for(sub { my $x = gpx_sink();
                  ($x->{queue}{events} // 1) == 0
                  && ($x->{in_flight} // 1) == 0 }, 10),
   'the queue drained');
my $g = relayed_read();
my @missing = grep { !$g->{$_} } @accepted;
is(scalar @missing, 0, 'none of the 202\'ed lost')
    or diag('missing: ' . first(@missing));
my @twice = grep { $g->{$_} > 1 } @accepted;
is(scalar @twice, 0, 'each 202\'ed once') or diag('twice: ' . first(@twice));
ok(!$g->{ $refused->{id} // '' } && !$g->{'relay-again'},
   'no 503\'ed event was sent');
is(scalar(keys %$g), scalar @accepted, 'only the 202\'ed were sent');
$k = gpx_sink();
is($k->{dropped}, 0, 'nothing dropped') or diag(encode_json($k));
is($k->{failures}, 0, 'slow, not failing');

$t->stop;

# ---- many requests failing together are one failure, not sixteen ----

# 16 requests time out together: the sink waits 1 s, not 2^16 s capped at
# 60 (each failure used to double the wait), and every event arrives soon
# after the endpoint is back.
{
    my $n = 16;
    my ($b, $bf) = events_nginx(key => 'secret-BaCkOfF0123456789',
                                files => { gpx_key => 'k' }, http => <<'EOF',
    statsig_flush_interval 100ms;
    statsig_upstream_timeout 1s;
    statsig_user_id $arg_u;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key product_key=P
                 url=%%FAKE_URL%%/v1 rate=5000;
EOF
        server => '        location = /buy { statsig_event purchase '
                  . 'sinks=gainsight_px; return 200 ok; }');

    $bf->control(gainsight => 'timeout');
    $b->get("/buy?u=b$_") for 1 .. $n;
    ok(wait_for(sub { $bf->requests(path => qr{^/v1/events/custom$}) >= $n },
                5), "backoff: $n requests hanging");
    ok(wait_for(sub { (status_json($b)->{events}{sinks}{gainsight_px}
                       {failures} // 0) >= $n }, 5),
       "backoff: $n timed out");
    $bf->control(gainsight => 'normal');
    my $t0 = time;
    ok(wait_for(sub { (status_json($b)->{events}{sinks}{gainsight_px}{sent}
                       // 0) >= $n }, 10),
       'backoff: all delivered within seconds of the recovery');
    cmp_ok(time - $t0, '<', 8, 'backoff: not a minute later');
    $b->stop;
}

done_testing;
