#!/usr/bin/perl

# statsig_ofrep, the OpenFeature Remote Evaluation Protocol.
#
# 1. The protocol, raw (HTTP::Tiny) on specs made here: single and bulk
#    answers (values, reasons, variants, metadata), every error with its
#    status (401, 405, 404 path, 404 FLAG_NOT_FOUND, 400 PARSE_ERROR,
#    INVALID_CONTEXT, TARGETING_KEY_MISSING, 500 GENERAL, 413), the ETag
#    and If-None-Match (304 without evaluating; a context in another key
#    order; weak tags, lists and "*"; a new snapshot, a new context;
#    specs with current_time conditions), Cache-Control, and exposures:
#    a single flag logs its SDK call's, a bulk answer none, statsig_
#    exposures off none.
# 2. The OpenFeature server SDK with the OFREP provider (t/ofrep-client.
#    js): both ways of sending the key, each error code as the SDK
#    reports it, a wrong key.
# 3. The same SDK against statsig-node (the oracle, make oracle): every
#    gate's boolean and every config's, experiment's and layer's object
#    for a few hundred generated users.
# 4. The OpenFeature web SDK with the OFREP web provider in headless
#    Chromium (t/ofrep-web.js, t/ofrep-web.html served by nginx): a bulk
#    evaluation, polls revalidated with the ETag (304), a context change
#    answered 200 with the new flags.

use strict;
use warnings;

use lib 't/lib';
use EvalTest qw(oracle_generated);
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use StatsigTest qw(wait_for slurp);

my $KEY = 'secret-OFREP0123456789';
my $API = 'local-api-key-ofrep';
my $J = JSON::PP->new->canonical->allow_nonref;
my $root = StatsigTest::root();
my $mods = "$root/build/clients/node_modules";

# core Perl only: percent-encoding for the page's hash
sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-_.~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# ---- specs ----

sub cond {
    my ($type, $op, $target, $field) = @_;
    return { type => $type, operator => $op, targetValue => $target,
             field => $field, additionalValues => {}, isDeviceBased => \0,
             idType => 'userID' };
}

sub rule {
    my ($id, $pct, $ret, @conds) = @_;
    return { name => $id, id => $id, salt => $id, passPercentage => $pct,
             conditions => \@conds, returnValue => $ret,
             isDeviceBased => \0, idType => 'userID' };
}

sub spec {
    my ($name, $type, $entity, $default, @rules) = @_;
    return { name => $name, type => $type, entity => $entity,
             salt => "salt-$name", enabled => \1, defaultValue => $default,
             rules => \@rules, isDeviceBased => \0, idType => 'userID' };
}

sub specs {
    my (%o) = @_;
    my $disabled = spec('g_disabled', 'feature_gate', 'feature_gate', \0,
                        rule('r_dis', 100, \1, cond('public')));
    $disabled->{enabled} = \0;
    my $exp = spec('exp', 'dynamic_config', 'experiment', { color => 'blue' },
        { %{ rule('r_ctl', 100, { color => 'blue' },
                  { %{ cond('user_bucket', 'lt', 500) },
                    additionalValues => { salt => 'salt-exp' } }) },
          groupName => 'Control', isExperimentGroup => \1 },
        { %{ rule('r_tst', 100, { color => 'green' },
                  { %{ cond('user_bucket', 'lt', 1000) },
                    additionalValues => { salt => 'salt-exp' } }) },
          groupName => 'Test', isExperimentGroup => \1 });
    $exp->{isActive} = \1;
    my @gates = (
        spec('g_on', 'feature_gate', 'feature_gate', \0,
             rule('r_on', 100, \1, cond('public'))),
        spec('g_split', 'feature_gate', 'feature_gate', \0,
             rule('r_split', 50, \1, cond('public'))),
        $disabled,
        spec('g_email', 'feature_gate', 'feature_gate', \0,
             rule('r_email', 100, \1,
                  cond('user_field', 'str_ends_with_any', ['@x.io'],
                       'email'))),
        spec('g_plan', 'feature_gate', 'feature_gate', \0,
             rule('r_plan', 100, \1,
                  cond('user_field', 'any', ['pro'], 'plan'))),
        spec('g_unsupported', 'feature_gate', 'feature_gate', \0,
             rule('r_fancy', 100, \1, cond('fancy_new_condition', 'any',
                                           ['x'], 'foo'))),
        spec('segment:seg', 'feature_gate', 'segment', \0,
             rule('r_seg', 100, \1, cond('public'))),
        spec('dup', 'feature_gate', 'feature_gate', \0,
             rule('r_dup', 100, \1, cond('public'))),
    );
    push @gates, spec('g_time', 'feature_gate', 'feature_gate', \0,
                      rule('r_time', 100, \1,
                           cond('current_time', 'after', 1000)))
        if $o{timed};
    return {
        has_updates => \1, time => $o{time} // 1700000000000,
        feature_gates => \@gates,
        dynamic_configs => [
            spec('cfg', 'dynamic_config', 'dynamic_config', { a => 0 },
                 rule('r_cfg', 100, { a => 1, b => [1, 'two'] },
                      cond('public'))),
            $exp,
            spec('dup', 'dynamic_config', 'dynamic_config', {},
                 rule('r_dupc', 100, { shadowed => 1 }, cond('public'))),
        ],
        layer_configs => [
            spec('lay', 'dynamic_config', 'layer', { p => 0 },
                 rule('r_lay', 100, { p => 1, q => 'x' }, cond('public'))),
        ],
        layers => {},
    };
}

