#!/usr/bin/perl

# What a variable remembers per snapshot generation (its spec, a
# statsig_param's text in the config value that answered last) is read
# again from a new snapshot: specs files of the same shape, whose config
# values sit at the same offsets but differ in content, answer each with
# their own values.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use StatsigTest;
use StatsigDCS qw(dcs all_workers);

my $t = StatsigTest->new(workers => 1);

# the same document but for the values' bytes (same lengths)
sub specs {
    my (%o) = @_;
    my $d = dcs(time => $o{time}, flag => $o{flag});
    my $public = { type => 'public', operator => undef, targetValue => undef,
                   field => undef, additionalValues => {},
                   isDeviceBased => JSON::PP::false, idType => 'userID' };
    push @{ $d->{dynamic_configs} }, {
        name => 'pricing', type => 'dynamic_config',
        entity => 'dynamic_config', salt => 'pricing',
        enabled => JSON::PP::true, idType => 'userID',
        isDeviceBased => JSON::PP::false,
        defaultValue => { price => 'none', label => 'none' },
        rules => [ { name => 'all', id => 'all', salt => 'all',
                     passPercentage => 100, idType => 'userID',
                     isDeviceBased => JSON::PP::false,
                     conditions => [ $public ],
                     returnValue => { price => $o{price},
                                      label => $o{label} } } ],
    };
    return JSON::PP->new->canonical->encode($d);
}

$t->write_file('specs.json', specs(time => 1000, flag => 1,
                                   price => 'aaa', label => 'xx'));

$t->write_conf(<<'EOF');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file %%TESTDIR%%/specs.json;
    statsig_sync_interval 1s;
    statsig_user_id $arg_u;
    statsig_exposures off;

    statsig_param $price pricing price default=d;
    statsig_param $label pricing label default=d;
    statsig_param $nothing pricing nothing default=d;

    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
        location = /v {
            return 200 "$statsig_gate_flag $price $label $nothing $statsig_config_pricing";
        }
    }
}
EOF

ok($t->run, 'started');

sub answer { $t->get("/v?u=$_[0]")->{content} }

is(answer('a'), '1 aaa xx d {"label":"xx","price":"aaa"}', 'first specs');
is(answer('b'), '1 aaa xx d {"label":"xx","price":"aaa"}',
   'first specs, another user (the remembered text)');

$t->write_file('specs.json', specs(time => 2000, flag => 0,
                                   price => 'bbb', label => 'yy'));
ok(all_workers($t, sub { $_[0]{worker}{specs_time} == 2000 }, 5),
   'the new specs are loaded');

is(answer('c'), '0 bbb yy d {"label":"yy","price":"bbb"}',
   'new specs: the new values');
is(answer('d'), '0 bbb yy d {"label":"yy","price":"bbb"}',
   'new specs, another user');

done_testing();
