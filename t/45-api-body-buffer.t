#!/usr/bin/perl

# statsig_api reads an SDK's event batch in memory: statsig-node posts up
# to 1,000 events at once, and with nginx's default client_body_buffer_size
# (two pages) every batch went through a temporary file, with "a client
# request body is buffered to a temporary file" in the log each time.  A
# statsig_api location that leaves the size at the default gets 1 MB; one
# that sets it (in the location or above) keeps its own.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use StatsigTest;
use StatsigDCS qw(api_specs);

my $KEY = 'secret-api-body-0123456789';
my $J = JSON::PP->new->canonical;

my $t = StatsigTest->new;
$t->write_file('specs.json', $J->encode(api_specs()));
$t->write_file('key', "$KEY\n");
$t->write_conf(<<'EOF2');
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 2m;
    statsig_server_key file:%%TESTDIR%%/key;
    statsig_specs_file %%TESTDIR%%/specs.json;

    server {
        listen %%LISTEN%%;
        location /statsig/ { statsig_api; }
        location /small/ {
            statsig_api;
            client_body_buffer_size 64k;
        }
    }

    server {
        listen %%LISTEN_srv%%;
        client_body_buffer_size 32k;
        location /statsig/ { statsig_api; }
    }
}
EOF2
ok($t->run, 'started');

# 1,000 events as statsig-node batches them (uncompressed: ~300 kB)
my $batch = $J->encode({
    events => [ map { { eventName => 'batch_event', time => 1700000000000 + $_,
                        value => "value-$_",
                        metadata => { page => "/p/$_", ref => 'x' x 120 },
                        user => { userID => "user-$_",
                                  email => "user-$_\@example.com" } } }
                1 .. 1000 ],
    statsigMetadata => { sdkType => 'statsig-node', sdkVersion => '6.5.2' },
});
ok(length($batch) > 250_000, 'a batch of ' . length($batch) . ' bytes');

sub post {
    my ($path, %o) = @_;
    return $t->request('POST', $path, content => $batch, %o,
                       headers => { 'statsig-api-key' => $KEY });
}

my $temp = qr/buffered to a temporary file/;

for (1 .. 3) {
    is(post('/statsig/v1/log_event')->{status}, 202, "batch $_: 202");
}
unlike($t->error_log, $temp, 'no temporary file for the batches');

is(post('/small/v1/log_event')->{status}, 202,
   'a location with its own client_body_buffer_size: 202');
like($t->error_log, $temp, 'which it keeps: the batch went to a file');

my $n = () = $t->error_log =~ /$temp/g;
is(post('/statsig/v1/log_event', port => 'srv')->{status}, 202,
   'a server with its own client_body_buffer_size: 202');
my $m = () = $t->error_log =~ /$temp/g;
is($m, $n + 1, 'the server level is kept too');

$t->stop;

done_testing;
