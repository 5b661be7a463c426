#!/usr/bin/perl

# statsig_specs_file: compiled at configuration (nginx -t names a bad
# file), in the zone before the first request; in local mode re-read when
# it changes (even in place within one second, to the same size), a bad
# replacement keeps the last good snapshot and is logged once; a reload
# keeps the snapshot without a gap.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json status all_workers);

my $t = StatsigTest->new(workers => 2);

my $conf = <<'EOF';
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_sync_interval 1s;
    statsig_user_id $arg_u;

    server {
        listen %%LISTEN%% reuseport;
        location = /status { statsig_status; }
        location = /flag { return 200 "$statsig_gate_flag"; }
    }
}
EOF

# ---- nginx -t ----

$t->write_file('specs.json', '{"feature_gates": [}');
my ($rc, $out) = $t->test_conf($conf);
isnt($rc, 0, 'nginx -t fails on a specs file that does not compile');
like($out, qr/\[emerg\].*statsig_specs_file "[^"]*specs\.json": \S/,
     'the message names the file and says why') or diag($out);

$t->write_file('specs.json', '{"time": 1}');
($rc, $out) = $t->test_conf($conf);
isnt($rc, 0, 'nginx -t fails on a document without feature_gates');
like($out, qr/feature_gates/, 'the compiler message is shown') or diag($out);

$t->write_file('specs.json', dcs_json(time => 1000, flag => 1));
($rc, $out) = $t->test_conf($conf);
is($rc, 0, 'nginx -t passes with a good file') or diag($out);

# ---- loaded before any request ----

$t->write_conf($conf);
ok($t->run, 'started');

my $s = status($t);
is($s->{_status}, 200, 'first request: status 200, specs already loaded');
is($s->{mode}, 'local', 'local mode');
is($s->{specs}{source}, 'file', 'source: file');
is($s->{specs}{time}, 1000, 'specs time from the file');
ok($s->{worker}{loaded}, 'the worker evaluates from the zone snapshot');
is($t->get('/flag')->{content}, '1', 'gate answer from the file');
like($t->error_log, qr/specs loaded from ".*specs\.json" \(time 1000\)/,
     'logged at load');

# ---- re-read when it changes ----

$t->write_file('specs.json', dcs_json(time => 2000, flag => 0));
my $took = all_workers($t, sub { $_[0]{worker}{specs_time} == 2000 }, 5);
ok(defined $took && $took < 2.0,
   'a changed file is seen by every worker within interval + 1s')
    or diag('took ' . ($took // 'forever'));
is($t->get('/flag')->{content}, '0', 'new answer');

# ---- a bad replacement keeps the last good snapshot ----

$t->write_file('specs.json', '{"has_updates": true, "feature_gates": 7}');
ok(wait_for(sub { status($t)->{specs}{sync}{state} eq 'failing' }, 5),
   'a bad file shows as failing');
$s = status($t);
is($s->{_status}, 200, 'still ready');
is($s->{specs}{time}, 2000, 'last good specs kept');
like($s->{specs}{sync}{error},
     qr/specs file does not compile: .*feature_gates/, 'status says why');
is($t->get('/flag')->{content}, '0', 'answers from the last good specs');
sleep 2.5;
my @lines = grep { /specs sync failed/ } split /\n/, $t->error_log;
is(scalar @lines, 1, 'logged once, not once per interval')
    or diag(join "\n", @lines);
like($lines[0] // '', qr/\[error\].*does not compile/, 'at error level');

$t->write_file('specs.json', dcs_json(time => 3000, flag => 1));
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 3000 }, 5),
   'a fixed file is picked up');
ok($t->wait_for_log(qr/specs sync works again/, 3), 'recovery logged');
is(status($t)->{specs}{sync}{state}, 'ok', 'state ok');

# ---- a reload keeps the snapshot: an unchanged file is not re-read ----

my $gen = status($t)->{zone}{generation};
ok($t->reload, 'reloaded');
$s = status($t);
is($s->{zone}{reloads}, 1, 'zone reused');
is($s->{zone}{generation}, $gen, 'same generation: nothing re-published');
is($s->{specs}{time}, 3000, 'same specs');
is($t->get('/flag')->{content}, '1', 'same answer');

# ---- rewritten in place within the same second, to the same size ----
# (inode, size and whole seconds all unchanged: only the nanoseconds of
# the modification time tell the versions apart)

my $path = "$t->{dir}/specs.json";
my @old = Time::HiRes::stat($path);
(my $same = dcs_json(time => 3000, flag => 1)) =~ s/"time":3000/"time":4000/;
is(length $same, $old[7], 'the new version has the same size');
open my $fh, '>', $path or die "$path: $!";
print $fh $same;
close $fh or die "$path: $!";
my $sec = int $old[9];
my $ns = $old[9] - $sec < 0.5 ? 0.75 : 0.25;
Time::HiRes::utime($sec + $ns, $sec + $ns, $path) or die "utime: $!";
my @new = Time::HiRes::stat($path);
ok($new[1] == $old[1] && int($new[9]) == $sec, 'same inode, same second');
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 4000 }, 5),
   'the new version is loaded');

$t->stop;

# ---- local mode without the file: a warning, 503 until it appears ----

my $t2 = StatsigTest->new(workers => 2);
$t2->write_conf($conf);
ok($t2->run, 'started without the file');
like($t2->error_log, qr/\[warn\].*statsig_specs_file ".*" does not exist/,
     'warned');
is(status($t2)->{_status}, 503, 'not ready');
$t2->write_file('specs.json', dcs_json(time => 5000, flag => 1));
ok(wait_for(sub { status($t2)->{_status} == 200 }, 5),
   'ready once the file appears');
$t2->stop;

done_testing;
