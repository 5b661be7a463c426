#!/usr/bin/env bash
# Vendor sinks (statsig_sink customerio: Track v2 batches for identified
# events; statsig_sink gainsight_px: one event a request): events
# delivered per second to a Customer.io and a Gainsight PX stand-in on
# 127.0.0.1, and the request-rate cost of a statsig_event with three sinks
# on (Statsig's log_event and the two vendors) against the same location
# without it.
#
# The stand-in is a second nginx (1 worker) answering
# POST /api/v2/batch, /api/v1/customers/*/events and /api/v1/events with
# 200 {}, /v1/events/custom with 201 {} and /v1/log_event with 202
# {"success":true}, writing one constant access log line a request (per
# destination).  Gainsight PX's events are its log's lines; Customer.io's
# are the sink's "sent" counter (a batch carries many), its requests the
# log's lines.  What the bodies hold is checked by t/33-sinks.t, not here.
#
# Part 1 (local mode, no statsig_server_key: the vendors alone), one
# module nginx per phase, wrk (2 threads, CONNECTIONS 64) driving a fresh
# user a request at a location with "statsig_event purchase" for DURATION
# (default 10) seconds, then no load until nothing has been delivered for
# a second, at most DRAIN (default DURATION) seconds; zone 64m with
# statsig_event_queue QUEUE (default 24m, shared by the sinks that are on):
#   default_   both sinks at their default rates (Customer.io 100, Gainsight
#              PX 150 requests a second);
#   fast_      both at rate=100000 (the module's own ceiling: Gainsight
#              PX one event a request, 16 in flight; Customer.io batches
#              of up to 500 KB, 8 in flight);
#   fast_cio_, fast_px_   each alone at rate=100000.
# Each reports per sink the events/s delivered under load and in the drain
# window, the queue's backlog and drops at the end (statsig_status:
# events.sinks.<name>.queue.events, dropped, dropped_full), the worker's
# and the stand-in's CPU per delivered event in the drain, and the
# worker's RSS (ps) and private RSS (smaps_rollup) at start, after the
# load and after the drain.  Results: bench/README.md.
#
# Part 2 (statsig_server_key set, Statsig's sink and both vendors at their
# default rates, or RATE=N for both): the request-rate cost of
# "statsig_event purchase" (/on) against no statsig_event (/off) from one
# interleaved run of IDURATION (default 30) seconds, as in 40-events.sh:
# 500 ms slots go to /on or /off by a hash of the slot number, cost =
# 1 - mean on slot / mean off slot (also for each half of the run).
# VENDORS=0: part 2 with Statsig's sink alone (the vendors' share of the
# cost).  PART1=0 / PART2=0 skip a part; PHASES="fast_ backlog_cio_" runs
# those part-1 phases alone.  WORKERS (default 1) for the module.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-10}
drain=${DRAIN:-$duration}
conns=${CONNECTIONS:-64}
workers=${WORKERS:-1}

