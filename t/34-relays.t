#!/usr/bin/perl

# statsig_api's relays: a client posts a vendor's own body to the edge,
# which checks it as the vendor would, answers at once, and sends it with
# the credentials it holds.  Customer.io (a person, anonymous), Gainsight
# PX, Statsig (/v1/log-event, times moved by the client's clock skew);
# every refusal (no name, no identifyId, no STATSIG-CLIENT-TIME, a wrong
# key, bad JSON, a field the vendor refuses) answered 400/401 with nothing
# queued; 404 for a sink that is not configured.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(events_nginx status_json);

my $KEY = 'secret-ReLaYs0123456789';
my $API = 'local-api-key-relays';
my $SITE = 'site-77';
my $CIO = 'cio-key-relay';
my $GPX = 'px-key-relay';
my $PRODUCT = 'AP-RELAY-1';
my $J = JSON::PP->new->canonical;

my %files = (cio_site => $SITE, cio_key => $CIO, gpx_key => $GPX,
             api_key => $API);

my ($t, $f) = events_nginx(key => $KEY, files => \%files, http => <<"EOF",
    statsig_flush_interval 100ms;
    statsig_api_key file:%%TESTDIR%%/api_key;
    statsig_sink customerio site_id=file:%%TESTDIR%%/cio_site
                 api_key=file:%%TESTDIR%%/cio_key url=%%FAKE_URL%%/api/v1;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key
                 product_key=$PRODUCT url=%%FAKE_URL%%/v1;
EOF
    server => <<'EOF');
        location /edge/ { statsig_api; }
EOF

sub post {
    my ($path, $body, %h) = @_;
    my $r = $t->request('POST', $path,
                        headers => { 'statsig-api-key' => $API, %h },
                        content => ref $body ? $J->encode($body) : $body);
    $r->{json} = eval { decode_json($r->{content}) };
    return $r;
}

sub reqs { $f->requests(path => $_[0]) }

# ---- Customer.io, a person ----

my $r = post('/edge/v1/customers/alice%20b/events',
             { name => 'signup', data => { plan => 'pro' },
               extra => 'dropped' });
is($r->{status}, 202, 'Customer.io person: 202');
is_deeply($r->{json}, { success => JSON::PP::true }, '{"success":true}');

ok(wait_for(sub { reqs(qr{^/api/v1/customers/}) >= 1 }, 10),
   'Customer.io got it');
my ($c) = reqs(qr{^/api/v1/customers/});
is($c->{path}, '/api/v1/customers/alice%20b/events',
   'the identifier, encoded again');
is($c->{headers}{authorization}, 'Basic ' . encode_base64("$SITE:$CIO", ''),
   'the edge added the credentials');
is($c->{json}{name}, 'signup', 'name');
is_deeply($c->{json}{data}, { plan => 'pro' }, 'data');
like($c->{json}{timestamp}, qr/^\d{10}$/, 'a timestamp, filled in');
like($c->{json}{id}, qr/^[0-9A-HJKMNP-TV-Z]{26}$/, 'an id, filled in');
ok(!exists $c->{json}{extra}, 'unknown members dropped');

# ---- Customer.io, anonymous ----

$r = post('/edge/v1/events', { name => 'visit', anonymous_id => 'anon-1',
                               timestamp => 1700000000 });
is($r->{status}, 202, 'Customer.io anonymous: 202');
ok(wait_for(sub { reqs(qr{^/api/v1/events$}) >= 1 }, 10),
   'Customer.io got the anonymous event');
my ($a) = reqs(qr{^/api/v1/events$});
is($a->{json}{anonymous_id}, 'anon-1', 'anonymous_id');
is($a->{json}{timestamp}, 1700000000, 'the timestamp as given');

# ---- Gainsight PX ----

$r = post('/edge/v1/custom-events',
          { eventName => 'export', identifyId => 'u1',
            attributes => { rows => 12, fmt => 'csv', ok => JSON::PP::true } });
is($r->{status}, 202, 'Gainsight PX: 202');
ok(wait_for(sub { reqs(qr{^/v1/events/custom$}) >= 1 }, 10),
   'Gainsight PX got it');
my ($g) = reqs(qr{^/v1/events/custom$});
is($g->{headers}{'x-aptrinsic-api-key'}, $GPX, 'the edge added the key');
is($g->{json}{eventName}, 'export', 'eventName');
is($g->{json}{identifyId}, 'u1', 'identifyId');
is($g->{json}{propertyKey}, $PRODUCT, 'propertyKey: product_key');
is($g->{json}{userType}, 'USER', 'userType: USER');
like($g->{json}{date}, qr/^\d{13}$/, 'date filled in, ms');
is($g->{json}{attributes}{rows}, 12, 'attributes');

# ---- Statsig: /v1/log-event, the client's clock skew ----

my $skew = 3_600_000;
my $client = int(time() * 1000) - $skew;
$r = post('/edge/v1/log-event',
          { events => [ { eventName => 'relayed', time => $client,
                          user => { userID => 'zoe',
                                    privateAttributes => { s => 'x' } } } ] },
          'STATSIG-CLIENT-TIME' => $client);
