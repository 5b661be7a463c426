# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034, SC2154: the variables set here are the scripts', and the
# scripts set those used here)
# Helpers shared by the bench/*.sh scripts, sourced after their
# "set -euo pipefail":
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It sets root (the repository), so (the module, STATSIG_MODULE or
# build/), user ("user root;" when run as root) and hz (clock ticks a
# second) and defines functions; it starts nothing.  The functions use
# the script's dir (its temporary folder), port (the module's nginx),
# sport (the stand-in) and conns (wrk's connections) where they say so.
# Not a benchmark itself: the Makefile's bench target leaves it out.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
so=${STATSIG_MODULE:-$root/build/nginx/ngx_http_statsig_module.so}
user=; [ "$(id -u)" = 0 ] && user="user root;"
hz=$(getconf CLK_TCK)

# "$statsig_gate_<name> ..." of the first 10 feature gates (not holdouts
# or segments) of the specs file $1: the dev-set's variables
dev_gate_vars() {
    perl -MJSON::PP -e '
        local $/; open my $f, "<", $ARGV[0] or die;
        my @g = grep { ($_->{entity} // "") eq "feature_gate" }
            @{ decode_json(<$f>)->{feature_gates} };
        print join " ", map { "\$statsig_gate_$_->{name}" } @g[0 .. 9];' "$1"
}

# a free TCP port on 127.0.0.1
freeport() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1:0",Listen=>1)->sockport'
}

# QUIT to the nginx of pid file $1, then wait (10 s at most) until it is
# gone, so that the next one can bind its port and the folder can go
quit() {
    local pid i
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    kill -QUIT "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$1"
}

# the EXIT trap: stops the module's nginx and the stand-in (either may
# never have started), then removes $dir unless KEEP is set
cleanup() {
    quit "$dir/nginx.pid"
    quit "$dir/sink/nginx.pid"
    if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}

# wait (5 s at most) until URL $1 answers 2xx: nginx starts as a daemon
# and the master returns before the workers accept
wait_http() {
    local _
    for _ in $(seq 50); do
        curl -sf "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
}

# CPU ticks (user + system; $2 = sys: system only) used so far by the
# workers of the master in pid file $1 (a worker gone meanwhile counts 0)
cpu() {
    local m w sum=0 f='$14 + $15'
    m=$(cat "$1")
    [ "${2:-}" = sys ] && f='$15'
    for w in $(pgrep -P "$m"); do
        sum=$((sum + $(awk "{ print $f }" "/proc/$w/stat" 2>/dev/null \
                       || echo 0)))
    done
    echo "$sum"
}

# the median of numbers on stdin, separated by spaces or newlines (0 for
# none)
median() {
    tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# The stand-in for Statsig's API (and whatever else $2 adds): a plain
# nginx, 1 worker, on 127.0.0.1:$sport, in $dir/sink.  /v1/log_event
# answers 202 {"success":true} and logs each request's
# STATSIG-EVENT-COUNT to $dir/sink/$1 (log format "n"); anything else is
# 200 {"has_updates":false} (specs and ID lists unchanged).  $2: more
# locations, which may log with the format "one" (a constant line).
standin_start() {
    mkdir -p "$dir/sink"
    cat > "$dir/sink/nginx.conf" <<EOF
$user
worker_processes 1;
pid $dir/sink/nginx.pid;
error_log $dir/sink/error.log warn;
events { worker_connections 1024; }
http {
    log_format one '1';
    # the event count and the request's end, for a delivery rate that
    # does not hang on a poll's period
    log_format n '\$http_statsig_event_count \$msec';
    map \$status \$accepted { ~^2 1; default 0; }
    access_log off;
    client_body_temp_path $dir/sink;
    client_max_body_size 64m;
    client_body_buffer_size 4m;
    keepalive_requests 1000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$sport;
$2
        location = /v1/log_event {
            # the accepted batches; 503 while log_event_down is in its folder
            access_log $dir/sink/$1 n if=\$accepted;
            if (-f $dir/sink/log_event_down) {
                return 503 '{"error":"down"}';
            }
            return 202 '{"success":true}';
        }
        location / {
            return 200 '{"has_updates":false}';
        }
    }
}
EOF
    /usr/sbin/nginx -p "$dir/sink/" -c "$dir/sink/nginx.conf" \
        -e "$dir/sink/error.log"
}

# The top of a module's nginx.conf in $dir, up to inside "http {": $1
# the process lines ("worker_processes 2;"), $2 error_log's level
# (default warn), $3 worker_connections (default 1024)
conf_head() {
    cat <<EOF
load_module $so;
$user
$1
pid $dir/nginx.pid;
error_log $dir/error.log ${2:-warn};
events { worker_connections ${3:-1024}; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
EOF
}

# The module's nginx on 127.0.0.1:$port, in $dir, zone 64m, demo specs
# from $dir/specs.json, Statsig's URLs on the stand-in, the user from
# ?u=: $1 the workers, $2 more http-level lines, $3 the locations
# (/status is there already).  Returns once /status answers.
module_start() {
    { conf_head "worker_processes $1;" warn 4096; cat <<EOF
    statsig_zone statsig ${ZONE:-64m};
    statsig_specs_file $dir/specs.json;
    statsig_specs_url http://127.0.0.1:$sport/v1/download_config_specs;
    statsig_id_lists_url http://127.0.0.1:$sport/v1/get_id_lists;
    statsig_events_url http://127.0.0.1:$sport/v1/log_event;
    statsig_user_id \$arg_u;
    $2
    server {
        listen 127.0.0.1:$port;
$3
        location /status { statsig_status; }
    }
}
EOF
    } > "$dir/nginx.conf"
    /usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
    wait_http "http://127.0.0.1:$port/status"
}

# $dir/users.lua, for wrk: a fresh user for every request, whatever the
# thread (?u=u<RUN>-<thread>-<n>: RUN keeps runs apart); with USERS=N in
# the environment, users r0..r(N-1) in turn instead (they come back, so
# the exposure dedupe applies, as in real traffic).  With SLOTS_OUT set,
# the run is cut in slots of SLOT_MS (default 500), each given to ON or
# OFF (the paths, default /on and /off) by a hash of its number, the same
# in both threads, so that no period of the host's own lines up with
# them; each thread appends "slot responses on" to SLOTS_OUT as its slots
# end.
users_lua() {
    cat > "$dir/users.lua" <<'EOF'
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
int clock_gettime(int clk, bench_timespec_t *ts);
]]
local ts = ffi.new("bench_timespec_t")
local function now_ms()
    ffi.C.clock_gettime(1, ts)          -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
local users = tonumber(os.getenv("USERS") or "0")
local run = os.getenv("RUN") or ""  -- fresh users differ from run to run
local out = os.getenv("SLOTS_OUT")
local slot_ms = tonumber(os.getenv("SLOT_MS") or "500")
local on_path = os.getenv("ON") or "/on"
local off_path = os.getenv("OFF") or "/off"
local n = 0
local cur, count = -1, 0

function slot_on(s)
    return math.floor((s * 2654435761) % 4294967296 / 65536) % 2 == 1
end

request = function()
    local path = wrk.path
    n = n + 1
    if out then
        path = slot_on(math.floor(now_ms() / slot_ms)) and on_path or off_path
    end
    if users > 0 then
        return wrk.format("GET", path .. "?u=r" .. ((n * 2 + tid) % users))
    end
    return wrk.format("GET", path .. "?u=u" .. run .. "-" .. tid .. "-" .. n)
end

if out then
    response = function()
        local s = math.floor(now_ms() / slot_ms)
        if s ~= cur then
            if cur >= 0 then
                local f = io.open(out, "a")
                f:write(cur, " ", count, " ", slot_on(cur) and 1 or 0, "\n")
                f:close()
            end
            cur, count = s, 0
        end
        count = count + 1
    end
end
EOF
}