[ -f "$so" ] || { echo "no module at $so (make module)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)
sport=$(freeport)

# ---- the stand-in: Customer.io, Gainsight PX and Statsig's log_event ----

mkdir -p "$dir/tmp"
standin_start statsig.log "
        location ~ ^/api/v1/customers/[^/]+/events\$ {
            access_log $dir/sink/cio.log one;
            return 200 '{}';
        }
        location = /api/v1/events {
            access_log $dir/sink/cio.log one;
            return 200 '{}';
        }
        location = /api/v2/batch {
            access_log $dir/sink/cio_batch.log one;
            if (-f $dir/sink/down) {
                return 503 '{"error":"down"}';
            }
            return 200 '{}';
        }
        location = /v1/events/custom {
            access_log $dir/sink/px.log one;
            return 201 '{}';
        }"

echo "bench-secret-key" > "$dir/key"
echo "bench-site-id" > "$dir/cio_site"
echo "bench-cio-key" > "$dir/cio_key"
echo "bench-px-key" > "$dir/px_key"
cp "$root/conf-examples/demo-specs.json" "$dir/specs.json"

cio_sink() {
    echo "statsig_sink customerio site_id=file:$dir/cio_site" \
         "api_key=file:$dir/cio_key url=http://127.0.0.1:$sport/api/v1 $1;"
}
px_sink() {
    echo "statsig_sink gainsight_px api_key=file:$dir/px_key" \
         "product_key=AP-BENCH-2 url=http://127.0.0.1:$sport/v1 $1;"
}

# $1 the http-level lines (key, sinks); starts the module's nginx
start() {
    module_start "$workers" "statsig_event_queue ${QUEUE:-24m};
    $1" '
        location /on {
            statsig_event purchase value=9.99 sku=A1;
            return 200 "ok\n";
        }
        location /off { return 200 "ok\n"; }'
}

# a fresh user for every request; the interleaved run of part 2 as in
# 40-events.sh
users_lua

# events delivered so far: the stand-in's log lines (one event a request),
# or for Customer.io, whose v2 batches carry many, the sink's "sent"
lines() {
    if [ "$1" = cio ]; then
        counters customerio | awk '{ print $4 }'
    elif [ -f "$dir/sink/$1.log" ]; then
        wc -l < "$dir/sink/$1.log"
    else
        echo 0
    fi
}
# requests so far to a destination (px has no batch log: cat's failure
# must not end the script under pipefail)
requests() {
    { cat "$dir/sink/$1.log" "$dir/sink/$1_batch.log" 2>/dev/null || :; } \
        | wc -l
}
now() { date +%s.%N; }
rate() {
    awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0) ? n / t : 0 }'
}

# a sink's counters: queue.events dropped dropped_full sent queued
# in_flight failures ignored queue.size (zeros when the status cannot be
# read)
counters() {
    curl -s "http://127.0.0.1:$port/status" 2>/dev/null | perl -MJSON::PP -e '
        local $/; my $s = eval { decode_json(<STDIN>)->{events}{sinks}{$ARGV[0]} } // {};
        printf "%d %d %d %d %d %d %d %d %d\n", $s->{queue}{events} // 0,
            (map { $_ // 0 } @$s{qw(dropped dropped_full sent queued in_flight
                                    failures ignored)}), $s->{queue}{size} // 0;
        ' "$1" || echo "0 0 0 0 0 0 0 0 0"
}

