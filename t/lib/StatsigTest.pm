package StatsigTest;

# Test harness for ngx_http_statsig_module: core Perl only.
#
#   use lib 't/lib';
#   use StatsigTest;
#
#   my $t = StatsigTest->new(fake => 1);        # test dir (+ fake Statsig)
#   $t->write_file('specs.json', $json);
#   $t->write_conf(<<'EOF');                     # template, see expand()
#   %%TEST_GLOBALS%%
#   http {
#       %%TEST_GLOBALS_HTTP%%
#       statsig_zone statsig 1m;
#       server {
#           listen %%LISTEN%%;
#           location /status { statsig_status; }
#       }
#   }
#   EOF
#   $t->run;                                     # start, wait until it answers
#   my $r = $t->get('/status');                  # HTTP::Tiny response hash
#   $t->reload;                                  # HUP + wait for new workers
#   $t->stop;                                    # QUIT, wait, check error.log
#   done_testing;
#
# Environment:
#   STATSIG_MODULE   path of the .so (default build/nginx/...so)
#   STATSIG_PRELOAD  LD_PRELOAD for nginx (the ASan runtime for ASan builds)
#   NGINX_BIN        default /usr/sbin/nginx
#   KEEP=1           keep test dirs (their path is printed)
#   TEST_NGINX_DEBUG=1   error_log at debug level

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

use FakeStatsig;

our @EXPORT_OK = qw(wait_for free_port slurp);

my $ROOT = abs_path(dirname(__FILE__) . '/../..');

our @ALL;    # live harness objects, for the END safety net

sub module_path {
    return $ENV{STATSIG_MODULE}
        || "$ROOT/build/nginx/ngx_http_statsig_module.so";
}

sub nginx_bin { $ENV{NGINX_BIN} || '/usr/sbin/nginx' }

sub root { $ROOT }

