#!/usr/bin/perl

# Exposures and custom events to the fake Statsig server: delivered once,
# in statsig-node's shape (headers, statsigMetadata, event fields and
# value types as in ../shared/oracle/sample-log-event.json), never with
# private attributes; statsig_event (value, metadata, if=); exposure
# dedupe and its expiry; the status counters.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(events_nginx status_json);

my $KEY = 'secret-EvEnTs0123456789';
my $root = StatsigTest::root();

my ($t, $f) = events_nginx(key => $KEY, zone => '2m', http => <<'EOF',
    statsig_flush_interval 100ms;
    statsig_exposure_dedupe 2s;
    statsig_user_id $arg_u;
    statsig_user_field email $arg_email;
    statsig_user_custom plan $arg_plan;
    statsig_user_private secret $arg_secret;
    statsig_custom_id companyID $arg_c;
EOF
    server => <<'EOF');
        location = /gate {
            return 200 "$statsig_gate_public_launch";
        }
        location = /two {
            return 200 "$statsig_gate_beta_users $statsig_config_pricing";
        }
        location = /buy {
            statsig_event purchase value=$arg_v sku=$arg_sku if=$arg_ok;
            statsig_event page_view;
            return 200 "ok";
        }
EOF

sub events {
    my @e;
    for my $r ($f->requests(path => qr{^/v1/log_event$})) {
        push @e, @{ $r->{json}{events} // [] };
    }
    return @e;
}

sub wait_events {
    my ($n, $timeout) = @_;
    wait_for(sub { events() >= $n }, $timeout // 10);
    return events();
}

sub status { status_json($t) }

sub user_events {
    my ($id, @e) = @_;
    return grep { ($_->{user}{userID} // '') eq $id } (@e ? @e : events());
}

my $alice = '/gate?u=alice&email=a@example.com&plan=pro&secret=s3cr3t'
            . '&c=acme';

# ---- one request, one exposure, once ----

is($t->get($alice)->{content}, '1', 'gate evaluated');

my @e = wait_events(1);
is(scalar @e, 1, 'one exposure arrived');

my ($req) = $f->requests(path => qr{^/v1/log_event$});
my $h = $req->{headers};
is($req->{method}, 'POST', 'POST');
is($h->{'statsig-api-key'}, $KEY, 'STATSIG-API-KEY');
like($h->{'statsig-client-time'}, qr/^\d{13}$/, 'STATSIG-CLIENT-TIME');
like($h->{'statsig-server-session-id'},
     qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
     'STATSIG-SERVER-SESSION-ID');
is($h->{'statsig-event-count'}, '1', 'STATSIG-EVENT-COUNT');
is($h->{'statsig-sdk-type'}, 'ngx-http-statsig-module', 'STATSIG-SDK-TYPE');
like($h->{'statsig-sdk-version'}, qr/^\d+\.\d+\.\d+$/, 'STATSIG-SDK-VERSION');
is($h->{'content-encoding'}, 'gzip', 'gzip body');
like($h->{'content-type'}, qr{^application/json}, 'Content-Type');

my $sm = $req->{json}{statsigMetadata};
is($sm->{sdkType}, 'ngx-http-statsig-module', 'statsigMetadata.sdkType');
is($sm->{sessionID}, $h->{'statsig-server-session-id'},
   'statsigMetadata.sessionID is the header session');

# the event as statsig-node writes it: the oracle's captured request (in
# ../shared, as the other oracle tests: skipped where it is absent)
my $sample = "$root/../shared/oracle/sample-log-event.json";
my $ref = -f $sample ? decode_json(slurp($sample))->{body}{events}[0] : undef;
my $ev = $e[0];

SKIP: {
    skip '../shared is absent: no captured event to compare with', 1
        unless $ref;
    is_deeply([sort keys %$ev], [sort keys %$ref],
              'event fields as statsig-node');
}
is($ev->{eventName}, 'statsig::gate_exposure', 'eventName');
is($ev->{metadata}{gate}, 'public_launch', 'metadata.gate');
is($ev->{metadata}{gateValue}, 'true', 'metadata.gateValue is a string');
is(ref $ev->{secondaryExposures}, 'ARRAY', 'secondaryExposures array');
is_deeply($ev->{statsigMetadata}, {}, 'statsigMetadata {}');
ok(exists $ev->{value} && !defined $ev->{value}, 'value null');
like($ev->{time}, qr/^\d{13}$/, 'time in ms');
for my $k (qw(configSyncTime initTime serverTime)) {
    like($ev->{metadata}{$k}, qr/^\d+$/, "metadata.$k is a number");
}
is($ev->{user}{userID}, 'alice', 'user.userID');
is($ev->{user}{email}, 'a@example.com', 'user.email');
is($ev->{user}{custom}{plan}, 'pro', 'user.custom');
is($ev->{user}{customIDs}{companyID}, 'acme', 'user.customIDs');
ok(exists $ev->{user}{privateAttributes}
   && !defined $ev->{user}{privateAttributes},
   'privateAttributes: null, as statsig-node');
unlike($req->{body}, qr/s3cr3t/, 'the private attribute never leaves');
unlike($req->{body}, qr/\Q$KEY\E/, 'the key is not in the body');

# ---- dedupe: same user and gate within the window: not again ----

$t->get($alice) for 1 .. 5;
$t->get('/gate?u=bob');
@e = wait_events(2);
is(scalar(user_events('bob', @e)), 1, 'another user: logged');
ok(wait_for(sub { (status()->{events}{dedupe}{deduped} // 0) >= 5 }, 5),
   'duplicates counted as deduped');
is(scalar(user_events('alice')), 1, 'alice exposed once within the window');

# ---- the window expires: logged again ----

ok(wait_for(sub {
    $t->get($alice);
    return user_events('alice') >= 2;
}, 10), 'logged again once the dedupe window passed');
is(scalar(user_events('alice')), 2, 'and only once more');

# ---- two entities in one request: one event each ----

my $n0 = events();
$t->get('/two?u=carol');
@e = wait_events($n0 + 2);
is_deeply([sort map { $_->{eventName} } user_events('carol', @e)],
          ['statsig::config_exposure', 'statsig::gate_exposure'],
          'gate and config exposures for one request');

# ---- statsig_event ----

$n0 = events();
$t->get('/buy?u=dave&v=12.5&sku=A1&ok=1&secret=hidden');
$t->get('/buy?u=erin&v=abc&sku=B2&ok=0');
$t->get('/buy?u=fay&ok=yes&v=007');
@e = wait_events($n0 + 5);

my ($p) = grep { $_->{eventName} eq 'purchase' } user_events('dave', @e);
ok($p, 'custom event logged');
SKIP: {
    skip '../shared is absent: no captured event to compare with', 1
        unless $ref;
    is_deeply([sort keys %{ $p // {} }], [sort keys %$ref],
              'custom event fields as statsig-node');
}
is(JSON::PP->new->encode([$p->{value}]), '[12.5]',
   'a numeric value is sent as a JSON number');
is_deeply($p->{metadata}, { sku => 'A1' }, 'metadata from KEY=VALUE');
ok(!grep({ $_->{eventName} eq 'purchase' } user_events('erin', @e)),
   'if=0 skips the event');
ok(grep({ $_->{eventName} eq 'page_view' } user_events('erin', @e)),
   'the next statsig_event still logs');
my ($pf) = grep { $_->{eventName} eq 'purchase' } user_events('fay', @e);
is(JSON::PP->new->encode([$pf && $pf->{value}]), '["007"]',
   'a value that is no JSON number is a string');
is_deeply($pf && $pf->{metadata}, { sku => '' }, 'empty metadata value');
my ($pv) = grep { $_->{eventName} eq 'page_view' } user_events('dave', @e);
ok($pv && exists $pv->{metadata} && !defined $pv->{metadata},
   'no KEY=VALUE: metadata null');
ok($pv && !defined $pv->{value}, 'no value: null');
unlike(join('', map { $_->{body} } $f->requests(path => qr{log_event})),
       qr/hidden|s3cr3t/, 'private attributes never sent');

# ---- counters ----

my $total = events();
my $s;
ok(wait_for(sub {
    $s = status()->{events}{sinks}{statsig};
    return $s && $s->{sent} == $total && $s->{in_flight} == 0;
}, 5), 'status: sent matches what arrived');
is($s->{queued}, $total, 'status: queued');
is($s->{dropped}, 0, 'status: nothing dropped');
ok($s->{enabled}, 'status: sink enabled');
like($t->get('/status?format=prometheus')->{content},
     qr/^statsig_events_sent_total\{zone="statsig",sink="statsig"\} $total$/m,
     'prometheus: sent');

my %seen;
my @dup = grep { $seen{JSON::PP->new->canonical->encode($_)}++ } events();
is(scalar @dup, 0, 'no event arrived twice');

$t->stop;
unlike($t->error_log, qr/\Q$KEY\E/, 'key not in the error log');

done_testing;
