#!/usr/bin/env bash
# Event pipeline: exposures delivered per second to a log_event sink on
# 127.0.0.1 (2 workers, gzip batches of 1000, dedupe on, a fresh user per
# request, 3 gates per request), and the request-rate cost of logging
# exposures versus "statsig_exposures off" on the same location.
#
# The sink is a second nginx (1 worker) answering 202 {"success":true}
# and logging each request's STATSIG-EVENT-COUNT; what the bodies hold is
# checked by t/30-events.t, not here.  LOCAL=1 runs without a key (local
# mode: exposures are written but not queued), to split the cost.
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
        location /status { statsig_status; }
    }
}
EOF

# a fresh user for every request, whatever the thread
cat > "$dir/users.lua" <<'EOF'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", wrk.path .. "?u=u" .. tid .. "-" .. n)
end
EOF

/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"

for i in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
    sleep 0.1
done

rps() {
    wrk -t2 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
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

w0=$(cpu "$dir/nginx.pid")
rps_off=$(rps off)
w1=$(cpu "$dir/nginx.pid")
c0=$(count)
s0=$(cpu "$dir/sink/nginx.pid")
t0=$(date +%s.%N)
rps_on=$(rps on)
w2=$(cpu "$dir/nginx.pid")

# until the sink has everything the queue took (the queue is drained)
prev=-1
t1=$t0
while :; do
    c=$(count)
    [ "$c" = "$prev" ] && break
    prev=$c
    t1=$(date +%s.%N)
    sleep 1.5
done

w3=$(cpu "$dir/nginx.pid")
s1=$(cpu "$dir/sink/nginx.pid")

curl -s "http://127.0.0.1:$port/status" | perl -MJSON::PP -e '
    local $/; my $s = decode_json(<STDIN>)->{events}{sinks}{statsig};
    printf "events_queued %d events\n", $s->{queued};
    printf "events_dropped_queue_full %d events\n", $s->{dropped_full};
    printf "events_dropped_other %d events\n",
        $s->{dropped} - $s->{dropped_full};
    printf "events_skipped_local_mode %d events\n", $s->{skipped};
    printf "events_requests %d requests\n", $s->{requests};'

awk -v off="$rps_off" -v on="$rps_on" -v ev="$((c - c0))" -v t0="$t0" \
    -v t1="$t1" -v d="$duration" -v hz="$hz" -v w0="$w0" -v w1="$w1" \
    -v w2="$w2" -v w3="$w3" -v s0="$s0" -v s1="$s1" 'BEGIN {
    # worker CPU per request: the drain after the run counts for "on"
    off_us = (w1 - w0) / hz * 1e6 / (off * d)
    on_us = (w3 - w1) / hz * 1e6 / (on * d)
    printf "worker_cpu_per_request_exposures_off %.2f us\n", off_us
    printf "worker_cpu_per_request_exposures_on %.2f us\n", on_us
    printf "worker_cpu_cost_per_request %.1f %%\n", (on_us - off_us) * 100 / off_us
    printf "sink_cpu_per_event %.2f us\n", (s1 - s0) / hz * 1e6 / (ev ? ev : 1)
    printf "requests_per_sec_exposures_off %.0f req/s\n", off
    printf "requests_per_sec_exposures_on %.0f req/s\n", on
    printf "request_rate_cost %.1f %%\n", (off - on) * 100 / off
    printf "events_delivered %d events\n", ev
    printf "events_per_sec_delivered %.0f events/s\n", \
        (t1 > t0) ? ev / (t1 - t0) : 0
}'
