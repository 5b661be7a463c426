#!/usr/bin/perl

# statsig_api and the event pipeline, against the fake Statsig server:
# checks log their exposures once (dedupe), not at all when the caller or
# statsig_exposures says so; get_layer logs only the parameters named;
# log_event relays the caller's events without privateAttributes, its
# sdkType (statsigMetadata) in each.  The server key is the API key here
# (no statsig_api_key).

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp);
use StatsigDCS qw(api_specs);

my $KEY = 'secret-api-events-0123456789';
my $J = JSON::PP->new->canonical;

my $specs = api_specs();
my $specs_json = $J->encode($specs);

my $t = StatsigTest->new(fake => 1, workers => 2);
my $f = $t->fake;
$f->set_specs($specs_json);
$t->write_file('specs.json', $specs_json);
$t->write_file('key', "$KEY\n");
$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_server_key file:%%TESTDIR%%/key;
    %%FAKE_STATSIG%%
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_flush_interval 100ms;

    server {
        listen %%LISTEN%%;
        location /statsig/ { statsig_api; }
        location = /status { statsig_status; }
        location /quiet/ {
            statsig_exposures off;
            statsig_api;
        }
    }
}
EOF
ok($t->run, 'started');

my %auth = ('statsig-api-key' => $KEY);

sub api {
    my ($path, $body) = @_;
    my $r = $t->request('POST', $path, headers => \%auth,
                        content => $J->encode($body));
    $r->{json} = eval { decode_json($r->{content}) };
    return $r;
}

sub events {
    return map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}

