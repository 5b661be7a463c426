#!/usr/bin/perl

# The module loads into nginx, serves requests with its variables in use,
# and stops cleanly.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use StatsigTest;

my $t = StatsigTest->new;

# nginx without any statsig directive: the module loads and stays idle
my ($rc, $out) = $t->test_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    server { listen %%LISTEN%%; }
}
EOF
is($rc, 0, 'loads without statsig directives') or diag($out);

$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_user_id $http_x_user_id;

    statsig_gate $exact "My Gate";
    statsig_param $price pricing price default=9.99;
    statsig_param $nodefault pricing price;

    server {
        listen %%LISTEN%%;

        location / {
            add_header X-Gate "[$statsig_gate_new_checkout]" always;
            return 200 "gate=[$statsig_gate_new_checkout] cfg=[$statsig_config_pricing] exp=[$statsig_experiment_button_color] sid=[$statsig_stable_id] exact=[$exact] price=[$price] nodef=[$nodefault]\n";
        }

        location /mixed {
            return 200 "[$statsig_gate_New_Checkout]\n";
        }
    }
}
EOF

ok($t->run, 'nginx starts with the module');

my $r = $t->get('/', headers => { 'X-User-Id' => 'u1' });
is($r->{status}, 200, 'request served');
is($r->{content},
   "gate=[0] cfg=[] exp=[] sid=[] exact=[0] price=[9.99] nodef=[]\n",
   'no snapshot yet: gates are off, other variables empty, statsig_param '
   . 'gives its default');
is($r->{headers}{'x-gate'}, '[0]', 'variable in add_header');
is($t->get('/mixed')->{content}, "[0]\n", 'mixed-case prefix variable');

my @w = $t->worker_pids;
is(scalar @w, 2, 'two workers');

my $took = $t->stop;
cmp_ok($took, '<', 5, 'graceful stop is quick');

unlike($t->error_log, qr/exited on signal/, 'no worker crashed');

# the module's calls to its own (global) functions are bound inside it:
# after "nginx -s reload" onto a new build at another path the master
# holds both, and the new module must not call into the old one
my $dyn = `readelf -d ${\ StatsigTest::module_path()} 2>&1`;
like($dyn, qr/\(FLAGS\)\s+.*\bSYMBOLIC\b/,
     'the module binds its own symbols (-Bsymbolic)');

done_testing;
