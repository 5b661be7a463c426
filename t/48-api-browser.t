#!/usr/bin/perl

# Statsig's browser SDK (@statsig/js-client 3.33.5, its own bundle) in
# headless Chromium, on a page of another origin than the edge's
# (t/js-client-web.html; Chromium driven by t/ofrep-web.js, as t/37):
#
# - for 30 generated users it initializes with a client key: Statsig-
#   encoded bodies (se=1, the SDK encodes in browsers) from a cross-origin
#   page, answered with CORS (the page's origin listed in
#   statsig_cors_origins); its gates, configs, experiments and layers
#   equal statsig-node's client initialize response for each user with
#   the browser's stable ID (../shared/oracle, t/init-client-key.js);
# - its events (rgstr, with the SDK's headers: preflighted) reach the fake
#   Statsig through the edge with the browser's stable ID, the SDK's type,
#   and their times corrected for a page clock an hour behind;
# - a page of an origin that is not listed cannot initialize (403, the
#   browser refuses the answer) and sends nothing; the same page against
#   a location that keeps the default (any origin) initializes.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp wait_for);
use EvalTest qw(need_oracle run_ok);
use ClientSDK qw(with_stable_id entity_names client_values_diff);

my $root = StatsigTest::root();
my $mods = "$root/build/clients/node_modules";
my $oracle = need_oracle();
plan skip_all => 'no @statsig/js-client in build/clients (make clients)'
    unless -f "$mods/\@statsig/js-client/build/statsig-js-client.min.js";

my $J = JSON::PP->new->canonical->ascii;
my $KEY = 'client-browser-48';
my $n = $ENV{STATSIG_BROWSER_USERS} || 30;
my $skew = 3_600_000;

my $t = StatsigTest->new(fake => 1);
my $f = $t->fake;
my $d = $t->dir;

run_ok($d, "node $oracle/gen.js --seed 4848 --specs 30 --users $n "
       . "--out $d/gen", 'generate specs and users');
my $names = entity_names(JSON::PP->new->utf8->decode(
                             slurp("$d/gen/dcs.json")));

# the users without a stable ID of their own: the browser's is sent in
# statsigMetadata, and the edge gives it to them
my @users = map {
    my %u = %{ JSON::PP->new->utf8->decode($_) };
    if (ref $u{customIDs} eq 'HASH') {
        my %c = %{ $u{customIDs} };
        delete $c{stableID};
        $u{customIDs} = \%c;
    }
    \%u } grep { /\S/ } split /\n/, slurp("$d/gen/users.jsonl");

$f->set_specs(slurp("$d/gen/dcs.json"));
$t->write_file('key', 'secret-upstream-48');
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_client_key $KEY;
    %%FAKE_STATSIG%%
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_flush_interval 100ms;
    statsig_exposures off;

    types { text/html html; text/javascript js; application/json json; }

    # the edge
    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location /api/ {
            statsig_api;
            statsig_cors_origins http://127.0.0.1:%%PORT_page%%;
        }
        location /open/ { statsig_api; }
    }

    # the site's pages, on two other origins
    server {
        listen %%LISTEN_page%%;
        listen %%LISTEN_other%%;
        location = /web/index.html { alias $root/t/js-client-web.html; }
        location /nm/ { alias $mods/; }
        location /data/ { alias %%TESTDIR%%/; }
    }
}
EOF
ok($t->run, 'nginx runs: the edge and two page origins');
ok(wait_for(sub { $t->get('/status')->{status} == 200 }, 15),
   'specs synced from the fake Statsig');

# runs the page of origin $port_name with q-$tag.json; its __result
sub browse {
    my ($port_name, $tag, $q) = @_;
    $t->write_file("q-$tag.json", $J->encode($q));
    my $url = $t->url('/web/index.html', $port_name) . "#/data/q-$tag.json";
    my $line = `node $root/t/ofrep-web.js '$url' 180000 2>&1`;
    return eval { JSON::PP->new->utf8->decode($line) } // { error => $line };
}

my $w = browse('page', 'main', { api => $t->url('/api/v1'), key => $KEY,
                                 users => \@users, names => $names,
                                 skew => $skew });
if ($w->{skip}) {
    SKIP: { skip "Chromium cannot run here: $w->{skip}", 1 }
    $t->stop;
    done_testing;
    exit 0;
}

ok(!$w->{error}, "the page ran ($w->{browser})")
    or diag(substr($J->encode($w), 0, 2000));
