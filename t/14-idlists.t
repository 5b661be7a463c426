#!/usr/bin/perl

# ID lists: the index from statsig_id_lists_url, each list downloaded with
# Range from the bytes already applied (+/- lines), stored in the zone and
# used by in_segment_list conditions in every worker; a replaced file
# (new fileID) and a removed list start over; a bad range is refetched;
# after a reload the new fetcher goes on from the offsets in the zone.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json idlist_id status all_workers server_conf);

my $t = StatsigTest->new(fake => 1, workers => 2);
my $f = $t->fake;

my ($alice, $bob) = (idlist_id('alice'), idlist_id('bob'));

$f->set_specs(dcs_json(time => 1000, flag => 1));
$f->add_id_list('vips', "+$alice\n");
$t->write_file('key', 'secret-idlists-0123456789');

$t->write_conf(server_conf(http => 'statsig_id_lists_sync_interval 1s;'));

sub vip { $t->get("/vip?u=$_[0]")->{content} }

# every worker answers $want for user $u
sub vip_everywhere {
    my ($u, $want) = @_;
    return wait_for(sub {
        my %pids;
        for (1 .. 20) {
            my $r = $t->get("/vip?u=$u");
            return 0 if $r->{content} ne $want;
        }
        return all_workers($t, sub { $_[0]{worker}{id_lists} == 1 }, 3);
    }, 6);
}

ok($t->run, 'started');

my @r = $f->wait_requests(1, path => qr{^/v1/get_id_lists$}, timeout => 5);
ok(@r, 'index requested');
is($r[0]{method}, 'POST', 'POST');
is($r[0]{body}, '{}', 'body {}');
ok($r[0]{headers}{'statsig-api-key'}, 'with the SDK headers');

@r = $f->wait_requests(1, path => qr{^/idlists/vips$}, timeout => 5);
is($r[0]{headers}{range}, 'bytes=0-', 'first download from offset 0');

ok(vip_everywhere('alice', '1'), 'alice is in the list in every worker');
is(vip('bob'), '0', 'bob is not');
my $s = status($t);
is($s->{id_lists}{count}, 1, 'status: one list');
is($s->{id_lists}{sync}{state}, 'ok', 'status: sync ok');

# ---- appended lines: only the new bytes are fetched ----

my $size = length "+$alice\n";
$f->add_id_list('vips', "+$alice\n+$bob\n-$alice\n");
ok(wait_for(sub { vip('bob') eq '1' && vip('alice') eq '0' }, 5),
   'appended +bob -alice applied');
ok(grep({ ($_->{headers}{range} // '') eq "bytes=$size-" }
        $f->requests(path => qr{^/idlists/vips$})),
   "then Range: bytes=$size-");

# ---- a new file (new fileID) replaces the list ----

$f->add_id_list('vips', "+$alice\n", fileID => 'file_vips_2',
                creationTime => 1700000001000);
ok(wait_for(sub { vip('alice') eq '1' && vip('bob') eq '0' }, 5),
   'a new file replaces the list');

# ---- a bad range is dropped and fetched again ----

$f->add_id_list('vips', "x$alice\n", fileID => 'file_vips_3',
                creationTime => 1700000002000);
ok(wait_for(sub { status($t)->{id_lists}{sync}{state} eq 'failing' }, 5),
   'data not starting with +/- is an error');
like(status($t)->{id_lists}{sync}{error}, qr/does not start with \+ or -/,
     'status says why');
$f->add_id_list('vips', "+$bob\n", fileID => 'file_vips_4',
                creationTime => 1700000003000);
ok(wait_for(sub { vip('bob') eq '1' && vip('alice') eq '0' }, 5),
   'a good file again');

# ---- a reload: the new fetcher goes on from the offsets in the zone ----

my $seen = () = $f->requests(path => qr{^/idlists/vips$});
ok($t->reload, 'reloaded: all workers are new, so is the fetcher');
is(vip('bob'), '1', 'the lists survive the reload');
my $len4 = length "+$bob\n";
$f->add_id_list('vips', "+$bob\n+$alice\n", fileID => 'file_vips_4',
                creationTime => 1700000003000);
ok(wait_for(sub { vip('alice') eq '1' && vip('bob') eq '1' }, 8),
   'lines appended after the reload applied');
my @all = $f->requests(path => qr{^/idlists/vips$});
my @after = @all[$seen .. $#all];
ok(@after, 'the list was fetched after the reload');
ok(!grep({ ($_->{headers}{range} // '') eq 'bytes=0-' } @after),
   'not from the start');
ok(grep({ ($_->{headers}{range} // '') eq "bytes=$len4-" } @after),
   "but with Range: bytes=$len4-, the offset kept in the zone");
like($t->error_log, qr/ID lists go on from the 1 in the zone/,
     'logged');

# ---- a removed list is gone ----

$f->control();
StatsigTest->can('write_file')->($t, $f->dir . '/id_lists.json', '{}');
ok(wait_for(sub { status($t)->{id_lists}{count} == 0 }, 5),
   'list removed from the index: removed from the zone');
is(vip('bob'), '0', 'nobody is in a missing list');

$t->stop;

done_testing;
