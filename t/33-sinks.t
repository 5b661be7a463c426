#!/usr/bin/perl

# statsig_sink customerio and gainsight_px against the fake server's
# Customer.io and Gainsight PX endpoints: each vendor's path, auth, field
# names and units; identified and anonymous events; exposures where a
# sink takes them; private attributes never sent; the status counters;
# a destination failing for a while (every event delivered once, the
# others unaffected); a refusal (dropped, counted, logged); local mode;
# the directive's errors.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep);
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(events_nginx status_json);

my $KEY = 'secret-SiNkS0123456789';
my $SITE = 'site-1234';
my $CIO = 'cio-key-abcdef';
my $GPX = 'px-key-987654';
my $PRODUCT = 'AP-TEST-2';

my %files = (cio_site => "$SITE\n", cio_key => $CIO, gpx_key => "$GPX\n");

# The backlog below (60 events of 20 KB while Customer.io answers 503)
# must fit Customer.io's queue whatever the flusher holds in flight: a
# third of statsig_event_queue (three sinks), 4 MB.
my ($t, $f) = events_nginx(key => $KEY, zone => '32m', files => \%files,
                           http => <<"EOF",
    large_client_header_buffers 4 64k;
    statsig_event_queue 12m;
    statsig_flush_interval 100ms;
    statsig_user_id \$arg_u;
    statsig_user_private secret \$arg_secret;
    statsig_stable_id_cookie sid;
    statsig_sink customerio site_id=file:%%TESTDIR%%/cio_site
                 api_key=file:%%TESTDIR%%/cio_key url=%%FAKE_URL%%/api/v1/;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key
                 product_key=$PRODUCT url=%%FAKE_URL%%/v1 events=all
                 rate=1000;
EOF
    server => <<'EOF');
        location = /gate {
            return 200 "$statsig_gate_public_launch";
        }
        location = /buy {
            statsig_event purchase value=$arg_v sku=$arg_sku;
            return 200 "ok";
        }
        location = /bad {
            statsig_event invalid_event;
            return 200 "ok";
        }
        location = /big {
            statsig_event big blob=$http_x_big;
            return 200 "ok";
        }
        location = /signup {
            statsig_event signup plan=$arg_plan sinks=gainsight_px,statsig;
            return 200 "ok";
        }
EOF

