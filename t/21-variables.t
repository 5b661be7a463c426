#!/usr/bin/perl

# Variables in nginx: the stable ID cookie, bad input (huge, not UTF-8,
# repeated, missing), once-per-request evaluation and exposure, the
# context surviving internal redirects, statsig_exposures off, unknown
# names, and what an exposure record carries (never private attributes).
# Specs: conf-examples/demo-specs.json.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use StatsigTest;

$ENV{TEST_NGINX_DEBUG} = 1;    # exposure records are logged at debug level

my $root = StatsigTest::root();
my $t = StatsigTest->new(workers => 1);

$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file $root/conf-examples/demo-specs.json;
    statsig_user_id \$http_x_user_id;
    statsig_user_field email \$http_x_email;
    statsig_user_private secret \$http_x_secret;
    statsig_stable_id_cookie sid max_age=1d;

    statsig_gate \$beta "beta_users";
    statsig_param \$price pricing price default=1.00;
    statsig_param \$missing pricing no_such_param default=none;
    statsig_param \$nocfg no_such_config price default=dflt;

    server {
        listen %%LISTEN%%;

        location /eval {
            return 200 "beta=\$statsig_gate_beta_users exact=\$beta pl=\$statsig_gate_public_launch sid=\$statsig_stable_id n=\$statsig_exposure_count";
        }

        location /once {
            # the same gate through two variables, the same config through
            # a parameter and \$statsig_config_: two exposures
            return 200 "\$statsig_gate_beta_users\$beta\$statsig_gate_beta_users \$price \$statsig_config_pricing \$missing \$nocfg n=\$statsig_exposure_count";
        }

        # a regex capture alone is a value too (not a variable's name)
        location ~ ^/capture/(.+)\$ {
            statsig_user_field email \$1;
            return 200 "beta=\$statsig_gate_beta_users";
        }

        location /unknown {
            return 200 "[\$statsig_gate_no_such_gate] [\$statsig_config_no_such] [\$statsig_experiment_no_such] n=\$statsig_exposure_count";
        }

        location /quiet {
            statsig_exposures off;
            return 200 "\$statsig_gate_beta_users \$statsig_config_pricing n=\$statsig_exposure_count";
        }

        location /first {
            set \$g \$statsig_gate_public_launch;
            return 404;
        }

        error_page 404 = /second;

        location /second {
            set \$n0 \$statsig_exposure_count;
            return 200 "n=\$n0 beta=\$statsig_gate_beta_users n=\$statsig_exposure_count sid=\$statsig_stable_id";
        }

        location /nocookie {
            statsig_stable_id_cookie off_cookie max_age=0;
            return 200 "sid=\$statsig_stable_id";
        }
    }
}
EOF

ok($t->run, 'nginx runs');

sub get {
    my ($path, %h) = @_;
    return $t->get($path, headers => \%h);
}