is($r->{status}, 202, 'log-event: 202');
my @e;
ok(wait_for(sub {
    @e = grep { $_->{eventName} eq 'relayed' }
         map { @{ $_->{json}{events} // [] } } reqs(qr{^/v1/log_event$});
    @e;
}, 10), 'Statsig got the relayed event');
cmp_ok(abs($e[0]{time} - $client - $skew), '<', 5000,
       'its time moved by the skew');
ok(!exists $e[0]{user}{privateAttributes}
   || !defined $e[0]{user}{privateAttributes}, 'no private attributes');
sleep 0.5;
ok(!grep({ ($_->{json}{identifyId} // '') eq 'zoe' }
         reqs(qr{^/v1/events/custom$})), 'log-event: to Statsig alone');

# ---- refusals: nothing queued ----

sub sent { scalar grep { $_->{path} !~ m{^/v1/(download_config_specs|get_id_lists)} }
             $f->requests }
my $before = sent();

for my $case (
    [ 'no name', '/edge/v1/events', { data => {} }, 400, qr/name/ ],
    [ 'empty name', '/edge/v1/customers/a/events', { name => '  ' }, 400,
      qr/name/ ],
    [ 'data not an object', '/edge/v1/events', { name => 'x', data => 3 },
      400, qr/data/ ],
    [ 'bad type', '/edge/v1/events', { name => 'x', type => 'click' }, 400,
      qr/type/ ],
    [ 'no identifyId', '/edge/v1/custom-events', { eventName => 'x' }, 400,
      qr/identifyId/ ],
    [ 'nested attribute', '/edge/v1/custom-events',
      { eventName => 'x', identifyId => 'u', attributes => { a => [1] } },
      400, qr/attributes/ ],
    [ 'bad JSON', '/edge/v1/custom-events', '{"eventName":', 400, qr/./ ],
    [ 'not an object', '/edge/v1/events', '[1]', 400, qr/object/ ],
    [ 'no client time', '/edge/v1/log-event',
      { events => [ { eventName => 'e' } ] }, 400, qr/STATSIG-CLIENT-TIME/ ],
)
{
    my ($name, $path, $body, $status, $why) = @$case;
    my $x = post($path, $body);
    is($x->{status}, $status, "$name: $status");
    like($x->{json}{error} // '', $why, "$name: says why");
}

my $x = $t->request('POST', '/edge/v1/events',
                    headers => { 'statsig-api-key' => 'wrong' },
                    content => '{"name":"x"}');
is($x->{status}, 401, 'a wrong key: 401');

sleep 1;
is(sent(), $before, 'nothing refused was sent');

# ---- customerio-node, the vendor's own client, through the relay ----

SKIP: {
    my $root = StatsigTest::root();
    my $mods = "$root/build/clients/node_modules";
    skip 'no build/clients (make clients)', 9 unless -d "$mods/customerio-node";

    my $url = $t->url('/edge/v1');
    my @out = map { decode_json($_) }
              `NODE_PATH=$mods node $root/t/cio-client.js $url $API 2>&1`;
    is(scalar @out, 4, 'customerio-node: four calls');
    ok($out[$_]{ok}, "customerio-node: call $_ accepted") for 0 .. 2;
    like($out[3]{error} // '', qr/name/, 'customerio-node refuses an empty '
         . 'name itself');

    ok(wait_for(sub { grep { ($_->{json}{name} // '') eq 'client_purchase' }
                      reqs(qr{^/api/v1/customers/}) }, 10),
       'customerio-node: the purchase reached Customer.io');
    my ($p) = grep { ($_->{json}{name} // '') eq 'client_purchase' }
              reqs(qr{^/api/v1/customers/});
    is($p->{path}, '/api/v1/customers/client%2Fann/events',
       'customerio-node: the person, encoded as the client encodes it');
    is($p->{headers}{authorization},
       'Basic ' . encode_base64("$SITE:$CIO", ''),
       'customerio-node: the edge\'s credentials, not the client\'s');
    ok(wait_for(sub { grep { ($_->{json}{anonymous_id} // '') eq 'anon-client' }
                      reqs(qr{^/api/v1/events$}) }, 10),
       'customerio-node: the anonymous event arrived');
}

$t->stop;

# ---- a sink that is not configured: 404 ----

{
    my $l = StatsigTest->new;
    $l->write_file('specs.json',
                   slurp(StatsigTest::root() . '/conf-examples/demo-specs.json'));
    $l->write_file('api_key', $API);
    $l->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_api_key file:%%TESTDIR%%/api_key;
    server {
        listen %%LISTEN%%;
        location /edge/ { statsig_api; }
    }
}
EOF
    ok($l->run, 'no sinks: started');
    for my $p ('/edge/v1/events', '/edge/v1/customers/a/events',
               '/edge/v1/custom-events')
    {
        my $n = $l->request('POST', $p,
                            headers => { 'statsig-api-key' => $API },
                            content => '{"name":"x","eventName":"x",'
                                       . '"identifyId":"u"}');
        is($n->{status}, 404, "$p: 404 without its sink");
    }
    $l->stop;
}

done_testing();
