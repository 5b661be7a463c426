#!/usr/bin/perl

# Differential test against the official statsig-node SDK (the oracle in
# ../shared/oracle, installed by `make oracle`): the oracle's fixtures and
# freshly generated specs and users across every operator, more than
# 100,000 evaluations, must match on every field.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use lib 't/lib';
use EvalTest qw(root oracle_dir eval_bin run_to_file);

my $oracle = oracle_dir();
plan skip_all => 'the oracle is not installed (make oracle; needs '
    . '../shared/oracle)' unless $oracle;
my $bin = eval_bin();
plan skip_all => 'build/statsig-eval is not built (make cli)' unless $bin;

my $root = root();
my $dir = tempdir(CLEANUP => !$ENV{KEEP});
my $fields = 'value,rule_id,group_name,secondary_exposures,'
    . 'allocated_experiment,passed,id_type,is_experiment_group,'
    . 'explicit_parameters,undelegated_secondary_exposures,reason';
my $total = 0;

sub records {
    my ($path) = @_;
    open(my $fh, '<', $path) or return 0;
    my $n = 0;
    $n++ while <$fh>;
    return $n;
}

# statsig-eval on one set, compared with the oracle's expected output
sub compare_set {
    my ($name, $set, $expected, @extra) = @_;

    my ($rc, $err) = run_to_file("$dir/$name.eval", $bin,
        '--specs', "$set/dcs.json", '--users', "$set/users.jsonl",
        (-f "$set/idlists.json" ? ('--id-lists', "$set/idlists.json") : ()),
        @extra);
    is($rc, 0, "$name: statsig-eval ran") or diag($err);

    ($rc, $err) = run_to_file("$dir/$name.actual", 'sh', '-c',
        "node '$root/t/lib/eval-to-oracle.js' < '$dir/$name.eval'");
    is($rc, 0, "$name: converted") or diag($err);

    ($rc, $err) = run_to_file("$dir/$name.cmp", 'node',
        "$oracle/compare.js", $expected, "$dir/$name.actual",
        '--fields', $fields);
    my $report = do { local $/; open(my $fh, '<', "$dir/$name.cmp"); <$fh> };
    my $n = records($expected);
    $total += $n;
    ok($rc == 0 && $report =~ /; 0 differ; 0 missing/,
        "$name: $n records identical to statsig-node")
        or diag($report . $err);
}

sub oracle_run {
    my ($set, $out, @extra) = @_;
    my ($rc, $err) = run_to_file($out, 'node', "$oracle/oracle.js", @extra,
        "$set/dcs.json", "$set/users.jsonl");
    is($rc, 0, "oracle ran on $set @extra") or diag($err);
}

for my $fixture (qw(dev-set sdk-e2e-set)) {
    my $set = "$oracle/fixtures/$fixture";
    compare_set($fixture, $set, "$set/expected.jsonl");
}

# generated specs: every condition type and operator, edge specs, the
# legacy multi-gate conditions, and an SDK environment
my @generated = (
    [ 'gen-1101', [ '--seed', 1101, '--specs', 80, '--users', 700 ], [] ],
    [ 'gen-1202-multi',
      [ '--seed', 1202, '--specs', 70, '--users', 600, '--multi' ], [] ],
    [ 'gen-1303-env', [ '--seed', 1303, '--specs', 40, '--users', 300 ],
      [ '--environment', 'staging' ] ],
);

for my $g (@generated) {
    my ($name, $gen, $env) = @$g;
    my $set = "$dir/$name";
    my ($rc, $err) = run_to_file("$dir/$name.gen", 'node',
        "$oracle/gen.js", @$gen, '--out', $set);
    is($rc, 0, "$name: generated") or diag($err);
    oracle_run($set, "$set/expected.jsonl", @$env);
    compare_set($name, $set, "$set/expected.jsonl", @$env);
}

cmp_ok($total, '>=', 100_000, "$total evaluations compared");

done_testing();
