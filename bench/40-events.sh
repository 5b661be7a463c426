#!/usr/bin/env bash
# Event pipeline: exposures delivered per second to a log_event sink on
# 127.0.0.1 (2 workers, gzip batches of 1000, dedupe on, a fresh user per
# request, 3 gates per request), and the request-rate cost of logging
# exposures versus "statsig_exposures off" on the same location.
#
# The sink is a second nginx (1 worker) answering 202 {"success":true}
# and logging each request's STATSIG-EVENT-COUNT; what the bodies hold is
# checked by t/30-events.t, not here.  LOCAL=1 runs without a key (local
# mode: exposures are counted, neither written nor queued), to split the
# cost.  A second scenario (lines "repeat_users_...") runs the same with
# REPEAT_USERS (default 10000) users coming back in turn, so that most
# exposures are deduped as in real traffic; REPEAT_USERS=0 skips it.
# Each scenario is ROUNDS (default 3) off/on pairs for the worker CPU
# per request and the events delivered (the median pair is reported,
# every pair listed), then one interleaved run for the request-rate cost
# (see interleaved() below), also with one gate a request (one_gate_*:
# about 60,000 exposures/s, the target's event rate).
set -euo pipefail

so=${STATSIG_MODULE:-$(pwd)/build/nginx/ngx_http_statsig_module.so}
duration=${DURATION:-5}
conns=${CONNECTIONS:-64}
root=$(pwd)
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
freeport() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1:0",Listen=>1)->sockport'
}
port=$(freeport)
sport=$(freeport)

quit() {
    local pid
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    kill -QUIT "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

cleanup() {
    quit "$dir/nginx.pid"
    quit "$dir/sink/nginx.pid"
    if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

user=; [ "$(id -u)" = 0 ] && user="user root;"

mkdir -p "$dir/sink"
cat > "$dir/sink/nginx.conf" <<EOF
$user
worker_processes 1;
pid $dir/sink/nginx.pid;
error_log $dir/sink/error.log warn;
events { worker_connections 1024; }
http {
    log_format n '\$http_statsig_event_count';
    client_body_temp_path $dir/sink;
    client_max_body_size 64m;
    client_body_buffer_size 4m;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$sport;
        location /v1/log_event {
            access_log $dir/sink/events.log n;
            return 202 '{"success":true}';
        }
        location / {
            access_log off;
            return 200 '{"has_updates":false}';
        }
    }
}
EOF

/usr/sbin/nginx -p "$dir/sink/" -c "$dir/sink/nginx.conf" \
    -e "$dir/sink/error.log"

echo "bench-secret-key" > "$dir/key"
cp "$root/conf-examples/demo-specs.json" "$dir/specs.json"
key="statsig_server_key file:$dir/key;"
[ -n "${LOCAL:-}" ] && key=

cat > "$dir/nginx.conf" <<EOF
load_module $so;
$user
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    statsig_zone statsig 64m;
    $key
    statsig_specs_file $dir/specs.json;
    statsig_specs_url http://127.0.0.1:$sport/v1/download_config_specs;
    statsig_id_lists_url http://127.0.0.1:$sport/v1/get_id_lists;
    statsig_events_url http://127.0.0.1:$sport/v1/log_event;
    statsig_user_id \$arg_u;
    server {
        listen 127.0.0.1:$port;
        location /on {
            return 200 "\$statsig_gate_public_launch\$statsig_gate_beta_users\$statsig_gate_new_checkout\n";
        }
        location /off {
            statsig_exposures off;
            return 200 "\$statsig_gate_public_launch\$statsig_gate_beta_users\$statsig_gate_new_checkout\n";
        }
        location /on1 { return 200 "\$statsig_gate_public_launch\n"; }
        location /off1 {
            statsig_exposures off;
            return 200 "\$statsig_gate_public_launch\n";
        }
        location /status { statsig_status; }
    }
}
EOF

