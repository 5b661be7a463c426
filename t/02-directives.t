#!/usr/bin/perl

# Every directive of the interface: good forms pass "nginx -t", bad forms
# fail with a message naming the file, the line and what is wrong.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use StatsigTest;

my $t = StatsigTest->new;
my $conf = $t->dir . '/nginx-t.conf';

$t->write_file('specs.json', '{"has_updates":true,"time":1,'
    . '"feature_gates":[],"dynamic_configs":[],"layer_configs":[]}');
$t->write_file('key.txt', "secret-file-key\n");

sub conf {
    my (%p) = @_;
    my $http = $p{http} // '';
    my $server = $p{server} // '';
    my $location = $p{location} // '';
    my $zone = exists $p{zone} ? $p{zone} : 'statsig_zone statsig 1m;';
    return <<"EOF";
%%TEST_GLOBALS%%
env STATSIG_SERVER_SECRET;
http {
    %%TEST_GLOBALS_HTTP%%
    $zone
$http
    server {
        listen %%LISTEN%%;
$server
        location / {
$location
        }
    }
}
EOF
}

# ---------------------------------------------------------------- good ----

my ($rc, $out) = $t->test_conf(conf(http => <<'EOF', server => <<'EOF2',
    statsig_server_key env:STATSIG_SERVER_SECRET;
    statsig_specs_url http://127.0.0.1:9/v1/download_config_specs;
    statsig_specs_file specs.json;
    statsig_sync_interval 10s;
    statsig_id_lists_url https://statsigapi.net/v1/get_id_lists;
    statsig_id_lists_sync_interval 1m;
    statsig_events_url http://localhost:8080/v1/log_event;
    statsig_flush_interval 500ms;
    statsig_flush_batch 500;
    statsig_event_queue 64k;
    statsig_exposure_dedupe 0;
    statsig_environment staging;
    statsig_upstream_timeout 3s;
    statsig_ca_file /etc/ssl/certs/ca-certificates.crt;
    statsig_proxy socks5h://127.0.0.1:1080;
    statsig_exposures on;
    statsig_user_id $cookie_uid;
    statsig_user_field email $http_x_email;
    statsig_user_field country $http_cf_ipcountry;
    statsig_user_field locale $http_accept_language;
    statsig_user_field appVersion "1.$arg_v";
    statsig_user_custom plan $http_x_plan;
    statsig_user_private tier $http_x_tier;
    statsig_custom_id companyID $http_x_company;
    statsig_stable_id_cookie sid max_age=30d;
    statsig_gate $g "Exact Gate Name!";
    statsig_param $p checkout_layer color default=blue;
    statsig_param $p2 pricing price;
EOF
    statsig_exposures off;
    statsig_user_id $http_x_user_id;
    statsig_event page_view;
EOF2
    location => <<'EOF'));
            statsig_user_field ip $http_x_forwarded_for;
            statsig_user_field userAgent "";
            statsig_user_custom plan "";
            statsig_event purchase value=$arg_amount sku=$arg_sku if=$arg_amount;
            statsig_exposures on;
EOF
is($rc, 0, 'all directives, good forms') or diag($out);
like($out, qr/syntax is ok/, 'syntax is ok');

($rc, $out) = $t->test_conf(conf(http => <<'EOF'));
    statsig_server_key file:key.txt;
    server {
        listen %%LISTEN_2%%;
        location = /status { statsig_status; }
        location /v1/ { statsig_api; }
    }
EOF
is($rc, 0, 'file: key, statsig_status, statsig_api') or diag($out);

# ----------------------------------------------------------------- bad ----

