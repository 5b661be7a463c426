#!/usr/bin/perl

# Every job in conf-examples/ does what its comment says, run as shipped
# (ports moved to free ones): routing by gate, canary, sticky A/B by
# experiment, config headers, all assignments to the backend, a cache key
# by assignment, prefetch without exposure.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use StatsigTest;

my $root = StatsigTest::root();

# an example as a test conf: our globals, free ports, absolute specs path
sub start {
    my ($name) = @_;
    my $t = StatsigTest->new(workers => 1);
    my $c = StatsigTest::slurp("$root/conf-examples/$name");
    $c =~ s/^\s*(worker_processes|error_log)\b.*$//mg;
    $c =~ s/^events \{.*?\}//ms;
    $c =~ s/127\.0\.0\.1:8080/%%LISTEN%%/g;
    $c =~ s/127\.0\.0\.1:(81\d\d)/%%LISTEN_p$1%%/g;
    $c =~ s{statsig_specs_file demo-specs\.json;}
           {statsig_specs_file $root/conf-examples/demo-specs.json;};
    $t->write_conf("%%TEST_GLOBALS%%\n$c");
    ok($t->run, "$name runs");
    return $t;
}

sub get {
    my ($t, $path, %h) = @_;
    return $t->get($path, headers => \%h);
}

# ------------------------------------------------------- route-by-gate

my $t = start('route-by-gate.conf');
is(get($t, '/', 'x-email' => 'ann@example.com')->{content}, "beta\n",
   'route-by-gate: an example.com email reaches the beta backend');
is(get($t, '/', 'x-country' => 'DE')->{content}, "beta\n",
   'route-by-gate: so does a user in DE');
is(get($t, '/', 'x-email' => 'bob@other.org', 'x-country' => 'US')
   ->{content}, "stable\n", 'route-by-gate: others reach stable');
$t->stop;

# -------------------------------------------------------------- canary

$t = start('canary.conf');
my %side;
my $consistent = 1;
for my $i (1 .. 200) {
    my $r = get($t, '/checkout', 'x-user-id' => "user-$i");
    my $again = get($t, '/checkout', cookie => "uid=user-$i");
    $consistent = 0 if $r->{content} ne $again->{content};
    $consistent = 0 unless ($r->{headers}{'x-checkout'} // '')
        eq "checkout_" . ($r->{content} =~ /(\w+)/)[0];
    $side{ $r->{content} }++;
}
ok($consistent, 'canary: a user always reaches the same side');
ok(($side{"canary\n"} // 0) > 60 && ($side{"stable\n"} // 0) > 60,
   'canary: about half of 200 users on each side ('
   . join(', ', map { s/\n//r . "=$side{$_}" } sort keys %side) . ')');
$t->stop;

# ------------------------------------------------------- ab-experiment

$t = start('ab-experiment.conf');
my %groups;
my $sticky = 1;
for my $i (1 .. 40) {
    my $r = get($t, '/');
    my ($sid) = ($r->{headers}{'set-cookie'} // '')
        =~ /^statsig_sid=([0-9a-f-]{36}); Path=\/; Max-Age=31536000; SameSite=Lax$/;
    unless ($sid) {
        $sticky = 0;
        next;
    }
    my $group = $r->{headers}{'x-experiment-group'} // '';
    $groups{$group}++;
    my $want = ($group eq 'Test' ? 'hero' : 'classic') . " $sid\n";
    $sticky = 0 if $r->{content} ne $want;
    for (1 .. 2) {
        my $again = get($t, '/', cookie => "statsig_sid=$sid");
        $sticky = 0 if $again->{content} ne $want
            || defined $again->{headers}{'set-cookie'};
    }
}
ok($sticky, 'ab-experiment: a new visitor gets a stable ID cookie, the '
   . 'backend of its group, and keeps both');
ok($groups{Test} && $groups{Control}, 'ab-experiment: both groups ('
   . join(', ', map { "$_=$groups{$_}" } sort keys %groups) . ')');
$t->stop;

# ------------------------------------------------------- config-header

$t = start('config-header.conf');
my $r = get($t, '/', 'x-country' => 'DE');
is($r->{headers}{'x-price'}, '8.99 EUR', 'config-header: EU price header');
is($r->{content}, qq{pricing {"price":8.99,"currency":"EUR","trial_days":30}\n},
   'config-header: the backend gets the whole config');
$r = get($t, '/', 'x-country' => 'US');
is($r->{headers}{'x-price'}, '9.99 USD', 'config-header: default price');
$t->stop;

# -------------------------------------------------- assignments-header

$t = start('assignments-header.conf');
$r = get($t, '/', 'x-user-id' => 'ann', 'x-email' => 'ann@example.com');
like($r->{content},
     qr/^public_launch=1;beta_users=1;new_checkout=[01];button_color=(Control|Test);landing_page=(Control|Test)\n$/,
     'assignments-header: every assignment in one header');
$t->stop;

# ----------------------------------------------------------- cache-key

$t = start('cache-key.conf');
my %first;
my ($hits, $wrong) = (0, 0);
for my $i (1 .. 30) {
    my $r = get($t, '/page', 'x-user-id' => "u$i");
    my ($g) = $r->{content} =~ /^page for (\w+)/;
    $g //= '';
    $hits++ if ($r->{headers}{'x-cache-status'} // '') eq 'HIT';
    $first{$g}++;
    # the page, cached or not, is the one of the user's own group
    $wrong++ if $g !~ /^(Control|Test)$/
        || $g ne ($r->{headers}{'x-button-group'} // '');
}
ok($first{Control} && $first{Test}, 'cache-key: both groups served');
ok($hits >= 26, "cache-key: one miss per group, then hits ($hits of 30)");
is($wrong, 0, 'cache-key: every user got the page of its own group');
$t->stop;

# ------------------------------------------------------------ prefetch

$t = start('prefetch.conf');
$r = get($t, '/prefetch/home', 'x-user-id' => 'ann');
like($r->{content}, qr{^/home new_checkout=[01]\n$},
     'prefetch: evaluated and passed on');
is($r->{headers}{'x-statsig-exposures'}, '0', 'prefetch: no exposure');
my $r2 = get($t, '/home', 'x-user-id' => 'ann');
is($r2->{content}, $r->{content}, 'the real page: the same assignment');
is($r2->{headers}{'x-statsig-exposures'}, '1', 'the real page: one exposure');
$t->stop;

done_testing;