# a fresh user for every request, whatever the thread; with USERS=N in
# the environment, users r0..r(N-1) in turn instead (they come back, so
# the exposure dedupe applies, as in real traffic).  With SLOTS_OUT set,
# the run is cut in slots of SLOT_MS, each given to ON or OFF (the paths)
# by a hash of its number, the same in both threads, so that no period of
# the host's own lines up with them; each thread appends "slot responses
# on" to SLOTS_OUT as its slots end.
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

/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"

for i in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
    sleep 0.1
done

# $1 the location, $2 the users, $3 a name for the run's fresh users
rps() {
    RUN=$3 USERS=$2 wrk -t2 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/$1" | awk '/Requests\/sec/ { print $2 }'
}

count() {
    awk '{ n += $1 } END { print n + 0 }' "$dir/sink/events.log" \
        2>/dev/null || echo 0
}

# CPU seconds (user + system) used so far by the workers of a master
cpu() {
    local m w sum=0
    m=$(cat "$1")
    for w in $(pgrep -P "$m"); do
        sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$w/stat")))
    done
    echo "$sum"
}
hz=$(getconf CLK_TCK)

# the sink's counters: queued dropped_full dropped_other skipped requests
# deduped
counters() {
    curl -s "http://127.0.0.1:$port/status" | perl -MJSON::PP -e '
        local $/; my $j = decode_json(<STDIN>)->{events};
        my $s = $j->{sinks}{statsig};
        printf "%d %d %d %d %d %d\n", $s->{queued}, $s->{dropped_full},
            $s->{dropped} - $s->{dropped_full}, $s->{skipped},
            $s->{requests}, $j->{dedupe}{deduped};'
}

# the sink's event count once it stops growing (the queue is drained);
# prints "count seconds_since_epoch_of_the_last_growth"
drained() {
    local c prev=-1 t
    t=$(date +%s.%N)
    while :; do
        c=$(count)
        [ "$c" = "$prev" ] && break
        prev=$c
        t=$(date +%s.%N)
        sleep 1.5
    done
    echo "$prev $t"
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# one scenario: $1 the prefix of its result names, $2 the users (0: a
# fresh one per request).  ROUNDS (default 3) pairs of runs, exposures
# off then on, each followed by the drain of what "on" queued (its
# flushing counts for "on"); each pair gives a cost, and the median pair
# is reported, so that the host's slow spells, which last seconds, weigh
# on one pair rather than on the result.
scenario() {
    local p=$1 users=$2 r w0 w1 w2 rps_off rps_on c0 c1 t0 t1 s0 s1
    local k0 k1 costs cpus offs ons rates evs e0 off_us on_us

    k0=$(counters)
    e0=$(count)
    s0=$(cpu "$dir/sink/nginx.pid")
    costs= cpus= offs= ons= rates= evs=

    for r in $(seq "${ROUNDS:-3}"); do
        w0=$(cpu "$dir/nginx.pid")
        rps_off=$(rps off "$users" "$p$r")
        w1=$(cpu "$dir/nginx.pid")
        read -r c0 _ < <(drained)
        t0=$(date +%s.%N)
        rps_on=$(rps on "$users" "$p$r")
        read -r c1 t1 < <(drained)
        w2=$(cpu "$dir/nginx.pid")

        # worker CPU per request: the drain after the run counts for "on"
        read -r off_us on_us < <(awk -v hz="$hz" -v d="$duration" \
            -v off="$rps_off" -v on="$rps_on" -v w0="$w0" -v w1="$w1" \
            -v w2="$w2" 'BEGIN {
                printf "%.3f %.3f\n", (w1 - w0) / hz * 1e6 / (off * d),
                    (w2 - w1) / hz * 1e6 / (on * d) }')
        offs="$offs $off_us" ons="$ons $on_us"
        cpus="$cpus $(awk -v a="$off_us" -v b="$on_us" \
                      'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
        costs="$costs $(awk -v a="$rps_off" -v b="$rps_on" \
                       'BEGIN { printf "%.1f", (a - b) * 100 / a }')"
        rates="$rates $rps_off/$rps_on"
        evs="$evs $(awk -v n="$((c1 - c0))" -v t0="$t0" -v t1="$t1" \
                    'BEGIN { printf "%.0f", (t1 > t0) ? n / (t1 - t0) : 0 }')"
    done

    s1=$(cpu "$dir/sink/nginx.pid")
    k1=$(counters)

    echo "$k0 $k1" | awk -v p="$p" '{
        printf "%sevents_queued %d events\n", p, $7 - $1
        printf "%sevents_dropped_queue_full %d events\n", p, $8 - $2
        printf "%sevents_dropped_other %d events\n", p, $9 - $3
        printf "%sevents_skipped_local_mode %d events\n", p, $10 - $4
        printf "%sevents_requests %d requests\n", p, $11 - $5
        printf "%sevents_deduped %d events\n", p, $12 - $6
    }'

    echo "${p}pairs ${ROUNDS:-3} (off/on req/s:$rates)"
    echo "${p}worker_cpu_per_request_exposures_off" \
         "$(echo $offs | tr ' ' '\n' | median) us"
    echo "${p}worker_cpu_per_request_exposures_on" \
         "$(echo $ons | tr ' ' '\n' | median) us"
    echo "${p}worker_cpu_cost_per_request" \
         "$(echo $cpus | tr ' ' '\n' | median) % (pairs:$cpus)"
    echo "${p}sink_cpu_per_event $(awk -v s="$((s1 - s0))" -v hz="$hz" \
         -v n="$(($(count) - e0))" \
         'BEGIN { printf "%.2f", s / hz * 1e6 / (n ? n : 1) }') us"
    echo "${p}request_rate_cost_pairs" \
         "$(echo $costs | tr ' ' '\n' | median) % (pairs:$costs)"
    echo "${p}events_per_sec_delivered" \
         "$(echo $evs | tr ' ' '\n' | median) events/s (pairs:$evs)"
}

