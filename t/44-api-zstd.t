#!/usr/bin/perl

# statsig_api takes "Content-Encoding: zstd" bodies beside gzip (as
# statsig-node-core posts log_event): a zstd log_event's events arrive at
# the fake Statsig, a check in zstd is answered; several frames are read
# whole; a broken or truncated body is 400, a zstd bomb (a body that
# decompresses past the API's 4 MB) is 413, and the worker goes on
# answering.  The bodies are made with the zstd tool (Debian's zstd).
# And log_event with STATSIG-CLIENT-TIME (the SDKs send it): the events'
# times are moved by the client's clock skew.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp);
use StatsigDCS qw(api_specs);

plan skip_all => 'the zstd tool is not installed (make deps)'
    unless system('zstd --version >/dev/null 2>&1') == 0;

my $KEY = 'secret-api-zstd-0123456789';
my $J = JSON::PP->new->canonical;

my $specs_json = $J->encode(api_specs());

my $t = StatsigTest->new(fake => 1);
my $f = $t->fake;
my $d = $t->dir;
$f->set_specs($specs_json);
$t->write_file('specs.json', $specs_json);
$t->write_file('key', "$KEY\n");
$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_specs_url %%FAKE_URL%%/v1/download_config_specs;
    statsig_events_url %%FAKE_URL%%/v1/log_event;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_flush_interval 100ms;

    server {
        listen %%LISTEN%%;
        client_max_body_size 8m;
        location /statsig/ { statsig_api; }
    }
}
EOF
ok($t->run, 'started');

# the zstd tool's output for $bytes (extra options: level, frames...)
my $n = 0;
sub zstd {
    my ($bytes, @opt) = @_;
    $n++;
    open(my $fh, '>:raw', "$d/in$n") or die $!;
    print $fh $bytes;
    close $fh;
    system('zstd', '-q', '-f', @opt, "$d/in$n", '-o', "$d/in$n.zst") == 0
        or die "zstd failed";
    open($fh, '<:raw', "$d/in$n.zst") or die $!;
    local $/;
    return scalar <$fh>;
}

sub post {
    my ($path, $body, $enc) = @_;
    my $r = $t->request('POST', $path, content => $body,
        headers => { 'statsig-api-key' => $KEY,
                     ($enc ? ('content-encoding' => $enc) : ()) });
    $r->{json} = eval { decode_json($r->{content}) };
    return $r;
}

# ---- a check, and log_event, in zstd ----

my $r = post('/statsig/v1/check_gate',
             zstd($J->encode({ user => { userID => 'z-1',
                                         email => 'a@statsig.com' },
                               gateName => 'public_launch' })), 'zstd');
is($r->{status}, 200, 'zstd check_gate: 200');
is($r->{json}{value}, JSON::PP::true, 'zstd check_gate: answered')
    or diag($r->{content});

my @sent = map { { eventName => "zstd_event_$_", time => 1700000000000 + $_,
                   value => $_, user => { userID => 'zstd-user' } } }
           1 .. 300;
$r = post('/statsig/v1/log_event',
          zstd($J->encode({ events => \@sent }), '-19'), 'ZSTD');
is($r->{status}, 202, 'zstd log_event (300 events, level 19): 202')
    or diag($r->{content});