# waits until an event of user $id arrived and nothing is left to send:
# the other worker's open pack may go out after it
sub until_user {
    my ($id) = @_;
    return StatsigTest::wait_for(sub {
        return 0 unless grep { ($_->{user}{userID} // '') eq $id } events();
        my $s = eval { $J->decode($t->get('/status')->{content}) } || {};
        my $k = $s->{events}{sinks}{statsig} or return 0;
        return $k->{queue}{buffered} == 0 && $k->{queue}{events} == 0
               && $k->{in_flight} == 0;
    }, 15);
}

my $a = { userID => 'api-a', email => 'a@example.com',
          privateAttributes => { secret => 'do-not-log' } };

is(api('/statsig/v1/check_gate', { user => $a, gateName => 'public_launch' })
       ->{status}, 200, 'check_gate');
api('/statsig/v1/check_gate', { user => $a, gateName => 'public_launch' });
api('/statsig/v1/check_gate',
    { user => $a, gateNames => [ 'public_launch', 'no_such_gate' ] });
api('/statsig/v1/get_config', { user => $a, configName => 'pricing' });
api('/statsig/v1/get_config', { user => $a, configName => 'pricing' });
api('/statsig/v1/get_experiment',
    { user => $a, experimentName => 'button_color' });
api('/statsig/v1/check_gate',
    { user => $a, gateName => 'beta_users',
      statsigMetadata => { exposureLoggingDisabled => JSON::PP::true } });
api('/statsig/v1/get_config',
    { user => $a, configName => 'landing_page',
      disableExposureLogging => JSON::PP::true });
api('/quiet/v1/check_gate', { user => $a, gateName => 'new_checkout' });
api('/statsig/v1/get_layer', { user => $a, layerName => 'checkout_layer' });
api('/statsig/v1/get_layer', { user => $a, layerName => 'checkout_layer',
                               parameters => [ 'color', 'absent' ] });
api('/statsig/v1/initialize', { user => $a });

api('/statsig/v1/check_gate',
    { user => { userID => 'marker-1' }, gateName => 'public_launch' });
ok(until_user('marker-1'), 'exposures delivered to log_event');

my @a = grep { ($_->{user}{userID} // '') eq 'api-a' } events();
my %n;
for my $e (@a) {
    my $m = $e->{metadata} || {};
    $n{"$e->{eventName} " . ($m->{gate} // $m->{config} // '?')
       . ($m->{parameterName} ? ".$m->{parameterName}" : '')}++;
}
is_deeply(\%n, {
    'statsig::gate_exposure public_launch' => 1,
    'statsig::gate_exposure no_such_gate' => 1,
    'statsig::config_exposure pricing' => 1,
    'statsig::config_exposure button_color' => 1,
    'statsig::layer_exposure checkout_layer.color' => 1,
}, 'each exposure once; none when disabled; layers per named parameter')
    or diag(explain(\%n));

my ($g) = grep { $_->{eventName} eq 'statsig::gate_exposure'
                 && $_->{metadata}{gate} eq 'public_launch' } @a;
is($g->{metadata}{gateValue}, 'true', 'gate exposure: gateValue');
ok(!$g->{user}{privateAttributes}, 'no private attributes in exposures');
is($g->{user}{email}, 'a@example.com', 'the user as sent');
unlike($J->encode(\@a), qr/do-not-log/, 'the private value is nowhere');

my ($l) = grep { $_->{eventName} eq 'statsig::layer_exposure' } @a;
is($l->{metadata}{ruleID}, 'layer_all', 'layer exposure: ruleID');

# ------------------------------------------------------------- log_event

my @sent = (
    { eventName => 'purchase', time => 1700000000123, value => 12.5,
      metadata => { sku => 'A-1', qty => '2' },
      user => { userID => 'relay-1', email => 'r@example.com',
                custom => { plan => 'pro' },
                privateAttributes => { ssn => '000-11' } } },
    { eventName => 'page_view', time => 1700000000456, value => 'home',
      user => { userID => 'relay-1' } },
    { eventName => 'statsig::gate_exposure', time => 1700000000789,
      metadata => { gate => 'client_gate', gateValue => 'true',
                    ruleID => 'r' },
      user => { userID => 'relay-1' } },
);

my $r = api('/statsig/v1/log_event',
            { events => \@sent, statsigMetadata => { sdkType => 'js' } });
is($r->{status}, 202, 'log_event: 202');
is_deeply($r->{json}, { success => JSON::PP::true }, 'log_event: success');

api('/statsig/v1/check_gate',
    { user => { userID => 'marker-2' }, gateName => 'public_launch' });
ok(until_user('marker-2'), 'relayed events delivered');

my @got = grep { ($_->{user}{userID} // '') eq 'relay-1' } events();
is(scalar @got, 3, 'every event once');

# as sent, but for the private attributes, and with the client's sdkType
# (the request's statsigMetadata) in each event's own
my %want = map { $_->{eventName} => $J->decode($J->encode($_)) } @sent;
delete $want{purchase}{user}{privateAttributes};
$_->{statsigMetadata} = { sdkType => 'js' } for values %want;
for my $e (@got) {
    is_deeply($e, $want{ $e->{eventName} },
              "$e->{eventName} as sent, the client's sdkType with it")
        or diag($J->encode($e));
}
unlike($J->encode(\@got), qr/000-11/, 'privateAttributes dropped');

my ($req) = grep { $J->encode($_->{json}) =~ /relay-1/ }
    $f->requests(path => qr{^/v1/log_event});
is($req->{headers}{'statsig-api-key'}, $KEY, 'sent with the server key');

# a statsig_api_key replaces the server key for the API
$t->stop;
$t->write_file('api.key', "edge-only-key\n");
my $conf = slurp($t->dir . '/nginx.conf');
$conf =~ s{(statsig_flush_interval 100ms;)}
          {$1\n    statsig_api_key file:${\ $t->dir}/api.key;};
$t->write_file('nginx.conf', $conf);
ok($t->run, 'restarted with statsig_api_key');
is(api('/statsig/v1/log_event', { events => [] })->{status}, 401,
   'the server key no longer opens the API');
%auth = ('statsig-api-key' => 'edge-only-key');
is(api('/statsig/v1/log_event', { events => [] })->{status}, 202,
   'statsig_api_key does');
$t->stop;

done_testing;
