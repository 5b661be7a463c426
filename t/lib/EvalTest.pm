package EvalTest;

# Helpers for tests of the evaluation core through build/statsig-eval:
# locate the binaries and shared data, run a command, read JSON lines.
# Core Perl only.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use JSON::PP;

our @EXPORT_OK = qw(root shared oracle_dir eval_bin run_to_file
    read_jsonl json_canon);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');

sub root { return $ROOT }

# ../shared beside the repository, or undef
sub shared {
    my $d = "$ROOT/../shared";
    return -d $d ? abs_path($d) : undef;
}

# The oracle with its node_modules (make oracle), or undef
sub oracle_dir {
    my $d = "$ROOT/build/oracle";
    return -d "$d/node_modules/statsig-node" ? $d : undef;
}

sub eval_bin {
    my $b = $ENV{STATSIG_EVAL} || "$ROOT/build/statsig-eval";
    return -x $b ? $b : undef;
}

# Runs a command (list form) with stdout to a file; returns the exit code
# and stderr text.
sub run_to_file {
    my ($out, @cmd) = @_;
    my $err = "$out.stderr";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', $out) or die "$out: $!";
        open(STDERR, '>', $err) or die "$err: $!";
        exec(@cmd) or die "exec $cmd[0]: $!";
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    local $/;
    open(my $fh, '<', $err) or return ($rc, '');
    my $text = <$fh>;
    return ($rc, $text // '');
}

sub read_jsonl {
    my ($path) = @_;
    my $json = JSON::PP->new->utf8;
    my @rows;
    open(my $fh, '<', $path) or die "$path: $!";
    while (my $l = <$fh>) {
        next unless $l =~ /\S/;
        push @rows, $json->decode($l);
    }
    return \@rows;
}

my $CANON = JSON::PP->new->utf8->canonical->allow_nonref;

# Canonical text of a decoded JSON value, for equality checks.
sub json_canon { return $CANON->encode($_[0]) }

1;