# ---- nginx: the fake Statsig serves the specs and takes log_event ----

my $t = StatsigTest->new(fake => 1, workers => 2);
my $f = $t->fake;
$f->set_specs(specs());
$t->write_file('specs.json', $J->encode(specs()));
$t->write_file('key', "$KEY\n");
$t->write_file('api_key', $API);
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 4m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_api_key file:%%TESTDIR%%/api_key;
    %%FAKE_STATSIG%%
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_sync_interval 1s;
    statsig_flush_interval 100ms;

    types { text/html html; text/javascript js; }

    server {
        listen %%LISTEN%%;
        location /edge/ { statsig_ofrep; client_max_body_size 8m; }
        location /quiet/ { statsig_ofrep; statsig_exposures off; }
        location = /web/index.html { alias $root/t/ofrep-web.html; }
        location /nm/ { alias $mods/; }
    }
}
EOF
ok($t->run, 'nginx runs');

my $BULK = '/edge/ofrep/v1/evaluate/flags';

sub post {
    my ($path, $body, %h) = @_;
    my %headers = ('Content-Type' => 'application/json',
                   exists $h{key} ? (defined $h{key}
                                     ? ('statsig-api-key' => $h{key}) : ())
                                  : ('Authorization' => "Bearer $API"),
                   %{ $h{headers} // {} });
    my $r = $t->request($h{method} // 'POST', $path, headers => \%headers,
                        content => ref $body ? $J->encode($body) : $body);
    $r->{json} = eval { $J->decode($r->{content}) };
    return $r;
}

sub flag { post("$BULK/$_[0]", { context => $_[1] }, @_[2 .. $#_]) }

my $alice = { targetingKey => 'alice', email => 'alice@x.io' };

# ---- single flags ----

my $r = flag('g_on', $alice);
is($r->{status}, 200, 'a gate: 200');
is_deeply($r->{json}, { key => 'g_on', value => JSON::PP::true,
                        reason => 'TARGETING_MATCH', variant => 'on',
                        metadata => { entity => 'feature_gate',
                                      ruleId => 'r_on',
                                      idType => 'userID' } },
          '... boolean, TARGETING_MATCH, on, the rule id in metadata');
is($r->{headers}{'cache-control'}, 'no-store', '... Cache-Control: no-store');
like($r->{headers}{'content-type'}, qr{^application/json}, '... JSON');

is(flag('g_split', $alice)->{json}{reason}, 'SPLIT',
   'a partial rollout: SPLIT');
$r = flag('g_disabled', $alice)->{json};
is_deeply([ @$r{qw(value reason variant)} ], [ JSON::PP::false, 'DISABLED',
          'off' ], 'a disabled gate: false, DISABLED, off');
is(flag('g_email', $alice)->{json}{reason}, 'TARGETING_MATCH',
   'email in the context: the rule matches');
$r = flag('g_email', { targetingKey => 'bob', email => 'bob@y.io' })->{json};
is_deeply([ @$r{qw(value reason variant)} ],
          [ JSON::PP::false, 'DEFAULT', 'off' ], 'no rule: DEFAULT, off');
is(flag('g_plan', { targetingKey => 'bob', plan => 'pro' })->{json}{value},
   JSON::PP::true, 'any other key is custom (plan)');
is(flag('dup', $alice)->{json}{metadata}{entity}, 'feature_gate',
   'a gate shadows a config of the same name');
is(flag('segment:seg', $alice)->{json}{metadata}{entity}, 'segment',
   'a segment answers by its name');

$r = flag('cfg', $alice);
is_deeply($r->{json}, { key => 'cfg', value => { a => 1, b => [1, 'two'] },
                        reason => 'TARGETING_MATCH',
                        metadata => { entity => 'dynamic_config',
                                      ruleId => 'r_cfg',
                                      idType => 'userID' } },
          'a dynamic config: its object, no variant');
$r = flag('exp', $alice)->{json};
ok($r->{variant} && $r->{variant} eq $r->{metadata}{groupName},
   "an experiment: its group as variant ($r->{variant})");
is($r->{reason}, 'SPLIT', '... SPLIT');
is_deeply($r->{value}, { color => $r->{variant} eq 'Test' ? 'green' : 'blue' },
          "... the group's value");
$r = flag('lay', $alice)->{json};
is_deeply([ $r->{value}, $r->{metadata}{entity} ],
          [ { p => 1, q => 'x' }, 'layer' ], 'a layer: its object');

$r = flag('g_unsupported', $alice);
is($r->{status}, 500, 'an unsupported condition: 500');
is($r->{json}{errorCode}, 'GENERAL', '... GENERAL');
is($r->{json}{key}, 'g_unsupported', '... with the key');

# ---- errors ----

$r = flag('nope', $alice);
is($r->{status}, 404, 'an unknown flag: 404');
is_deeply([ @{ $r->{json} }{qw(key errorCode)} ], [ 'nope', 'FLAG_NOT_FOUND' ],
          '... FLAG_NOT_FOUND');

$r = flag('g_on', $alice, key => undef);
is($r->{status}, 401, 'no key: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer/,
     '... WWW-Authenticate: Bearer');
is(flag('g_on', $alice, key => 'wrong')->{status}, 401, 'a wrong key: 401');
is(flag('g_on', $alice,
        headers => { Authorization => 'Bearer wrong' })->{status}, 401,
   'a wrong bearer: 401');
is(flag('g_on', $alice, key => $API)->{status}, 200,
   'statsig-api-key: 200');
is(flag('g_on', $alice, key => undef,
        headers => { 'X-API-Key' => $API })->{status}, 200,
   "X-API-Key (OFREP's ApiKeyAuth): 200");
is(flag('g_on', $alice, key => undef,
        headers => { 'X-API-Key' => 'wrong' })->{status}, 401,
   'a wrong X-API-Key: 401');

is(post("$BULK/g_on", '{"context":', )->{json}{errorCode}, 'PARSE_ERROR',
   'bad JSON: PARSE_ERROR');
$r = post("$BULK/g_on", '[1]');
is_deeply([ $r->{status}, $r->{json}{errorCode}, $r->{json}{key} ],
          [ 400, 'PARSE_ERROR', 'g_on' ], 'not an object: 400 PARSE_ERROR');
$r = post("$BULK/g_on", {});
is_deeply([ $r->{status}, $r->{json}{errorCode} ], [ 400, 'INVALID_CONTEXT' ],
          'no context: 400 INVALID_CONTEXT');
for my $bad ({ targetingKey => 1 }, { targetingKey => 'a', email => 3 },
             { targetingKey => 'a', customIDs => 'x' },
             { targetingKey => 'a', privateAttributes => [1] }) {
    $r = flag('g_on', $bad);
    is_deeply([ $r->{status}, $r->{json}{errorCode} ],
              [ 400, 'INVALID_CONTEXT' ],
              'INVALID_CONTEXT: ' . $J->encode($bad));
}
$r = flag('g_on', { email => 'a@x.io' });
is_deeply([ $r->{status}, $r->{json}{errorCode}, $r->{json}{key} ],
          [ 400, 'TARGETING_KEY_MISSING', 'g_on' ],
          'no targetingKey, no customIDs: 400 TARGETING_KEY_MISSING');
is(flag('g_on', { customIDs => { companyID => 'c1' } })->{status}, 200,
   'customIDs alone: a unit id, 200');
$r = post($BULK, { context => {} });
is_deeply([ $r->{status}, $r->{json} ],
          [ 400, { errorCode => 'TARGETING_KEY_MISSING',
                   errorDetails => $r->{json}{errorDetails} } ],
          'bulk: the failure without a key');

$r = post("$BULK/g_on", { context => $alice }, method => 'GET');
is($r->{status}, 405, 'GET: 405');
is($r->{headers}{allow}, 'POST', '... Allow: POST');
is(post('/edge/other', { context => $alice })->{status}, 404,
   'not an OFREP path: 404');
is(post("$BULK/g_on", '{"context":{"targetingKey":"' . ('a' x 1200000)
        . '"}}')->{status}, 413, 'a body over 1 MB: 413');

# ---- bulk, ETag ----

# the first syncs (specs, ID lists) may still publish a snapshot, which
# changes the ETag as it should: wait until it holds still for longer than
# two sync intervals (1 s), so that a late first sync (a busy machine) has
# come and gone
{
    my ($last, $since) = ('', time);
    wait_for(sub {
        my $e = post($BULK, { context => $alice })->{headers}{etag} // '';
        ($last, $since) = ($e, time) if $e ne $last;
        return 1 if time - $since >= 2.5;
        sleep 0.3;
        0;
    }, 20);
}

$r = post($BULK, { context => $alice });
is($r->{status}, 200, 'bulk: 200');
my %flags = map { $_->{key} => $_ } @{ $r->{json}{flags} // [] };
is_deeply([ sort keys %flags ],
          [ sort qw(g_on g_split g_disabled g_email g_plan g_unsupported dup
                    cfg exp lay) ],
          'every gate, config, experiment and layer; no segment; a '
          . 'shadowed name once');
is_deeply($flags{g_on}, flag('g_on', $alice)->{json},
          '... each as the single answer');
is($flags{g_unsupported}{errorCode}, 'GENERAL',
   '... an unsupported one as a failure');
is($r->{json}{metadata}{specsTime}, 1700000000000, '... metadata: specsTime');
my $etag = $r->{headers}{etag};
like($etag // '', qr/^"[0-9a-f]{32}"$/, "ETag $etag");
is($r->{headers}{'cache-control'}, 'private, no-cache',
   'Cache-Control: private, no-cache');

my $re = { context => { email => 'alice@x.io', targetingKey => 'alice' } };
for my $inm ($etag, "W/$etag", qq{"x", $etag}, '*') {
    $r = post($BULK, $re, headers => { 'If-None-Match' => $inm });
    is($r->{status}, 304, "If-None-Match: $inm: 304 (keys in another order)");
}
is($r->{content} // '', '', '... no body');
is($r->{headers}{etag}, $etag, '... the ETag');
is($r->{headers}{'cache-control'}, 'private, no-cache', '... Cache-Control');

$r = post($BULK, { context => { %$alice, plan => 'pro' } },
          headers => { 'If-None-Match' => $etag });
is($r->{status}, 200, 'another context: 200');
isnt($r->{headers}{etag}, $etag, '... another ETag');
is(post($BULK, { context => $alice },
        headers => { 'If-None-Match' => '"0123"' })->{status}, 200,
   'another tag: 200');

# a new snapshot (the clock in its rules: the ETag is the answer's)
$f->set_specs(specs(time => 1700000001000, timed => 1));
ok(wait_for(sub {
    $r = post($BULK, { context => $alice });
    grep { $_->{key} eq 'g_time' } @{ $r->{json}{flags} // [] } }, 15),
   'new specs synced');
isnt($r->{headers}{etag}, $etag, 'a new snapshot: a new ETag');
is(post($BULK, { context => $alice },
        headers => { 'If-None-Match' => $etag })->{status}, 200,
   '... the old one: 200');
my $etag2 = $r->{headers}{etag};
is(post($BULK, { context => $alice },
        headers => { 'If-None-Match' => $etag2 })->{status}, 304,
   'current_time in the rules: the same answer, 304');
is(flag('g_time', $alice)->{json}{value}, JSON::PP::true,
   '... and g_time is on');

# ---- exposures ----

flag($_, { targetingKey => 'ofrep-x1' }) for qw(g_on cfg lay nope);
post($BULK, { context => { targetingKey => 'ofrep-bulk' } });
post('/quiet/ofrep/v1/evaluate/flags/g_on',
     { context => { targetingKey => 'ofrep-quiet' } });
flag('g_on', { targetingKey => 'ofrep-x2' });

my @x;
ok(wait_for(sub {
    @x = grep { ($_->{eventName} // '') =~ /^statsig::/ }
         map { @{ $_->{json}{events} // [] } }
         $f->requests(path => qr{^/v1/log_event$});
    # two workers flush in either order: wait for both users'
    (grep { ($_->{user}{userID} // '') eq 'ofrep-x2' } @x)
    && (grep { ($_->{user}{userID} // '') eq 'ofrep-x1' } @x) >= 4 }, 15),
   'exposures flushed');
is_deeply([ sort map { "$_->{eventName}:" . ($_->{metadata}{gate}
                       // $_->{metadata}{config}) . ':'
                       . ($_->{metadata}{parameterName} // '') }
            grep { ($_->{user}{userID} // '') eq 'ofrep-x1' } @x ],
          [ sort('statsig::gate_exposure:g_on:', 'statsig::config_exposure:cfg:',
                 'statsig::layer_exposure:lay:p',
                 'statsig::layer_exposure:lay:q') ],
          'single flags: the exposure of their SDK call (a layer: each '
          . 'parameter; none for an unknown flag)');
is(scalar(grep { ($_->{user}{userID} // '') =~ /^ofrep-(bulk|quiet)$/ } @x), 0,
   'bulk: none; statsig_exposures off: none');

# ---- the OpenFeature server SDK ----

SKIP: {
    skip 'no build/clients (make clients)', 1
        unless -d "$mods/\@openfeature/ofrep-provider";

    my $ctx = { targetingKey => 'sdk-user', email => 'sdk@x.io',
                plan => 'pro' };
    my @steps = (
        [ boolean => 'g_on', \0, $ctx ],
        [ boolean => 'g_email', \0, $ctx ],
        [ boolean => 'g_plan', \0, $ctx ],
        [ object => 'cfg', {}, $ctx ],
        [ object => 'exp', {}, $ctx ],
        [ object => 'lay', {}, $ctx ],
        [ boolean => 'nope', \1, $ctx ],
        [ boolean => 'g_on', \1, {} ],
        [ boolean => 'g_on', \1, { targetingKey => 'a', email => 5 } ],
        [ boolean => 'g_unsupported', \1, $ctx ],
        [ string => 'g_on', 'dflt', $ctx ],
        [ boolean => 'g_disabled', \1, $ctx ],
    );
    my $file = $t->dir . '/steps.jsonl';
    open my $fh, '>', $file or die;
    print $fh $J->encode({ type => $_->[0], key => $_->[1],
                           default => $_->[2], context => $_->[3] }), "\n"
        for @steps;
    close $fh;

    my $base = $t->url('/edge');
    my %out;
    for my $how (qw(bearer header wrong)) {
        my $k = $how eq 'wrong' ? 'not-the-key' : $API;
        my $m = $how eq 'wrong' ? 'bearer' : $how;
        $out{$how} = [ map { eval { $J->decode($_) } // { raw => $_ } }
            `NODE_PATH=$mods node $root/t/ofrep-client.js $base $k $m $file 2>&1` ];
    }
    is(scalar @{ $out{bearer} }, scalar @steps, 'SDK: every step answered')
        or diag($J->encode($out{bearer}));
    is_deeply($out{header}, $out{bearer},
              'SDK: statsig-api-key answers as Authorization: Bearer');

    my @o = @{ $out{bearer} };
    is_deeply([ map { $o[$_]{value} } 0 .. 2 ],
              [ JSON::PP::true, JSON::PP::true, JSON::PP::true ],
              'SDK: gates (targetingKey, email, a custom key)');
    is($o[0]{reason}, 'TARGETING_MATCH', 'SDK: reason');
    is($o[0]{variant}, 'on', 'SDK: variant');
    is($o[0]{flagMetadata}{ruleId}, 'r_on', 'SDK: flag metadata');
    is_deeply($o[3]{value}, { a => 1, b => [1, 'two'] }, 'SDK: a config');
    is($o[4]{variant}, $o[4]{flagMetadata}{groupName},
       'SDK: an experiment, its group as variant');
    is_deeply($o[5]{value}, { p => 1, q => 'x' }, 'SDK: a layer');
    my @codes = map { [ $o[$_]{errorCode}, $o[$_]{reason},
                        $J->encode($o[$_]{value}) ] } 6 .. 10;
    is_deeply(\@codes,
              [ [ 'FLAG_NOT_FOUND', 'ERROR', 'true' ],
                [ 'TARGETING_KEY_MISSING', 'ERROR', 'true' ],
                [ 'INVALID_CONTEXT', 'ERROR', 'true' ],
                [ 'GENERAL', 'ERROR', 'true' ],
                [ 'TYPE_MISMATCH', 'ERROR', '"dflt"' ] ],
              'SDK: FLAG_NOT_FOUND, TARGETING_KEY_MISSING, INVALID_CONTEXT, '
              . 'GENERAL, TYPE_MISMATCH: the default, reason ERROR')
        or diag($J->encode([ @o[6 .. 10] ]));
    is_deeply([ @{ $o[11] }{qw(value reason variant)} ],
              [ JSON::PP::false, 'DISABLED', 'off' ], 'SDK: DISABLED');
    ok(!grep({ !$_->{errorCode} || $J->encode($_->{value})
                                   ne $J->encode($steps[$_->{i}][2]) }
             @{ $out{wrong} }) && @{ $out{wrong} } == @steps,
       'SDK: a wrong key: every flag an error with the default')
        or diag($J->encode($out{wrong}[0]));
}

# ---- the OpenFeature web SDK in Chromium ----

SKIP: {
    skip 'no build/clients (make clients)', 1
        unless -d "$mods/\@openfeature/ofrep-web-provider";

    my @ctx = ({ targetingKey => 'web-user', email => 'web@x.io' },
               { targetingKey => 'web-user', email => 'web@y.io',
                 plan => 'pro' });
    my $q = { base => $t->url('/edge'), key => $API, contexts => \@ctx,
              gates => [qw(g_on g_email g_plan g_disabled nope)],
              configs => [qw(cfg exp lay)], poll => 300 };
    my $url = $t->url('/web/index.html') . '#' . uri_escape($J->encode($q));
    my $line = `node $root/t/ofrep-web.js '$url' 60000 2>&1`;
    my $w = eval { $J->decode($line) } // { error => $line };
    skip "Chromium cannot run here: $w->{skip}", 1 if $w->{skip};
    ok(!$w->{error}, "web: the page ran ($w->{browser})")
        or diag($J->encode($w));

    # what the server answers each context in bulk
    my @want = map {
        my $b = post($BULK, { context => $_ })->{json};
        my %m = map { $_->{key} => $_ } @{ $b->{flags} };
        \%m } @ctx;
    my $ok = 1;
    for my $k (0, 1) {
        my $got = $w->{ $k ? 'second' : 'first' } // {};
        for my $name (qw(g_on g_email g_plan g_disabled cfg exp lay)) {
            my $e = $want[$k]{$name};
            my $g = $got->{$name} // {};
            next if $J->encode([ $g->{value}, $g->{reason}, $g->{variant} ])
                 eq $J->encode([ $e->{value}, $e->{reason}, $e->{variant} ]);
            $ok = 0;
            diag("web: context $k $name: got " . $J->encode($g)
                 . ' want ' . $J->encode($e));
        }
    }
    ok($ok, 'web: every flag as the bulk answer, for both contexts');
    is($w->{first}{g_email}{value}, JSON::PP::true,
       'web: g_email on for web@x.io');
    is_deeply([ @{ $w->{second}{g_email} // {} }{qw(value reason)} ],
              [ JSON::PP::false, 'DEFAULT' ], '... off after the context change');
    is($w->{second}{g_plan}{value}, JSON::PP::true, '... g_plan on (plan)');
    is($w->{first}{nope}{errorCode}, 'FLAG_NOT_FOUND',
       'web: an unknown flag: FLAG_NOT_FOUND');
    is_deeply($w->{polled}, $w->{first}, 'web: unchanged after the polls');

    my @req = @{ $w->{requests} // [] };
    my ($first) = @req;
    is($first && $first->{status}, 200, 'web: the bulk evaluation: 200');
    ok($first && !$first->{ifNoneMatch}, '... unconditional');
    is($first && $first->{cacheControl}, 'private, no-cache',
       '... Cache-Control');
    my @revalidated = grep { $_->{status} == 304 } @req;
    ok(@revalidated >= 2, 'web: polls revalidated: ' . scalar(@revalidated)
       . ' x 304');
    ok(!grep({ ($_->{ifNoneMatch} // '') ne $first->{etag} } @revalidated),
       '... each with the first ETag');
    my ($changed) = grep { $_->{status} == 200 && $_->{ifNoneMatch} } @req;
    ok($changed, 'web: the new context, sent with the old ETag: 200');
    isnt($changed && $changed->{etag}, $first->{etag}, '... a new ETag');
}

# ---- the SDK against statsig-node ----

SKIP: {
    my $oracle = "$root/build/oracle";
    skip 'no build/oracle (make oracle)', 1 unless -d "$oracle/node_modules";
    skip 'no build/clients (make clients)', 1
        unless -d "$mods/\@openfeature/ofrep-provider";

    my $nusers = $ENV{STATSIG_OFREP_USERS} || 300;
    my $o = StatsigTest->new;
    my $d = $o->dir;
    my ($users, $exp) = oracle_generated($d, seed => 8181, specs => 24,
                                         users => $nusers, json => $J);
    my @users = @$users;
    my @expected = @$exp;

    # the flag of a name: a gate's, else a config's, else a layer's
    my %first;
    for my $u (@expected) {
        for my $k (qw(gate config layer)) {
            $first{$_} //= $k for keys %{ $u->{$k} // {} };
        }
    }

    $o->write_file('api.key', $API);
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
        location / { statsig_ofrep; }
    }
}
EOF
    ok($o->run, 'nginx on the generated specs');

    my (@steps, @want);
    for my $i (0 .. $#users) {
        my %u = %{ $users[$i] };
        my %c = (%{ delete $u{custom} // {} });
        $c{targetingKey} = delete $u{userID} if defined $u{userID};
        $c{$_} = $u{$_} for keys %u;
        my $exp = $expected[$i];
        my ($any) = values %{ $exp->{gate} };
        next if $any->{error};
        for my $k (qw(gate config layer)) {
            for my $n (sort keys %{ $exp->{$k} }) {
                next unless $first{$n} eq $k;
                my $e = $exp->{$k}{$n};
                push @steps, { type => $k eq 'gate' ? 'boolean' : 'object',
                               key => $n, context => \%c,
                               default => $k eq 'gate' ? \0 : {} };
                push @want, [ $k, "user $i $k $n", $e ];
            }
        }
    }

    my $file = "$d/steps.jsonl";
    open my $fh, '>', $file or die;
    print $fh $J->encode($_), "\n" for @steps;
    close $fh;
    my $base = $o->url('');
    my @out = map { eval { $J->decode($_) } // { raw => $_ } }
              `NODE_PATH=$mods node $root/t/ofrep-client.js $base $API bearer $file 2>$d/node.err`;
    diag(slurp("$d/node.err")) if $? || !@out;
    is(scalar @out, scalar @steps, scalar(@steps) . ' evaluations answered');

    my (%count, %bad, @diffs);
    for my $k (0 .. $#want) {
        my ($kind, $what, $e) = @{ $want[$k] };
        my $got = $out[$k] // {};
        $count{$kind}++;
        # statsig-node's "" rule: an unsupported condition, GENERAL here
        my $want = $e->{rule_id} eq ''
                 ? [ $J->encode($kind eq 'gate' ? \0 : {}), 'GENERAL' ]
                 : [ $J->encode($e->{value}), undef ];
        my $g = [ $J->encode($got->{value}), $got->{errorCode} ];
        $g->[1] = undef if !$g->[1];
        $count{unsupported}++ if $e->{rule_id} eq '';
        next if $J->encode($g) eq $J->encode($want)
             && ($e->{rule_id} eq ''
                 || ($got->{flagMetadata}{ruleId} // '') eq $e->{rule_id});
        $bad{$kind}++;
        push @diffs, "$what:\n  got  " . $J->encode($got)
                     . "\n  want " . $J->encode($e) if @diffs < 10;
    }
    diag(join "\n", @diffs) if @diffs;
    for my $k (qw(gate config layer)) {
        ok(($count{$k} // 0) > 0, "$k: " . ($count{$k} // 0) . ' compared');
        is($bad{$k} // 0, 0, "$k: every value (and rule id) equals "
           . "statsig-node's");
    }
    note('unsupported (GENERAL): ' . ($count{unsupported} // 0));
    ok(keys %{ { map { $_->[1] =~ /^user (\d+)/; $1 => 1 } @want } }
       >= ($ENV{STATSIG_OFREP_USERS} ? 1 : 200), 'a few hundred users');
    $o->stop;
}

$t->stop;

done_testing;
