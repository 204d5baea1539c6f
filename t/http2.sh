#!/usr/bin/env bash
# HTTP/2: many streams of one connection parked on one IAM fetch are all
# resumed (r->connection is a stream's stand-in there), and a connection that
# goes away with streams still waiting leaves the worker healthy.
# Real nginx, the mock IAM and OIC, h2load (nghttp2-client).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${TEST_NGINX_MODULE:-$top/build/ngx_http_oic_auth_module.so}
work=$(mktemp -d)
mkdir -p "$work/conf" "$work/logs"
mock_pid=
cleanup() {
    [ -f "$work/logs/nginx.pid" ] && kill -QUIT "$(cat "$work/logs/nginx.pid")" 2>/dev/null
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    sleep 0.3; rm -rf "$work"
}
trap cleanup EXIT

node "$top/t/mock/idp.js" --certs "$top/build/certs" >"$work/ports" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
iam=$(sed -E 's/.*"iam":([0-9]+).*/\1/' "$work/ports")
oic=$(sed -E 's/.*"oic":([0-9]+).*/\1/' "$work/ports")
port=${HTTP2_TEST_PORT:-19312}

cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m;
    server {
        listen 127.0.0.1:$port http2;
        http2_max_concurrent_streams 128;
        location / {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
"$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }
sleep 0.3

pass=0 fail=0
check() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
basic() { node -e 'const c=require(process.argv[1]).clients.find(c=>c.id===process.argv[2]);
  const f=s=>encodeURIComponent(s).replace(/%20/g,"+").replace(/[!\x27()~]/g,x=>"%"+x.charCodeAt(0).toString(16).toUpperCase());
  process.stdout.write(Buffer.from(f(c.id)+":"+f(c.secret)).toString("base64"))' "$top/t/mock/clients.json" "$1"; }
calls() { curl -s "http://127.0.0.1:$iam/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(String(JSON.parse(d).token.by_client[process.argv[1]]||0)))' "$1"; }
ok2xx() { h2load "$@" 2>&1 | awk '/^status codes:/ {print $3}'; }

lag=$(basic lag-app3)
check "60 streams on one connection, cold: all 200" 60 \
    "$(ok2xx -n 60 -c 1 -m 60 -H "Authorization: Basic $lag" "http://127.0.0.1:$port/a")"
check "one IAM call for them" 1 "$(calls lag-app3)"

slow=$(basic slow-app)
timeout 0.5 h2load -n 20 -c 1 -m 20 -H "Authorization: Basic $slow" "http://127.0.0.1:$port/b" >/dev/null 2>&1
sleep 2.2
check "after a connection left with 20 waiting streams: 20 streams all 200" 20 \
    "$(ok2xx -n 20 -c 1 -m 20 -H "Authorization: Basic $slow" "http://127.0.0.1:$port/c")"
check "the abandoned fetch filled the cache: one IAM call" 1 "$(calls slow-app)"
check "no alerts, no crashed worker" 0 "$(grep -c -E '\[(alert|crit|emerg)\]|exited on signal' "$work/logs/error.log")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
