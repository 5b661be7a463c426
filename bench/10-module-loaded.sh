#!/usr/bin/env bash
# Requests/s of nginx with the module loaded and gate variables read.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-5}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap cleanup EXIT
port=$(freeport)

cat > "$dir/nginx.conf" <<EOF
load_module $so;
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    statsig_zone statsig 1m;
    statsig_user_id \$http_x_user_id;
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
        location /gate { return 200 "[\$statsig_gate_new_checkout]\n"; }
    }
}
EOF

/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
wait_http "http://127.0.0.1:$port/plain"

for path in plain gate; do
    rps=$(wrk -t1 -c32 -d"${duration}s" -H 'X-User-Id: u1' \
        "http://127.0.0.1:$port/$path" | awk '/Requests\/sec/ {print $2}')
    echo "module_loaded_$path $rps req/s"
done
