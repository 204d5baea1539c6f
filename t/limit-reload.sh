#!/usr/bin/env bash
# `nginx -s reload` keeps the limit zones' counts, like the token zone: a
# client over its limit before the reload is still over it after, in the new
# workers; a new rate applies to the kept counts; a request delayed when the
# reload comes still gets its answer from the old worker; a changed zone size
# is a new zone. Real nginx (master + 2 workers), the mock IAM and OIC.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/mock.sh"
start_mock
port=${RELOAD_TEST_PORT:-19311}
scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'

write_conf() {   # $1: size of the zone "perclient", $2: its rate
    cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m;
    oic_auth_limit_zone perclient:$1 rate=$2;
    oic_auth_limit_zone shaped:1m rate=1r/s;
    server {
        listen 127.0.0.1:$port;
        oic_auth basic;
        oic_auth_cache tokens;
        oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
        oic_auth_scope "$scope";
        add_header X-Limit \$oic_auth_limit_status always;
        location / {
            oic_auth_limit perclient burst=1 nodelay;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /shaped {
            oic_auth_limit shaped burst=5;
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
}

pass=0 fail=0
check() {   # name, expected, actual
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
secret() { node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id===process.argv[2]).secret)' "$top/t/mock/clients.json" "$1"; }
limit() {   # client [path]: "<status> <X-Limit>"
    curl -s -o /dev/null -D - -u "$1:$(secret "$1")" "http://127.0.0.1:$port${2:-/x}" | tr -d '\r' \
        | awk 'NR == 1 {s=$2} /^X-Limit:/ {l=$2} END {print s, l}'
}
workers() { pgrep -P "$(cat "$work/logs/nginx.pid")" | sort | tr '\n' ' '; }
reload() {
    local old new
    old=$(workers)
    kill -HUP "$(cat "$work/logs/nginx.pid")"
    for _ in $(seq 50); do
        sleep 0.1; new=$(workers)
        [ -n "$new" ] && ! grep -q -w -F "${old%% *}" <<<"$new" && break
    done
    sleep 0.3
}

# nothing may still listen on the port (an earlier test's nginx shutting down)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break; sleep 0.1; done

write_conf 1m 1r/m
"$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }
sleep 0.3
check "first request passes" "200 PASSED" "$(limit app3)"
check "second request passes (burst=1)" "200 PASSED" "$(limit app3)"
check "third request is over the limit" "429 REJECTED" "$(limit app3)"

old=$(workers)
reload
check "workers replaced by the reload" yes "$([ "$(workers)" != "$old" ] && echo yes || echo no)"
check "after reload: the client is still over its limit" "429 REJECTED" "$(limit app3)"
check "after reload: another client is not" "200 PASSED" "$(limit app4)"

# a new rate applies to the kept counts: at 100r/s app3's excess is gone
write_conf 1m 100r/s
reload
check "a reload with a higher rate: the client passes again" "200 PASSED" "$(limit app3)"

# a request delayed when the reload comes: the old worker answers it
pids=
for i in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}' -u "app5:$(secret app5)" "http://127.0.0.1:$port/shaped/$i" >"$work/delayed.$i" &
    pids="$pids $!"
done
sleep 0.7
reload
wait $pids
check "requests delayed across a reload get their answers" "200 200 200" "$(cat "$work/delayed.1") $(cat "$work/delayed.2") $(cat "$work/delayed.3")"

# a resized zone is a new zone: its counts start empty
write_conf 1m 1r/m
reload
limit app6 >/dev/null; limit app6 >/dev/null
check "app6 over its limit" "429 REJECTED" "$(limit app6)"
write_conf 2m 1r/m
reload
check "a resized zone starts empty" "200 PASSED" "$(limit app6)"

check "no alerts in the error log" 0 "$(grep -c -E '\[(alert|crit|emerg)\]' "$work/logs/error.log")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
