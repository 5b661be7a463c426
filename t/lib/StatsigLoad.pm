package StatsigLoad;

# The load driver of the shutdown tests (t/32-events-shutdown.t,
# t/35-sinks-shutdown.t): forked HTTP clients that record which users
# were served, a reload and then a graceful quit under that load, and a
# reader of what the fake received.  The tests differ in what a request
# makes (an exposure, vendor events), so what arrived is theirs to count
# and check; the sequence and its assertions are here.
#
#   my $stop = load(dir => $t->dir, url => $t->url('/gate'), tag => 'r',
#                   clients => 3, body => '1', pause => 0.003);
#   my @served = $stop->();     # ids of the users answered 200 $body
#
#   reload_and_quit(t => $t, url => ..., clients => 3, body => '1',
#       pause => 0.003,           # seconds between a client's requests
#       counts => sub { my ($tag) = @_; ... },  # users of "$tag-..." that
#                                 # arrived, a number a destination
#       flowing => [100, 100, 200],  # users to see arrive: before the
#                                 # reload, more after it, before the quit
#       flowing_name => 'events flowing',
#       arrived => sub { my ($served) = @_; ... },  # all of them arrived
#       min_served => 50,         # requests the load must have had served
#       check => sub { my ($what, $served) = @_; ... },  # 'reload', 'quit'
#       after_reload => sub { ... }, before_quit => sub { ... });
#
#   my $next = line_reader($path);  # $next->(): lines added since

use strict;
use warnings;

use Exporter qw(import);
use HTTP::Tiny;
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(time sleep);
use StatsigTest qw(wait_for slurp);

our @EXPORT_OK = qw(load reload_and_quit line_reader);

# $o{clients} clients, each requesting $o{url}?u=<fresh id> until the
# returned sub is called (or $o{limit} seconds, default 120, have passed:
# a test that died before stopping them leaves no client running); the
# ids served are written to $o{dir}/served-$tag-$i as they are
sub load {
    my (%o) = @_;
    my ($dir, $tag, $n) = @o{qw(dir tag clients)};
    my $until = time + ($o{limit} // 120);
    my @pids;
    unlink "$dir/stop-$tag";
    for my $i (1 .. $n) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            # _exit: no END blocks in the child (they would stop nginx)
            my $ua = HTTP::Tiny->new(keep_alive => 0, timeout => 5);
            open my $out, '>', "$dir/served-$tag-$i" or _exit(1);
            $out->autoflush(1);
            my $k = 0;
            until (-e "$dir/stop-$tag" || time > $until) {
                my $u = "$tag-$i-" . $k++;
                my $r = $ua->get("$o{url}?u=$u");
                if ($r->{status} == 200 && $r->{content} eq $o{body}) {
                    print $out "$u\n";
                } elsif ($r->{status} == 599) {
                    sleep 0.01;
                }
                sleep $o{pause};
            }
            close $out;
            _exit(0);
        }
        push @pids, $pid;
    }
    return sub {
        open my $fh, '>', "$dir/stop-$tag";
        close $fh;
        waitpid($_, 0) for @pids;
        my @served;
        push @served, split /\n/, slurp("$dir/served-$tag-$_") for 1 .. $n;
        return @served;
    };
}

# Load (users "r-...") across a reload: events keep flowing from the
# new workers and every served request's event arrives; then load
# ("q-...") across a graceful quit, which must deliver what is left
# before the workers exit.  See the top of this file for the parameters.
sub reload_and_quit {
    my (%o) = @_;
    # a parameter left out would make its assertion pass for nothing
    defined $o{$_} or die "reload_and_quit: no $_\n"
        for qw(t url clients body pause counts flowing arrived min_served
               check);
    my $t = $o{t};
    my ($before, $after, $again) = @{ $o{flowing} };
    my %load = (dir => $t->dir, map { $_ => $o{$_} }
                qw(url clients body pause limit));

    # every destination has more than $n users of $tag beyond @base
    my $above = sub {
        my ($tag, $n, @base) = @_;
        my @c = $o{counts}->($tag);
        return @c && !grep { $c[$_] <= ($base[$_] // 0) + $n } 0 .. $#c;
    };
    my $served = sub {
        my ($what, $s) = @_;
        ok(@$s > $o{min_served},
           "$what: load was served (" . @$s . " requests)");
        $o{check}->($what, $s);
    };

    # ---- reload under load ----

    my $stop = load(%load, tag => 'r');
    ok(wait_for(sub { $above->('r', $before) }, 20),
       $o{flowing_name} // 'events flowing');
    ok($t->reload, 'reloaded under load');
    my @base = $o{counts}->('r');
    ok(wait_for(sub { $above->('r', $after, @base) }, 20),
       'events flow from the new workers');

    my @served = $stop->();
    ok(wait_for(sub { $o{arrived}->(\@served) }, 20), 'reload: delivered');
    $served->('reload', \@served);
    $o{after_reload}->() if $o{after_reload};

    # ---- quit under load ----

    $stop = load(%load, tag => 'q');
    ok(wait_for(sub { $above->('q', $again) }, 20), 'events flowing again');
    $o{before_quit}->() if $o{before_quit};

    my $took = $t->stop;
    @served = $stop->();
    ok($took < 15, sprintf('nginx quit in %.1f s', $took));
    $served->('quit', \@served);
    unlike($t->error_log, qr/went back to the queue|were lost/,
           'quit: nothing left behind');
}

# Each call of the returned sub gives the lines added to $path since the
# last: the fake appends to its requests.jsonl while a test reads it, so
# a line whose "\n" has not been written yet waits for the next call.
sub line_reader {
    my ($path) = @_;
    my $offset = 0;
    return sub {
        open my $fh, '<', $path or return ();
        seek $fh, $offset, 0;
        my @lines;
        while (my $line = <$fh>) {
            last unless $line =~ /\n$/;
            $offset = tell $fh;
            push @lines, $line;
        }
        return @lines;
    };
}

1;
