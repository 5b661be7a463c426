#!/usr/bin/env bash
# Worker CPU per request of "return 200" with no statsig directive (plain)
# against the same location reading 10 gate variables and 2 config
# parameters for a new user per request, exposures off (vars-quiet) and on
# (vars).  SPECS=demo (default): conf-examples/demo-specs.json with its
# gates copied to 10 (percentage rollouts, user fields).  SPECS=dev: the
# oracle's dev-set (holdouts, segments, ID lists, rollouts), its first 10
# feature gates and two configs' parameters.  ROUNDS=N (default 1) runs
# the three locations in turn N times and prints the medians, and the
# median of each round's own ratio: this machine's speed drifts by 20%
# within seconds, alike for what runs close together.  The ratio by the
# kernel's share ("_kernel"): a gated request's kernel work is a plain
# one's (the same request, a few bytes more answer), so plain CPU / gated
# CPU = gated kernel share / plain kernel share, both read in the same
# seconds: the least sensitive to the drift (a share of 1-2 s of ticks
# is itself within a few %).  PERF=N (perf, linux-perf): after the rounds,
# N profiles of each build's worker on plain, then on vars-quiet
# (cpu-clock, the builds alternating): the median of the module's samples
# per kernel sample (read in the same seconds, the drift cancels out of
# it), and "_cpu_ratio_perf", the median of each pair's vars-quiet /
# plain kernel shares (the "_kernel" ratio from ~16,000 samples a
# profile instead of clock ticks).  PIN=1 (default on
# 2+ CPUs) keeps the workers on CPU 1 and wrk on CPU 0.  STATSIG_MODULE_B
# (another build of the module): a second nginx with it, run in the same
# rounds (their order alternating), its lines prefixed "b_", and the
# ratio of the two builds' added CPU.  Target: the gated location >=
# 0.90 of the plain one.  nginx-vars: the same number of nginx's own
# variables (the user's headers) in the same script, no statsig: what
# nginx's side leaves any module of variables.  Results: bench/README.md.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
conns=${CONNECTIONS:-32}
rounds=${ROUNDS:-1}
pin=${PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
affinity=
taskset=()
if [ "$pin" = 1 ]; then
    affinity='worker_cpu_affinity 10;'
    taskset=(taskset -c 0)
fi
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)

if [ "${SPECS:-demo}" = dev ]; then
    cp "$root/../shared/oracle/fixtures/dev-set/dcs.json" "$dir/specs.json"
    vars=$(dev_gate_vars "$dir/specs.json")
    vars="$vars \$price \$label"
    params='statsig_param $price config_1_pricing limit_0 default=1;
    statsig_param $label config_6_pricing mode_0 default=a;'
else
    # 10 gates: the demo's three, and copies of them with their own salts
    perl -MJSON::PP -e '
        local $/; open my $f, "<", $ARGV[0] or die; my $d = decode_json(<$f>);
        my @g = @{ $d->{feature_gates} };
        for my $i (1 .. 7) {
            my $c = decode_json(encode_json($g[$i % @g]));
            $c->{name} = "gate_$i"; $c->{salt} = "bench-salt-$i";
            push @{ $d->{feature_gates} }, $c;
        }
        print encode_json($d);' "$root/conf-examples/demo-specs.json" \
        > "$dir/specs.json"
    vars='$statsig_gate_public_launch $statsig_gate_beta_users'
    vars="$vars \$statsig_gate_new_checkout"
    for i in 1 2 3 4 5 6 7; do vars="$vars \$statsig_gate_gate_$i"; done
    vars="$vars \$price \$label"
    params='statsig_param $price pricing price default=9.99;
    statsig_param $label button_color label default=Buy;'
fi

# nginx's own variables in the same number and script: the share of the
# plain location's CPU that any module of variables can keep at best
nginx_vars=
for i in 1 2 3 4; do
    nginx_vars="$nginx_vars \$http_x_user_id \$http_x_email \$http_x_country"
done

{ conf_head "worker_processes 1; $affinity"; cat <<CONF
    statsig_zone statsig 4m;
    statsig_specs_file $dir/specs.json;
    statsig_user_id \$http_x_user_id;
    statsig_user_field email \$http_x_email;
    statsig_user_field country \$http_x_country;
    $params
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
        location /nginx-vars { return 200 "$nginx_vars\n"; }
        location /vars { return 200 "$vars\n"; }
        location /vars-quiet {
            statsig_exposures off;
            return 200 "$vars\n";
        }
    }
}
CONF
} > "$dir/nginx.conf"

