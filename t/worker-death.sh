#!/usr/bin/env bash
# A worker killed in the middle of a token fetch: requests waiting in the other
# worker do not hang on it; once the dead owner's deadline (oic_auth_timeout
# + 1 s) has passed, one of them takes the fetch over and all of them get
# their answer. With a single connection to IAM allowed, the dead worker's
# connection slot is taken over too, once its deadline (oic_auth_timeout
# + 2 s) has passed. Real nginx (master + 2 workers), the mock IAM and OIC.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/mock.sh"
mkdir -p "$work/out"
start_mock
port=${WORKER_DEATH_TEST_PORT:-19313}

cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log debug;
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m;
    server {
        listen 127.0.0.1:$port reuseport;
        location / {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_timeout 2500ms;
            oic_auth_iam_connections 1;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
"$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }
sleep 0.5

pass=0 fail=0
check() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
secret=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="slow-app").secret)' "$top/t/mock/clients.json")
calls() { curl -s "http://127.0.0.1:$iam/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(String(JSON.parse(d).token.by_client["slow-app"]||0)))'; }

# IAM holds the owner's fetch for 30 s, so that it cannot succeed before the
# kill (the owner gives up at its 2.5 s oic_auth_timeout: that is how long
# the polling below has to find it); the takeover's fetch takes 2 s
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"client":"slow-app","behavior":{"delay_ms":30000,"after":{"calls":1,"then":{"delay_ms":2000}}}}' \
    "http://127.0.0.1:$iam/_test/iam/behavior"

# 16 concurrent requests of that client; with reuseport they spread over
# both workers
t0=$(date +%s.%N)
pids=()
for i in $(seq 16); do
    curl -s -o /dev/null -m 20 -w '%{http_code} %{time_total}\n' -u "slow-app:$secret" "http://127.0.0.1:$port/r$i" >"$work/out/$i" &
    pids+=($!)
done

# the worker that owns the fetch, as soon as its log line is there (10 s at most)
owner=
for _ in $(seq 200); do
    owner=$(grep -oE '[0-9]+#[0-9]+: \*[0-9]+ oic_auth: request started for client' "$work/logs/error.log" | head -1 | cut -d'#' -f1)
    [ -n "$owner" ] && break
    sleep 0.05
done
workers=$(pgrep -P "$(cat "$work/logs/nginx.pid")" | tr '\n' ' ')
check "a worker owns the fetch" yes "$([ -n "$owner" ] && grep -qw "$owner" <<<"$workers" && echo yes || echo no)"
kill -9 "$owner" 2>/dev/null
tkill=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
wait "${pids[@]}"

# reset with its killed worker: ended without an answer within 1.5 s of the kill
ok=$(cat "$work/out"/* | grep -c '^200 ')
killed=$(cat "$work/out"/* | awk -v k="$tkill" '$1 == "000" && $2 < k + 1.5' | wc -l)
slowest=$(cat "$work/out"/* | awk '$1 == "200" {t = $2 > t ? $2 : t} END {printf "%d", t}')
check "every request: 200, or reset with its killed worker" 16 "$((ok + killed))"
check "the requests of the surviving worker were answered" yes "$([ "$ok" -gt 0 ] && echo yes || echo no)"
check "none waited longer than the deadline and one more fetch (< 9 s)" yes "$([ "$slowest" -lt 9 ] && echo yes || echo no)"
check "the fetch was taken over once the owner's deadline passed" 1 \
    "$(grep -c 'did not finish in time, fetching again' "$work/logs/error.log")"
check "two IAM calls: the dead owner's and the takeover" 2 "$(calls)"
check "the dead worker's connection slot was taken over (no request refused for want of one)" 0 \
    "$(grep -c 'no free connection' "$work/logs/error.log")"
code=$(curl -s -o /dev/null -w '%{http_code} ' -D - -u "slow-app:$secret" "http://127.0.0.1:$port/after" | tr -d '\r' | awk '/^X-Cache:/ {c=$2} END {print c}')
check "the token fetched by the takeover is cached" HIT "$code"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