sub set_cookie { $_[0]{headers}{'set-cookie'} // '' }

# ------------------------------------------------------------ stable ID

my $r = get('/eval', 'x-user-id' => 'u1');
is($r->{status}, 200, 'status');
my ($sid) = $r->{content} =~ /sid=([0-9a-f-]+)/;
like($sid // '', qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
     'a new visitor gets a random v4 UUID');
is(set_cookie($r), "sid=$sid; Path=/; Max-Age=86400; SameSite=Lax",
   'and a Set-Cookie for it (no Secure on http)');

$r = get('/eval', cookie => "a=b; sid=$sid; c=d");
like($r->{content}, qr/sid=\Q$sid\E /, 'the cookie is read back');
is(set_cookie($r), '', 'no Set-Cookie when the cookie is there');

for my $bad ('x' x 200, '"q"', 'a\\b', '') {
    $r = get('/eval', cookie => "sid=$bad");
    my ($new) = $r->{content} =~ /sid=(\S*)/;
    isnt($new, $bad, 'an unusable cookie (' . length($bad) . ' bytes) '
         . 'is replaced');
    like(set_cookie($r), qr/^sid=\Q$new\E;/, '... and set again');
}

$r = get('/nocookie');
like(set_cookie($r), qr/^off_cookie=[0-9a-f-]{36}; Path=\/; SameSite=Lax$/,
     'max_age=0: a session cookie');

my $sids = {};
$sids->{ (get('/eval')->{content} =~ /sid=(\S+)/)[0] } = 1 for 1 .. 20;
is(scalar keys %$sids, 20, '20 visitors, 20 stable IDs');

# ------------------------------------------------------------ bad input

is(get('/eval', 'x-email' => 'ann@example.com')->{content} =~ /beta=(\d)/
   && $1, 1, 'beta_users by email');
is(get('/capture/ann@example.com')->{content}, 'beta=1',
   'an email from a regex capture ($1)');
is(get('/capture/ann@other.org')->{content}, 'beta=0',
   '... and another');
for my $case (['not UTF-8', "ann\xff\xfe\@example.com"],
              ['overlong UTF-8', "ann\xc0\xaf\@example.com"],
              # past the first eight bytes, read eight at a time
              ['not UTF-8 later', "annabelle-smith\xff\@example.com"],
              ['a cut sequence later', "annabelle-smith\xe2\x82\@example.com"],
              ['huge', ('x' x 5000) . '@example.com'])
{
    $r = $t->raw("GET /eval HTTP/1.0\r\nHost: x\r\nX-Email: $case->[1]\r\n"
                 . "\r\n");
    like($r, qr/^HTTP\/1\.1 200/, "$case->[0] email: 200");
    like($r, qr/beta=0 /, "$case->[0] email: absent");
}

# the lower case (str_contains_any ignores case) in the context's room
# (7 KB), and past it (two 4 KB lower cases), in the request pool
for my $case (['short', 'ANN@EXAMPLE.COM', 'U1'],
              ['past the room', ('A' x 4000) . '@EXAMPLE.COM', 'U' x 4000])
{
    $r = $t->raw("GET /eval HTTP/1.0\r\nHost: x\r\nX-Email: $case->[1]\r\n"
                 . "X-User-Id: $case->[2]\r\n\r\n");
    like($r, qr/beta=1 /, "an upper-case email, $case->[0]: beta_users");
}

$r = $t->raw("GET /eval HTTP/1.0\r\nHost: x\r\nX-Email: a\@b.c\r\n"
             . "X-Email: ann\@example.com\r\nX-User-Id: 1\r\n"
             . "X-User-Id: 2\r\n\r\n");
like($r, qr/^HTTP\/1\.1 200/, 'repeated headers: 200');
like($r, qr/beta=0 /, 'repeated headers: the first one (nginx 1.22)');

$r = get('/eval');
like($r->{content}, qr/^beta=0 exact=0 pl=1 /, 'no headers at all: 200');

$r = get('/eval', cookie => 'sid=' . ('y' x 6000));
is($r->{status}, 200, 'a 6k cookie: 200');

# ------------------------------------------------- once per request

$r = get('/once', 'x-email' => 'ann@example.com');
is($r->{content},
   '111 9.99 {"price":9.99,"currency":"USD","trial_days":14} none dflt n=2',
   'one evaluation and exposure per entity, defaults where missing');

$r = get('/quiet', 'x-email' => 'ann@example.com');
like($r->{content}, qr/^1 \{.*\} n=0$/, 'statsig_exposures off: none');

$r = get('/first', 'x-email' => 'ann@example.com');
is($r->{status}, 200, 'internal redirect');
my ($rsid) = $r->{content} =~ /sid=(\S+)/;
like($r->{content}, qr/^n=1 beta=1 n=2 sid=/,
     'the context survives it (the first location\'s exposure counts)');
like(set_cookie($r), qr/^sid=\Q$rsid\E;/, 'one stable ID across it');

# ------------------------------------------------------- unknown names

$r = get('/unknown');
is($r->{content}, '[0] [] [] n=1', 'unknown gate: 0 (exposed); others empty');
get('/unknown') for 1 .. 3;

$t->stop;

my $log = $t->error_log;
my @warn = $log =~ /no gate "no_such_gate" in the specs/g;
is(scalar @warn, 1, 'one warning for an unknown gate');
like($log, qr/\[warn\].*no config "no_such" in the specs/,
     'a warning for an unknown config');

# ------------------------------------------------------- the records

my @rec = $log =~ /statsig exposure #\d+: (\{.*)$/mg;
ok(@rec > 10, scalar(@rec) . ' exposure records logged');
like($rec[0] // '', qr/"eventName":"statsig::(gate|config)_exposure"/,
     'records are statsig-node events');
ok(scalar(grep /"gate":"beta_users","gateValue":"true"/, @rec),
   'a beta_users exposure with its value');

# a request with a private attribute, read in the logs
$t->run;
get('/eval', 'x-email' => 'ann@example.com', 'x-secret' => 'TOPSECRET42');
$t->stop;
@rec = grep /statsig exposure #/, split /\n/, $t->error_log;
ok(scalar(grep /"email":"ann\@example.com"/, @rec), 'the user is in the record');
ok(!grep(/TOPSECRET42/, @rec), 'private attributes never leave the edge');

done_testing;
