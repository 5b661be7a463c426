#!/usr/bin/env bash
# Worker CPU per request of "return 200" with no statsig directive (plain)
# against the same location reading 10 gate variables and 2 config
# parameters for a new user per request, exposures off (vars-quiet) and on
# (vars).  SPECS=demo (default): conf-examples/demo-specs.json with its
# gates copied to 10 (percentage rollouts, user fields).  SPECS=dev: the
# oracle's dev-set (holdouts, segments, ID lists, rollouts), its first 10
# feature gates and two configs' parameters.  ROUNDS=N (default 1) runs
# the three locations in turn N times and prints the medians.
# Target: the gated location >= 0.90 of the plain one.  Results:
# bench/README.md.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
conns=${CONNECTIONS:-32}
rounds=${ROUNDS:-1}
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

{ conf_head "worker_processes 1;"; cat <<CONF
    statsig_zone statsig 4m;
    statsig_specs_file $dir/specs.json;
    statsig_user_id \$http_x_user_id;
    statsig_user_field email \$http_x_email;
    statsig_user_field country \$http_x_country;
    $params
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
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

declare -A rps cpus
for round in $(seq "$rounds"); do
    for path in plain vars-quiet vars; do
        c0=$(cpu "$dir/nginx.pid")
        out=$(wrk -t1 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
            "http://127.0.0.1:$port/$path")
        c1=$(cpu "$dir/nginx.pid")
        r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        n=$(awk '/requests in/ {print $1}' <<<"$out")
        # robust where wrk saturates first: the worker's CPU per request
        u=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$n" \
            'BEGIN { printf "%.2f", (n > 0) ? 1e6 * c / hz / n : 0 }')
        echo "variables_${path}_round$round $r req/s, $u us/request"
        rps[$path]="${rps[$path]:-} $r"
        cpus[$path]="${cpus[$path]:-} $u"
    done
done

for path in plain vars-quiet vars; do
    r=$(median <<<"${rps[$path]}")
    u=$(median <<<"${cpus[$path]}")
    echo "variables_$path $r req/s"
    echo "variables_${path}_worker_cpu $u us/request (median of $rounds)"
    rps[$path]=$r
    cpus[$path]=$u
done
for path in vars-quiet vars; do
    awk -v a="${rps[$path]}" -v b="${rps[plain]}" -v p="$path" \
        'BEGIN {printf "variables_%s_vs_baseline %.1f %%\n", p, 100 * a / b}'
    # the share of a CPU-bound worker's rate kept: plain CPU / gated CPU
    awk -v a="${cpus[plain]}" -v b="${cpus[$path]}" -v p="$path" \
        'BEGIN { if (b > 0) printf "variables_%s_cpu_ratio %.2f\n", p, a / b }'
done

if grep -E '\[(alert|crit|emerg)\]' "$dir/error.log"; then
    exit 1
fi
