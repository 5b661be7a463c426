#!/usr/bin/perl

# Exposure events of statsig-eval --exposures against what statsig-node
# logs (../shared/oracle fixtures/dev-set/events-node.jsonl, first 50
# users): every field of every gate, config and layer exposure, in order,
# time and serverTime aside.  statsig-node's exposure dedupe is checked
# twice: in the core's key (statsig-eval) and re-implemented in
# t/exposures-compare.js over --no-dedupe output.  With the oracle
# installed (make oracle), also live on users that repeat, where the
# dedupe drops events.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use lib 't/lib';
use EvalTest qw(root oracle_dir run_to_file slurp need_fixtures);

my ($shared, $bin) = need_fixtures('dev-set/events-node.jsonl');

my $root = root();
my $dir = tempdir(CLEANUP => !$ENV{KEEP});
my $set = "$shared/oracle/fixtures/dev-set";

sub first_lines {
    my ($from, $to, $n) = @_;
    open(my $in, '<', $from) or die "$from: $!";
    open(my $out, '>', $to) or die "$to: $!";
    while (my $l = <$in>) {
        last if $n-- <= 0;
        print $out $l;
    }
    close($out);
}

sub compare {
    my ($name, $expected, $actual, @opts) = @_;
    my ($rc, $err) = run_to_file("$dir/$name.cmp", 'node',
        "$root/t/exposures-compare.js", $expected, $actual, @opts);
    my $report = slurp("$dir/$name.cmp");
    ok($rc == 0 && $report =~ /^compared [1-9]\d* events .*; 0 differ; 0 missing; 0 extra/,
        "$name: " . (split /\n/, $report)[0])
        or diag($report . $err);
    return $report;
}

first_lines("$set/users.jsonl", "$dir/users50.jsonl", 50);
my @spec = ('--specs', "$set/dcs.json", '--users', "$dir/users50.jsonl",
    '--id-lists', "$set/idlists.json", '--exposures');

my ($rc, $err) = run_to_file("$dir/events.jsonl", $bin, @spec);
is($rc, 0, 'statsig-eval --exposures') or diag($err);
compare('fixture, dedupe in the core', "$set/events-node.jsonl",
    "$dir/events.jsonl", '--users', 50);

($rc, $err) = run_to_file("$dir/events-all.jsonl", $bin, @spec,
    '--no-dedupe');
is($rc, 0, 'statsig-eval --exposures --no-dedupe') or diag($err);
compare('fixture, statsig-node dedupe in JS', "$set/events-node.jsonl",
    "$dir/events-all.jsonl", '--users', 50, '--dedupe');

SKIP: {
    my $oracle = oracle_dir();
    skip 'live dedupe: the oracle is not installed (make oracle)', 3
        unless $oracle;

    # users that repeat: the same user twice, customIDs only, same userID
    first_lines("$set/users.jsonl", "$dir/head.jsonl", 3);
    open(my $fh, '>', "$dir/dup.jsonl") or die $!;
    print $fh slurp("$dir/head.jsonl"), slurp("$dir/head.jsonl"),
        qq({"customIDs":{"companyID":"c9"},"email":"a\@b.c"}\n),
        qq({"customIDs":{"companyID":"c9"},"country":"US"}\n),
        qq({"userID":"x"}\n), qq({"userID":"x","email":"y\@z"}\n);
    close($fh);

    ($rc, $err) = run_to_file("$dir/dup-node.jsonl", 'sh', '-c',
        "cd '$oracle' && TZ=UTC node oracle.js --events '$dir/dup-node.events'"
        . " '$set/dcs.json' '$dir/dup.jsonl' --idlists '$set/idlists.json'"
        . " && cat '$dir/dup-node.events'");
    is($rc, 0, 'oracle.js --events on repeating users') or diag($err);

    ($rc, $err) = run_to_file("$dir/dup.jsonl.out", $bin, '--specs',
        "$set/dcs.json", '--users', "$dir/dup.jsonl", '--id-lists',
        "$set/idlists.json", '--exposures');
    compare('repeating users, dedupe in the core', "$dir/dup-node.jsonl",
        "$dir/dup.jsonl.out");

    ($rc, $err) = run_to_file("$dir/dup-all.out", $bin, '--specs',
        "$set/dcs.json", '--users', "$dir/dup.jsonl", '--id-lists',
        "$set/idlists.json", '--exposures', '--no-dedupe');
    my $report = compare('repeating users, statsig-node dedupe in JS',
        "$dir/dup-node.jsonl", "$dir/dup-all.out", '--dedupe');
    like($report, qr/dedupe dropped [1-9]/, 'the dedupe dropped events');
}

done_testing();
