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

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
conns=${CONNECTIONS:-64}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)
sport=$(freeport)

# the sink: log_event's event counts in $dir/sink/events.log
standin_start events.log ""

echo "bench-secret-key" > "$dir/key"
cp "$root/conf-examples/demo-specs.json" "$dir/specs.json"
key="statsig_server_key file:$dir/key;"
[ -n "${LOCAL:-}" ] && key=

# 3 gates a request at /on, and at /off without exposures; 1 at /on1, /off1
users_lua
module_start 2 "$key" '
        location /on {
            return 200 "$statsig_gate_public_launch$statsig_gate_beta_users$statsig_gate_new_checkout\n";
        }
        location /off {
            statsig_exposures off;
            return 200 "$statsig_gate_public_launch$statsig_gate_beta_users$statsig_gate_new_checkout\n";
        }
        location /on1 { return 200 "$statsig_gate_public_launch\n"; }
        location /off1 {
            statsig_exposures off;
            return 200 "$statsig_gate_public_launch\n";
        }'

# $1 the location, $2 the users, $3 a name for the run's fresh users
rps() {
    RUN=$3 USERS=$2 wrk -t2 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/$1" | awk '/Requests\/sec/ { print $2 }'
}

count() {
    awk '{ n += $1 } END { print n + 0 }' "$dir/sink/events.log" \
        2>/dev/null || echo 0
}

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
# prints "count seconds_since_epoch_of_the_last_delivery", the time the
# sink logged (the poll's 1.5 s would weigh on a 5 s run's rate)
drained() {
    local c prev=-1
    while :; do
        c=$(count)
        [ "$c" = "$prev" ] && break
        prev=$c
        sleep 1.5
    done
    awk -v c="$prev" '$2 > t { t = $2 } END { printf "%d %.3f\n", c, t }' \
        "$dir/sink/events.log" 2>/dev/null || echo "$prev 0"
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
         "$(echo $offs | median) us"
    echo "${p}worker_cpu_per_request_exposures_on" \
         "$(echo $ons | median) us"
    echo "${p}worker_cpu_cost_per_request" \
         "$(echo $cpus | median) % (pairs:$cpus)"
    # issue 19's unit: (on - off) / the gates a request reads (3)
    echo "${p}worker_cpu_per_exposure" "$(awk -v a="$(echo $offs | median)" \
         -v b="$(echo $ons | median)" 'BEGIN { printf "%.3f", (b - a) / 3 }')" \
         "us (3 a request; before dedupe)"
    echo "${p}sink_cpu_per_event $(awk -v s="$((s1 - s0))" -v hz="$hz" \
         -v n="$(($(count) - e0))" \
         'BEGIN { printf "%.2f", s / hz * 1e6 / (n ? n : 1) }') us"
    echo "${p}request_rate_cost_pairs" \
         "$(echo $costs | median) % (pairs:$costs)"
    echo "${p}events_per_sec_delivered" \
         "$(echo $evs | median) events/s (pairs:$evs)"
}

# The request-rate cost, interleaved (interleaved_run in lib.sh): $2
# exposures on, $3 off; $4 the users (0: fresh), $5 a name for the run's
# fresh users, $6 the gates a request reads.  Drained before the report,
# though the flusher's work, spread over every slot, is left out here (it
# is in the pairs' worker CPU per request).
interleaved() {
    local p=$1 gates=$6
    interleaved_run "$5" "$4" "$2" "$3"
    drained >/dev/null
    interleaved_report "$p"
    awk -v p="$p" -v r="$on_rps" -v g="$gates" 'BEGIN {
        printf "%sexposures_per_sec_while_on %.0f exposures/s (%d a request,"\
               " before dedupe)\n", p, r * g, g }'
}

# Delivery when the sink is the limit, not the requests: the sink answers
# 503 while BACKLOG (default 5; 0 skips) seconds of fresh exposures fill
# the rings, then 202; the rate runs from the first full batch the sink
# accepted to the last one (the sink's clock), the worker CPU over the
# whole drain.  What the requests make is a lower bound on delivery in
# the pairs above; this is the flusher's own rate.
backlog() {
    local p=backlog_ n0 ka k0 k1 w1 w2

    ka=$(counters)
    touch "$dir/sink/log_event_down"
    RUN=backlog wrk -t2 -c"$conns" -d"${BACKLOG:-5}s" \
        -s "$dir/users.lua" "http://127.0.0.1:$port/on" >/dev/null
    sleep 1
    k0=$(counters)
    n0=$(wc -l < "$dir/sink/events.log")
    w1=$(cpu "$dir/nginx.pid")
    rm -f "$dir/sink/log_event_down"
    # the first batch accepted, after the flusher's backoff (up to its
    # maximum), then the rest
    for _ in $(seq 1200); do
        [ "$(wc -l < "$dir/sink/events.log")" -gt "$n0" ] && break
        sleep 0.1
    done
    drained >/dev/null
    w2=$(cpu "$dir/nginx.pid")
    k1=$(counters)

    echo "$ka $k0 $k1" | awk -v p="$p" '{
        printf "%sbacklog %d events queued (%d dropped as the rings were" \
               " full)\n", p, $7 - $1, $8 - $2
        printf "%sdropped_after %d events (failures)\n", p, $15 - $9
    }'
    tail -n +"$((n0 + 1))" "$dir/sink/events.log" | awk -v p="$p" \
        -v hz="$hz" -v w="$((w2 - w1))" '
        { n += $1 }
        $1 == 1000 { if (!f) f = $2; l = $2; full++ }
        END {
            printf "%sevents_per_sec_delivered %.0f events/s (%d full" \
                   " batches over %.3f s; %d events in all)\n", p,
                   (l > f) ? (full - 1) * 1000 / (l - f) : 0, full, l - f, n
            printf "%sworker_cpu_per_event %.2f us (the drain, both" \
                   " workers)\n", p, n ? w / hz * 1e6 / n : 0
        }'
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

if [ "${BACKLOG:-5}" -gt 0 ]; then
    backlog
fi
