#!/usr/bin/perl

# Nothing lost across restarts and faults (issue 17): the ID lists kept
# on disk beside the specs file and loaded at start, a failed specs-file
# write retried until it succeeds, idle workers letting go of old
# snapshots, and the smaller ones (a specs document too big for the zone,
# a refused connect counted as a request, the log's wording when there is
# no last good snapshot).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use StatsigTest qw(wait_for);
use StatsigDCS qw(dcs_json idlist_id status all_workers server_conf);

# the fetcher has applied the specs with time $time: it asks with it
sub applied {
    my ($f, $time) = @_;
    return wait_for(sub {
               grep { ($_->{query}{sinceTime} // '') eq $time }
                   $f->requests(path => qr{^/v1/download_config_specs/})
           }, 10);
}

# ---- idle workers let go of old snapshots ----
#
# Every worker has served a request (each holds a generation); then new
# specs come every second and no request reaches the workers.  Before,
# a worker kept the generation of its last request: the zone held every
# snapshot published since.  Now an idle worker lets go at its tick.

{
    my $t = StatsigTest->new(fake => 1, workers => 4);
    my $f = $t->fake;

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(server_conf());

    ok($t->run, 'idle: started with 4 workers');
    ok(all_workers($t, sub { $_[0]{worker}{loaded} }, 20),
       'idle: every worker has served with the specs');

    # one request after each: it moves one worker, the others stay idle
    my @retired;
    for my $i (1 .. 6) {
        my $time = 1000 + $i;
        $f->set_specs(dcs_json(time => $time, flag => $i % 2));
        ok(applied($f, $time), "idle: specs $time applied");
        push @retired, status($t)->{zone}{retired};
    }

    my $max = (sort { $b <=> $a } @retired)[0];
    ok($max <= 2, 'idle: at most 2 snapshots retired and still held')
        or diag("retired after each publish: @retired");

    $t->stop;
}

sub durable_conf {
    return server_conf(http => "statsig_specs_file %%TESTDIR%%/specs.json;\n"
                             . "    statsig_id_lists_sync_interval 1s;");
}

# ---- a failed specs-file write is retried until it works ----
#
# The tests may run as root, for whom a directory without write
# permission is writable: the write is made to fail with a directory in
# place of each worker's temporary file (open() fails with EISDIR for
# root too), then the directories are removed.  The file must catch up
# with no new specs from Statsig.  Before, it stayed at the old specs.

sub file_time {
    my $d = eval { JSON::PP->new->decode(StatsigTest::slurp($_[0])) };
    return $d ? $d->{time} // 0 : 0;
}

{
    my $t = StatsigTest->new(fake => 1, workers => 2);
    my $f = $t->fake;
    my $specs = $t->dir . '/specs.json';

    $f->set_specs(dcs_json(time => 1000, flag => 1));
    $t->write_file('key', 'secret-durable-0123456789');
    $t->write_conf(durable_conf());

    ok($t->run, 'write: started');
    ok(wait_for(sub { file_time($specs) == 1000 }, 10),
       'write: the specs file written');

    my @tmp = map { "$specs.tmp.$_" } $t->worker_pids;
    mkdir $_ for @tmp;

    $f->set_specs(dcs_json(time => 2000, flag => 0));
    my $st;
    ok(wait_for(sub { $st = status($t);
                      ($st->{specs}{time} // 0) == 2000
                      && $st->{specs}{file_state}{pending} }, 10),
       'write: new specs in the zone, their file write pending');
    like($st->{specs}{file_state}{error} // '', qr/Is a directory/,
         'write: status says why');
    is(file_time($specs), 1000, 'write: the file is behind');
    ok($t->wait_for_log(qr/cannot write the specs file "\Q$specs\E"/, 5),
       'write: logged');

    rmdir $_ for @tmp;
    ok(wait_for(sub { file_time($specs) == 2000 }, 15),
       'write: the file catches up with no new specs from Statsig');
    ok(wait_for(sub { $st = status($t);
                      !$st->{specs}{file_state}{pending} }, 5),
       'write: nothing pending');
    ok(!defined $st->{specs}{file_state}{error}, 'write: no error');
    ok($t->wait_for_log(qr/the specs file "\Q$specs\E" is written again/, 5),
       'write: the recovery logged');
    $t->stop;
}

done_testing;