sub arrived {
    return grep { ($_->{user}{userID} // '') eq 'zstd-user' }
        map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}

ok(StatsigTest::wait_for(sub { arrived() >= 300 }, 15),
   'the events arrive at the fake Statsig');
is_deeply([ sort map { $_->{eventName} } arrived() ],
          [ sort map { $_->{eventName} } @sent ], 'every event, once');

# two frames, one after the other: the body is both
my $one = $J->encode({ user => { userID => 'z-2' },
                       gateName => 'public_launch' });
my $z1 = zstd(substr($one, 0, 20));
my $z2 = zstd(substr($one, 20));
$r = post('/statsig/v1/check_gate', $z1 . $z2, 'zstd');
is($r->{status}, 200, 'two zstd frames: read as one body')
    or diag($r->{content});

# ---- bad bodies ----

my $good = zstd($one);

$r = post('/statsig/v1/check_gate', 'this is not zstd at all', 'zstd');
is($r->{status}, 400, 'not zstd: 400');
like($r->{json}{error} // '', qr/zstd/, 'not zstd: says so');

(my $corrupt = $good) =~ s/^(.{12})(.)/$1 . chr(ord($2) ^ 0xff)/se;
$r = post('/statsig/v1/check_gate', $corrupt, 'zstd');
ok($r->{status} == 400, 'a corrupt zstd body: 400')
    or diag("$r->{status} $r->{content}");

$r = post('/statsig/v1/check_gate', substr($good, 0, length($good) - 6),
          'zstd');
is($r->{status}, 400, 'a truncated zstd body: 400');
like($r->{json}{error} // '', qr/zstd/, 'truncated: says so');

$r = post('/statsig/v1/check_gate', $good . 'trailing', 'zstd');
is($r->{status}, 400, 'bytes after the last frame: 400');

# a bomb: 64 MB of spaces in a few kilobytes
my $bomb = zstd(' ' x (64 * 1024 * 1024), '-19', '--long=27');
ok(length($bomb) < 64 * 1024, 'the bomb is small (' . length($bomb)
   . ' bytes)');
$r = post('/statsig/v1/log_event', $bomb, 'zstd');
is($r->{status}, 413, 'a zstd bomb: 413') or diag($r->{content});

my $bomb2 = zstd(' ' x (6 * 1024 * 1024));
$r = post('/statsig/v1/log_event', $bomb2, 'zstd');
is($r->{status}, 413, 'a body of 6 MB once decompressed: 413')
    or diag($r->{content});

$r = post('/statsig/v1/check_gate', 'x', 'br');
is($r->{status}, 415, 'another encoding: 415');
like($r->{json}{error} // '', qr/gzip, zstd or none/, '415: says which');

$r = post('/statsig/v1/check_gate', $good, 'zstd');
is($r->{status}, 200, 'and the worker goes on answering zstd');

# ---- STATSIG-CLIENT-TIME on log_event: the clock skew corrected ----

my $now = int(time() * 1000);
$r = $t->request('POST', '/statsig/v1/log_event',
    content => zstd($J->encode({ events => [
        { eventName => 'skewed', time => 1700000000000,
          user => { userID => 'skew-user' } },
        { eventName => 'skewed_no_time', user => { userID => 'skew-user' } },
    ] })),
    headers => { 'statsig-api-key' => $KEY, 'content-encoding' => 'zstd',
                 'STATSIG-CLIENT-TIME' => $now - 3_600_000 });
is($r->{status}, 202, 'log_event from a client an hour behind: 202');
$r = post('/statsig/v1/log_event', $J->encode({ events => [
    { eventName => 'unskewed', time => 1700000000000,
      user => { userID => 'skew-user' } } ] }));
is($r->{status}, 202, 'log_event without STATSIG-CLIENT-TIME: 202');

sub skew_events {
    return grep { ($_->{user}{userID} // '') eq 'skew-user' }
        map { @{ $_->{json}{events} || [] } }
        $f->requests(path => qr{^/v1/log_event});
}
ok(StatsigTest::wait_for(sub { skew_events() >= 3 }, 15),
   'the events arrive');
my %ev = map { $_->{eventName} => $_ } skew_events();
my $moved = ($ev{skewed}{time} // 0) - 1700000000000;
ok($moved >= 3_600_000 && $moved < 3_600_000 + 30_000,
   "its time is moved by the skew, an hour (+$moved ms)");
ok(!defined $ev{skewed_no_time}{time}, 'an event without a time gets none');
is($ev{unskewed}{time}, 1700000000000, 'without the header: as sent');

$t->stop;

done_testing;
