package EvalTest;

# Helpers for tests of the evaluation core through build/statsig-eval,
# and for the tests against the statsig-node oracle: locate the binaries
# and shared data (skipping the test when they are missing), run a
# command, read files and JSON lines.  Core Perl only.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use JSON::PP;
use Test::More;

our @EXPORT_OK = qw(root shared oracle_dir eval_bin run_to_file
    read_jsonl json_canon slurp need_fixtures need_oracle run_ok
    oracle_generated);

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

# Skips the whole test unless ../shared/oracle/fixtures (or the file or
# folder $what in it) is there, build/statsig-eval is built and node
# runs; returns (../shared, statsig-eval).
sub need_fixtures {
    my ($what) = @_;
    my $shared = shared();
    my $need = $shared && "$shared/oracle/fixtures"
        . (defined $what ? "/$what" : '');
    plan skip_all => 'no ../shared/oracle (the statsig-node oracle fixtures)'
        unless $need && -e $need;
    my $bin = eval_bin();
    plan skip_all => 'build/statsig-eval is not built (make cli)' unless $bin;
    plan skip_all => 'node is not installed'
        unless system('node -e 0 >/dev/null 2>&1') == 0;
    return ($shared, $bin);
}

# Skips the whole test unless the oracle is installed in build/oracle
# (make oracle, from ../shared/oracle) and node runs; returns its folder.
sub need_oracle {
    my $oracle = "$ROOT/build/oracle";
    plan skip_all => '../shared is absent: no oracle to compare with'
        unless -d "$ROOT/../shared/oracle";
    plan skip_all => 'no build/oracle (run make oracle)'
        unless -d "$oracle/node_modules";
    plan skip_all => 'node is not installed'
        unless `node --version 2>/dev/null`;
    return $oracle;
}

# A test that the shell command $cmd exits 0; its stderr (kept in
# $dir/cmd.err) is the diagnostic when it does not.
sub run_ok {
    my ($dir, $cmd, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;  # the caller's line
    system("$cmd 2> $dir/cmd.err");
    return is($? >> 8, 0, $name) || diag(slurp("$dir/cmd.err"));
}

# The text of a file, '' when it cannot be read
sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    return <$fh> // '';
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

# Generated specs and users (the oracle's gen.js) in $dir/gen, and
# statsig-node's answers for them without ID lists (the module has none in
# local mode): returns (\@users, \@expected), expected[user]{kind}{name}
# the last answer for the name (as the SDK keeps duplicates), kind gate,
# config (configs and experiments) or layer.  Bails out if a step fails.
sub oracle_generated {
    my ($dir, %o) = @_;
    my $oracle = oracle_dir() // BAIL_OUT('no oracle');
    my $json = JSON::PP->new->utf8;

    open(my $fh, '>', "$dir/idlists-none.json") or die "$dir: $!";
    print $fh '{}';
    close $fh;

    system("node $oracle/gen.js --seed $o{seed} --specs $o{specs} "
           . "--users $o{users} --out $dir/gen > $dir/gen.log 2>&1") == 0
        or BAIL_OUT('gen.js: ' . slurp("$dir/gen.log"));
    system("node $oracle/oracle.js --idlists $dir/idlists-none.json "
           . "$dir/gen/dcs.json $dir/gen/users.jsonl > $dir/eval.jsonl "
           . "2> $dir/oracle.log") == 0
        or BAIL_OUT('oracle.js: ' . slurp("$dir/oracle.log"));

    # json =>: the caller's decoder, so that strings compare with its own
    my $dec = $o{json} // $json;
    my @users = map { $dec->decode($_) } grep { /\S/ }
                split /\n/, slurp("$dir/gen/users.jsonl");
    my @expected;
    for my $e (map { $dec->decode($_) } grep { /\S/ }
               split /\n/, slurp("$dir/eval.jsonl"))
    {
        my $k = $e->{kind} eq 'gate' ? 'gate'
              : $e->{kind} eq 'layer' ? 'layer' : 'config';
        $expected[$e->{user_index}]{$k}{$e->{name}} = $e;
    }

    return (\@users, \@expected);
}

my $CANON = JSON::PP->new->utf8->canonical->allow_nonref;

# Canonical text of a decoded JSON value, for equality checks.
sub json_canon { return $CANON->encode($_[0]) }

1;
