#!/usr/bin/env bash
# Requests/s of nginx with the module loaded and gate variables read.
set -euo pipefail

so=${STATSIG_MODULE:-$(pwd)/build/nginx/ngx_http_statsig_module.so}
duration=${DURATION:-5}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1:0",Listen=>1)->sockport')

cleanup() {
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$dir"
}
trap cleanup EXIT

user=; [ "$(id -u)" = 0 ] && user="user root;"

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
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/plain" >/dev/null && break
    sleep 0.1
done

for path in plain gate; do
    rps=$(wrk -t1 -c32 -d"${duration}s" -H 'X-User-Id: u1' \
        "http://127.0.0.1:$port/$path" | awk '/Requests\/sec/ {print $2}')
    echo "module_loaded_$path $rps req/s"
done
