package StatsigEvents;

# Setup shared by the event tests (t/3x-*.t): nginx with a key, the fake
# Statsig server for specs and log_event, conf-examples/demo-specs.json.
#
#   my ($t, $f) = events_nginx(key => $KEY, workers => 2, zone => '2m',
#                              http => "statsig_flush_interval 100ms;\n...",
#                              server => "location /gate { ... }",
#                              files => { name => text });  # in TESTDIR
#   status_json($t)     decoded GET /status

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP;
use Test::More;
use StatsigTest qw(slurp);

our @EXPORT_OK = qw(events_nginx purchase_nginx spill_nginx status_json
                    delivered);

sub events_nginx {
    my (%o) = @_;
    my $root = StatsigTest::root();

    my $t = StatsigTest->new(fake => 1, workers => $o{workers} // 2);
    my $f = $t->fake;

    my $specs = slurp("$root/conf-examples/demo-specs.json");
    $f->set_specs($specs);
    $t->write_file('specs.json', $specs);
    $t->write_file('key', "$o{key}\n");
    $t->write_file($_, $o{files}{$_}) for keys %{ $o{files} // {} };

    my $zone = $o{zone} // '2m';
    my $http = $o{http} // '';
    my $server = $o{server} // '';

    $t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig $zone;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_specs_url %%FAKE_URL%%/v1/download_config_specs;
    statsig_id_lists_url %%FAKE_URL%%/v1/get_id_lists;
    statsig_events_url %%FAKE_URL%%/v1/log_event;
    statsig_specs_file %%TESTDIR%%/specs.json;
$http
    server {
        listen %%LISTEN%%;
        location = /status { statsig_status; }
$server
    }
}
EOF

    ok($t->run, 'started');

    return ($t, $f);
}

# One worker logging a purchase for /buy?u=... (204), the flush interval
# given: the tests that kill it.
sub purchase_nginx {
    my (%o) = @_;

    return events_nginx(key => $o{key}, workers => 1, http => <<"EOF",
    statsig_flush_interval $o{interval};
    statsig_user_id \$arg_u;
EOF
        server => <<'EOF');
        location = /buy {
            statsig_event purchase;
            return 204;
        }
EOF
}

# A small queue (32k) that spills to the spool when its sink is down, and
# purchases padded (/buy?u=...&pad=...) so that packs do not shrink them.
sub spill_nginx {
    my (%o) = @_;

    return events_nginx(key => $o{key}, workers => $o{workers}, zone => '1m',
                        http => <<'EOF',
    statsig_event_queue 32k;
    statsig_flush_interval 100ms;
    statsig_upstream_timeout 1s;
    statsig_user_id $arg_u;
    statsig_event_spool %%TESTDIR%%/spool;
EOF
        server => <<'EOF');
        location = /buy {
            statsig_event purchase pad=$arg_pad;
            return 204;
        }
EOF
}

# The users whose purchase the fake Statsig took (its answer not set to
# fail), and how often.
sub delivered {
    my ($f) = @_;
    my %u;
    $u{ $_->{user}{userID} // '' }++
        for grep { $_->{eventName} eq 'purchase' }
            map { @{ $_->{json}{events} // [] } }
            grep { ($_->{control}{log_event} // 'normal') eq 'normal' }
                $f->requests(path => qr{^/v1/log_event$});
    return \%u;
}

sub status_json {
    my ($t) = @_;
    my $r = $t->get('/status');
    return eval { decode_json($r->{content}) } || {};
}

1;