# [ name, conf args, regexp on the output ]
my @bad = (
    [ 'zone size', { zone => 'statsig_zone statsig 1q;' },
      qr/invalid zone size "1q"/ ],
    [ 'zone too small', { zone => 'statsig_zone statsig 64k;' },
      qr/zone "statsig" is too small: 64k, the minimum is 128k/ ],
    [ 'zone args', { zone => 'statsig_zone statsig;' },
      qr/invalid number of arguments in "statsig_zone"/ ],
    [ 'zone name', { zone => 'statsig_zone "a b" 1m;' },
      qr/invalid zone name "a b"/ ],
    [ 'duplicate zone', { http => 'statsig_zone other 1m;' },
      qr/"statsig_zone" directive is duplicate/ ],
    [ 'zone in server', { server => 'statsig_zone s2 1m;' },
      qr/"statsig_zone" directive is not allowed here/ ],
    [ 'no zone', { zone => '', location => 'statsig_user_id $arg_u;' },
      qr/"statsig_user_id" directive is used but "statsig_zone" is not set in \S+nginx-t\.conf:\d+/ ],
    [ 'no zone, status', { zone => '', location => 'statsig_status;' },
      qr/"statsig_status" directive is used but "statsig_zone" is not set/ ],
    [ 'key form', { http => 'statsig_server_key secret-abcdef123456;' },
      qr/"statsig_server_key" must be "env:VARIABLE" or "file:PATH"/ ],
    [ 'key env name', { http => 'statsig_server_key env:A-B;' },
      qr/invalid environment variable name in "statsig_server_key env:"/ ],
    [ 'duplicate key', { http => "statsig_server_key env:A;\n"
                                 . 'statsig_server_key env:B;' },
      qr/"statsig_server_key" directive is duplicate/ ],
    [ 'url scheme', { http => 'statsig_specs_url ftp://x/y;' },
      qr/invalid URL "ftp:\/\/x\/y" in "statsig_specs_url": it must start with http:\/\/ or https:\/\// ],
    [ 'url no host', { http => 'statsig_events_url http:///v1;' },
      qr/invalid URL "http:\/\/\/v1" in "statsig_events_url"/ ],
    [ 'url bad port', { http => 'statsig_id_lists_url http://h:99999/x;' },
      qr/invalid URL "http:\/\/h:99999\/x" in "statsig_id_lists_url": invalid port/ ],
    [ 'proxy scheme', { http => 'statsig_proxy ftp://p:1;' },
      qr/invalid URL "ftp:\/\/p:1" in "statsig_proxy": the scheme must be/ ],
    [ 'duplicate url', { http => "statsig_specs_url http://a/;\n"
                                 . 'statsig_specs_url http://b/;' },
      qr/"statsig_specs_url" directive is duplicate/ ],
    [ 'bad time', { http => 'statsig_sync_interval 10x;' },
      qr/"statsig_sync_interval" directive invalid value/ ],
    [ 'zero interval', { http => 'statsig_flush_interval 0;' },
      qr/"statsig_flush_interval" directive must be greater than 0/ ],
    [ 'bad dedupe', { http => 'statsig_exposure_dedupe forever;' },
      qr/"statsig_exposure_dedupe" directive invalid value/ ],
    [ 'bad batch', { http => 'statsig_flush_batch 0;' },
      qr/invalid value "0" in "statsig_flush_batch": expected a number from 1 to 100000/ ],
    [ 'bad queue size', { http => 'statsig_event_queue lots;' },
      qr/"statsig_event_queue" directive invalid value/ ],
    [ 'queue vs zone', { http => 'statsig_event_queue 900k;' },
      qr/"statsig_event_queue" 921600 must be less than half of the statsig zone "statsig"/ ],
    [ 'empty specs file', { http => 'statsig_specs_file "";' },
      qr/"statsig_specs_file" directive must not be empty/ ],
    [ 'exposures flag', { location => 'statsig_exposures maybe;' },
      qr/invalid value "maybe" in "statsig_exposures" directive, it must be "on" or "off"/ ],
    [ 'unknown user field', { location => 'statsig_user_field age $arg_a;' },
      qr/unknown user field "age", expected one of email, ip, userAgent, country, locale, appVersion/ ],
    [ 'user field case', { http => 'statsig_user_field useragent $x;' },
      qr/unknown user field "useragent"/ ],
    [ 'duplicate user field', { server => "statsig_user_field email \$a;\n"
                                  . 'statsig_user_field email $b;' },
      qr/duplicate user field "email"/ ],
    [ 'duplicate user id', { location => "statsig_user_id \$a;\n"
                                       . 'statsig_user_id $b;' },
      qr/"statsig_user_id" directive is duplicate/ ],
    [ 'bad variable in value', { location => 'statsig_user_id $;' },
      qr/invalid variable name/ ],
    [ 'unknown variable', { location => 'statsig_user_id $no_such_var;' },
      qr/unknown "no_such_var" variable/ ],
    [ 'duplicate custom', { location => "statsig_user_custom plan \$a;\n"
                                      . 'statsig_user_custom plan $b;' },
      qr/duplicate name "plan" in "statsig_user_custom"/ ],
    [ 'custom args', { location => 'statsig_custom_id companyID;' },
      qr/invalid number of arguments in "statsig_custom_id"/ ],
    [ 'cookie name', { location => 'statsig_stable_id_cookie "a;b";' },
      qr/invalid cookie name "a;b"/ ],
    [ 'cookie param', { location => 'statsig_stable_id_cookie sid age=1d;' },
      qr/invalid parameter "age=1d", expected "max_age=TIME"/ ],
    [ 'cookie max_age', { location => 'statsig_stable_id_cookie sid max_age=xx;' },
      qr/invalid max_age "xx"/ ],
    [ 'event in http', { http => 'statsig_event x;' },
      qr/"statsig_event" directive is not allowed here/ ],
    [ 'event name', { location => 'statsig_event value=1;' },
      qr/invalid event name "value=1"/ ],
    [ 'event param', { location => 'statsig_event buy sku;' },
      qr/invalid parameter "sku", expected KEY=VALUE/ ],
    [ 'event duplicate', { location => 'statsig_event buy a=1 a=2;' },
      qr/duplicate parameter "a" in "statsig_event"/ ],
    [ 'event duplicate value', { location => 'statsig_event buy value=1 value=2;' },
      qr/duplicate parameter "value" in "statsig_event"/ ],
    [ 'gate var', { http => 'statsig_gate g "Gate";' },
      qr/invalid variable name "g"/ ],
    [ 'gate in location', { location => 'statsig_gate $g "Gate";' },
      qr/"statsig_gate" directive is not allowed here/ ],
    [ 'gate redefined', { http => 'statsig_gate $host "Gate";' },
      qr/the duplicate "host" variable/ ],
    [ 'gate twice', { http => "statsig_gate \$g A;\nstatsig_gate \$g B;" },
      qr/variable "\$g" is already defined/ ],
    [ 'param default', { http => 'statsig_param $p cfg p fallback=1;' },
      qr/invalid parameter "fallback=1", expected "default=VALUE"/ ],
    [ 'param args', { http => 'statsig_param $p cfg;' },
      qr/invalid number of arguments in "statsig_param"/ ],
    [ 'status args', { location => 'statsig_status json;' },
      qr/invalid number of arguments in "statsig_status"/ ],
    [ 'status in server', { server => 'statsig_status;' },
      qr/"statsig_status" directive is not allowed here/ ],
    [ 'status twice', { location => "statsig_status;\nstatsig_status;" },
      qr/"statsig_status" directive is duplicate/ ],
    [ 'status and api', { location => "statsig_status;\nstatsig_api;" },
      qr/"statsig_api" cannot be combined with "statsig_status" in one location/ ],
);

for my $case (@bad) {
    my ($name, $args, $re) = @$case;
    ($rc, $out) = $t->test_conf(conf(%$args));
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, $re, "$name: message") or diag($out);
    like($out, qr/\Q$conf\E:\d+/, "$name: file and line")
        unless $name =~ /^(no zone|queue vs zone|unknown variable)/;
}

# the key is never echoed
($rc, $out) = $t->test_conf(conf(http => 'statsig_server_key secret-abcdef123456;'));
unlike($out, qr/abcdef123456/, 'a pasted key is not printed');

# the line number points at the offending directive
($rc, $out) = $t->test_conf(conf(location => 'statsig_user_field age $arg_a;'));
my @lines = split /\n/, StatsigTest::slurp($conf);
my ($line) = $out =~ /\Q$conf\E:(\d+)/;
like($lines[$line - 1], qr/statsig_user_field age/, 'line number is right');

done_testing;
