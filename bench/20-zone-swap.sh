#!/usr/bin/env bash
# The shared zone with a ~5 MB specs file (bench/eval.sh's generated DCS):
#   - zone bytes used and per-worker RSS (private and shared pages) with
#     1 and 4 workers: the snapshot lives once, in the zone;
#   - requests/s and p99 latency under wrk, 4 workers, with the snapshot
#     swapped every second (local mode: the specs file is replaced every
#     second, one worker re-reads, compiles and publishes it) versus no
#     swaps.  Target: p99 with swaps within 10% of p99 without.  Runs
#     without and with swaps alternate, ROUNDS pairs (default 3); the
#     ratio is of the medians, since one 5 s run on shared vCPUs moves by
#     +-20% on its own.  The file is replaced by renaming a hard link to
#     one of two versions (no data written, no process started);
#     SWAP_COPY=1 copies the 5 MB with cp instead, which adds the copy's
#     own cost to the swaps' side.
#   - compile and publish times of the 5 MB file, from the error log.
#   - the same paced comparison in remote mode (REMOTE=0 skips it): a
#     plain nginx on 127.0.0.1 stands in for Statsig's CDN and answers
#     every fetch (one a second) with the full 5 MB document, which the
#     fetching worker downloads, compiles, publishes and writes to the
#     specs file (fsync'ed); "no swaps" is {"has_updates":false}.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-64}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
port=$(freeport)
swapper=
mode=local
cdn_pid=
cdn_port=$(freeport)