/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
wait_http "http://127.0.0.1:$port/plain"
curl -sf -H 'X-User-Id: u1' "http://127.0.0.1:$port/vars" | sed 's/^/# /'

# instance "" (STATSIG_MODULE) and "b_" (STATSIG_MODULE_B): port and pid
declare -A iport ipid mods
iport[a]=$port
ipid[a]=$dir/nginx.pid
mods[a]=$so
names=(a)
if [ -n "${STATSIG_MODULE_B:-}" ]; then
    iport[b]=$(freeport)
    ipid[b]=$dir/b/nginx.pid
    mods[b]=$STATSIG_MODULE_B
    mkdir -p "$dir/b/tmp"
    sed -e "s#^load_module .*#load_module $STATSIG_MODULE_B;#" \
        -e "s#$dir/#$dir/b/#g" \
        -e "s#listen 127.0.0.1:$port;#listen 127.0.0.1:${iport[b]};#" \
        -e "s#statsig_specs_file $dir/b/#statsig_specs_file $dir/#" \
        "$dir/nginx.conf" > "$dir/b/nginx.conf"
    /usr/sbin/nginx -p "$dir/b/" -c "$dir/b/nginx.conf" -e "$dir/b/error.log"
    wait_http "http://127.0.0.1:${iport[b]}/plain"
    trap 'quit "$dir/b/nginx.pid"; cleanup' EXIT
    names=(a b)
fi

# each request a different user (a wrk script numbers them)
cat > "$dir/users.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", nil, {
        ["X-User-Id"] = "user-" .. n,
        ["X-Email"] = (n % 3 == 0) and "a@example.com" or "b@other.org",
        ["X-Country"] = (n % 2 == 0) and "DE" or "US",
        ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0",
    })
end
LUA

# "$1" then $2 / $3 to $4 decimals (2), nothing when $3 is not above 0
ratio() {
    awk -v n="$1" -v a="$2" -v b="$3" -v d="${4:-2}" \
        'BEGIN { if (b > 0) printf "%s%." d "f\n", n, a / b }'
}

declare -A rps cpus pairs u mins ks kpairs
for round in $(seq "$rounds"); do
    order=("${names[@]}")
    if [ $((round % 2)) = 0 ] && [ "${#names[@]}" = 2 ]; then
        order=(b a)
    fi
    for i in "${order[@]}"; do
        p=${i/a/}; p=${p:+${p}_}
        for path in plain nginx-vars vars-quiet vars; do
            c0=$(cpu "${ipid[$i]}")
            k0=$(cpu "${ipid[$i]}" sys)
            out=$("${taskset[@]}" wrk -t1 -c"$conns" -d"${duration}s" \
                -s "$dir/users.lua" "http://127.0.0.1:${iport[$i]}/$path")
            c1=$(cpu "${ipid[$i]}")
            k1=$(cpu "${ipid[$i]}" sys)
            ks[$i$path]=$(awk -v k=$((k1 - k0)) -v c=$((c1 - c0)) \
                'BEGIN { printf "%.4f", (c > 0) ? k / c : 0 }')
            r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
            n=$(awk '/requests in/ {print $1}' <<<"$out")
            # robust where wrk saturates first: the worker's CPU a request
            u[$i$path]=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$n" \
                'BEGIN { printf "%.2f", (n > 0) ? 1e6 * c / hz / n : 0 }')
            echo "${p}variables_${path}_round$round $r req/s," \
                "${u[$i$path]} us/request"
            rps[$i$path]="${rps[$i$path]:-} $r"
            cpus[$i$path]="${cpus[$i$path]:-} ${u[$i$path]}"
        done
        for path in nginx-vars vars-quiet vars; do
            pairs[$i$path]="${pairs[$i$path]:-} $(ratio "" \
                "${u[${i}plain]}" "${u[$i$path]}" 3)"
            kpairs[$i$path]="${kpairs[$i$path]:-} $(ratio "" \
                "${ks[$i$path]}" "${ks[${i}plain]}" 3)"
        done
    done
done

