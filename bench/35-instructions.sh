#!/usr/bin/env bash
# Instructions a request costs, counted by valgrind (callgrind) in one
# nginx process: a figure that a busy 2-core machine does not blur, for
# the per-request work of issue 19 (time figures: 30-variables.sh and
# 40-events.sh on a quiet machine).
#
#  - variables: the oracle's dev-set specs, a location reading 10 gate
#    variables and 2 config parameters for a new user per request (user
#    id, email and country from the query), exposures off ("vars-quiet",
#    no events configured) against "return 200" (plain); and the same
#    with the user from headers, as 30-variables.sh sends it ("vars-hdr"
#    against "plain-hdr", the same headers: nginx finds an $arg_ value by
#    scanning the query, ~600 instructions a value, a header in a list),
#    and 12 of nginx's own variables in the same script ("nginx-hdr");
#  - exposures: the demo specs, 3 gates a request for a new user, with a
#    key and a stand-in log_event (bench/lib.sh), exposures on against
#    "statsig_exposures off"; the window includes the flushes, so the
#    difference is all an exposure costs the worker, divided by 3.
#
# Valgrind reports no SHA extensions, so OpenSSL's SHA-256 runs its
# generic code there (about 2,000 instructions a block, ~50 ns with
# SHA-NI natively): lines "..._no_sha" leave SHA256_Transform out.
# N (default 2000) requests a measure.  Needs valgrind and curl.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${N:-2000}
dir=$(mktemp -d /tmp/statsig-bench-XXXXXX)
trap 'kill "${vg:-0}" 2>/dev/null || true; cleanup' EXIT
port=$(freeport)
sport=$(freeport)
mkdir -p "$dir/tmp"

# $1 a name: starts nginx (one process) under callgrind with
# $dir/$1.conf, instrumentation off until measure() turns it on
start() {
    valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$dir/$1.cg" /usr/sbin/nginx -p "$dir/" \
        -c "$dir/$1.conf" -e "$dir/error.log" 2>"$dir/$1.vg" &
    vg=$!
    for _ in $(seq 300); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/plain" && return 0
        sleep 0.2
    done
    echo "nginx under valgrind did not start" >&2
    exit 1
}

# $1 the location, $2 a name for the run's users: a curl config of $n
# requests on one connection, each a new user, from a browser (the user
# in the query, or in headers for vars-hdr)
urls() {
    local i c ua
    ua='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
    for i in $(seq "$n"); do
        c=$([ $((i % 2)) = 0 ] && echo DE || echo US)
        # options hold for all the URLs until "next" (headers add up)
        echo "user-agent = \"$ua\""
        if [ "${1%-hdr}" != "$1" ]; then
            echo "url = \"http://127.0.0.1:$port/$1\""
            echo "header = \"X-User-Id: $2-$i\""
            echo "header = \"X-Email: u$i@example.com\""
            echo "header = \"X-Country: $c\""
        else
            echo "url = \"http://127.0.0.1:$port/$1?u=$2-$i&email=u$i@example.com&country=$c\""
        fi
        echo "output = /dev/null"
        [ "$i" = "$n" ] || echo "next"
    done
}

