package FakeStatsig;

# A fake Statsig API on 127.0.0.1: a forked Perl HTTP/1.1 server (one
# process per connection, keep-alive) that serves files from its directory.
#
#   my $f = FakeStatsig->new(dir => "$dir/fake");   # starts it
#   $f->url                         http://127.0.0.1:PORT
#   $f->set_specs($json_text)       dcs.json served for every key
#   $f->set_specs($json, 'key')     dcs-<key>.json, for that key only
#   $f->set_specs_v2($json_text)    dcs-v2.json, the DCS v2 document
#   $f->set_specs($json, undef, time => T)   its "time" told (big ones)
#   $f->add_id_list($name, $text)   idlists/<name> + the get_id_lists index
#   $f->control(dcs => 'status500') per-endpoint behaviour, see below
#   $f->requests                    list of recorded requests (hashes)
#   $f->requests(path => qr{...})   filtered (also method => 'POST')
#   $f->wait_requests($n, %filter, timeout => 10)
#   $f->stop
#
# Endpoints:
#   GET  /v1/download_config_specs/<key>.json[?sinceTime=N]   ("dcs")
#        the specs file; {"has_updates":false} when sinceTime >= its time
#   GET  /v2/download_config_specs/<key>.json[?sinceTime=N]   ("dcs_v2")
#        the same with dcs-v2.json (as Statsig's CDN serves the Rust-core
#        SDKs), 404 when there is none
#   POST /v1/get_id_lists                                     ("id_lists")
#   GET  /idlists/<name>  (Range: bytes=N- supported)         ("id_list")
#   POST /v1/log_event  -> 202 {"success":true}               ("log_event")
#   POST /api/v1/customers/<id>/events -> 200 {}    Customer.io ("cio_event")
#   POST /api/v1/events                -> 200 {}    Customer.io ("cio_anon")
#   POST /api/v2/batch                 -> 200 {}    Customer.io ("cio_batch");
#        207 {"errors":[{batch_index,...}]} naming the items whose name
#        starts with "invalid", as Customer.io names items it refuses
#   POST /v1/events/custom             -> 201 {}    Gainsight PX ("gainsight")
#   GET  /_control?<endpoint>=<mode>  sets a mode (for curl/manual use)
#
# Modes (control.json, re-read on every request; default "normal"):
#   normal     as above
#   status500  500 {"error":"fake"}
#   status401  401
#   statusNNN  NNN {"error":"fake NNN"} (any other status)
#   max_eventsN  log_event: 413 when the body holds more than N events
#   refuse     200 {"success":false}
#   timeout    read the request, then hold the connection without answering
#   garbage    200 with a non-JSON body
#   truncated  200, the first half of the JSON (Content-Length matches)
#   short      Content-Length of the full body, half sent, then close
#   no_updates 200 {"has_updates":false}
#   full       the specs file even when sinceTime >= its time
# control(delay_ms => N) delays every answer.
#
# Every request is appended to requests.jsonl: {"time","method","path",
# "query","headers"{lower-case},"body" (gunzipped when Content-Encoding:
# gzip, through the zstd tool when zstd),"json" (decoded body, when it is
# JSON),"control" (the modes it was answered with)}.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use File::Path qw(make_path);
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub new {
    my ($class, %opts) = @_;
    my $dir = $opts{dir} or die "dir required";
    make_path("$dir/idlists");

    my $self = bless { dir => $dir, parent => $$ }, $class;

    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $opts{port} // 0,
        Proto => 'tcp', Listen => 64, ReuseAddr => 1)
        or die "fake statsig: cannot listen: $!";
    $self->{port} = $listen->sockport;

    $self->control() unless -f "$dir/control.json";
    _write("$dir/id_lists.json", '{}') unless -f "$dir/id_lists.json";

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        _serve($self, $listen);
        POSIX::_exit(0);
    }
    close $listen;
    $self->{pid} = $pid;
    return $self;
}

sub url  { 'http://127.0.0.1:' . $_[0]{port} }
sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }

