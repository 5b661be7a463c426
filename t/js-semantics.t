#!/usr/bin/perl
# The core's JavaScript semantics against node on generated inputs:
# Date.parse (~30k strings: random date-token concatenations,
# toISOString / toString / toUTCString / ... of random dates, unix-second
# strings), Number(string), parseInt, String(number) and toLowerCase.
# t/js-semantics.js generates each corpus with node (TZ=UTC) and writes
# node's answers; build/tools/statsig-js (t/js_driver.c, "make unit")
# answers with the core.  100% agreement is required.
#
# JS_SEMANTICS_SEED=N picks another corpus (default 1), JS_SEMANTICS_SCALE
# multiplies the sizes.

use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/..";
my $driver = "$root/build/tools/statsig-js";
my $gen = "$FindBin::Bin/js-semantics.js";

plan skip_all => 'node not found' if system('node --version >/dev/null 2>&1') != 0;
plan skip_all => "$driver not built (make unit)" unless -x $driver;

my $seed = $ENV{JS_SEMANTICS_SEED} // 1;
my $scale = $ENV{JS_SEMANTICS_SCALE} // 1;
my $dir = tempdir(CLEANUP => 1);
$ENV{TZ} = 'UTC';

my %size = (date => 30000, tonum => 5000, parseint => 3000, numstr => 5000,
            lower => 5000);

# toLowerCase of U+03A3 depends on its neighbours (Final_Sigma): the
# corpus mixes capital sigma with cased, uncased and case-ignorable
# characters; a mismatch only in sigma forms is named as such.

for my $mode (qw(date tonum parseint numstr lower)) {
    my $n = int($size{$mode} * $scale);
    my $cases = "$dir/$mode.tsv";

    system("node '$gen' $mode $seed $n > '$cases'") == 0
        or BAIL_OUT("node $gen $mode failed");

    open my $fh, '<', $cases or die "$cases: $!";
    my (@in, @want);
    while (<$fh>) {
        chomp;
        my ($i, $w) = split /\t/, $_, -1;
        push @in, $i;
        push @want, $w;
    }
    close $fh;

    open my $ifh, '>', "$dir/$mode.in" or die $!;
    print $ifh "$_\n" for @in;
    close $ifh;

    my @got = `'$driver' $mode < '$dir/$mode.in'`;
    chomp @got;
    is(scalar @got, scalar @in, "$mode: one answer per case");

    my @bad = grep { ($got[$_] // '(none)') ne $want[$_] } 0 .. $#in;

    ok(!@bad, sprintf('%s: %d/%d agree with node', $mode, @in - @bad,
        scalar @in));
    for my $k (@bad[0 .. ($#bad < 9 ? $#bad : 9)]) {
        diag(sprintf("%s input %s: node %s, core %s%s", $mode,
            show($mode, $in[$k]), show_out($mode, $want[$k]),
            show_out($mode, $got[$k] // '(none)'),
            $mode eq 'lower' && sigma_only($want[$k], $got[$k] // '')
                ? ' (final sigma only)' : ''));
    }
}

done_testing();


sub unhex { my $h = shift; return pack('H*', $h) }

# readable: JSON-ish with \x escapes for bytes outside printable ASCII
sub printable {
    my $s = shift;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return "\"$s\"";
}

sub show {
    my ($mode, $in) = @_;
    return $mode eq 'numstr' ? "bits $in" : printable(unhex($in));
}

sub show_out {
    my ($mode, $out) = @_;
    return $mode eq 'lower' ? printable(unhex($out)) : $out;
}

# equal once every sigma (U+03C3, U+03C2) is written the same way
sub sigma_only {
    my ($a, $b) = map { my $s = unhex($_); $s =~ s/\xcf\x82/\xcf\x83/g; $s } @_;
    return $a eq $b;
}