cleanup() {
    [ -n "$swapper" ] && kill "$swapper" 2>/dev/null
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null
    [ -n "$cdn_pid" ] && kill -QUIT "$cdn_pid" 2>/dev/null
    sleep 0.3
    # KEEP_LOGS=DIR: the error logs stay there
    [ -n "${KEEP_LOGS:-}" ] && mkdir -p "$KEEP_LOGS" \
        && cp "$dir"/*.log "$dir"/cdn-logs/*.log "$KEEP_LOGS"/ 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

big=$root/build/bench/big-1100/dcs.json
if [ ! -f "$big" ]; then
    gen=$root/build/oracle/gen.js
    [ -f "$gen" ] || gen=$root/../shared/oracle/gen.js
    if [ ! -f "$gen" ] || ! command -v node >/dev/null; then
        echo "20-zone-swap.sh: no ~5 MB specs (run bench/eval.sh or make" \
             "oracle first); skipped"
        exit 0
    fi
    mkdir -p "$(dirname "$big")"
    node "$gen" --seed 42 --specs 1100 --users 20 \
        --out "$(dirname "$big")" >/dev/null 2>&1
fi

# two versions that differ only in "time", swapped in with rename
perl -0777 -pe 's/"time":\s*(\d+)/"time":1000001/' "$big" > "$dir/a.json"
perl -0777 -pe 's/"time":\s*(\d+)/"time":1000002/' "$big" > "$dir/b.json"
cp "$dir/a.json" "$dir/specs.json"
echo "specs_bytes $(wc -c < "$dir/specs.json") bytes"

gate=$(perl -MJSON::PP -0777 -ne '
    my $d = decode_json($_);
    for my $g (@{ $d->{feature_gates} }) {
        next if ($g->{entity} // "") ne "feature_gate";
        (my $v = lc $g->{name}) =~ s/[^a-z0-9_]/_/g;
        print $v; last }' "$dir/specs.json")

# remote mode: the key, Statsig's URLs on the stand-in CDN
remote_conf() {
    [ "$mode" = remote ] || return 0
    cat <<CONF
    statsig_server_key file:$dir/key.txt;
    statsig_specs_url http://127.0.0.1:$cdn_port/v1/download_config_specs;
    statsig_id_lists_url http://127.0.0.1:$cdn_port/v1/get_id_lists;
    statsig_id_lists_sync_interval 1h;
CONF
}

start_nginx() {
    { conf_head "worker_processes $1;" info; cat <<CONF
    statsig_zone statsig 64m;
    statsig_specs_file $dir/specs.json;
    statsig_sync_interval 1s;
    statsig_exposures off;
    statsig_user_id \$http_x_user_id;
$(remote_conf)
    server {
        listen 127.0.0.1:$port reuseport;
        location = /status { statsig_status; }
        location /gate { return 200 "[\$statsig_gate_$gate]\n"; }
    }
}
CONF
    } > "$dir/nginx.conf"
    : > "$dir/error.log"
    # In the foreground, in this script's session: with the kernel's
    # autogroup on, a daemon (setsid) is a scheduling group of its own and
    # the compile thread's low priority counts only against nginx's own
    # workers, while wrk on the same 2 vCPUs is another group that the
    # compile then starves (400 ms run-queue waits of a wrk thread under
    # perf sched).  One group is what a box with remote clients sees:
    # the compile gets only what the workers and the client leave idle.
    /usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
        -g 'daemon off;' &
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/status" >/dev/null && return
        sleep 0.1
    done
    echo "nginx did not start"; cat "$dir/error.log"; exit 1
}

stop_nginx() {
    kill -QUIT "$(cat "$dir/nginx.pid")"
    for _ in $(seq 100); do [ -f "$dir/nginx.pid" ] || return 0; sleep 0.1; done
}

workers() {
    local master
    master=$(cat "$dir/nginx.pid")
    pgrep -P "$master"
}

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

status_field() {
    curl -s "http://127.0.0.1:$port/status" | perl -MJSON::PP -0777 -ne \
        "my \$s = decode_json(\$_); print \$s->$1"
}

for w in 1 4; do
    start_nginx "$w"
    wrk -t2 -c"$conns" -d1s -H 'X-User-Id: u1' \
        "http://127.0.0.1:$port/gate" >/dev/null
    used=$(status_field '{zone}{used}')
    rss=0; anon=0; shm=0; n=0
    for p in $(workers); do
        rss=$((rss + $(kb "$p" VmRSS)))
        anon=$((anon + $(kb "$p" RssAnon)))
        shm=$((shm + $(kb "$p" RssShmem)))
        n=$((n + 1))
    done
    echo "zone_used_bytes_${w}w $used bytes"
    echo "worker_rss_kb_${w}w $((rss / n)) kB (per worker)"
    echo "worker_rss_anon_kb_${w}w $((anon / n)) kB (per worker, private)"
    echo "worker_rss_shmem_kb_${w}w $((shm / n)) kB (per worker, shared)"
    [ "$w" = 4 ] || stop_nginx
done

# nginx runs with 4 workers from here

# One wrk run: $1 connections, $2 "paced" for a pause of 1 ms between a
# connection's requests (wrk's Lua delay()), which keeps the rate below
# what the 2 vCPUs can serve; anything else runs closed-loop, flat out.
run_wrk() {
    local script=
    if [ "$2" = paced ]; then
        script="-s $dir/paced.lua"
    fi
    wrk -t2 -c"$1" -d"${duration}s" --latency $script \
        -H 'X-User-Id: u1' "http://127.0.0.1:$port/gate" > "$dir/wrk.out"
    rps=$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.out")
    p99=$(awk '$1 == "99%" { v = $2;
        if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
        else if (v ~ /ms$/) { sub(/ms/, "", v) }
        else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
        print v }' "$dir/wrk.out")
}

printf 'function delay()\n    return 1\nend\n' > "$dir/paced.lua"

# One process swaps, with link(2) and rename(2): a shell loop forking ln
# and mv every second raised the p99 by 10-25% on its own, with nginx not
# even watching the files.
start_swapper() {
    if [ "$mode" = remote ]; then
        cdn_serve "$dir/c.json"
        return
    fi
    perl -e '
        my ($d, $copy) = @ARGV;
        while (1) {
            my @s = stat("$d/specs.json");
            my @a = stat("$d/a.json");
            # the other version than the one in place
            my $src = (@s && @a && $s[1] == $a[1]) ? "b" : "a";
            unlink("$d/specs.tmp");
            if ($copy) {
                system("cp", "$d/$src.json", "$d/specs.tmp") == 0
                    or die "cp failed\n";
            } else {
                link("$d/$src.json", "$d/specs.tmp") or die "link: $!\n";
            }
            rename("$d/specs.tmp", "$d/specs.json") or die "rename: $!\n";
            select(undef, undef, undef, 1);
        }' "$dir" "${SWAP_COPY:-}" &
    swapper=$!
    sleep 1.5
}

# remote mode: what the stand-in CDN answers, swapped in by rename
cdn_serve() {
    ln -f "$1" "$dir/cdn/v1/download_config_specs/k.tmp"
    mv -f "$dir/cdn/v1/download_config_specs/k.tmp" \
          "$dir/cdn/v1/download_config_specs/$key.json"
    sleep 1.5
}

stop_swapper() {
    if [ "$mode" = remote ]; then
        cdn_serve "$dir/noupdates.json"
        return
    fi
    kill "$swapper"; swapper=
    sleep 1.5
}

# $1: name, $2: connections, $3: paced or flat
compare() {
    local base=0 gen0 gen1 r p99s_off= p99s_on= rps_off= rps_on= swaps=0
    for r in $(seq "$rounds"); do
        run_wrk "$2" "$3"
        p99s_off="$p99s_off $p99"; rps_off="$rps_off $rps"
        gen0=$(status_field '{zone}{generation}')
        start_swapper
        run_wrk "$2" "$3"
        gen1=$(status_field '{zone}{generation}')
        stop_swapper
        p99s_on="$p99s_on $p99"; rps_on="$rps_on $rps"
        swaps=$((swaps + gen1 - gen0))
    done
    echo "${1}_no_swaps_p99_ms_runs$p99s_off ms"
    echo "${1}_swaps_p99_ms_runs$p99s_on ms"
    echo "${1}_no_swaps_rps $(echo "$rps_off" | median) req/s (median)"
    echo "${1}_no_swaps_p99_ms $(echo "$p99s_off" | median) ms (median)"
    echo "${1}_swaps_rps $(echo "$rps_on" | median) req/s (median)"
    echo "${1}_swaps_p99_ms $(echo "$p99s_on" | median) ms (median)"
    echo "${1}_swaps_during_runs $swaps swaps in $rounds x ${duration} s"
    base=$(echo "$p99s_off" | median)
    p99=$(echo "$p99s_on" | median)
    ratio=$(awk -v a="$base" -v b="$p99" \
        'BEGIN { printf "%.2f", (a > 0) ? b / a : 0 }')
}

# Below saturation: a swap really happens every second, since the
# compile (lowest priority) finds idle CPU.  The target is judged here.
compare paced "${PACED_CONNECTIONS:-48}" paced
echo "paced_swaps_p99_ratio $ratio x (target <= 1.10:" \
     "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.10) ? "met" : "MISSED" }'))"

# Flat out: no CPU is idle, so the compile waits for one (fewer swaps
# than seconds) instead of taking it from requests.
compare saturated "$conns" flat
echo "saturated_swaps_p99_ratio $ratio x"

perl -ne 'if (/compiled in (\d+) ms, published in (\d+) ms/) {
        $c += $1; $p += $2; $n++; $m = $1 if $1 > $m }
    END { printf "swap_compile_ms %.1f ms (avg of %d; max %d)\n",
                 $n ? $c / $n : 0, $n, $m;
          printf "swap_publish_ms %.1f ms (copy into the zone + publish)\n",
                 $n ? $p / $n : 0 }' "$dir/error.log"
used=$(status_field '{zone}{used}')
echo "zone_used_bytes_after_swaps $used bytes"
# the worker that compiles keeps its compile memory for 60 s after a swap
# (private pages; VmRSS also counts the zone pages a worker has touched)
max=0; min=
for p in $(workers); do
    r=$(kb "$p" RssAnon)
    [ "$r" -gt "$max" ] && max=$r
    { [ -z "$min" ] || [ "$r" -lt "$min" ]; } && min=$r
done
echo "worker_rss_anon_kb_after_swaps max $max kB (the compiling worker)," \
     "min $min kB (private)"

[ "${REMOTE:-1}" = 0 ] && exit 0

# ---- remote mode: the fetching worker downloads the 5 MB every second ----
stop_nginx
mode=remote
key=secret-bench-key
printf '%s' "$key" > "$dir/key.txt"
printf '{"has_updates":false}' > "$dir/noupdates.json"
# newer than both local versions, and served as it is again and again: the
# same time is not older, so every fetch is a full download and swap
perl -0777 -pe 's/"time":\s*(\d+)/"time":1000003/' "$big" > "$dir/c.json"
mkdir -p "$dir/cdn/v1/download_config_specs" "$dir/cdn-logs"
ln -f "$dir/noupdates.json" "$dir/cdn/v1/download_config_specs/$key.json"
cat > "$dir/cdn.conf" <<CONF
$user
worker_processes 1;
pid $dir/cdn.pid;
error_log $dir/cdn-logs/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    server {
        listen 127.0.0.1:$cdn_port;
        root $dir/cdn;
        default_type application/json;
        location = /v1/get_id_lists { return 200 "{}"; }
    }
}
CONF
/usr/sbin/nginx -p "$dir/" -c "$dir/cdn.conf" -e "$dir/cdn-logs/error.log" \
    -g 'daemon off;' &
cdn_pid=$!
start_nginx 4
wrk -t2 -c"$conns" -d1s -H 'X-User-Id: u1' \
    "http://127.0.0.1:$port/gate" >/dev/null

compare remote_paced "${PACED_CONNECTIONS:-48}" paced
echo "remote_paced_swaps_p99_ratio $ratio x (target <= 1.10:" \
     "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.10) ? "met" : "MISSED" }'))"
perl -ne 'if (/compiled in (\d+) ms, published in (\d+) ms/) {
        $c += $1; $p += $2; $n++; $m = $1 if $1 > $m }
    END { printf "remote_swap_compile_ms %.1f ms (avg of %d; max %d)\n",
                 $n ? $c / $n : 0, $n, $m }' "$dir/error.log"
