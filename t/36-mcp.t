#!/usr/bin/perl

# statsig_mcp, the MCP server (Streamable HTTP, JSON-RPC 2.0 over POST).
#
# 1. The protocol, raw (HTTP::Tiny): every transport and JSON-RPC error
#    with its status and code (405, 401, 403, 415, 413, 404, -32700,
#    -32600, -32601, -32602), version negotiation, notifications (202),
#    ids kept as typed, batches only where the version has them, sessions
#    (issued, accepted by every worker and after a reload, a tampered or
#    DELETE'd one answered 404), Origin and CORS, tool results with
#    isError for a bad argument or a user the SDKs refuse.
# 2. The official TypeScript SDK's client (t/mcp-client.js): connect,
#    list the tools, call every one: evaluations equal statsig_api's
#    answers, their exposures logged as the API logs them, each event
#    tool's event at its stand-in (Statsig, Customer.io, Gainsight PX);
#    a wrong key, a bad argument, an unknown tool, a malformed message and
#    an oversized body get the right error.
# 3. The SDK's client against statsig-node (the oracle, make oracle): every
#    gate, config, experiment and layer for generated users.

use strict;
use warnings;

use lib 't/lib';
use EvalTest qw(oracle_generated);
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);
use StatsigEvents qw(events_nginx);

my $KEY = 'secret-MCP0123456789';
my $API = 'local-api-key-mcp';
my $PRODUCT = 'AP-MCP-1';
my $ORIGIN = 'http://agent.example:6274';
my $J = JSON::PP->new->canonical->allow_nonref;
my $root = StatsigTest::root();
my $mods = "$root/build/clients/node_modules";

my %files = (cio_site => 'site-mcp', cio_key => 'cio-key-mcp',
             gpx_key => 'px-key-mcp', api_key => $API);

my ($t, $f) = events_nginx(key => $KEY, files => \%files, http => <<"EOF",
    statsig_flush_interval 100ms;
    statsig_api_key file:%%TESTDIR%%/api_key;
    statsig_sink customerio site_id=file:%%TESTDIR%%/cio_site
                 api_key=file:%%TESTDIR%%/cio_key url=%%FAKE_URL%%/api/v1;
    statsig_sink gainsight_px api_key=file:%%TESTDIR%%/gpx_key
                 product_key=$PRODUCT url=%%FAKE_URL%%/v1;
EOF
    server => <<"EOF");
        location = /mcp {
            statsig_mcp origin=$ORIGIN;
            client_max_body_size 8m;      # statsig_mcp's own bound: 1 MB
        }
        location = /mcp-quiet { statsig_mcp; statsig_exposures off; }
        location /api/ { statsig_api; }
EOF

# ---- raw HTTP ----

sub http {
    my ($method, $body, %h) = @_;
    my $path = delete $h{path} // '/mcp';
    my %headers = ('content-type' => 'application/json',
                   'accept' => 'application/json, text/event-stream', %h);
    delete @headers{ grep { !defined $headers{$_} } keys %headers };
    my $r = $t->request($method, $path, headers => \%headers,
                        defined $body
                        ? (content => ref $body ? $J->encode($body) : $body)
                        : ());
    $r->{json} = eval { $J->decode($r->{content}) };
    return $r;
}

