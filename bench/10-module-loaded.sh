#!/usr/bin/env bash
# Requests/s of nginx with the module loaded and gate variables read.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)

{ conf_head "worker_processes 1;"; cat <<EOF
    statsig_zone statsig 1m;
    statsig_user_id \$http_x_user_id;
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
        location /gate { return 200 "[\$statsig_gate_new_checkout]\n"; }
    }
}
EOF
} > "$dir/nginx.conf"

/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
wait_http "http://127.0.0.1:$port/plain"

for path in plain gate; do
    rps=$(wrk -t1 -c32 -d"${duration}s" -H 'X-User-Id: u1' \
        "http://127.0.0.1:$port/$path" | awk '/Requests\/sec/ {print $2}')
    echo "module_loaded_$path $rps req/s"
done
