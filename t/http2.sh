#!/usr/bin/env bash
# HTTP/2: many streams of one connection parked on one IAM fetch are all
# resumed (r->connection is a stream's stand-in there), and a connection that
# goes away with streams still waiting leaves the worker healthy. Subrequests
# too: SSI includes and auth_request targets of many streams, parked on one
# IAM fetch in the precontent phase, resumed, each with its own header.
# Real nginx, the mock IAM and OIC, h2load (nghttp2-client).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/mock.sh"
mkdir -p "$work/html"
chmod 755 "$work" "$work/html"    # the workers may run as another user
printf '[<!--# include virtual="/api2/x" -->|<!--# include virtual="/api2/y" -->]\n' >"$work/html/page.html"
start_mock
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
        location = /page.html {
            ssi on;
            root html;
        }
        location /api2/ {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            proxy_pass http://127.0.0.1:$oic;
        }
        location /ar/ {
            auth_request /auth;
            proxy_pass http://127.0.0.1:$oic/_plain/;
        }
        location = /auth {
            internal;
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
# curl multiplexes --parallel transfers over one HTTP/2 connection
urls() { for i in $(seq "$2"); do printf '%s\n' "http://127.0.0.1:$port$1?$i"; done; }
app4=$(basic app4)
check "10 streams, each an SSI page with two includes of a basic location, cold: 20 includes forwarded the IAM token" 20 \
    "$(urls /page.html 10 | xargs curl -s --no-progress-meter --http2-prior-knowledge --parallel --parallel-immediate \
        -H "Authorization: Basic $app4" | grep -o '"sub":"app4"' | wc -l)"
check "one IAM call for them" 1 "$(calls app4)"

app5=$(basic app5)
check "30 streams through auth_request into a basic location, cold: all 200" 30 \
    "$(ok2xx -n 30 -c 1 -m 30 -H "Authorization: Basic $app5" "http://127.0.0.1:$port/ar/a")"
check "one IAM call for them" 1 "$(calls app5)"
check "auth_request without credentials: 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge "http://127.0.0.1:$port/ar/b")"

curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"client":"app6","behavior":{"delay_ms":2000}}' \
    "http://127.0.0.1:$iam/_test/iam/behavior"
app6=$(basic app6)
urls /page.html 5 | timeout 0.5 xargs curl -s --no-progress-meter --http2-prior-knowledge --parallel \
    --parallel-immediate -H "Authorization: Basic $app6" >/dev/null 2>&1
sleep 2.2
check "after a connection left with 10 SSI includes waiting: 5 pages, 10 includes with the IAM token" 10 \
    "$(urls /page.html 5 | xargs curl -s --no-progress-meter --http2-prior-knowledge --parallel --parallel-immediate \
        -H "Authorization: Basic $app6" | grep -o '"sub":"app6"' | wc -l)"
check "the abandoned fetch filled the cache: one IAM call" 1 "$(calls app6)"

check "no alerts, no crashed worker" 0 "$(grep -c -E '\[(alert|crit|emerg)\]|exited on signal' "$work/logs/error.log")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
