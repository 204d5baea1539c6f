#!/usr/bin/env bash
# `nginx -s reload` keeps the token zone's content: a token cached before the
# reload is served after it by the new workers without an IAM call; a request
# waiting for IAM when the reload comes still gets its answer from the old
# worker; a changed zone size is a new zone; the IAM guard's state (here a
# 429's block) is kept too. Real nginx (master + 2 workers), the mock IAM and OIC.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/mock.sh"
start_mock
port=${RELOAD_TEST_PORT:-19311}
scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'

write_conf() {   # $1: zone size
    cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    oic_auth_cache_zone tokens:$1;
    server {
        listen 127.0.0.1:$port;
        location / {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "$scope";
            oic_auth_negative_ttl 0;    # every refusal is IAM's (and logged)
            add_header X-Cache \$oic_auth_cache_status always;
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
cache() { curl -s -o /dev/null -w '%{http_code} ' -D - -u app3:"$secret" "http://127.0.0.1:$port/x" | tr -d '\r' | awk '/^X-Cache:/ {c=$2} END {print c}'; }
calls() { curl -s "http://127.0.0.1:$iam/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(String(JSON.parse(d).token.by_client[process.argv[1]]||0)))' "${1:-app3}"; }
workers() { pgrep -P "$(cat "$work/logs/nginx.pid")" | sort | tr '\n' ' '; }
# the id the log gives app3's entry for a wrong secret (never cached: each call logs it)
keyid() {
    curl -s -o /dev/null -u app3:wrong "http://127.0.0.1:$port/x"
    sleep 0.2
    grep -oE 'client "app3" \(key [0-9a-f]{8}\) refused' "$work/logs/error.log" | tail -1 | grep -oE '[0-9a-f]{8}'
}
# SIGHUP, then wait (10 s at most) until new workers run and none of the old
# ones is left (an old worker stays while it finishes a request): the next
# step sees the new configuration however slow the machine is
reload() {
    old=$(workers)
    kill -HUP "$(cat "$work/logs/nginx.pid")"
    for _ in $(seq 200); do
        sleep 0.05
        new=$(workers)
        [ -n "$new" ] && ! grep -qwF -f <(tr ' ' '\n' <<<"$old" | grep .) <<<"$new" && break
    done
}

secret=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="app3").secret)' "$top/t/mock/clients.json")

write_conf 1m
"$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }
sleep 0.3
check "first request fetches" MISS "$(cache)"
check "second request is a hit" HIT "$(cache)"
check "one IAM call" 1 "$(calls)"
id1=$(keyid)
check "a refused secret is logged with a key id" yes "$([ -n "$id1" ] && echo yes || echo no)"
n=$(calls)   # the refused calls count too

reload
check "workers replaced by the reload" yes "$([ "$(workers)" != "$old" ] && echo yes || echo no)"
check "after reload: still a hit" HIT "$(cache)"
check "after reload: no new IAM call" "$n" "$(calls)"
check "after reload: the zone's secret is kept (same key id)" "$id1" "$(keyid)"
n=$(calls)

# a request waiting for IAM while nginx reloads: the old worker finishes it
slow=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="slow-app").secret)' "$top/t/mock/clients.json")
curl -s -o "$work/inflight" -w '%{http_code}' -u "slow-app:$slow" "http://127.0.0.1:$port/inflight" >"$work/inflight.code" &
inflight=$!
sleep 0.5
reload
wait "$inflight"
check "a request waiting on IAM during a reload gets its answer" 200 "$(cat "$work/inflight.code")"

write_conf 2m
reload
check "a resized zone starts empty" MISS "$(cache)"
check "a resized zone calls IAM again" "$((n + 1))" "$(calls)"
id3=$(keyid)
check "a resized zone has a new secret (another key id)" yes "$([ -n "$id3" ] && [ "$id3" != "$id1" ] && echo yes || echo no)"
# the IAM guard's zone is kept across a reload: a 429's block (Retry-After 30)
# still holds for the new workers, which make no call for another client
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"client":"app4","behavior":{"status":429,"retry_after":"30"}}' "http://127.0.0.1:$iam/_test/iam/behavior"
secret4=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="app4").secret)' "$top/t/mock/clients.json")
secret5=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="app5").secret)' "$top/t/mock/clients.json")
check "IAM answers 429: 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' -u "app4:$secret4" "http://127.0.0.1:$port/x")"
old=$(workers)
kill -HUP "$(cat "$work/logs/nginx.pid")"
for _ in $(seq 50); do sleep 0.1; new=$(workers); [ "$new" != "$old" ] && [ -n "$new" ] && ! grep -q "${old%% *}" <<<"$new" && break; done
sleep 0.3
check "after reload: the 429 block holds (503, no IAM call)" "503 0" \
    "$(curl -s -o /dev/null -w '%{http_code}' -u "app5:$secret5" "http://127.0.0.1:$port/x") $(calls app5)"

check "no alerts in the error log" 0 "$(grep -c -E '\[(alert|crit|emerg)\]' "$work/logs/error.log")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
