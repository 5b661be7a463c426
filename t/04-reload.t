#!/usr/bin/perl

# The statsig zone survives "nginx -s reload" when its name and size are
# unchanged, and is made anew when the size changes.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest;

my $t = StatsigTest->new;

my $conf = <<'EOF';
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig SIZE;
    statsig_user_id $arg_u;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location / { return 200 "[$statsig_gate_x]"; }
    }
}
EOF

sub conf_with { (my $c = $conf) =~ s/SIZE/$_[0]/; $c }

sub status { decode_json($t->get('/status')->{content}) }

$t->write_conf(conf_with('1m'));
ok($t->run, 'started');

my $s0 = status();
is($s0->{zone}{reloads}, 0, 'fresh zone');

ok($t->reload, 'reload: new workers');
my $s1 = status();
is($s1->{zone}{reloads}, 1, 'zone reused once');
is($s1->{zone}{created}, $s0->{zone}{created}, 'same zone (created time)');
is($s1->{zone}{size}, 1048576, 'same size');

ok($t->reload, 'second reload');
is(status()->{zone}{reloads}, 2, 'zone reused twice');

is($t->get('/')->{content}, '[0]', 'still serving');

# a different size: a new zone
$t->write_conf(conf_with('2m'));
ok($t->reload, 'reload with a new size');
my $s2 = status();
is($s2->{zone}{size}, 2 * 1048576, 'new size');
is($s2->{zone}{reloads}, 0, 'new zone');

# a broken config keeps the running one
$t->write_conf(conf_with('1q'));
kill 'HUP', $t->{pid};
ok($t->wait_for_log(qr/invalid zone size "1q"/), 'bad reload reported');
is(status()->{zone}{size}, 2 * 1048576, 'old config keeps serving');

# the [emerg] of the refused reload is expected: check the rest
$t->stop(check => 0);
my @bad = grep { !/invalid zone size "1q"/ } $t->bad_log_lines;
is_deeply(\@bad, [], 'no other bad log lines');

done_testing;
