#!/usr/bin/perl

# The DCS v2 statsig_api serves to statsig-node-core (src/core/dcs_v2.c,
# through statsig-eval --dcs-v2) against the oracle's converter
# (../shared/oracle/lib/convert.js, installed by `make oracle`): for the
# oracle's two fixtures and freshly generated specs (every generator
# variant), the two texts are the same bytes.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use lib 't/lib';
use EvalTest qw(oracle_dir eval_bin run_to_file slurp);

my $oracle = oracle_dir();
plan skip_all => 'the oracle is not installed (make oracle; needs '
    . '../shared/oracle)' unless $oracle;
my $bin = eval_bin();
plan skip_all => 'build/statsig-eval is not built (make cli)' unless $bin;

my $dir = tempdir(CLEANUP => !$ENV{KEEP});

sub same {
    my ($name, $dcs) = @_;

    my ($rc, $err) = run_to_file("$dir/$name.c.json", $bin, '--specs', $dcs,
                                 '--dcs-v2');
    is($rc, 0, "$name: statsig-eval --dcs-v2") or diag($err);

    ($rc, $err) = run_to_file("$dir/$name.js.json", 'node',
                              "$oracle/lib/convert.js", $dcs);
    is($rc, 0, "$name: convert.js") or diag($err);

    my ($c, $js) = (slurp("$dir/$name.c.json"), slurp("$dir/$name.js.json"));
    ok(length($c) > 1000 && $c eq $js,
       "$name: the same " . length($c) . ' bytes')
        or diag(substr($c, 0, 200) . "\n" . substr($js, 0, 200));
}

for my $set (qw(dev-set sdk-e2e-set)) {
    my $dcs = "$oracle/fixtures/$set/dcs.json";
    next unless -f $dcs;
    same($set, $dcs);
}

for my $seed (1, 2, 77, 4242, 9001) {
    for my $opt ('', '--multi', '--no-edge') {
        my $name = "gen-$seed" . ($opt =~ s/^-+/-/r);
        my ($rc, $err) = run_to_file("$dir/$name.log", 'node',
            "$oracle/gen.js", '--seed', $seed, '--specs', 60, '--users', 2,
            '--out', "$dir/$name", ($opt ? $opt : ()));
        is($rc, 0, "$name: generated") or diag($err);
        same($name, "$dir/$name/dcs.json");
    }
}

done_testing;