sub post { http('POST', $_[0], authorization => "Bearer $API", @_[1 .. $#_]) }

sub rpc {
    my ($id, $method, $params, %h) = @_;
    return post({ jsonrpc => '2.0', id => $id, method => $method,
                  defined $params ? (params => $params) : () }, %h);
}

sub error_is {
    my ($r, $status, $code, $name) = @_;
    is($r->{status}, $status, "$name: HTTP $status");
    is($r->{json}{error}{code}, $code, "$name: JSON-RPC $code")
        or diag($r->{content});
}

my $init = { protocolVersion => '2025-11-25', capabilities => {},
             clientInfo => { name => 'raw', version => '1' } };

# -- transport errors --

my $r = http('GET', undef, authorization => "Bearer $API");
error_is($r, 405, -32000, 'GET (no SSE stream)');
like($r->{headers}{allow} // '', qr/POST/, 'GET: Allow names POST');
$r = http('PUT', '{}', authorization => "Bearer $API");
is($r->{status}, 405, 'PUT: 405');

$r = http('POST', { jsonrpc => '2.0', id => 1, method => 'ping' });
error_is($r, 401, -32000, 'no key');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer/,
     '401: WWW-Authenticate: Bearer');
$r = http('POST', { jsonrpc => '2.0', id => 1, method => 'ping' },
          authorization => 'Bearer wrong');
error_is($r, 401, -32000, 'a wrong bearer');
$r = http('POST', { jsonrpc => '2.0', id => 1, method => 'ping' },
          authorization => "Basic " . 'eDp' . $API);
is($r->{status}, 401, 'Basic is not taken');
$r = http('POST', { jsonrpc => '2.0', id => 1, method => 'ping' },
          'statsig-api-key' => $API);
is($r->{status}, 200, 'statsig-api-key: accepted');
is_deeply($r->{json}, { jsonrpc => '2.0', id => 1, result => {} },
          'ping: {}');

$r = rpc(1, 'ping', undef, origin => 'http://evil.example');
error_is($r, 403, -32000, 'an Origin not listed');
$r = rpc(1, 'ping', undef, origin => 'null');
is($r->{status}, 403, 'Origin: null: 403');
$r = rpc(1, 'ping', undef, origin => $ORIGIN);
is($r->{status}, 200, 'the listed Origin: 200');
is($r->{headers}{'access-control-allow-origin'}, $ORIGIN,
   'CORS: Access-Control-Allow-Origin');
like($r->{headers}{'access-control-expose-headers'} // '',
     qr/Mcp-Session-Id/, 'CORS: the session id is exposed');
$r = http('OPTIONS', undef, origin => $ORIGIN,
          'access-control-request-method' => 'POST');
is($r->{status}, 204, 'a preflight of the listed Origin: 204');
like($r->{headers}{'access-control-allow-headers'} // '',
     qr/Authorization.*Mcp-Session-Id.*Mcp-Protocol-Version/,
     'preflight: the headers a client sends');
$r = rpc(1, 'ping', undef, origin => $ORIGIN, path => '/mcp-quiet');
is($r->{status}, 403, 'no origin= on a location: every Origin refused');

$r = post('{"jsonrpc":"2.0","id":1,"method":"ping"}',
          'content-type' => 'text/plain');
error_is($r, 415, -32000, 'Content-Type text/plain');

my $big = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'
          . ('a' x (1024 * 1024)) . '"}}';
$r = post($big);
error_is($r, 413, -32600, 'a body over 1 MB');
$r = post($big, path => '/mcp-quiet');
is($r->{status}, 413, "over client_max_body_size: nginx's own 413");

# -- JSON-RPC errors --

$r = post('{"jsonrpc":"2.0","id":1,"method":');
error_is($r, 400, -32700, 'bad JSON');
ok(exists $r->{json}{id} && !defined $r->{json}{id}, 'parse error: id null');
$r = post('');
error_is($r, 400, -32700, 'an empty body');
$r = post({ jsonrpc => '1.0', id => 7, method => 'ping' });
error_is($r, 400, -32600, 'jsonrpc 1.0');
is($r->{json}{id}, 7, 'invalid request: its id');
$r = post('42');
error_is($r, 400, -32700, 'a bare number (the parser takes objects and '
         . 'arrays)');
$r = post('[42]');
is($r->{status}, 200, 'a batch of one number: 200');
is($r->{json}[0]{error}{code}, -32600, '... its element: -32600');
$r = post({ jsonrpc => '2.0', id => undef, method => 'ping' });
error_is($r, 400, -32600, 'id null');
$r = post({ jsonrpc => '2.0', id => 1.5, method => 'ping' });
error_is($r, 400, -32600, 'a fractional id');
$r = post({ jsonrpc => '2.0', id => 1, method => 3 });
error_is($r, 400, -32600, 'a method that is not a string');
$r = post({ jsonrpc => '2.0', id => 1, method => 'ping', params => [1] });
error_is($r, 400, -32600, 'params not an object');
$r = rpc(9, 'resources/list');
error_is($r, 200, -32601, 'an unknown method');
is($r->{json}{id}, 9, 'unknown method: its id');
$r = rpc('abc', 'ping');
is($r->{json}{id}, 'abc', 'a string id comes back a string');
$r = rpc(12345678901, 'ping');
is($r->{content}, '{"jsonrpc":"2.0","id":12345678901,"result":{}}',
   'an integer id comes back an integer');

$r = rpc(3, 'tools/call', { arguments => {} });
error_is($r, 200, -32602, 'tools/call without a name');
$r = rpc(3, 'tools/call', { name => 'no-such-tool' });
error_is($r, 200, -32602, 'tools/call of an unknown tool');
$r = rpc(3, 'tools/call', { name => 'ping', arguments => [] });
error_is($r, 200, -32602, 'tools/call of a non-tool');
$r = rpc(3, 'tools/call', { name => 'check-gate', arguments => 'x' });
error_is($r, 200, -32602, 'arguments not an object');
$r = rpc(4, 'initialize', { capabilities => {} });
error_is($r, 200, -32602, 'initialize without protocolVersion');

# -- notifications: 202, no body --

$r = post({ jsonrpc => '2.0', method => 'notifications/initialized' });
is($r->{status}, 202, 'notifications/initialized: 202');
is($r->{content}, '', '202: no body');
$r = post({ jsonrpc => '2.0', method => 'notifications/cancelled',
            params => { requestId => 1 } });
is($r->{status}, 202, 'another notification: 202');
$r = post({ jsonrpc => '2.0', id => 5, result => {} });
is($r->{status}, 202, "a client's response: 202");

# -- initialize: versions, the session --

for my $case ([ '2025-11-25', '2025-11-25' ], [ '2025-06-18', '2025-06-18' ],
              [ '2025-03-26', '2025-03-26' ], [ '2024-11-05', '2025-11-25' ],
              [ 'nonsense', '2025-11-25' ])
{
    my ($ask, $want) = @$case;
    $r = rpc(1, 'initialize', { %$init, protocolVersion => $ask });
    is($r->{json}{result}{protocolVersion}, $want, "initialize $ask: $want");
}

$r = rpc(1, 'initialize', $init);
is($r->{status}, 200, 'initialize: 200');
my $res = $r->{json}{result};
is_deeply($res->{capabilities}, { tools => { listChanged => JSON::PP::false } },
          'capabilities: tools');
is($res->{serverInfo}{name}, 'ngx_http_statsig_module', 'serverInfo.name');
like($res->{instructions} // '', qr/check-gate/, 'instructions');
my $sid = $r->{headers}{'mcp-session-id'};
like($sid // '', qr/^[\x21-\x7e]{20,}$/, 'Mcp-Session-Id: visible ASCII');

my %S = ('mcp-session-id' => $sid, 'mcp-protocol-version' => '2025-11-25');
my %seen_worker;
for (1 .. 8) {
    $r = rpc(2, 'tools/list', undef, %S);
    is($r->{status}, 200, 'the session is accepted') if $_ == 1;
    is(scalar @{ $r->{json}{result}{tools} // [] }, 9, 'nine tools')
        if $_ == 1;
}

(my $bad = $sid) =~ s/.$/$& eq 'a' ? 'b' : 'a'/e;
$r = rpc(2, 'ping', undef, 'mcp-session-id' => $bad);
error_is($r, 404, -32001, 'a tampered session id');
$r = rpc(2, 'ping', undef, 'mcp-session-id' => 'x');
is($r->{status}, 404, 'a made-up session id: 404');
$r = rpc(2, 'ping', undef, 'mcp-protocol-version' => '1999-01-01');
error_is($r, 400, -32000, 'an unsupported MCP-Protocol-Version');
$r = rpc(2, 'ping', undef, 'mcp-session-id' => $sid,
         'mcp-protocol-version' => '2025-06-18');
is($r->{status}, 400, "MCP-Protocol-Version other than the session's: 400");
$r = rpc(2, 'ping');
is($r->{status}, 200, 'no session: served (stateless clients)');

# -- batches: 2025-03-26 only --

my $batch = [ { jsonrpc => '2.0', id => 1, method => 'ping' },
              { jsonrpc => '2.0', method => 'notifications/initialized' },
              { jsonrpc => '2.0', id => 'two', method => 'tools/call',
                params => { name => 'list-entities',
                            arguments => { kind => 'feature_gate' } } },
              { jsonrpc => '1', id => 3, method => 'ping' },
              { jsonrpc => '2.0', id => 4, method => 'initialize',
                params => $init } ];
$r = post($batch);
is($r->{status}, 200, 'a batch without MCP-Protocol-Version (2025-03-26)');
my @b = @{ ref $r->{json} eq 'ARRAY' ? $r->{json} : [] };
is(scalar @b, 4, 'four answers: the notification has none');
is_deeply($b[0], { jsonrpc => '2.0', id => 1, result => {} }, 'ping');
is($b[1]{id}, 'two', 'the tool call');
is_deeply([ map { $_->{name} }
            @{ $b[1]{result}{structuredContent}{entities} // [] } ],
          [ qw(public_launch beta_users new_checkout) ],
          'list-entities in a batch');
is($b[2]{error}{code}, -32600, 'the invalid one: -32600');
is($b[3]{error}{code}, -32600, 'initialize in a batch: -32600');

$r = post($batch, 'mcp-protocol-version' => '2025-06-18');
error_is($r, 400, -32600, 'a batch in 2025-06-18');
$r = post($batch, %S);
error_is($r, 400, -32600, 'a batch in a 2025-11-25 session');
$r = post([]);
error_is($r, 400, -32600, 'an empty batch');
$r = post([ map { { jsonrpc => '2.0', id => $_, method => 'ping' } } 1 .. 33 ]);
error_is($r, 400, -32600, 'a batch of 33');
$r = post([ { jsonrpc => '2.0', method => 'notifications/initialized' } ]);
is($r->{status}, 202, 'a batch of notifications: 202');

# -- tool results: isError, never a transport error --

sub call {
    my ($name, $args, %h) = @_;
    my $x = rpc(int(rand(1e6)), 'tools/call',
                { name => $name, arguments => $args }, %h);
    return ($x->{status}, $x->{json}{result}, $x);
}

my ($st, $tr) = call('check-gate', { gateName => 'public_launch' });
is($st, 200, 'a missing argument: 200');
ok($tr->{isError}, 'a missing argument: isError');
like($tr->{content}[0]{text} // '', qr/"user"/, 'a missing argument: named');
($st, $tr) = call('check-gate', { user => { userID => 'u' },
                                  gateName => 'public_launch', x => 1 });
ok($tr->{isError}, 'an unknown argument: isError');
like($tr->{content}[0]{text} // '', qr/unknown argument "x".*gateName/,
     'an unknown argument: the ones it takes');
($st, $tr) = call('check-gate', { user => [], gateName => 'g' });
like($tr->{content}[0]{text} // '', qr/"user" must be an object/,
     'user not an object');
($st, $tr) = call('check-gate', { user => { email => 'a@b.c' },
                                  gateName => 'public_launch' });
ok($tr->{isError}, 'a user the SDKs refuse (no userID, no customIDs): '
   . 'isError');
my $api = $t->request('POST', '/api/v1/check_gate',
                      headers => { 'statsig-api-key' => $API },
                      content => $J->encode({ user => { email => 'a@b.c' },
                                              gateName => 'public_launch' }));
is($tr->{content}[0]{text}, $J->decode($api->{content})->{error},
   "... with the API's reason");
($st, $tr) = call('log-events', { body => { events => [ {} ] } });
like($tr->{content}[0]{text} // '', qr/eventName/,
     'log-events: an event without a name: isError, why');
($st, $tr) = call('log-events', { body => { events => [] },
                                  'STATSIG-CLIENT-TIME' => -5 });
like($tr->{content}[0]{text} // '', qr/STATSIG-CLIENT-TIME/,
     'log-events: a negative client time');
($st, $tr) = call('track-customer-event', { identifier => '',
                                            body => { name => 'x' } });
ok($tr->{isError}, 'track-customer-event: an empty identifier');
($st, $tr) = call('track-anonymous-event', { body => { name => 'x',
                                                       type => 'click' } });
like($tr->{content}[0]{text} // '', qr/type/,
     "track-anonymous-event: Customer.io's refusal");
($st, $tr) = call('gainsight-send-custom-event',
                  { body => { eventName => 'x' } });
like($tr->{content}[0]{text} // '', qr/identifyId/,
     "gainsight-send-custom-event: Gainsight PX's refusal");
($st, $tr) = call('list-entities', { kind => 'gadget' });
ok($tr->{isError}, 'list-entities: an unknown kind');
($st, $tr) = call('list-entities', { limit => 2, offset => 1 });
is_deeply($tr->{structuredContent},
          { entities => [ { name => 'beta_users', kind => 'feature_gate',
                            tool => 'check-gate' },
                          { name => 'new_checkout', kind => 'feature_gate',
                            tool => 'check-gate' } ],
            total => 6, next_offset => 3 }, 'list-entities: a page');
is($J->encode($J->decode($tr->{content}[0]{text})),
   $J->encode($tr->{structuredContent}), 'the text is the same JSON');

# -- DELETE ends a session; the zone keeps it across a reload --

$r = http('DELETE', undef, authorization => "Bearer $API");
error_is($r, 400, -32000, 'DELETE without a session');
$r = http('DELETE', undef, 'mcp-session-id' => $sid);
is($r->{status}, 401, 'DELETE needs the key');
$r = rpc(1, 'initialize', $init);
my $sid2 = $r->{headers}{'mcp-session-id'};
$r = http('DELETE', undef, authorization => "Bearer $API",
          'mcp-session-id' => $sid);
is($r->{status}, 204, 'DELETE: 204');
for (1 .. 4) {
    $r = rpc(2, 'ping', undef, 'mcp-session-id' => $sid);
    is($r->{status}, 404, "the ended session: 404 ($_)");
}
$r = http('DELETE', undef, authorization => "Bearer $API",
          'mcp-session-id' => $sid);
is($r->{status}, 404, 'DELETE again: 404');

$t->reload;
$r = rpc(2, 'ping', undef, 'mcp-session-id' => $sid);
is($r->{status}, 404, 'after a reload: the ended session still 404');
$r = rpc(2, 'ping', undef, 'mcp-session-id' => $sid2);
is($r->{status}, 200, 'after a reload: another session still good');

# ---- the SDK's client ----

SKIP: {
    skip 'no build/clients (make clients)', 1
        unless -d "$mods/\@modelcontextprotocol/sdk";

    sub sdk {
        my ($key, $mode, @steps) = @_;
        my $file = $t->dir . '/steps.jsonl';
        open my $fh, '>', $file or die;
        print $fh $J->encode($_), "\n" for @steps;
        close $fh;
        my $url = $t->url('/mcp');
        my @out = map { eval { $J->decode($_) } // { raw => $_ } }
                  `NODE_PATH=$mods node $root/t/mcp-client.js $url $key $mode $file 2>$file.err`;
        diag(slurp("$file.err")) if $? || !@out;
        return @out;
    }

    # a wrong key: connect fails with 401
    my ($c) = sdk('wrong-key', 'bearer');
    is($c->{error}{code}, 401, 'SDK: a wrong key: 401')
        or diag($J->encode($c));

    my $user = { userID => 'mcp-user-1', email => 'ann@example.com',
                 country => 'DE', custom => { plan => 'pro' } };
    my $skew = 3_600_000;
    my $client_time = int(time() * 1000) - $skew;
    my @steps = (
        { op => 'list' },
        { op => 'ping' },
        (map { { op => 'call', name => 'check-gate',
                 arguments => { user => $user, gateName => $_ } } }
             qw(public_launch beta_users new_checkout no_such_gate)),
        { op => 'call', name => 'get-config',
          arguments => { user => $user, configName => 'pricing' } },
        { op => 'call', name => 'get-experiment',
          arguments => { user => $user, experimentName => 'button_color' } },
        { op => 'call', name => 'get-layer',
          arguments => { user => $user, layerName => 'no_layer' } },
        { op => 'call', name => 'list-entities', arguments => {} },
        { op => 'call', name => 'log-events',
          arguments => { body => { events => [
              { eventName => 'mcp_logged', value => 3, time => $client_time,
                user => { userID => 'mcp-user-1',
                          privateAttributes => { s => 1 } },
                metadata => { via => 'mcp' } } ] },
              'STATSIG-CLIENT-TIME' => $client_time } },
        { op => 'call', name => 'track-customer-event',
          arguments => { identifier => 'mcp/ann',
                         body => { name => 'mcp_purchase',
                                   data => { sku => 'M1' } } } },
        { op => 'call', name => 'track-anonymous-event',
          arguments => { body => { name => 'mcp_visit',
                                   anonymous_id => 'anon-mcp' } } },
        { op => 'call', name => 'gainsight-send-custom-event',
          arguments => { body => { eventName => 'mcp_export',
                                   identifyId => 'mcp-px-user',
                                   attributes => { rows => 3 } } } },
        { op => 'call', name => 'check-gate',
          arguments => { gateName => 'public_launch' } },
        { op => 'call', name => 'no-such-tool', arguments => {} },
        { op => 'raw', message => { jsonrpc => '2.0', id => 99,
                                    method => 'ping', params => 'x' } },
        { op => 'call', name => 'track-anonymous-event',
          arguments => { body => { name => 'big',
                                   data => { x => 'y' x (1100 * 1024) } } } },
        { op => 'terminate' },
    );
    my @out = sdk($API, 'bearer', @steps);
    ($c, my @o) = @out;
    is($c->{op}, 'connect', 'SDK: connected') or diag($J->encode(\@out));
    is($c->{protocol}, '2025-11-25', 'SDK: negotiated 2025-11-25');
    like($c->{session} // '', qr/\S/, 'SDK: holds a session id');
    is($c->{server}{name}, 'ngx_http_statsig_module', 'SDK: server info');
    ok($c->{capabilities}{tools}, 'SDK: the tools capability');
    is(scalar @o, scalar @steps, 'SDK: every step answered')
        or diag($J->encode(\@out));

    # tools/list: names, schemas, annotations
    my %tools = map { $_->{name} => $_ } @{ $o[0]{tools} // [] };
    is_deeply([ sort keys %tools ],
              [ sort qw(log-events track-customer-event track-anonymous-event
                        gainsight-send-custom-event check-gate get-config
                        get-experiment get-layer list-entities) ],
              'SDK: the nine tools');
    for my $n (sort keys %tools) {
        my $s = $tools{$n}{inputSchema};
        ok($s->{type} eq 'object' && ref $s->{properties} eq 'HASH'
           && length($tools{$n}{description} // '') > 20,
           "$n: an object schema with properties and a description");
    }
    is_deeply($tools{'log-events'}{inputSchema}{required}, ['body'],
              'log-events: body required');
    ok($tools{'log-events'}{inputSchema}{properties}{'STATSIG-CLIENT-TIME'},
       'log-events: STATSIG-CLIENT-TIME');
    is_deeply($tools{'track-customer-event'}{inputSchema}{required},
              [ 'identifier', 'body' ], 'track-customer-event: required');
    is_deeply($tools{'get-layer'}{inputSchema}{required},
              [ 'user', 'layerName' ], 'get-layer: required');
    for my $n (qw(log-events track-customer-event track-anonymous-event
                  gainsight-send-custom-event)) {
        my $a = $tools{$n}{annotations};
        ok(!$a->{readOnlyHint} && !$a->{destructiveHint}
           && !$a->{idempotentHint}, "$n: the seeds' hints");
    }
    ok($tools{$_}{annotations}{readOnlyHint}, "$_: read-only")
        for qw(check-gate get-config get-experiment get-layer list-entities);
    is_deeply($o[1]{result}, {}, 'SDK: ping');

    # evaluations: what the API answers
    my @api = (
        [ check_gate => { gateName => 'public_launch' } ],
        [ check_gate => { gateName => 'beta_users' } ],
        [ check_gate => { gateName => 'new_checkout' } ],
        [ check_gate => { gateName => 'no_such_gate' } ],
        [ get_config => { configName => 'pricing' } ],
        [ get_experiment => { experimentName => 'button_color' } ],
        [ get_layer => { layerName => 'no_layer' } ],
    );
    for my $k (0 .. $#api) {
        my ($m, $body) = @{ $api[$k] };
        my $a = $t->request('POST', "/api/v1/$m",
                            headers => { 'statsig-api-key' => $API },
                            content => $J->encode({ user => $user, %$body,
                                                   disableExposureLogging =>
                                                       JSON::PP::true }));
        my $got = $o[2 + $k]{result};
        is($J->encode($got->{structuredContent}),
           $J->encode($J->decode($a->{content})),
           "SDK: $steps[2 + $k]{name} " . join(',', values %$body)
           . ': the API\'s answer');
        ok(!$got->{isError}, "... not an error");
        is($got->{content}[0]{text}, $a->{content}, '... and as its text');
    }
    my $ents = $o[9]{result}{structuredContent};
    is_deeply([ map { "$_->{kind}:$_->{name}" } @{ $ents->{entities} } ],
              [ qw(feature_gate:public_launch feature_gate:beta_users
                   feature_gate:new_checkout dynamic_config:pricing
                   experiment:button_color experiment:landing_page) ],
              'SDK: list-entities: the specs\' entities');
    is($ents->{next_offset}, undef, 'list-entities: no next page');

    # event tools: queued, then at their stand-ins
    for my $k (10 .. 13) {
        is_deeply($o[$k]{result}{structuredContent}, { success => JSON::PP::true },
                  "SDK: $steps[$k]{name}: {success:true}")
            or diag($J->encode($o[$k]));
    }
    my @e;
    ok(wait_for(sub {
        @e = grep { $_->{eventName} eq 'mcp_logged' }
             map { @{ $_->{json}{events} // [] } }
             $f->requests(path => qr{^/v1/log_event$});
    }, 10), 'log-events: at Statsig');
    cmp_ok(abs(($e[0]{time} // 0) - $client_time - $skew), '<', 5000,
           'log-events: its time moved by the client\'s skew');
    ok(!defined $e[0]{user}{privateAttributes},
       'log-events: no private attributes');
    my $cio;
    wait_for(sub {
        ($cio) = grep { ($_->{json}{name} // '') eq 'mcp_purchase' }
                 $f->requests(path => qr{^/api/v1/customers/});
        $cio });
    is($cio && $cio->{path}, '/api/v1/customers/mcp%2Fann/events',
       'track-customer-event: at Customer.io, for the person');
    like($cio && $cio->{headers}{authorization} // '', qr/^Basic /,
         '... with the edge\'s credentials');
    ok(wait_for(sub {
        grep { ($_->{json}{anonymous_id} // '') eq 'anon-mcp' }
        $f->requests(path => qr{^/api/v1/events$}) }),
       'track-anonymous-event: at Customer.io');
    my $gpx;
    wait_for(sub {
        ($gpx) = grep { ($_->{json}{eventName} // '') eq 'mcp_export' }
                 $f->requests(path => qr{^/v1/events/custom$});
        $gpx });
    is($gpx && $gpx->{json}{propertyKey}, $PRODUCT,
       'gainsight-send-custom-event: at Gainsight PX, the product key');
    is($gpx && $gpx->{json}{identifyId}, 'mcp-px-user', '... identifyId');

    # the exposures of the SDK's evaluations, as the API logs them
    my @x;
    ok(wait_for(sub {
        @x = grep { ($_->{user}{userID} // '') eq 'mcp-user-1'
                    && $_->{eventName} =~ /^statsig::/ }
             map { @{ $_->{json}{events} // [] } }
             $f->requests(path => qr{^/v1/log_event$});
        @x >= 6 }, 10), 'exposures of the evaluations logged');
    is_deeply([ sort map { "$_->{eventName}:"
                           . ($_->{metadata}{gate} // $_->{metadata}{config}) } @x ],
              [ sort('statsig::gate_exposure:public_launch',
                     'statsig::gate_exposure:beta_users',
                     'statsig::gate_exposure:new_checkout',
                     'statsig::gate_exposure:no_such_gate',
                     'statsig::config_exposure:pricing',
                     'statsig::config_exposure:button_color') ],
              'one per check, as statsig_api logs them (none for a layer)');

    # errors through the SDK
    ok($o[14]{result}{isError}, 'SDK: a bad argument: isError');
    like($o[14]{result}{content}[0]{text} // '', qr/"user"/,
         'SDK: ... and why');
    is($o[15]{error}{code}, -32602, 'SDK: an unknown tool: -32602')
        or diag($J->encode($o[15]));
    is($o[16]{error}{code}, 400, 'SDK: a malformed message: HTTP 400');
    like($o[16]{error}{message} // '', qr/-32600/, '... with -32600');
    is($o[17]{error}{code}, 413, 'SDK: an oversized body: HTTP 413')
        or diag($J->encode($o[17]));
    ok($o[18]{terminated}, 'SDK: the session terminated (DELETE)');
}

$t->stop;

# ---- the SDK's client against statsig-node ----

SKIP: {
    my $oracle = "$root/build/oracle";
    skip 'no build/oracle (make oracle)', 1 unless -d "$oracle/node_modules";
    skip 'no build/clients (make clients)', 1
        unless -d "$mods/\@modelcontextprotocol/sdk";

    my $nusers = $ENV{STATSIG_MCP_USERS} || 300;
    my $o = StatsigTest->new;
    my $d = $o->dir;
    my ($users, $exp) = oracle_generated($d, seed => 7151, specs => 24,
                                         users => $nusers, json => $J);
    my @users = @$users;
    my @expected = @$exp;

    $o->write_file('api.key', $KEY);
    $o->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_specs_file $d/gen/dcs.json;
    statsig_api_key file:%%TESTDIR%%/api.key;
    statsig_exposures off;

    server {
        listen %%LISTEN%%;
        location = /mcp { statsig_mcp; }
    }
}
EOF
    ok($o->run, 'nginx on the generated specs');

    my (@steps, @want);
    for my $i (0 .. $#users) {
        my $exp = $expected[$i];
        my ($any) = values %{ $exp->{gate} };
        if ($any->{error}) {
            push @steps, { op => 'call', name => 'check-gate',
                           arguments => { user => $users[$i],
                                          gateName => 'x' } };
            push @want, [ 'refused', "user $i" ];
            next;
        }
        for my $g (sort keys %{ $exp->{gate} }) {
            my $e = $exp->{gate}{$g};
            push @steps, { op => 'call', name => 'check-gate',
                           arguments => { user => $users[$i], gateName => $g } };
            push @want, [ gate => "user $i gate $g",
                          { name => $g, value => $e->{value},
                            rule_id => $e->{rule_id},
                            group_name => $e->{group_name} } ];
        }
        for my $c (sort keys %{ $exp->{config} }) {
            my $e = $exp->{config}{$c};
            my $x = $e->{kind} eq 'experiment';
            push @steps, { op => 'call',
                           name => $x ? 'get-experiment' : 'get-config',
                           arguments => { user => $users[$i],
                                          ($x ? 'experimentName'
                                              : 'configName') => $c } };
            push @want, [ config => "user $i config $c",
                          { name => $c, value => $e->{value},
                            rule_id => $e->{rule_id}, group => $e->{rule_id},
                            group_name => $e->{group_name} } ];
        }
        for my $l (sort keys %{ $exp->{layer} }) {
            my $e = $exp->{layer}{$l};
            push @steps, { op => 'call', name => 'get-layer',
                           arguments => { user => $users[$i], layerName => $l } };
            push @want, [ layer => "user $i layer $l",
                          { name => $l, value => $e->{value},
                            rule_id => $e->{rule_id},
                            group_name => $e->{group_name},
                            allocated_experiment_name =>
                                $e->{allocated_experiment} } ];
        }
    }

    my $file = "$d/steps.jsonl";
    open my $fh, '>', $file or die;
    print $fh $J->encode($_), "\n" for @steps;
    close $fh;
    my $url = $o->url('/mcp');
    my @out = map { eval { $J->decode($_) } // { raw => $_ } }
              `NODE_PATH=$mods node $root/t/mcp-client.js $url $KEY header $file 2>$d/node.err`;
    diag(slurp("$d/node.err")) if $? || !@out;
    my $conn = shift @out;
    is($conn->{op}, 'connect', 'SDK connected (statsig-api-key)')
        or diag($J->encode($conn));
    is(scalar @out, scalar @steps, scalar(@steps) . ' tool calls answered');

    my (%count, %bad, @diffs);
    for my $k (0 .. $#want) {
        my ($kind, $what, $w) = @{ $want[$k] };
        my $got = $out[$k]{result};
        $count{$kind}++;
        if ($kind eq 'refused') {
            $bad{$kind}++ unless $got && $got->{isError};
            next;
        }
        my ($g, $e) = ($J->encode($got->{structuredContent}), $J->encode($w));
        next if $got && !$got->{isError} && $g eq $e;
        $bad{$kind}++;
        push @diffs, "$what:\n  got  " . $J->encode($out[$k])
                     . "\n  want $e" if @diffs < 10;
    }
    diag(join "\n", @diffs) if @diffs;
    for my $k (qw(gate config layer)) {
        ok(($count{$k} // 0) > 0, "$k: " . ($count{$k} // 0) . ' compared');
        is($bad{$k} // 0, 0, "$k: every answer equals statsig-node's");
    }
    is($bad{refused} // 0, 0,
       'users the SDK refuses (' . ($count{refused} // 0) . '): isError');
    ok(keys %{ { map { $_->[1] =~ /^user (\d+)/; $1 => 1 } @want } } >= 200,
       'a few hundred users');
    $o->stop;
}

done_testing;
