#!/usr/bin/perl

# src/core/ua_parser against what statsig-node 6.5.2 reports for ua_based
# conditions (ua-parser-js 1.0.41 + its two renames, run by t/ua-oracle.js)
# on the user agents of ../shared: CORE's 11k corpus and must-pass list
# and the oracle fixtures' users.  Prints agreement per corpus and field,
# before (raw uap-core) and after our normalisation, and, for the 11k
# corpus, agreement with its own expected columns (uap-python's answers).
# Fails below the thresholds, set just under what the parser reaches.

use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

my $shared = '../shared';
my $lookup = 'build/tools/statsig-lookup';
my @fields = qw(os_name os_version browser_name browser_version);

plan skip_all => "$shared not found: no user-agent corpora"
    unless -d "$shared/conformance";
plan skip_all => 'run once, not per module build' if $ENV{STATSIG_PRELOAD};
plan skip_all => "$lookup not built (make unit)" unless -x $lookup;
plan skip_all => 'node not found' if system('node -v >/dev/null 2>&1') != 0;

# per corpus: minimum % of UAs with all four fields equal, then per field
my %min = (
    corpus    => [98.8, 99.6, 99.7, 99.3, 99.3],
    must_pass => [99.1, 99.1, 99.5, 99.5, 99.5],
    fixtures  => [100, 100, 100, 100, 100],
);

my $dir = tempdir(CLEANUP => 1);
my $json = JSON::PP->new->utf8->allow_nonref;

sub read_pipe_table {
    my ($file) = @_;
    open my $fh, '<:raw', $file or die "$file: $!";
    <$fh>;                                          # header
    my @rows = map { chomp; [split /\|/, $_, -1] } <$fh>;
    return \@rows;
}

sub fixture_uas {
    my %seen;
    for my $file (glob "$shared/oracle/fixtures/*/users.jsonl") {
        open my $fh, '<:raw', $file or die "$file: $!";
        while (my $line = <$fh>) {
            my $u = $json->decode($line);
            for my $h ($u, $u->{custom} || {}, $u->{privateAttributes} || {}) {
                for my $k (qw(userAgent useragent)) {
                    $seen{$h->{$k}} = 1
                        if defined $h->{$k} && !ref $h->{$k};
                }
            }
        }
    }
    return [sort keys %seen];
}

# one JSON array per line from a command fed the UAs
sub answers {
    my ($cmd, $file) = @_;
    my @out = map { $json->decode($_) } split /\n/, `$cmd < $file`;
    die "$cmd failed\n" if $?;
    return \@out;
}

sub same { (defined $_[0] ? "=$_[0]" : 'null') eq
           (defined $_[1] ? "=$_[1]" : 'null') }

# [% all four equal, % per field], and the worst differences
sub agreement {
    my ($got, $want) = @_;
    my (@eq, $all, %diff) = (0, 0, 0, 0);
    for my $i (0 .. $#$want) {
        my $same = 0;
        for my $f (0 .. 3) {
            if (same($got->[$i][$f], $want->[$i][$f])) {
                $eq[$f]++;
                $same++;
            } else {
                $diff{"$fields[$f]: "
                    . join(' vs ', map { $_->[$i][$f] // 'null' }
                           $got, $want)}++;
            }
        }
        $all++ if $same == 4;
    }
    my $n = @$want || 1;
    return ([map { 100 * $_ / $n } $all, @eq], \%diff);
}

sub show {
    my ($label, $pct) = @_;
    return sprintf "%-30s all %6.2f%%  %s", $label, $pct->[0],
        join '  ', map { sprintf "%s %6.2f%%", $fields[$_], $pct->[$_ + 1] }
        0 .. 3;
}

my $table = read_pipe_table("$shared/conformance/test_user_agents.txt");
my %corpora = (
    corpus    => [map { $_->[0] } @$table],
    must_pass => [map { $_->[0] } @{read_pipe_table(
                  "$shared/conformance/test_must_pass_user_agents.txt")}],
    fixtures  => fixture_uas(),
);

my $which = `node t/ua-oracle.js --which`;
chomp $which;
note("oracle: $which");

for my $name (qw(fixtures must_pass corpus)) {
    my $uas = $corpora{$name};
    open my $fh, '>:raw', "$dir/$name" or die $!;
    print $fh "$_\n" for @$uas;
    close $fh;

    my $want = answers('node t/ua-oracle.js', "$dir/$name");
    my $got = answers("$lookup ua", "$dir/$name");
    my $raw = answers("$lookup ua-raw", "$dir/$name");
    is(scalar @$got, scalar @$uas, "$name: one answer per UA");

    my ($pct, $diff) = agreement($got, $want);
    my ($raw_pct) = agreement($raw, $want);
    diag(sprintf "%s (%d UAs) vs statsig-node:", $name, scalar @$uas);
    diag('  ' . show('uap-core alone', $raw_pct));
    diag('  ' . show('normalised', $pct));

    for my $k (0 .. 4) {
        my $label = $k ? $fields[$k - 1] : 'all four fields';
        cmp_ok(sprintf('%.2f', $pct->[$k]), '>=', $min{$name}[$k],
            "$name: $label agree with statsig-node");
    }
    my @worst = (sort { $diff->{$b} <=> $diff->{$a} } keys %$diff)[0 .. 4];
    note("  $diff->{$_} x $_") for grep { defined } @worst;

    next unless $name eq 'corpus';

    # the corpus' own expected columns: uap-python's family and versions
    my @py = map {
        my $r = $_;
        my $ver = sub { my @v = grep { $_ ne 'None' } @$r[@_];
                        @v ? join('.', @v) : undef };
        [($r->[1] eq 'None' ? undef : $r->[1]), $ver->(2 .. 5),
         ($r->[6] eq 'None' ? undef : $r->[6]), $ver->(7 .. 10)]
    } @$table;
    my ($py_raw) = agreement($raw, \@py);
    my ($py_norm) = agreement($got, \@py);
    my ($py_node) = agreement($want, \@py);
    diag("$name vs its expected columns (uap-python):");
    diag('  ' . show('uap-core alone', $py_raw));
    diag('  ' . show('normalised', $py_norm));
    diag('  ' . show('statsig-node itself', $py_node));
}

done_testing;
