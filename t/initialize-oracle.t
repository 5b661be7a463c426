#!/usr/bin/perl

# Client initialize responses of statsig-eval --initialize against
# statsig-node's getClientInitializeResponse (the oracle, ../shared/oracle):
# both fixture sets, all three hashes, every field but time and
# sdkInfo.sessionId.  With the oracle installed (make oracle), also client
# SDK keys (target apps, entities) and session replay on t/initialize/.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use lib 't/lib';
use EvalTest qw(root oracle_dir run_to_file slurp need_fixtures);

my ($shared, $bin) = need_fixtures();

my $root = root();
my $dir = tempdir(CLEANUP => !$ENV{KEEP});
my @hashes = qw(djb2 sha256 none);

for my $name (qw(dev-set sdk-e2e-set)) {
    my $set = "$shared/oracle/fixtures/$name";
    my $expected = "$set/expected-init.jsonl.gz";
    my @outs;

    for my $h (@hashes) {
        my $out = "$dir/$name-$h.jsonl";
        my ($rc, $err) = run_to_file($out, $bin, '--specs', "$set/dcs.json",
            '--users', "$set/users.jsonl",
            (-f "$set/idlists.json" ? ('--id-lists', "$set/idlists.json") : ()),
            '--initialize', '--hash', $h);
        is($rc, 0, "$name: statsig-eval --initialize --hash $h") or diag($err);
        push @outs, $out;
    }

    # the oracle's own comparer (hash none, evaluation fields)
    my ($rc, $err) = run_to_file("$dir/$name.cmp", 'node',
        "$shared/oracle/compare.js", '--init', $expected,
        "$dir/$name-none.jsonl");
    my $report = slurp("$dir/$name.cmp");
    ok($rc == 0 && $report =~ /^compared (\d+) records; 0 differ; 0 missing/m,
        "$name: compare.js --init: " . (split /\n/, $report)[0])
        or diag($report . $err);

    # every field of every response, all three hashes
    ($rc, $err) = run_to_file("$dir/$name.full", 'node',
        "$root/t/init-compare.js", $expected, @outs);
    $report = slurp("$dir/$name.full");
    ok($rc == 0 && $report =~ /; 0 differ; 0 missing; 0 extra/,
        "$name: full responses: " . (split /\n/, $report)[0])
        or diag($report . $err);
}

# client keys: statsig-node called with the key through t/init-client-key.js
SKIP: {
    my $oracle = oracle_dir();
    skip 'client keys: the oracle is not installed (make oracle)', 1
        unless $oracle;

    my $t = "$root/t/initialize";
    my @keys = qw(- client-hashed client-plain client-entities client-unknown);

    my $check = sub {
        my ($dcs, $key, $h) = @_;
        my $tag = "$dcs/$key/$h";
        (my $f = $tag) =~ s{/}{_}g;

        my ($rc, $err) = run_to_file("$dir/$f.exp", 'node',
            "$root/t/init-client-key.js", $oracle, "$t/$dcs.dcs.json",
            "$t/users.jsonl", $key, $h);
        return "$tag: oracle failed: $err" if $rc;

        ($rc, $err) = run_to_file("$dir/$f.act", $bin, '--specs',
            "$t/$dcs.dcs.json", '--users', "$t/users.jsonl", '--initialize',
            '--hash', $h, ($key eq '-' ? () : ('--client-key', $key)));
        return "$tag: statsig-eval failed: $err" if $rc;

        ($rc, $err) = run_to_file("$dir/$f.cmp", 'node',
            "$root/t/init-compare.js", "$dir/$f.exp", "$dir/$f.act");
        my $report = slurp("$dir/$f.cmp");
        return $report =~ /; 0 differ; 0 missing; 0 extra/ && $rc == 0
            ? '' : "$tag: $report$err";
    };

    for my $key (@keys) {
        my @bad = grep { $_ } map { $check->('client-keys', $key, $_) }
            @hashes;
        ok(!@bad, "client key $key: responses identical to statsig-node "
            . "(target apps, entities, session replay; 3 hashes)")
            or diag(join("\n", @bad));
    }

    # statsig-node drops the key's app in nested evaluations (pass_gate,
    # layer delegation: a fresh EvaluationContext without targetAppID)
    for my $key (qw(client-hashed client-plain)) {
        my @bad = grep { $_ } map {
            $check->('client-keys-nested', $key, $_) } @hashes;
        ok(!@bad, "client key $key: target_app inside pass_gate and "
            . "delegation (3 hashes)") or diag(join("\n", @bad));
    }
}

done_testing();
