#!/usr/bin/env bash
# Requests/s of "return 200" with no statsig directive (baseline) against
# the same location reading 10 gate variables and 2 config parameters per
# request, with exposures on and off.  Specs: conf-examples/demo-specs.json
# with its gates copied to 10 (percentage rollouts, user fields).
# Target: >= 90% of the baseline.  Results: bench/README.md.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
conns=${CONNECTIONS:-32}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)

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

cat > "$dir/nginx.conf" <<CONF
load_module $so;
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    statsig_zone statsig 4m;
    statsig_specs_file $dir/specs.json;
    statsig_user_id \$http_x_user_id;
    statsig_user_field email \$http_x_email;
    statsig_user_field country \$http_x_country;
    statsig_param \$price pricing price default=9.99;
    statsig_param \$label button_color label default=Buy;
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

declare -A rps
for path in plain vars vars-quiet plain; do
    c0=$(cpu "$dir/nginx.pid")
    out=$(wrk -t1 -c"$conns" -d"${duration}s" -s "$dir/users.lua" \
        "http://127.0.0.1:$port/$path")
    c1=$(cpu "$dir/nginx.pid")
    r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "variables_$path $r req/s"
    # robust where wrk saturates first: the worker's CPU per request
    awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$n" -v p="$path" \
        'BEGIN { if (n > 0) printf "variables_%s_worker_cpu %.2f us/request\n",
                 p, 1e6 * c / hz / n }'
    # the baseline is measured before and after; keep the better one
    if [ "$path" = plain ] && [ -n "${rps[plain]:-}" ]; then
        r=$(awk -v a="$r" -v b="${rps[plain]}" 'BEGIN {print (a > b) ? a : b}')
    fi
    rps[$path]=$r
done

for path in vars vars-quiet; do
    awk -v a="${rps[$path]}" -v b="${rps[plain]}" -v p="$path" \
        'BEGIN {printf "variables_%s_vs_baseline %.1f %%\n", p, 100 * a / b}'
done

if grep -E '\[(alert|crit|emerg)\]' "$dir/error.log"; then
    exit 1
fi