sub _write {
    my ($path, $content) = @_;
    open my $fh, '>', "$path.tmp" or die "$path: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    rename "$path.tmp", $path or die "$path: $!";
}

sub _read {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

# time => T: the document's "time", told rather than found by decoding it
# on each sinceTime request (JSON::PP takes seconds for megabytes)
sub set_specs {
    my ($self, $json, $key, %o) = @_;
    _set($self, $key ? "dcs-$key.json" : 'dcs.json', $json, $o{time});
}

sub set_specs_v2 {
    my ($self, $json, %o) = @_;
    _set($self, 'dcs-v2.json', $json, $o{time});
}

sub _set {
    my ($self, $name, $json, $time) = @_;
    $json = $JSON->encode($json) if ref $json;
    unlink "$self->{dir}/$name.time";
    _write("$self->{dir}/$name", $json);
    _write("$self->{dir}/$name.time", $time) if defined $time;
}

sub add_id_list {
    my ($self, $name, $content, %meta) = @_;
    _write("$self->{dir}/idlists/$name", $content);
    my $index = $JSON->decode(_read("$self->{dir}/id_lists.json") || '{}');
    $index->{$name} = {
        name => $name,
        size => length($content),
        url => $self->url . "/idlists/$name",
        creationTime => $meta{creationTime} // 1700000000000,
        fileID => $meta{fileID} // "file_$name",
    };
    _write("$self->{dir}/id_lists.json", $JSON->encode($index));
}

# control(dcs => 'status500', log_event => 'normal', delay_ms => 0)
# control() resets everything to normal
sub control {
    my ($self, %c) = @_;
    my $cur = {};
    $cur = $JSON->decode(_read("$self->{dir}/control.json") || '{}')
        if %c;
    @$cur{keys %c} = values %c;
    _write("$self->{dir}/control.json", $JSON->encode($cur));
}

# Customer.io's identified events as the fake received them, from v1
# requests and v2 batch items alike: hashes {person, name, id, timestamp,
# data, via => 'v1'|'v2', control => the endpoint's mode, index}.
sub cio_events {
    my ($self) = @_;
    my @out;
    for my $r ($self->requests) {
        if ($r->{path} =~ m{^/api/v1/customers/([^/]+)/events$}) {
            my $j = $r->{json} // {};
            push @out, { person => _unescape($1), name => $j->{name},
                         id => $j->{id}, timestamp => $j->{timestamp},
                         data => $j->{data}, via => 'v1',
                         control => $r->{control}{cio_event} // 'normal',
                         request => $r };
        } elsif ($r->{path} eq '/api/v2/batch') {
            my $items = ($r->{json} // {})->{batch} // [];
            for my $i (0 .. $#$items) {
                my $j = $items->[$i];
                push @out, { person => $j->{identifiers}{id},
                             name => $j->{name}, id => $j->{id},
                             timestamp => $j->{timestamp},
                             data => $j->{attributes}, via => 'v2',
                             control => $r->{control}{cio_batch} // 'normal',
                             index => $i, item => $j, request => $r };
            }
        }
    }
    return @out;
}

sub _unescape {
    my ($s) = @_;
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex $1)/ge;
    return $s;
}

sub requests {
    my ($self, %f) = @_;
    my $text = _read("$self->{dir}/requests.jsonl") // '';
    my @r;
    for my $line (split /\n/, $text) {
        my $r = eval { $JSON->decode($line) } or next;
        next if $f{path} && $r->{path} !~ $f{path};
        next if $f{method} && $r->{method} ne $f{method};
        push @r, $r;
    }
    return @r;
}

sub wait_requests {
    my ($self, $n, %f) = @_;
    my $timeout = delete $f{timeout} // 10;
    my $deadline = time + $timeout;
    while (1) {
        my @r = $self->requests(%f);
        return @r if @r >= $n;
        return () if time > $deadline;
        sleep 0.05;
    }
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $$ == $self->{parent};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    $self->{pid} = undef;
}

sub DESTROY { local $?; $_[0]->stop }

# ------------------------------------------------------------ server ----

sub _serve {
    my ($self, $listen) = @_;
    my %kids;
    my $parent = $self->{parent};

    $SIG{TERM} = sub { kill 'TERM', keys %kids; POSIX::_exit(0) };
    $SIG{CHLD} = sub {
        while ((my $k = waitpid(-1, WNOHANG)) > 0) { delete $kids{$k} }
    };

    $listen->blocking(1);
    my $sel = '';
    vec($sel, fileno($listen), 1) = 1;

    while (1) {
        # the test process died without stopping us: leave
        if (getppid() != $parent) {
            kill 'TERM', keys %kids;
            POSIX::_exit(0);
        }
        my $rin = $sel;
        my $n = select($rin, undef, undef, 0.5);
        next unless $n && $n > 0;
        my $c = $listen->accept or next;
        my $pid = fork();
        if (!defined $pid) { close $c; next }
        if ($pid == 0) {
            $SIG{TERM} = 'DEFAULT';
            $SIG{CHLD} = 'DEFAULT';
            close $listen;
            alarm(120);
            eval { _connection($self, $c) };
            POSIX::_exit(0);
        }
        $kids{$pid} = 1;
        close $c;
    }
}

sub _connection {
    my ($self, $c) = @_;
    binmode $c;
    my $buf = '';

    while (1) {
        # headers
        while ($buf !~ /\r?\n\r?\n/) {
            my $got = sysread($c, $buf, 65536, length $buf);
            return unless $got;
        }
        $buf =~ s/^(.*?)\r?\n\r?\n//s;
        my ($reqline, @hl) = split /\r?\n/, $1;
        my ($method, $target, $proto) = split / /, $reqline // '';
        return unless $method && $target;
        my %h;
        for (@hl) {
            my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
            $k = lc $k;
            $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
        }

        # body: Content-Length or chunked
        my $body = '';
        if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            while (1) {
                while ($buf !~ /\r\n/) {
                    sysread($c, $buf, 65536, length $buf) or return;
                }
                $buf =~ s/^([0-9a-fA-F]+)[^\r]*\r\n// or return;
                my $size = hex $1;
                while (length($buf) < $size + 2) {
                    sysread($c, $buf, 65536, length $buf) or return;
                }
                $body .= substr($buf, 0, $size);
                substr($buf, 0, $size + 2) = '';
                last if $size == 0;
            }
        } elsif (my $len = $h{'content-length'}) {
            while (length($buf) < $len) {
                sysread($c, $buf, 65536, length $buf) or return;
            }
            $body = substr($buf, 0, $len);
            substr($buf, 0, $len) = '';
        }

        my $keep = _handle($self, $c, $method, $target, \%h, $body);
        return unless $keep;
        return if ($h{connection} // '') =~ /close/i;
        return if ($proto // '') eq 'HTTP/1.0'
            && ($h{connection} // '') !~ /keep-alive/i;
    }
}

sub _record {
    my ($self, $method, $path, $query, $h, $body, $ctl) = @_;
    if (($h->{'content-encoding'} // '') =~ /gzip/i) {
        my $out;
        gunzip(\$body => \$out) or $out = "GUNZIP ERROR: $GunzipError";
        $body = $out;
    } elsif (($h->{'content-encoding'} // '') =~ /zstd/i) {
        $body = _unzstd($self, $body);
    }
    my %q;
    for (split /&/, $query // '') {
        my ($k, $v) = split /=/, $_, 2;
        $q{$k} = $v // '';
    }
    my $rec = {
        time => time, method => $method, path => $path,
        query => \%q, headers => $h, body => $body,
        control => $ctl // {},
    };
    my $j = eval { $JSON->decode($body) } if length $body;
    $rec->{json} = $j if defined $j;
    my $line = $JSON->encode($rec) . "\n";
    open my $fh, '>>', "$self->{dir}/requests.jsonl" or return;
    binmode $fh;
    syswrite $fh, $line;    # one write: atomic enough for O_APPEND
    close $fh;
}

# the zstd tool's reading of a body (one connection a process: one file)
sub _unzstd {
    my ($self, $body) = @_;
    my $in = "$self->{dir}/zstd-in.$$";
    _write($in, $body);
    my $out = `zstd -q -d -c $in 2>/dev/null`;
    my $ok = $? == 0;
    unlink $in;
    return $ok ? $out : 'ZSTD ERROR';
}

sub _respond {
    my ($c, $status, $body, %h) = @_;
    my %reason = (200 => 'OK', 202 => 'Accepted', 206 => 'Partial Content',
                  400 => 'Bad Request', 401 => 'Unauthorized', 413 => 'Too Large',
                  404 => 'Not Found', 416 => 'Range Not Satisfiable',
                  500 => 'Internal Server Error');
    my $len = delete $h{_length} // length $body;
    my $head = "HTTP/1.1 $status " . ($reason{$status} // 'X') . "\r\n"
        . "Content-Length: $len\r\n";
    $h{'Content-Type'} //= 'application/json';
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    syswrite $c, "$head\r\n$body";
}

sub _handle {
    my ($self, $c, $method, $target, $h, $body) = @_;
    my ($path, $query) = split /\?/, $target, 2;

    my $ctl = eval { $JSON->decode(_read("$self->{dir}/control.json")) }
        || {};

    $self->_record($method, $path, $query, $h, $body, $ctl)
        unless $path eq '/_control';

    if ($path eq '/_control') {
        my %c;
        for (split /&/, $query // '') {
            my ($k, $v) = split /=/, $_, 2;
            $c{$k} = $v;
        }
        @$ctl{keys %c} = values %c;
        _write("$self->{dir}/control.json", $JSON->encode($ctl));
        _respond($c, 200, $JSON->encode($ctl));
        return 1;
    }

    my ($ep, $key);
    if ($path =~ m{^/v1/download_config_specs/([^/]+?)(?:\.json)?$}) {
        ($ep, $key) = ('dcs', $1);
    } elsif ($path eq '/v1/download_config_specs') {
        $ep = 'dcs';
    } elsif ($path =~ m{^/v2/download_config_specs/([^/]+?)(?:\.json)?$}) {
        ($ep, $key) = ('dcs_v2', $1);
    } elsif ($path eq '/v1/get_id_lists') {
        $ep = 'id_lists';
    } elsif ($path =~ m{^/idlists/([\w.-]+)$}) {
        ($ep, $key) = ('id_list', $1);
    } elsif ($path eq '/v1/log_event') {
        $ep = 'log_event';
    } elsif ($path =~ m{^/api/v1/customers/([^/]+)/events$}) {
        ($ep, $key) = ('cio_event', $1);
    } elsif ($path eq '/api/v1/events') {
        $ep = 'cio_anon';
    } elsif ($path eq '/api/v2/batch') {
        $ep = 'cio_batch';
    } elsif ($path eq '/v1/events/custom') {
        $ep = 'gainsight';
    } else {
        _respond($c, 404, '{"error":"not found"}');
        return 1;
    }

    sleep($ctl->{delay_ms} / 1000) if $ctl->{delay_ms};

    my $mode = $ctl->{$ep} // 'normal';

    my $full;
    if ($ep eq 'dcs' || $ep eq 'dcs_v2') {
        my $file = $ep eq 'dcs_v2' ? 'dcs-v2.json'
                 : defined $key && -f "$self->{dir}/dcs-$key.json"
                 ? "dcs-$key.json" : 'dcs.json';
        $full = _read("$self->{dir}/$file");
        if (!defined $full) {
            _respond($c, 404, '{"error":"no specs"}');
            return 1;
        }
        my %q = map { split /=/, $_, 2 } grep { /=/ } split /&/, $query // '';
        if ($mode eq 'normal' && defined $q{sinceTime}) {
            # "full" skips this: an older or equal time is sent as is
            my $time = _read("$self->{dir}/$file.time");
            $time //= eval { $JSON->decode($full)->{time} };
            if (defined $time && $q{sinceTime} >= $time) {
                $full = '{"has_updates":false}';
            }
        }
    } elsif ($ep eq 'id_lists') {
        $full = _read("$self->{dir}/id_lists.json") // '{}';
    } elsif ($ep eq 'id_list') {
        $full = _read("$self->{dir}/idlists/$key");
        if (!defined $full) {
            _respond($c, 404, '');
            return 1;
        }
    } else {
        $full = '{"success":true}';
    }

    if ($mode eq 'status500') {
        _respond($c, 500, '{"error":"fake"}');
        return 1;
    }
    if ($mode eq 'status401') {
        _respond($c, 401, '{"error":"unauthorized"}');
        return 1;
    }
    if ($mode =~ /^status(\d\d\d)$/) {
        _respond($c, $1, qq({"error":"fake $1"}));
        return 1;
    }
    if ($mode =~ /^max_events(\d+)$/ && $ep eq 'log_event') {
        my $plain = $body;
        if (($h->{'content-encoding'} // '') eq 'gzip') {
            my $out;
            $plain = gunzip(\$body => \$out) ? $out : '';
        }
        my $n = eval { scalar @{ $JSON->decode($plain)->{events} } } // 0;
        if ($n > $1) {
            _respond($c, 413, qq({"error":"$n events is too many"}));
            return 1;
        }
        $mode = 'normal';
    }
    if ($mode eq 'refuse') {
        _respond($c, 200, '{"success":false}');
        return 1;
    }
    if ($mode eq 'timeout') {
        # hold the connection until the client gives up
        my $x;
        while (sysread($c, $x, 4096)) { }
        return 0;
    }
    if ($mode eq 'garbage') {
        _respond($c, 200, "<html>this is not json\x00\xff</html>");
        return 1;
    }
    if ($mode eq 'truncated') {
        _respond($c, 200, substr($full, 0, int(length($full) / 2)));
        return 1;
    }
    if ($mode eq 'short') {
        _respond($c, 200, substr($full, 0, int(length($full) / 2)),
                 _length => length $full);
        return 0;
    }
    if ($mode eq 'no_updates') {
        _respond($c, 200, '{"has_updates":false}');
        return 1;
    }

    if ($ep eq 'log_event') {
        _respond($c, 202, $full);
        return 1;
    }

    if ($ep eq 'cio_event' || $ep eq 'cio_anon') {
        _respond($c, 200, '{}');
        return 1;
    }

    if ($ep eq 'cio_batch') {
        my $items = eval { $JSON->decode($body)->{batch} };
        if (ref $items ne 'ARRAY') {
            _respond($c, 400, '{"meta":{"errors":["malformed batch"]}}');
            return 1;
        }
        my @err = map { +{ batch_index => $_, reason => 'invalid',
                           field => 'name',
                           message => 'refused by the fake' } }
                  grep { ($items->[$_]{name} // '') =~ /^invalid/ }
                  0 .. $#$items;
        if (@err) {
            _respond($c, 207, $JSON->encode({ errors => \@err }));
        } else {
            _respond($c, 200, '{}');
        }
        return 1;
    }

    if ($ep eq 'gainsight') {
        _respond($c, 201, '{}');
        return 1;
    }

    if ($ep eq 'id_list') {
        my $ct = 'text/plain';
        if (($h->{range} // '') =~ /^bytes=(\d+)-(\d*)$/) {
            my ($from, $to) = ($1, $2);
            my $size = length $full;
            $to = $size - 1 if $to eq '' || $to >= $size;
            if ($from >= $size) {
                _respond($c, 416, '', 'Content-Range' => "bytes */$size",
                         'Content-Type' => $ct);
                return 1;
            }
            _respond($c, 206, substr($full, $from, $to - $from + 1),
                     'Content-Range' => "bytes $from-$to/$size",
                     'Content-Type' => $ct);
            return 1;
        }
        _respond($c, 200, $full, 'Content-Type' => $ct);
        return 1;
    }

    _respond($c, 200, $full);
    return 1;
}

1;