# the workers' RSS and private RSS, kB (summed over the workers)
rss() {
    local m w r=0 p=0
    m=$(cat "$dir/nginx.pid")
    for w in $(pgrep -P "$m"); do
        r=$((r + $(ps -o rss= -p "$w" 2>/dev/null || echo 0)))
        p=$((p + $(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' \
                   "/proc/$w/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "$r $p"
}

# ---- part 1: events/s delivered to each vendor ----

# $1 the phase's prefix, $2 the sinks ("cio px"), $3 their parameters
phase() {
    local p=$1 sinks=$2 extra=$3 conf= s c0 c1 c2 t0 t1 t2 rps m0 m1 m2
    local w1 w2 s1 s2 last n=0

    for s in $sinks; do
        conf="$conf $(${s}_sink "$extra")"
    done
    start "$conf"
    sleep 1
    read -r -a m0 < <(rss)

    declare -A a b e u
    declare -A r0
    for s in $sinks; do a[$s]=$(lines "$s"); r0[$s]=$(requests "$s"); done
    t0=$(now)
    rps=$(RUN="$p" wrk -t2 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
          "http://127.0.0.1:$port/on" | awk '/Requests\/sec/ { print $2 }')
    t1=$(now)
    w1=$(cpu "$dir/nginx.pid")
    s1=$(cpu "$dir/sink/nginx.pid")
    read -r -a m1 < <(rss)
    for s in $sinks; do b[$s]=$(lines "$s"); e[$s]=${b[$s]}; u[$s]=$t1; done

    # the drain: until DRAIN seconds have passed or no sink has delivered
    # anything for a second; a sink's drain rate is over the time to its
    # last delivery, so that a queue emptied early does not dilute it
    while :; do
        sleep 0.1
        t2=$(now)
        local busy=0
        for s in $sinks; do
            c2=$(lines "$s")
            if [ "$c2" != "${e[$s]}" ]; then e[$s]=$c2 u[$s]=$t2; fi
            awk -v a="${u[$s]}" -v b="$t2" 'BEGIN { exit !(b - a < 1) }' \
                && busy=1
        done
        awk -v a="$t1" -v b="$t2" -v d="$drain" 'BEGIN { exit !(b - a < d) }' \
            || break
        [ "$busy" = 1 ] || break
    done
    w2=$(cpu "$dir/nginx.pid")
    s2=$(cpu "$dir/sink/nginx.pid")
    read -r -a m2 < <(rss)

    echo "${p}requests_per_sec ${rps:-0} req/s"
    for s in $sinks; do
        local name=customerio
        [ "$s" = px ] && name=gainsight_px
        c0=${a[$s]} c1=${b[$s]} c2=${e[$s]}
        read -r q d df sent queued inf fail ign qs < <(counters "$name")
        echo "${p}${name}_events_per_sec_under_load" \
             "$(rate $((c1 - c0)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")" \
             "events/s (of $(rate $((queued + d)) "$duration") events/s made)"
        echo "${p}${name}_events_per_sec_drain" \
             "$(rate $((c2 - c1)) "$(awk -v a="$t1" -v b="${u[$s]}" 'BEGIN { print b - a }')")" \
             "events/s ($((c2 - c1)) events in $(awk -v a="$t1" \
             -v b="${u[$s]}" 'BEGIN { printf "%.1f", b - a }') s)"
        echo "${p}${name}_queue_backlog $q events (queue of $qs bytes)"
        echo "${p}${name}_dropped $d events (queue full: $df)"
        echo "${p}${name}_queued_sent_failures $queued/$sent/$fail events" \
             "(in flight $inf, ignored $ign)"
        echo "${p}${name}_requests $(($(requests "$s") - r0[$s])) requests" \
             "for $((c2 - c0)) events"
    done
    last=$t1
    for s in $sinks; do
        n=$((n + e[$s] - b[$s]))
        last=$(awk -v a="$last" -v b="${u[$s]}" 'BEGIN { print (b > a) ? b : a }')
    done
    awk -v p="$p" -v hz="$hz" -v w="$((w2 - w1))" -v s="$((s2 - s1))" \
        -v n="$n" -v t="$(awk -v a="$t1" -v b="$last" 'BEGIN { print b - a }')" '
        BEGIN {
            if (n == 0) n = 1
            if (t <= 0) t = 1
            printf "%sdrain_worker_cpu %.1f us/event (%.0f%% of a CPU)\n",
                p, w / hz * 1e6 / n, 100 * w / hz / t
            printf "%sdrain_standin_cpu %.1f us/event (%.0f%% of a CPU)\n",
                p, s / hz * 1e6 / n, 100 * s / hz / t
        }'
    echo "${p}worker_rss ${m0[0]} ${m1[0]} ${m2[0]} kB (start, after load," \
         "after drain)"
    echo "${p}worker_private_rss ${m0[1]} ${m1[1]} ${m2[1]} kB (start," \
         "after load, after drain)"
    quit "$dir/nginx.pid"
}

# A backlog drained at Customer.io's default rate (100 requests a second):
# its stand-in answers 503 while BACKLOG (default 20) seconds of load fill
# the queue (BACKLOG_QUEUE, default 250m, holds ~600k events: the drain
# outlasts the rate limiter's burst of a second's requests), then 200.
# The drain rate runs from the first batches accepted until less than a
# batch (2000 events) is left, read from statsig_status every 50 ms.
backlog() {
    local p=backlog_cio_ q d df sent queued inf fail ign qs
    local c0 c1 t0 t1 n0 reqs w1 w2

    touch "$dir/sink/down"
    ZONE=${BACKLOG_ZONE:-512m} QUEUE=${BACKLOG_QUEUE:-250m} \
        start "$(cio_sink "")"
    sleep 1
    RUN="$p" wrk -t2 -c"$conns" -d"${BACKLOG:-20}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/on" >/dev/null
    sleep 2
    read -r q d df sent queued inf fail ign qs < <(counters customerio)
    echo "${p}backlog $((q + inf)) events ($queued queued, $df dropped" \
         "as the queue was full)"
    n0=$(requests cio)
    c0=$sent
    rm -f "$dir/sink/down"

    # the first batch accepted (after the sink's backoff)
    for _ in $(seq 1200); do
        read -r q d df sent queued inf fail ign qs < <(counters customerio)
        [ "$sent" != "$c0" ] && break
        sleep 0.05
    done
    t0=$(now)
    c1=$sent
    w1=$(cpu "$dir/nginx.pid")
    # until less than a batch is left (the rest waits for the flush
    # interval, as any partial batch does)
    while [ $((queued - sent)) -ge 2000 ]; do
        sleep 0.05
        read -r q d df sent queued inf fail ign qs < <(counters customerio)
        [ "$d" -gt "$df" ] && break
    done
    t1=$(now)
    w2=$(cpu "$dir/nginx.pid")
    reqs=$(($(requests cio) - n0))
    echo "${p}customerio_events_per_sec_drain" \
         "$(rate $((sent - c1)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")" \
         "events/s ($((sent - c1)) events after the first batch, in" \
         "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s;" \
         "$reqs requests in all, $(rate $((sent - c0)) "$reqs") events a" \
         "request)"
    echo "${p}customerio_sent_dropped $sent/$d events (failures $fail)"
    awk -v p="$p" -v hz="$hz" -v w="$((w2 - w1))" -v n="$((sent - c1))" \
        -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '
        BEGIN {
            if (n == 0) n = 1
            if (t <= 0) t = 1
            printf "%sdrain_worker_cpu %.1f us/event (%.0f%% of a CPU)\n",
                p, w / hz * 1e6 / n, 100 * w / hz / t
        }' 
    quit "$dir/nginx.pid"
}

# PHASES: the part-1 phases to run (default all)
want() { [[ " ${PHASES:-default_ fast_ fast_cio_ fast_px_ backlog_cio_} " \
            == *" $1 "* ]]; }

if [ "${PART1:-1}" != 0 ]; then
    want default_ && phase default_ "cio px" ""
    want fast_ && phase fast_ "cio px" "rate=100000"
    want fast_cio_ && phase fast_cio_ "cio" "rate=100000"
    want fast_px_ && phase fast_px_ "px" "rate=100000"
    want backlog_cio_ && backlog
fi

# ---- part 2: the request-rate cost of statsig_event with three sinks ----

if [ "${PART2:-1}" != 0 ]; then
    r=; [ -n "${RATE:-}" ] && r="rate=$RATE"
    vendors="$(cio_sink "$r")
    $(px_sink "$r")"
    [ "${VENDORS:-1}" = 0 ] && vendors=
    start "statsig_server_key file:$dir/key;
    $vendors"
    sleep 1
    st0=$(awk '{ n += $1 } END { print n + 0 }' "$dir/sink/statsig.log" \
          2>/dev/null || echo 0)
    interleaved_run i 0 /on /off
    sleep 2
    interleaved_report sinks_
    awk -v on="$on_rps" -v off="$off_rps" 'BEGIN {
        printf "sinks_requests_per_sec_on_off %.0f %.0f req/s (events/s"\
               " while on = the first)\n", on, off }'
    st1=$(awk '{ n += $1 } END { print n + 0 }' "$dir/sink/statsig.log" \
          2>/dev/null || echo 0)
    echo "sinks_statsig_events_delivered $((st1 - st0)) events"
    for name in statsig customerio gainsight_px; do
        read -r q d df sent queued inf fail ign qs < <(counters "$name")
        echo "sinks_${name}_queued_sent_dropped $queued/$sent/$d events" \
             "(backlog $q)"
    done
fi