# $1 the location, $2 the seconds to wait after the requests (flushes):
# prints the instructions a request, all and without SHA256_Transform
measure() {
    local f total sha label
    label=$1-$(date +%s%N | tail -c 11)     # one length: one JSON size
    urls "$1" "$label" > "$dir/urls"
    callgrind_control -z "$vg" >/dev/null 2>&1
    callgrind_control -i on "$vg" >/dev/null 2>&1
    curl -s -K "$dir/urls"
    sleep "$2"
    callgrind_control -i off "$vg" >/dev/null 2>&1
    callgrind_control -d "$label" "$vg" >/dev/null 2>&1
    # valgrind takes commands as it runs: wait for the dump's file
    for _ in $(seq 300); do
        f=$(grep -l "^desc: Trigger: dump $label\$" "$dir"/*.cg* || true)
        [ -n "$f" ] && grep -q '^totals:' "$f" && break
        sleep 0.2
    done
    total=$(awk '/^totals:/ { print $2 }' "$f")
    sha=$(callgrind_annotate "$f" 2>/dev/null \
          | awk '/SHA256_Transform/ && !s { gsub(",", "", $1); s = $1 }
                 END { print s + 0 }')
    echo "$((total / n)) $(((total - ${sha:-0}) / n))"
}

# ---- variables ----

cp "$root/../shared/oracle/fixtures/dev-set/dcs.json" "$dir/dev.json"
vars=$(dev_gate_vars "$dir/dev.json")

# nginx's own variables in the same number and script (30-variables.sh's
# nginx-vars): nginx's side of the gated location
nginx_vars=
for i in 1 2 3 4; do
    nginx_vars="$nginx_vars \$http_x_user_id \$http_x_email \$http_x_country"
done

{ conf_head "master_process off; daemon off;"; cat <<CONF
    statsig_zone statsig 8m;
    statsig_specs_file $dir/dev.json;
    statsig_user_id \$arg_u;
    statsig_user_field email \$arg_email;
    statsig_user_field country \$arg_country;
    statsig_param \$price config_1_pricing limit_0 default=1;
    statsig_param \$label config_6_pricing mode_0 default=a;
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
        location /plain-hdr { return 200 "ok\n"; }
        location /nginx-hdr { return 200 "$nginx_vars\n"; }
        location /vars-quiet {
            statsig_exposures off;
            return 200 "$vars \$price \$label\n";
        }
        location /vars-hdr {
            statsig_exposures off;
            statsig_user_id \$http_x_user_id;
            statsig_user_field email \$http_x_email;
            statsig_user_field country \$http_x_country;
            return 200 "$vars \$price \$label\n";
        }
    }
}
CONF
} > "$dir/vars.conf"

start vars
measure plain 1 >/dev/null          # warm: first requests, page faults
read -r plain plain_ns < <(measure plain 1)
read -r quiet quiet_ns < <(measure vars-quiet 1)
read -r plain_hdr plain_hdr_ns < <(measure plain-hdr 1)
read -r hdr hdr_ns < <(measure vars-hdr 1)
read -r ngx_hdr ngx_hdr_ns < <(measure nginx-hdr 1)
kill "$vg"; wait "$vg" 2>/dev/null || true
echo "instructions_plain $plain /request"
echo "instructions_vars_quiet $quiet /request ($quiet_ns without SHA-256)"
echo "instructions_vars_quiet_added $((quiet - plain)) /request" \
     "($((quiet_ns - plain_ns)) without SHA-256)"
echo "instructions_vars_hdr_added $((hdr - plain_hdr)) /request" \
     "($((hdr_ns - plain_hdr_ns)) without SHA-256; the user from headers)"
echo "instructions_nginx_hdr_added $((ngx_hdr - plain_hdr)) /request" \
     "(12 of nginx's own variables in the same script, no statsig)"

# ---- exposures ----

standin_start events.log ""
echo "bench-secret-key" > "$dir/key"
cp "$root/conf-examples/demo-specs.json" "$dir/demo.json"
gates='$statsig_gate_public_launch$statsig_gate_beta_users'
gates="$gates\$statsig_gate_new_checkout"

{ conf_head "master_process off; daemon off;"; cat <<CONF
    statsig_zone statsig 64m;
    statsig_specs_file $dir/demo.json;
    statsig_specs_url http://127.0.0.1:$sport/v1/download_config_specs;
    statsig_id_lists_url http://127.0.0.1:$sport/v1/get_id_lists;
    statsig_events_url http://127.0.0.1:$sport/v1/log_event;
    statsig_server_key file:$dir/key;
    statsig_user_id \$arg_u;
    server {
        listen 127.0.0.1:$port;
        location /plain { return 200 "ok\n"; }
        location /on { return 200 "$gates\n"; }
        location /off {
            statsig_exposures off;
            return 200 "$gates\n";
        }
    }
}
CONF
} > "$dir/events.conf"

start events
measure on 3 >/dev/null             # warm: the ring's and packs' pages
read -r off off_ns < <(measure off 3)
read -r on on_ns < <(measure on 3)
kill "$vg"; wait "$vg" 2>/dev/null || true
echo "instructions_exposures_off $off /request ($off_ns without SHA-256)"
echo "instructions_exposures_on $on /request ($on_ns without SHA-256)"
echo "instructions_exposure $(((on_ns - off_ns) / 3)) /exposure" \
     "(3 a request, flushes included, without SHA-256)"
events=$(awk '{ n += $1 } END { print n + 0 }' "$dir/sink/events.log")
echo "exposures_delivered $events (the stand-in's count, a check that they flowed)"

if grep -E '\[(alert|crit|emerg)\]' "$dir/error.log"; then
    exit 1
fi