for i in "${names[@]}"; do
    p=${i/a/}; p=${p:+${p}_}
    for path in plain nginx-vars vars-quiet vars; do
        r=$(median <<<"${rps[$i$path]}")
        c=$(median <<<"${cpus[$i$path]}")
        # interference only adds: the least of the rounds, the undisturbed
        mins[$i$path]=$(tr ' ' '\n' <<<"${cpus[$i$path]}" | sed '/^$/d' \
                        | sort -g | head -1)
        echo "${p}variables_$path $r req/s"
        echo "${p}variables_${path}_worker_cpu $c us/request" \
            "(median of $rounds, least ${mins[$i$path]})"
        rps[$i$path]=$r
        cpus[$i$path]=$c
    done
    for path in nginx-vars vars-quiet vars; do
        awk -v a="${rps[$i$path]}" -v b="${rps[${i}plain]}" \
            -v p="${p}variables_$path" \
            'BEGIN {printf "%s_vs_baseline %.1f %%\n", p, 100 * a / b}'
        # the share of a CPU-bound worker's rate kept: plain CPU / gated CPU
        ratio "${p}variables_${path}_cpu_ratio " "${cpus[${i}plain]}" \
            "${cpus[$i$path]}"
        pairs[$i$path]=$(median <<<"${pairs[$i$path]}")
        echo "${p}variables_${path}_cpu_ratio_paired ${pairs[$i$path]}" \
            "(median of the rounds' own ratios)"
        ratio "${p}variables_${path}_cpu_ratio_least " "${mins[${i}plain]}" \
            "${mins[$i$path]}"
        kpairs[$i$path]=$(median <<<"${kpairs[$i$path]}")
        echo "${p}variables_${path}_cpu_ratio_kernel ${kpairs[$i$path]}" \
            "(median of the rounds' gated / plain kernel shares)"
    done
done

# one profile of build $1's worker under wrk on location $2: "module
# samples per kernel sample, kernel share of all samples"
profile() {
    local w
    w=$(pgrep -P "$(cat "${ipid[$1]}")" | head -1)
    "${taskset[@]}" wrk -t1 -c"$conns" -d"$((duration + 2))s" \
        -s "$dir/users.lua" "http://127.0.0.1:${iport[$1]}/$2" \
        >/dev/null &
    sleep 1
    perf record -q -F 4000 -p "$w" -o "$dir/perf.data" -- \
        sleep "$duration" 2>/dev/null
    wait
    perf report -i "$dir/perf.data" --sort dso --stdio 2>/dev/null \
        | awk -v m="$(basename "${mods[$1]}")" '
            $2 == "[kernel.kallsyms]" { k = $1 + 0 }
            $2 == m { s = $1 + 0 }
            END { if (k > 0) printf "%.3f %.4f\n", s / k, k / 100 }'
}

if [ "${PERF:-0}" -gt 0 ] && ! command -v perf >/dev/null; then
    echo "# PERF: no perf here (apt-get install linux-perf)"
elif [ "${PERF:-0}" -gt 0 ]; then
    # per run and build: plain, then vars-quiet; the kernel's share of
    # the worker's samples, as the rounds' "_kernel" ratio but from ~16k
    # samples a profile rather than 1-2 s of clock ticks
    declare -A mk kr
    for run in $(seq "$PERF"); do
        for i in "${names[@]}"; do
            read -r _ kp < <(profile "$i" plain)
            read -r m kv < <(profile "$i" vars-quiet)
            mk[$i]="${mk[$i]:-} $m"
            kr[$i]="${kr[$i]:-} $(ratio "" "$kv" "$kp" 3)"
        done
    done
    for i in "${names[@]}"; do
        p=${i/a/}; p=${p:+${p}_}
        echo "${p}variables_vars-quiet_module_per_kernel" \
            "$(median <<<"${mk[$i]}") (median of $PERF profiles:${mk[$i]})"
        echo "${p}variables_vars-quiet_cpu_ratio_perf" \
            "$(median <<<"${kr[$i]}") (median of $PERF profile pairs'" \
            "gated / plain kernel shares:${kr[$i]})"
    done
fi

if [ "${#names[@]}" = 2 ]; then
    # a build's added CPU as a share of plain: 1/ratio - 1, B against A
    for path in vars-quiet vars; do
        awk -v a="${pairs[a$path]}" -v b="${pairs[b$path]}" \
            -v ka="${kpairs[a$path]}" -v kb="${kpairs[b$path]}" -v p="$path" \
            'BEGIN { if (a > 0 && b > 0 && a < 1 && ka > 0 && kb > 0 \
                         && ka < 1)
                printf "b_variables_%s_added_vs_a %.2f" \
                       " (by the kernel: %.2f)\n", p,
                       (1 / b - 1) / (1 / a - 1), (1 / kb - 1) / (1 / ka - 1) }'
    done
fi

if grep -E '\[(alert|crit|emerg)\]' "$dir/error.log" "$dir"/b/error.log \
    2>/dev/null; then
    exit 1
fi