sub new {
    my ($class, %opts) = @_;

    my $so = module_path();
    BAIL_OUT("module $so not built (run make)") unless -f $so;

    my $dir = tempdir('statsig-t-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{KEEP});
    diag("test dir: $dir") if $ENV{KEEP};

    make_path("$dir/logs", "$dir/tmp");

    my $self = bless {
        dir     => $dir,
        module  => $so,
        ports   => {},
        workers => $opts{workers} // 2,
        pid     => undef,
    }, $class;

    $self->{fake} = FakeStatsig->new(dir => "$dir/fake") if $opts{fake};

    push @ALL, $self;
    return $self;
}

sub dir  { $_[0]{dir} }
sub fake { $_[0]{fake} }

# a free TCP port on 127.0.0.1; port('name') is stable per name
sub port {
    my ($self, $name) = @_;
    $name //= 'main';
    return $self->{ports}{$name} //= free_port();
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "cannot bind: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub globals {
    my ($self) = @_;
    my $d = $self->{dir};
    my $level = $ENV{TEST_NGINX_DEBUG} ? 'debug' : 'info';
    my $user = $> == 0 ? "user root;\n" : '';

    return "load_module $self->{module};\n"
        . $user
        . "daemon off;\nmaster_process on;\n"
        . "worker_processes $self->{workers};\n"
        . "pid $d/nginx.pid;\n"
        . "error_log $d/error.log $level;\n"
        . "events { worker_connections 256; }\n";
}

sub globals_http {
    my ($self) = @_;
    my $d = $self->{dir};
    return join '', map { "$_\n" }
        "access_log $d/logs/access.log;",
        "client_body_temp_path $d/tmp/client_body;",
        "proxy_temp_path $d/tmp/proxy;",
        "fastcgi_temp_path $d/tmp/fastcgi;",
        "uwsgi_temp_path $d/tmp/uwsgi;",
        "scgi_temp_path $d/tmp/scgi;";
}

# %%TEST_GLOBALS%%       load_module, daemon off, workers, pid, error_log,
#                        events {}
# %%TEST_GLOBALS_HTTP%%  access_log and every *_temp_path inside the dir
# %%TESTDIR%%            the test dir
# %%LISTEN%%             127.0.0.1:<port>        (%%PORT%% the number)
# %%LISTEN_x%%, %%PORT_x%%  more ports, one per name x
# %%FAKE_URL%%           http://127.0.0.1:<fake port>  (with fake => 1)
# %%FAKE_STATSIG%%       statsig_specs_url, statsig_id_lists_url and
#                        statsig_events_url on the fake's /v1/ paths
# %%MODULE%%             the .so path
sub expand {
    my ($self, $text) = @_;

    $text =~ s/%%TEST_GLOBALS%%/$self->globals/ge;
    $text =~ s/%%TEST_GLOBALS_HTTP%%/$self->globals_http/ge;
    $text =~ s/%%TESTDIR%%/$self->{dir}/g;
    $text =~ s/%%MODULE%%/$self->{module}/g;
    $text =~ s/%%LISTEN%%/'127.0.0.1:' . $self->port/ge;
    $text =~ s/%%PORT%%/$self->port/ge;
    $text =~ s/%%LISTEN_(\w+)%%/'127.0.0.1:' . $self->port($1)/ge;
    $text =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;
    $text =~ s{%%FAKE_STATSIG%%}{
        "statsig_specs_url %%FAKE_URL%%/v1/download_config_specs;\n"
        . "    statsig_id_lists_url %%FAKE_URL%%/v1/get_id_lists;\n"
        . "    statsig_events_url %%FAKE_URL%%/v1/log_event;"}ge;
    if ($text =~ /%%FAKE_URL%%/) {
        die "%%FAKE_URL%% needs new(fake => 1)" unless $self->{fake};
        my $u = $self->{fake}->url;
        $text =~ s/%%FAKE_URL%%/$u/g;
    }
    return $text;
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    make_path(dirname($path));
    open my $fh, '>', "$path.tmp" or die "$path: $!";
    binmode $fh;
    print $fh $content;
    close $fh or die "$path: $!";
    rename "$path.tmp", $path or die "rename $path: $!";
    return $path;
}

sub write_conf {
    my ($self, $template, $name) = @_;
    return $self->write_file($name // 'nginx.conf', $self->expand($template));
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub error_log { slurp("$_[0]{dir}/error.log") }

sub env_for_nginx {
    my %env;
    if ($ENV{STATSIG_PRELOAD}) {
        $env{LD_PRELOAD} = $ENV{STATSIG_PRELOAD};
        $env{ASAN_OPTIONS} = $ENV{ASAN_OPTIONS}
            // 'detect_leaks=0:detect_odr_violation=0';
        $env{UBSAN_OPTIONS} = $ENV{UBSAN_OPTIONS} // 'print_stacktrace=1';
    }
    return %env;
}

# nginx -t on a config text; returns (exit status, output)
sub test_conf {
    my ($self, $template) = @_;
    my $conf = $self->write_conf($template, 'nginx-t.conf');
    my %env = env_for_nginx();
    local @ENV{keys %env} = values %env;
    my $bin = nginx_bin();
    my $out = `$bin -t -p $self->{dir}/ -c $conf -e $self->{dir}/t-error.log 2>&1`;
    my $rc = $? >> 8;
    $out .= slurp("$self->{dir}/t-error.log");
    unlink "$self->{dir}/t-error.log";
    return ($rc, $out);
}

# start nginx with nginx.conf from the test dir; wait until it answers
sub run {
    my ($self, %opts) = @_;
    die "nginx already running" if $self->{pid};

    my $d = $self->{dir};
    unlink "$d/nginx.pid";
    my %env = env_for_nginx();

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open STDOUT, '>>', "$d/error.log" or die;
        open STDERR, '>>', "$d/error.log" or die;
        exec(nginx_bin(), '-p', "$d/", '-c', "$d/nginx.conf",
             '-e', "$d/error.log")
            or print STDERR "exec nginx: $!\n";
        POSIX::_exit(127);
    }
    $self->{pid} = $pid;

    my $port = $self->port;
    my $up = wait_for(sub {
        return 'dead' if waitpid($pid, WNOHANG) == $pid;
        return -s "$d/nginx.pid" && port_open($port);
    }, $opts{timeout} // 20);

    if (!$up || $up eq 'dead') {
        $self->{pid} = undef if $up && $up eq 'dead';
        diag("nginx did not start:\n" . $self->error_log);
        return 0;
    }
    return 1;
}

sub port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub worker_pids {
    my ($self) = @_;
    my @pids;
    for my $st (glob '/proc/[0-9]*/stat') {
        my $s = slurp($st);
        next unless $s =~ /^(\d+) \((.*)\) \S+ (\d+)/;
        push @pids, $1 if $3 == ($self->{pid} // -1) && $2 eq 'nginx';
    }
    return sort { $a <=> $b } @pids;
}

# HUP; wait until the workers are all new ones (the old ones left)
sub reload {
    my ($self, %opts) = @_;
    my @old = $self->worker_pids;
    my %old = map { $_ => 1 } @old;
    kill 'HUP', $self->{pid} or die "kill HUP: $!";
    return wait_for(sub {
        my @now = $self->worker_pids;
        return @now >= $self->{workers} && !grep { $old{$_} } @now;
    }, $opts{timeout} // 20);
}

# QUIT (graceful); then TERM, KILL. Checks error.log (one test) unless
# check => 0. Returns the stop duration in seconds.
sub stop {
    my ($self, %opts) = @_;
    my $pid = $self->{pid};
    my $t0 = time;
    if ($pid) {
        kill 'QUIT', $pid;
        my $gone = wait_for(sub { waitpid($pid, WNOHANG) == $pid },
                            $opts{timeout} // 30);
        if (!$gone) {
            diag("nginx did not exit on QUIT, sending TERM");
            kill 'TERM', $pid;
            $gone = wait_for(sub { waitpid($pid, WNOHANG) == $pid }, 10);
            if (!$gone) {
                kill 'KILL', $pid;
                waitpid($pid, 0);
            }
        }
        $self->{pid} = undef;
    }
    my $elapsed = time - $t0;
    $self->check_log unless defined $opts{check} && !$opts{check};
    return $elapsed;
}

# lines of error.log that fail a test
sub bad_log_lines {
    my ($self, $text) = @_;
    $text //= $self->error_log;
    my @bad = grep {
        /\[(alert|emerg|crit)\]/
        || /exited on signal/
        || /open socket #\d+ left/
        || /ERROR: AddressSanitizer/
        || /runtime error:/
        || /Sanitizer/
    } split /\n/, $text;
    return @bad;
}

# The bad lines but those a kill -9 of the given workers leaves: its exit,
# and the master's alert when it died holding the zone's lock (nginx then
# unlocks it).  No pid given: any worker's.
sub bad_log_lines_but_kills {
    my ($self, @pids) = @_;
    my $pid = @pids ? join('|', @pids) : '\d+';
    return grep { !/worker process (?:$pid) exited on signal 9/
                  && !/shared memory zone "[^"]*" was locked by (?:$pid)\b/ }
           $self->bad_log_lines;
}

sub check_log {
    my ($self, $name) = @_;
    $self->{checked} = 1;
    my @bad = $self->bad_log_lines;
    ok(!@bad, $name // 'error.log has no alert/emerg/crit/sanitizer lines')
        or diag(join("\n", @bad[0 .. ($#bad > 20 ? 20 : $#bad)]));
}

sub ua {
    my ($self) = @_;
    return $self->{ua} //= HTTP::Tiny->new(keep_alive => 0, timeout => 10,
                                           max_redirect => 0);
}

sub url {
    my ($self, $path, $port_name) = @_;
    return 'http://127.0.0.1:' . $self->port($port_name) . $path;
}

# get('/path', headers => {...}, port => 'name')
sub get {
    my ($self, $path, %opts) = @_;
    return $self->request('GET', $path, %opts);
}

sub request {
    my ($self, $method, $path, %opts) = @_;
    my %args;
    $args{headers} = $opts{headers} if $opts{headers};
    $args{content} = $opts{content} if defined $opts{content};
    return $self->ua->request($method, $self->url($path, $opts{port}),
                              \%args);
}

# raw request bytes over a socket; returns the raw response
sub raw {
    my ($self, $bytes, %opts) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1:' . $self->port($opts{port}),
        Proto => 'tcp', Timeout => 5) or die "connect: $!";
    print $s $bytes;
    local $/;
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm($opts{timeout} // 8);
    my $resp = <$s>;
    alarm(0);
    return $resp // '';
}

sub decode_json_body {
    my ($r) = @_;
    my $v = eval { JSON::PP->new->decode($r->{content}) };
    return $v;
}

# poll until $cb returns true (returns its value), or undef after $timeout s
sub wait_for {
    my ($cb, $timeout) = @_;
    $timeout //= 10;
    my $deadline = time + $timeout;
    my $delay = 0.01;
    while (1) {
        my $v = $cb->();
        return $v if $v;
        return undef if time > $deadline;
        sleep $delay;
        $delay = 0.2 if ($delay *= 2) > 0.2;
    }
}

sub wait_for_log {
    my ($self, $re, $timeout) = @_;
    return wait_for(sub { $self->error_log =~ $re }, $timeout);
}

sub DESTROY {
    my ($self) = @_;
    local $?;
    $self->_teardown;
}

sub _teardown {
    my ($self) = @_;
    return if $self->{torn};
    $self->{torn} = 1;
    if ($self->{pid}) {
        kill 'QUIT', $self->{pid};
        wait_for(sub { waitpid($self->{pid}, WNOHANG) == $self->{pid} }, 20)
            or do { kill 'KILL', $self->{pid}; waitpid($self->{pid}, 0) };
        $self->{pid} = undef;
        # too late for a test: report and fail the file
        my @bad = $self->bad_log_lines;
        if (@bad) {
            print STDERR "# error.log has bad lines after the last test:\n",
                map({ "#   $_\n" } @bad);
            $self->{failed_late} = 1;
        }
    }
    $self->{fake}->stop if $self->{fake};
}

END {
    my $late = 0;
    for my $t (@ALL) {
        next unless $t;
        $t->_teardown;
        $late ||= $t->{failed_late};
    }
    @ALL = ();
    $? = 1 if $late && !$?;
}

1;