my @rows = @{ $w->{rows} // [] };
is(scalar @rows, $n, "$n users");
is(scalar(grep { $_->{ok} } @rows), $n,
   'each initialized from the network (the edge, another origin)')
    or diag($J->encode($w->{console}));

my @req = @{ $w->{requests} // [] };
my @init = grep { $_->{url} =~ m{/api/v1/initialize\?} } @req;
is(scalar @init, $n, "$n initialize requests");
ok(!grep({ $_->{url} !~ /[?&]se=1(&|$)/ || $_->{url} !~ /[?&]k=\Q$KEY\E/
           || ($_->{status} // 0) != 200 } @init),
   '... each se=1 (Statsig-encoded), the key in ?k=, answered 200')
    or diag($J->encode($init[0]));
my @rgstr = grep { $_->{url} =~ m{/api/v1/rgstr\?} } @req;
ok(@rgstr >= 1 && !grep({ ($_->{status} // 0) != 202 } @rgstr),
   scalar(@rgstr) . ' rgstr requests, each 202')
    or diag($J->encode(\@rgstr));

my $log = slurp("$d/logs/access.log");
like($log, qr{"OPTIONS /api/v1/rgstr\?[^"]*" 204 }, 'rgstr was preflighted '
     . '(the SDK sends its own headers): 204');
like($log, qr{"POST /api/v1/initialize\?[^"]*se=1[^"]*" 200 },
     'the access log shows the se=1 initialize');

# statsig-node for the same users, given the browser's stable ID
my $sid = $w->{stableID} // '';
like($sid, qr/^[0-9a-f-]{36}$/, "the browser's stable ID ($sid)");
open my $fh, '>', "$d/seen.jsonl" or die;
print $fh JSON::PP->new->canonical->utf8->encode(with_stable_id($_, $sid)),
    "\n" for @users;
close $fh;
run_ok($d, "node $root/t/init-client-key.js $oracle $d/gen/dcs.json "
       . "$d/seen.jsonl $KEY none > $d/want.jsonl",
       "oracle: statsig-node's client initialize responses");
my @want = map { JSON::PP->new->utf8->decode($_)->{response} } grep { /\S/ }
           split /\n/, slurp("$d/want.jsonl");
my ($count, @diffs) = client_values_diff(\@rows, \@want, $names);
ok(!@diffs, "the browser's values equal statsig-node's ($count->{gate} "
   . "gates, $count->{config} configs and experiments, $count->{layer} "
   . "layers; $count->{on} gates on)") or diag(join("\n", @diffs));
ok($count->{on} > 0 && $count->{on} < $count->{gate},
   'some gates on, some off');

# the events, through the edge
sub logged {
    return map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}
my @mine;
ok(wait_for(sub {
    @mine = grep { ($_->{eventName} // '') eq 'web_client_event' } logged();
    @mine >= $n }, 30), "the $n custom events arrive")
    or diag(scalar(@mine) . ' arrived');
my %each = map { ($_->{metadata}{user_index} // '') => 1 } @mine;
is(scalar keys %each, $n, '... each once');
my @bad = grep { ($_->{user}{customIDs}{stableID} // '') ne $sid
                 || ($_->{statsigMetadata}{sdkType} // '')
                    ne 'javascript-client'
                 || abs($_->{time} - time * 1000) > 120_000 } @mine;
ok(!@bad, "with the browser's stable ID, the SDK's type, the time "
   . 'corrected for a page clock an hour behind')
    or diag($J->encode($bad[0]));
my @exp = grep { ($_->{eventName} // '') =~ /^statsig::\w+_exposure$/ }
          logged();
ok(@exp > $n, scalar(@exp) . " exposures the SDK logged arrive too");

# a page of an origin not listed
my $e = browse('other', 'other', { api => $t->url('/api/v1'), key => $KEY,
                                   users => [ $users[0] ], names => $names,
                                   skew => 0 });
ok(!$e->{error} && @{ $e->{rows} // [] } == 1,
   'the page of another origin ran') or diag($J->encode($e));
ok(!$e->{rows}[0]{ok}, '... its SDK could not initialize');
my ($ei) = grep { $_->{url} =~ m{/initialize\?} } @{ $e->{requests} };
ok($ei && $ei->{failed} && !$ei->{status},
   '... the browser refused the answer (' . ($ei->{failed} // '') . ')');
like(slurp("$d/logs/access.log"),
     qr{"POST /api/v1/initialize\?[^"]*" 403 },
     '... which was 403');

$e = browse('other', 'open', { api => $t->url('/open/v1'), key => $KEY,
                               users => [ $users[0] ], names => $names,
                               skew => 0 });
ok(($e->{rows}[0]{ok} // 0), 'the same page against a location with the '
   . 'default origins (any): initialized') or diag($J->encode($e));

$t->stop;

done_testing;