# The request-rate cost, interleaved: one run of IDURATION (default 30)
# seconds whose slots of 500 ms go to $2 (exposures on) or $3 (off), see
# users.lua; cost = 1 - mean on slot / mean off slot, the first and last
# slot left out.  Slow spells of the host, which last seconds, fall on
# both kinds of slot alike, where the pairs above see them in one run of
# the two.  The flusher's work, spread over every slot, is left out here
# (it is in the pairs' worker CPU per request).  $4 the users (0: fresh),
# $5 a name for the run's fresh users, $6 the gates a request reads.
interleaved() {
    local p=$1 on=$2 off=$3 users=$4 gates=$6
    rm -f "$dir/slots.out"
    RUN=$5 USERS=$users ON=$on OFF=$off SLOTS_OUT="$dir/slots.out" \
        wrk -t2 -c"$conns" -d"${IDURATION:-30}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/" >/dev/null
    drained >/dev/null
    perl -e '
        my ($p, %n, %on) = shift;
        my $gates = pop @ARGV;
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
        my ($c, $k) = (0, 0);
        for (@s) { if ($on{$_}) { $c += $n{$_}; $k++ } }
        printf "%sexposures_per_sec_while_on %.0f exposures/s (%d a request,"
            . " before dedupe)\n", $p, $k ? $c * $gates / ($k * 0.5) : 0,
            $gates;
    ' "$p" "$dir/slots.out" "$gates"
}

# the worst case: a fresh user per request, every exposure new (3 a
# request)
scenario "" 0
interleaved "" /on /off 0 i 3

# one gate a request, fresh users: about the event rate of the target
interleaved one_gate_ /on1 /off1 0 i1 1

# users that come back: most exposures deduped (REPEAT_USERS=0 skips it)
if [ "${REPEAT_USERS:-10000}" -gt 0 ]; then
    scenario repeat_users_ "${REPEAT_USERS:-10000}"
    interleaved repeat_users_ /on /off "${REPEAT_USERS:-10000}" ri 3
fi
