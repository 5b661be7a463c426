#!/usr/bin/perl

# Statsig's public end-to-end suite (../shared/conformance): 37 users
# against the consistency project's DCS; every gate, config and layer must
# give the server's expected value, rule id, group name, secondary and
# undelegated exposures.  5032 checks.

use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use lib 't/lib';
use EvalTest qw(shared eval_bin run_to_file read_jsonl json_canon);

my $shared = shared();
plan skip_all => '../shared/conformance is absent' unless $shared
    && -f "$shared/conformance/rulesets_e2e_expected_results.json";
my $bin = eval_bin();
plan skip_all => 'build/statsig-eval is not built (make cli)' unless $bin;

my $c = "$shared/conformance";
my $dir = tempdir(CLEANUP => 1);

my $expected = do {
    local $/;
    open(my $fh, '<', "$c/rulesets_e2e_expected_results.json") or die $!;
    JSON::PP->new->utf8->decode(<$fh>)->{data};
};

open(my $uf, '>', "$dir/users.jsonl") or die $!;
print $uf JSON::PP->new->utf8->canonical->encode($_->{user}), "\n"
    for @$expected;
close($uf);

my ($rc, $err) = run_to_file("$dir/out.jsonl", $bin,
    '--specs', "$c/rulesets_e2e_config.json",
    '--users', "$dir/users.jsonl",
    '--id-list', "company_id_list=$c/company_id_list");
is($rc, 0, 'statsig-eval ran') or diag($err);

my %got;
for my $r (@{ read_jsonl("$dir/out.jsonl") }) {
    $got{"$r->{user_index}\0$r->{kind}\0$r->{name}"} = $r;
}

my ($checks, $failed) = (0, 0);

sub check {
    my ($ui, $kind, $name, $want, @fields) = @_;
    my $r = $got{"$ui\0$kind\0$name"};
    $checks++;
    my @bad;
    if (!$r) {
        @bad = ('missing');
    } else {
        for my $f (@fields) {
            my ($w, $g) = ($want->{ $f->[0] }, $r->{ $f->[1] });
            push @bad, "$f->[0]: expected " . json_canon($w)
                . ', got ' . json_canon($g)
                if json_canon($w) ne json_canon($g);
        }
    }
    if (@bad) {
        $failed++;
        diag("user $ui $kind $name: @bad") if $failed <= 20;
    }
}

my @gate_fields = (['value', 'value'], ['rule_id', 'rule_id'],
    ['secondary_exposures', 'secondary_exposures']);
my @config_fields = (@gate_fields, ['group_name', 'group_name']);
my @layer_fields = (@config_fields,
    ['undelegated_secondary_exposures', 'undelegated_secondary_exposures']);

for my $ui (0 .. $#$expected) {
    my $u = $expected->[$ui];
    for my $name (sort keys %{ $u->{feature_gates_v2} }) {
        check($ui, 'gate', $name, $u->{feature_gates_v2}{$name},
            @gate_fields);
    }
    for my $name (sort keys %{ $u->{dynamic_configs} }) {
        my $w = { %{ $u->{dynamic_configs}{$name} } };
        $w->{group_name} = undef unless exists $w->{group_name};
        check($ui, 'config', $name, $w, @config_fields);
    }
    for my $name (sort keys %{ $u->{layer_configs} }) {
        my $w = { %{ $u->{layer_configs}{$name} } };
        $w->{group_name} = undef unless exists $w->{group_name};
        check($ui, 'layer', $name, $w, @layer_fields);
    }
}

is($checks, 5032, 'every expected record was checked');
is($failed, 0, "e2e conformance: " . ($checks - $failed)
    . " of $checks checks pass");

done_testing();
