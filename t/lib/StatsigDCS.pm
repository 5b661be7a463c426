package StatsigDCS;

# Small download_config_specs documents for the sync tests.
#
#   dcs(time => T, flag => 1)      gate "flag" on (1) or off (0) for
#                                  everyone, gate "vip" true for users in
#                                  the ID list "vips"
#   idlist_id('alice')             the 8-character id Statsig stores
#   server_conf(http => 'extra;')  nginx.conf template, server mode against
#                                  the fake (key in %%TESTDIR%%/key, 1s
#                                  sync), /status, /flag and /vip
#   status($t)                     decoded JSON of GET /status
#   all_workers($t, sub { ... }, $timeout)
#                                  polls /status until the predicate held
#                                  in $t->{workers} distinct workers (the
#                                  status reports what this worker's
#                                  requests see); returns the seconds it
#                                  took, or undef

use strict;
use warnings;

use Digest::SHA qw(sha256_base64);
use Exporter qw(import);
use JSON::PP;

use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(dcs dcs_json idlist_id status all_workers
                    server_conf api_specs);

sub rule {
    my ($id, $pass, $cond) = @_;
    return {
        name => $id, id => $id, salt => $id, passPercentage => $pass,
        returnValue => JSON::PP::true, isDeviceBased => JSON::PP::false,
        idType => 'userID', conditions => [ $cond ],
    };
}

sub gate {
    my ($name, @rules) = @_;
    return {
        name => $name, type => 'feature_gate', entity => 'feature_gate',
        salt => "salt-$name", enabled => JSON::PP::true,
        defaultValue => JSON::PP::false, idType => 'userID',
        isDeviceBased => JSON::PP::false, rules => \@rules,
    };
}

sub dcs {
    my (%o) = @_;
    my $public = { type => 'public', operator => undef, targetValue => undef,
                   field => undef, additionalValues => {},
                   isDeviceBased => JSON::PP::false, idType => 'userID' };
    my $inlist = { type => 'unit_id', operator => 'in_segment_list',
                   targetValue => 'vips', field => undef,
                   additionalValues => {}, isDeviceBased => JSON::PP::false,
                   idType => 'userID' };
    return {
        has_updates => JSON::PP::true,
        time => $o{time} // 1700000000000,
        feature_gates => [
            gate('flag', rule('flag_all', $o{flag} ? 100 : 0, $public)),
            gate('vip', rule('vip_list', 100, $inlist)),
            @{ $o{extra} // [] },
        ],
        dynamic_configs => [],
        layer_configs => [],
        layers => {},
        id_lists => { vips => JSON::PP::true },
    };
}

sub dcs_json { JSON::PP->new->canonical->encode(dcs(@_)) }

sub idlist_id { substr(sha256_base64($_[0]), 0, 8) }

sub server_conf {
    my (%o) = @_;
    my $http = $o{http} // '';
    return <<"EOF";
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_specs_url %%FAKE_URL%%/v1/download_config_specs;
    statsig_id_lists_url %%FAKE_URL%%/v1/get_id_lists;
    statsig_sync_interval 1s;
    statsig_user_id \$arg_u;
    $http

    server {
        listen %%LISTEN%% reuseport;
        location = /status { statsig_status; }
        location = /flag { return 200 "\$statsig_gate_flag"; }
        location = /vip { return 200 "\$statsig_gate_vip"; }
    }
}
EOF
}

# conf-examples/demo-specs.json plus a layer "checkout_layer" whose one
# public rule sets {color: green, size: 2} (default {color: red, size: 1})
sub api_specs {
    my $root = StatsigTest::root();
    open(my $fh, '<', "$root/conf-examples/demo-specs.json") or die $!;
    my $specs = decode_json(do { local $/; <$fh> });
    my $public = { type => 'public', operator => undef, targetValue => undef,
                   field => undef, additionalValues => {},
                   isDeviceBased => JSON::PP::false, idType => 'userID' };
    push @{ $specs->{layer_configs} }, {
        name => 'checkout_layer', type => 'dynamic_config', entity => 'layer',
        salt => 'checkout_layer', enabled => JSON::PP::true,
        idType => 'userID', isDeviceBased => JSON::PP::false,
        defaultValue => { color => 'red', size => 1 },
        rules => [ { name => 'all', id => 'layer_all', salt => 'layer_all',
                     passPercentage => 100, idType => 'userID',
                     isDeviceBased => JSON::PP::false,
                     conditions => [ $public ],
                     returnValue => { color => 'green', size => 2 } } ],
    };
    return $specs;
}

sub status {
    my ($t, $path) = @_;
    my $r = $t->get($path // '/status');
    my $s = eval { JSON::PP->new->decode($r->{content}) } || {};
    $s->{_status} = $r->{status};
    return $s;
}

sub all_workers {
    my ($t, $pred, $timeout) = @_;
    my $t0 = time;
    my %ok;
    while (time - $t0 < ($timeout // 10)) {
        my $s = status($t);
        my $pid = $s->{worker}{pid};
        if ($pid && $pred->($s)) {
            $ok{$pid} = 1;
        } elsif ($pid) {
            delete $ok{$pid};
        }
        return time - $t0 if keys %ok >= $t->{workers};
        sleep 0.02;
    }
    return undef;
}

1;