# The request-rate cost, interleaved: one wrk run of IDURATION (default
# 30) seconds at $port whose 500 ms slots go to $3 (the feature on) or
# $4 (off), see users_lua; $1 a name for the run's fresh users, $2 the
# users (0: fresh).  Slow spells of the host, which last seconds, fall on
# both kinds of slot alike, where two runs, one of each, would see them
# in one.  The slots are in $dir/slots.out.
interleaved_run() {
    rm -f "$dir/slots.out"
    RUN=$1 USERS=$2 ON=$3 OFF=$4 SLOTS_OUT="$dir/slots.out" \
        wrk -t2 -c"$conns" -d"${IDURATION:-30}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/" >/dev/null
}

# From $dir/slots.out, prints the line "$1request_rate_cost X % (...)":
# cost = 1 - mean on slot / mean off slot, the first and last slot (cut
# short) left out, and the same for each half of the run (how far it
# drifts); sets on_rps and off_rps, the requests a second in those on
# and off slots, for the script's own lines.
interleaved_report() {
    local out
    out=$(perl -e '
        my ($p, %n, %on) = shift;
        while (<>) { my ($s, $c, $o) = split; $n{$s} += $c; $on{$s} = $o }
        my @s = sort { $a <=> $b } keys %n;
        shift @s; pop @s;
        sub cost {
            my (@a, @b, $x, $y);
            for (@_) { if ($on{$_}) { push @a, $n{$_} } else { push @b, $n{$_} } }
            return "n/a" unless @a && @b;
            $x += $_ for @a; $y += $_ for @b;
            return sprintf "%.1f", 100 * (1 - ($x / @a) / ($y / @b));
        }
        my $h = int(@s / 2);
        printf "%srequest_rate_cost %s %% (interleaved: %d slots of 500 ms;"
            . " first half %s %%, second half %s %%)\n", $p, cost(@s),
            scalar @s, cost(@s[0 .. $h - 1]), cost(@s[$h .. $#s]);
        my ($c, $k, $d, $j) = (0, 0, 0, 0);
        for (@s) {
            if ($on{$_}) { $c += $n{$_}; $k++ } else { $d += $n{$_}; $j++ }
        }
        printf "%.6f %.6f\n", $k ? $c / ($k * 0.5) : 0,
            $j ? $d / ($j * 0.5) : 0;
    ' "$1" "$dir/slots.out") || out="$1request_rate_cost n/a %
0 0"
    echo "${out%%$'\n'*}"
    read -r on_rps off_rps <<<"${out##*$'\n'}"
}
