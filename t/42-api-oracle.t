#!/usr/bin/perl

# statsig_api against the official SDK: for generated specs and users,
# check_gate (all gates at once), get_config/get_experiment (every
# config), get_layer (every layer) and initialize (djb2, sha256, none)
# must answer what statsig-node (../shared/oracle, "make oracle") computes:
# the evaluation output for the checks, getClientInitializeResponse for
# initialize (all of it but time and sdkInfo.sessionId).

use strict;
use warnings;

use lib 't/lib';
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp);
use EvalTest qw(need_oracle run_ok);

my $root = StatsigTest::root();
my $nusers = $ENV{STATSIG_ORACLE_USERS} || 150;
my $KEY = 'oracle-api-key';

my $oracle = need_oracle();

my $t = StatsigTest->new;
my $d = $t->dir;
my $J = JSON::PP->new->canonical;

# ID lists are not loaded in local mode: the oracle gets none either
$t->write_file('idlists-none.json', '{}');

run_ok($d, "node $oracle/gen.js --seed 4242 --specs 50 --users $nusers "
       . "--out $d/gen", 'generate specs and users');
run_ok($d, "node $oracle/oracle.js --idlists $d/idlists-none.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/eval.jsonl",
       'oracle: evaluations');
run_ok($d, "node $oracle/oracle.js --init --idlists $d/idlists-none.json "
       . "$d/gen/dcs.json $d/gen/users.jsonl > $d/init.jsonl",
       'oracle: client initialize responses');

my @users = map { decode_json($_) } grep { /\S/ } split /\n/,
    slurp("$d/gen/users.jsonl");
is(scalar @users, $nusers, "$nusers users");

# expected[user]{kind}{name} (the last of duplicate names, as the SDK)
my (@expected, %names);
for my $line (split /\n/, slurp("$d/eval.jsonl")) {
    my $e = decode_json($line);
    my $k = $e->{kind} eq 'gate' ? 'gate'
          : $e->{kind} eq 'layer' ? 'layer' : 'config';
    $expected[$e->{user_index}]{$k}{$e->{name}} = $e;
    $names{$k}{$e->{name}} = 1;
}
my %init;
for my $line (split /\n/, slurp("$d/init.jsonl")) {
    my $e = decode_json($line);
    $init{"$e->{user_index}/$e->{hash}"} = $e->{response};
}
ok(keys %{ $names{gate} } && keys %{ $names{config} }
   && keys %{ $names{layer} }, 'gates, configs and layers to compare');

$t->write_file('api.key', $KEY);
$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_specs_file $d/gen/dcs.json;
    statsig_api_key file:%%TESTDIR%%/api.key;
    statsig_exposures off;

    server {
        listen %%LISTEN%%;
        location /api/ { statsig_api; }
    }
}
EOF
ok($t->run, 'nginx runs on the generated specs');

# one keep-alive connection; each request in one write (HTTP::Tiny
# writes the body apart, and Nagle + delayed ACKs cost 40 ms a request)
my $sock;

sub call {
    my ($m, $body) = @_;
    my $json = $J->encode($body);

    $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port,
                                    Proto => 'tcp', Timeout => 30)
        or die "connect: $!";
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);

    print $sock "POST /api/v1/$m HTTP/1.1\r\nHost: localhost\r\n"
        . "statsig-api-key: $KEY\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($json) . "\r\n\r\n$json";

    local $/ = "\r\n\r\n";
    my $head = <$sock> // die 'no response';
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    my $content = '';
    while (length $content < ($len // 0)) {
        read($sock, $content, $len - length $content, length $content)
            or die "short response";
    }
    # keepalive_requests: the server closes after so many
    undef $sock if $head =~ /^Connection: close/mi;
    return ($status, eval { decode_json($content) });
}

my %count = (gate => 0, config => 0, layer => 0, init => 0, error => 0);
my %bad;
my @diffs;

sub same {
    my ($what, $got, $want) = @_;
    my ($g, $w) = ($J->encode($got), $J->encode($want));
    return 1 if $g eq $w;
    push @diffs, "$what:\n  got  $g\n  want $w" if @diffs < 10;
    return 0;
}

for my $i (0 .. $#users) {
    my $u = $users[$i];
    my $exp = $expected[$i];

    # an oracle error (a user the SDK refuses): 400
    my ($any) = values %{ $exp->{gate} };
    if ($any->{error}) {
        my ($st) = call('check_gate', { user => $u, gateName => 'x' });
        $count{error}++;
        $bad{error}++ unless $st == 400;
        next;
    }

    my @gates = sort keys %{ $exp->{gate} };
    my ($st, $res) = call('check_gate', { user => $u, gateNames => \@gates });
    for my $g (@gates) {
        my $e = $exp->{gate}{$g};
        $count{gate}++;
        $bad{gate}++ unless $st == 200 && same("user $i gate $g",
            $res->{$g}, { name => $g, value => $e->{value},
                          rule_id => $e->{rule_id},
                          group_name => $e->{group_name} });
    }

    for my $c (sort keys %{ $exp->{config} }) {
        my $e = $exp->{config}{$c};
        my $m = $e->{kind} eq 'experiment' ? 'get_experiment' : 'get_config';
        ($st, $res) = call($m, { user => $u,
            ($m eq 'get_experiment' ? 'experimentName' : 'configName') => $c });
        $count{config}++;
        $bad{config}++ unless $st == 200 && same("user $i $m $c", $res,
            { name => $c, value => $e->{value}, rule_id => $e->{rule_id},
              group => $e->{rule_id}, group_name => $e->{group_name} });
    }

    for my $l (sort keys %{ $exp->{layer} }) {
        my $e = $exp->{layer}{$l};
        ($st, $res) = call('get_layer', { user => $u, layerName => $l });
        $count{layer}++;
        $bad{layer}++ unless $st == 200 && same("user $i layer $l", $res,
            { name => $l, value => $e->{value}, rule_id => $e->{rule_id},
              group_name => $e->{group_name},
              allocated_experiment_name => $e->{allocated_experiment} });
    }

    for my $h (qw(djb2 sha256 none)) {
        my $want = $init{"$i/$h"} or next;
        ($st, $res) = call('initialize', { user => $u, hash => $h });
        $count{init}++;
        for my $x ($res, $want) {
            next unless ref $x eq 'HASH';
            delete $x->{time};
            delete $x->{sdkInfo}{sessionId} if ref $x->{sdkInfo};
        }
        $bad{init}++ unless $st == 200
                            && same("user $i initialize $h", $res, $want);
    }
}

diag(join "\n", @diffs) if @diffs;

for my $k (qw(gate config layer init)) {
    ok($count{$k} > 0, "$k: $count{$k} compared");
    is($bad{$k} // 0, 0, "$k: every answer equals statsig-node's");
}
is($bad{error} // 0, 0, "users the SDK refuses ($count{error}): 400");

$t->stop;

done_testing;