sub reqs { $f->requests(path => $_[0]) }
sub status { status_json($t) }
sub sink { status()->{events}{sinks}{$_[0]} // {} }

# ---- an identified purchase: both vendors, each in its format ----

$t->get('/buy?u=alice&v=29.99&sku=A1&secret=s3cr3t');

ok(wait_for(sub { reqs(qr{^/api/v2/batch$}) >= 1
                  && reqs(qr{^/v1/events/custom$}) >= 1 }, 10),
   'the purchase reached Customer.io and Gainsight PX');

my ($c) = reqs(qr{^/api/v2/batch$});
is($c->{method}, 'POST', 'Customer.io: POST');
is($c->{headers}{authorization},
   'Basic ' . encode_base64("$SITE:$CIO", ''), 'Customer.io: HTTP Basic');
like($c->{headers}{'content-type'}, qr{^application/json},
     'Customer.io: JSON');
is(ref $c->{json}{batch}, 'ARRAY', 'Customer.io: a Track v2 batch');
my $item = $c->{json}{batch}[0] // {};
is($item->{type}, 'person', 'v2 item: a person');
is($item->{action}, 'event', 'v2 item: an event');
is_deeply($item->{identifiers}, { id => 'alice' }, 'v2 item: the userID');
is($item->{name}, 'purchase', 'v2 item: name');
like($item->{timestamp}, qr/^\d{10}$/, 'v2 item: timestamp, seconds');
like($item->{id}, qr/^[0-9A-HJKMNP-TV-Z]{26}$/, 'v2 item: a ULID id');
is($item->{attributes}{sku}, 'A1', 'v2 item: metadata in attributes');
ok(defined $item->{attributes}{value}, 'v2 item: the value in attributes');
is(scalar(reqs(qr{^/api/v1/customers/})), 0, 'no v1 request for it');

my ($g) = reqs(qr{^/v1/events/custom$});
is($g->{headers}{'x-aptrinsic-api-key'}, $GPX, 'Gainsight PX: its key');
ok(!exists $g->{headers}{authorization}, 'Gainsight PX: no other auth');
is($g->{json}{eventName}, 'purchase', 'Gainsight PX: eventName');
is($g->{json}{identifyId}, 'alice', 'Gainsight PX: identifyId');
is($g->{json}{propertyKey}, $PRODUCT, 'Gainsight PX: propertyKey');
is($g->{json}{userType}, 'USER', 'Gainsight PX: userType');
like($g->{json}{date}, qr/^\d{13}$/, 'Gainsight PX: date, ms');
is($g->{json}{attributes}{sku}, 'A1', 'Gainsight PX: metadata in '
   . 'attributes');

for my $r ($c, $g) {
    unlike($r->{body}, qr/s3cr3t/, "$r->{path}: no private attribute");
    unlike($r->{body}, qr/\Q$KEY\E|\Q$CIO\E|\Q$GPX\E/,
           "$r->{path}: no key in the body");
}

# ---- Statsig's sink still gets every event ----

ok(wait_for(sub {
    grep { $_->{eventName} eq 'purchase' }
        map { @{ $_->{json}{events} // [] } } reqs(qr{^/v1/log_event$})
}, 10), 'Statsig log_event got the purchase too');

# ---- anonymous: Customer.io by the stable ID, Gainsight PX ignores ----

my $r = $t->get('/buy?v=1&sku=B2');
my ($sid) = ($r->{headers}{'set-cookie'} // '') =~ /sid=([^;]+)/;
$sid //= '';

ok(wait_for(sub { reqs(qr{^/api/v1/events$}) >= 1 }, 10),
   'an anonymous event reached Customer.io');
my ($a) = reqs(qr{^/api/v1/events$});
is($a->{json}{name}, 'purchase', 'anonymous: name');
is($a->{json}{anonymous_id}, $sid, 'anonymous: anonymous_id, the stable ID')
    if $sid;
ok(length($a->{json}{anonymous_id} // '') > 0, 'anonymous: an anonymous_id');

ok(wait_for(sub { (sink('gainsight_px')->{ignored} // 0) >= 1 }, 10),
   'Gainsight PX: the anonymous event counted as ignored');
is(scalar(reqs(qr{^/v1/events/custom$})), 1,
   'Gainsight PX: no request for it');

# ---- exposures: only where a sink takes them (events=all) ----

$t->get('/gate?u=bob');

ok(wait_for(sub {
    grep { ($_->{json}{identifyId} // '') eq 'bob' } reqs(qr{^/v1/events/custom$})
}, 10), 'Gainsight PX (events=all) got the exposure');
my ($x) = grep { ($_->{json}{identifyId} // '') eq 'bob' }
          reqs(qr{^/v1/events/custom$});
like($x->{json}{eventName}, qr/gate_exposure/, 'exposure: its name');
is($x->{json}{attributes}{gate}, 'public_launch', 'exposure: the gate');

sleep 0.5;
ok(!grep({ $_->{path} eq '/api/v1/customers/bob/events' }
         reqs(qr{^/api/v1/customers/})),
   'Customer.io (events=custom) did not');

# ---- statsig_event sinks=: only the sinks named ----

$t->get('/signup?u=frank&plan=pro');
ok(wait_for(sub {
    grep { ($_->{json}{eventName} // '') eq 'signup' } reqs(qr{^/v1/events/custom$})
}, 10), 'sinks=: Gainsight PX got it');
ok(wait_for(sub {
    grep { $_->{eventName} eq 'signup' }
        map { @{ $_->{json}{events} // [] } } reqs(qr{^/v1/log_event$})
}, 10), 'sinks=: Statsig got it');
sleep 0.5;
ok(!grep({ $_->{path} =~ m{/customers/frank/} } reqs(qr{^/api/v1/})),
   'sinks=: Customer.io did not');

# ---- status ----

my $s = status();
for my $n (qw(customerio gainsight_px)) {
    my $k = $s->{events}{sinks}{$n} // {};
    ok($k->{enabled}, "status: $n enabled");
    cmp_ok($k->{sent}, '>=', 1, "status: $n sent");
    is($k->{dropped}, 0, "status: $n dropped nothing");
    unlike(encode_json($k), qr/\Q$CIO\E|\Q$GPX\E|\Q$SITE\E/,
           "status: no $n secret");
}
my $prom = $t->get('/status?format=prometheus')->{content};
like($prom, qr/statsig_events_sent_total\{zone="statsig",sink="customerio"\}/,
     'prometheus: the customerio sink');
like($prom, qr/statsig_events_ignored_total\{zone="statsig",sink="gainsight_px"\} 1/,
     'prometheus: ignored');

# ---- Customer.io failing for a while: every event arrives once ----

sub carol { grep { $_->{person} eq 'carol' } $f->cio_events }

$f->control(cio_batch => 'status500');
my $before = scalar reqs(qr{^/v1/events/custom$});
$t->get("/buy?u=carol&v=$_&sku=C$_") for 1 .. 5;

ok(wait_for(sub { (sink('customerio')->{failures} // 0) >= 1 }, 10),
   'Customer.io failing: counted');
ok(wait_for(sub { reqs(qr{^/v1/events/custom$}) >= $before + 5 }, 10),
   'Gainsight PX unaffected meanwhile');
like($t->error_log, qr/events sink "customerio" failed: HTTP 500/,
     'the failure logged');

$f->control(cio_batch => 'normal');
ok(wait_for(sub {
    my %sku = map { ($_->{data}{sku} // '') => 1 }
              grep { $_->{control} eq 'normal' } carol();
    5 == grep { $sku{"C$_"} } 1 .. 5;
}, 20), 'after the outage every event arrived');
my @ok = grep { $_->{control} eq 'normal' } carol();
my %ids = map { $_->{id} => 1 } @ok;
is(scalar(keys %ids), scalar(@ok), 'each accepted once (distinct ids)');
is(scalar(@ok), 5, 'five accepted');

# a retry carries the same id: Customer.io drops a resend
my %byid;
push @{ $byid{$_->{data}{sku}} }, $_->{id} for carol();
ok(!grep({ my %u = map { $_ => 1 } @$_; keys(%u) != 1 } values %byid),
   'every attempt of an event has its id');

# ---- a 207: the items named are dropped and counted, the rest arrive ----

my $rej = sink('customerio')->{dropped_rejected} // 0;
my $sent = sink('customerio')->{sent} // 0;
$t->get('/bad?u=gina');
$t->get('/buy?u=gina&v=1&sku=G1');
ok(wait_for(sub { (sink('customerio')->{dropped_rejected} // 0) == $rej + 1
                  && (sink('customerio')->{sent} // 0) >= $sent + 1 }, 10),
   '207: the refused item dropped and counted, the other sent');
like($t->error_log, qr/events sink "customerio" refused 1 of \d+ events: HTTP 207: item \d+: invalid: name: refused by the fake/,
     '207: logged with the reason Customer.io gave');
ok((grep { ($_->{data}{sku} // '') eq 'G1' } $f->cio_events),
   '207: the valid item was in the batch');

# ---- many events: few requests, each body within 500 KB ----

# a backlog (Customer.io answering 503 meanwhile), then sent in full bodies
$f->control(cio_batch => 'status503');
my $nreq = scalar reqs(qr{^/api/v2/batch$});
my $big = 'x' x 20000;
$t->get("/big?u=b$_", headers => { 'X-Big' => $big }) for 1 .. 60;
$t->get("/buy?u=m$_&v=$_&sku=M") for 1 .. 300;
ok(wait_for(sub { my $q = sink('customerio');
                  ($q->{queue}{events} // 0) + ($q->{in_flight} // 0) >= 300 },
            30), 'a backlog while Customer.io answers 503')
    && is(sink('customerio')->{dropped_full}, 0, 'the backlog fit its queue')
    or diag('the sink: '
            . JSON::PP->new->canonical->encode(sink('customerio')));
$f->control(cio_batch => 'normal');
my %arrived;
ok(wait_for(sub {
    %arrived = map { $_->{person} => 1 } grep { $_->{person} =~ /^[bm]\d+$/ }
               $f->cio_events;
    keys(%arrived) == 360 }, 60), '360 events arrived')
    or diag(scalar(keys %arrived) . ' arrived; the sink: '
            . JSON::PP->new->canonical->encode(sink('customerio')));
my @batches = reqs(qr{^/api/v2/batch$});
splice @batches, 0, $nreq;
@batches = grep { ($_->{control}{cio_batch} // '') eq 'normal' } @batches;
cmp_ok(scalar @batches, '<=', 30, 'in few requests (' . @batches . ')');
cmp_ok(scalar(grep { length($_->{body}) > 500000 } @batches), '==', 0,
       'none over 500 KB');
cmp_ok(scalar(grep { length($_->{body}) > 200000 } @batches), '>=', 1,
       'big ones filled toward it')
    or diag('bodies: ' . join ' ', map { length $_->{body} } @batches);
my %seen;
$seen{ $_->{id} }++ for grep { $_->{person} =~ /^[bm]\d+$/
                               && $_->{control} eq 'normal' } $f->cio_events;
is(scalar(grep { $_ > 1 } values %seen), 0, 'each once');

# ---- a refusal: dropped, counted, logged with the vendor's reason ----

$f->control(gainsight => 'status400');
my $rejected = sink('gainsight_px')->{dropped_rejected} // 0;
$t->get('/buy?u=dave&v=1&sku=D1');
ok(wait_for(sub { (sink('gainsight_px')->{dropped_rejected} // 0)
                  > $rejected }, 10), 'a 400: dropped and counted');
like($t->error_log, qr/events sink "gainsight_px" refused 1 events: HTTP 400/,
     'a 400: logged with the answer');
$f->control(gainsight => 'normal');

$t->stop;

# ---- local mode: no Statsig key, the vendors still get events; ----
# ---- Customer.io with batch=off: identified events to v1           ----

{
    my $l = StatsigTest->new(fake => 1);
    my $lf = $l->fake;
    $l->write_file('specs.json',
                   slurp(StatsigTest::root() . '/conf-examples/demo-specs.json'));
    $l->write_file($_, $files{$_}) for keys %files;
    $l->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_flush_interval 100ms;
    statsig_user_id \$arg_u;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key
                 product_key=$PRODUCT url=%%FAKE_URL%%/v1;
    statsig_sink customerio site_id=file:%%TESTDIR%%/cio_site
                 api_key=file:%%TESTDIR%%/cio_key url=%%FAKE_URL%%/api/v1
                 batch=off;
    server {
        listen %%LISTEN%%;
        location = /buy {
            statsig_event purchase sku=\$arg_sku;
            return 200 ok;
        }
    }
}
EOF
    ok($l->run, 'local mode: started');
    $l->get('/buy?u=erin&sku=E1');
    $l->get('/buy?u=a%2Fb&sku=E2');
    ok(wait_for(sub { $lf->requests(path => qr{^/v1/events/custom$}) >= 2 },
                10), 'local mode: Gainsight PX got the events');
    ok(wait_for(sub { $lf->requests(path => qr{^/api/v1/customers/}) >= 2 },
                10), 'batch=off: Customer.io v1 got the events');
    is(scalar($lf->requests(path => qr{^/v1/log_event$})), 0,
       'local mode: nothing to Statsig');
    is(scalar($lf->requests(path => qr{^/api/v2/})), 0,
       'batch=off: no v2 batch');

    my ($c) = grep { $_->{path} =~ m{/erin/} }
              $lf->requests(path => qr{^/api/v1/customers/});
    is($c->{path}, '/api/v1/customers/erin/events', 'v1: the path');
    is($c->{headers}{authorization},
       'Basic ' . encode_base64("$SITE:$CIO", ''), 'v1: HTTP Basic');
    is($c->{json}{name}, 'purchase', 'v1: name');
    like($c->{json}{timestamp}, qr/^\d{10}$/, 'v1: timestamp, seconds');
    like($c->{json}{id}, qr/^[0-9A-HJKMNP-TV-Z]{26}$/, 'v1: a ULID id');
    is($c->{json}{data}{sku}, 'E1', 'v1: metadata in data');
    ok(!exists $c->{json}{anonymous_id}, 'v1: identified, no anonymous_id');
    ok((grep { $_->{path} eq '/api/v1/customers/a%252Fb/events' }
            $lf->requests(path => qr{^/api/v1/customers/})),
       'v1: the person URL-encoded ($arg_u is not decoded: a%2Fb)');
    $l->stop;
}

# ---- the directive ----

my $d = StatsigTest->new;

for my $case (
    [ 'unknown sink', 'statsig_sink segment api_key=env:X;',
      qr/unknown sink "segment"/ ],
    [ 'no site_id', 'statsig_sink customerio api_key=env:X;',
      qr/"statsig_sink customerio" needs site_id= and api_key=/ ],
    [ 'no product_key', 'statsig_sink gainsight_px api_key=env:X;',
      qr/"statsig_sink gainsight_px" needs api_key= and product_key=/ ],
    [ 'bad events', 'statsig_sink gainsight_px api_key=env:X '
      . 'product_key=P events=some;', qr/invalid "events=some"/ ],
    [ 'bad key', 'statsig_sink gainsight_px api_key=X product_key=P;',
      qr/must be "env:VARIABLE" or "file:PATH"/ ],
    [ 'duplicate', "statsig_sink gainsight_px api_key=env:X product_key=P;\n"
      . 'statsig_sink gainsight_px api_key=env:X product_key=P;',
      qr/"statsig_sink" directive is duplicate/ ],
    [ 'bad url', 'statsig_sink gainsight_px api_key=env:X product_key=P '
      . 'url=ftp://x;', qr/invalid URL "ftp:\/\/x"/ ],
    [ 'bad region', 'statsig_sink customerio site_id=env:X api_key=env:X '
      . 'region=ap;', qr/invalid "region=ap"/ ],
    [ 'region and url', 'statsig_sink customerio site_id=env:X '
      . 'api_key=env:X region=eu url=https://x/api/v1;',
      qr/takes url= or region=, not both/ ],
    [ 'batch url unknown', 'statsig_sink customerio site_id=env:X '
      . 'api_key=env:X url=https://x/track;',
      qr/does not end in \/v1.*batch=off/ ],
    [ 'bad batch', 'statsig_sink customerio site_id=env:X api_key=env:X '
      . 'batch=maybe;', qr/invalid parameter "batch=maybe"/ ],
    [ 'bad sinks=', "server { listen %%LISTEN%%; location / { "
      . "statsig_event e sinks=statsig,segment; } }",
      qr/unknown sink "segment" in "sinks=statsig,segment"/ ],
)
{
    my ($name, $conf, $want) = @$case;
    my ($rc, $out) = $d->test_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    $conf
    server { listen %%LISTEN%%; }
}
EOF
    ok($rc != 0, "nginx -t refuses: $name");
    like($out, $want, "message: $name");
    unlike($out, qr/\QX\E;/, "message: $name: no secret value")
        if $conf =~ /api_key=X /;
}

done_testing();
