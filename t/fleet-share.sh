#!/usr/bin/env bash
# Fleet mode end to end: two gateways (two nginx instances, each with its own
# prefix, zones and 2 workers) share one real redis-server (Debian's, with a
# password) and one key file, in front of the mock IAM and OIC.
#
#   - 200 concurrent cold requests for one client, spread over both gateways:
#     exactly one IAM call, every request served
#   - redis-cli --scan + GET: no client id, secret or token in keys or values
#   - a refusal (wrong secret) at one gateway is answered at the other from
#     Redis, without a call (the negative cache holds fleet-wide)
#   - a refresh ahead happens once for the fleet
#   - the failure limit, the IAM budget and a 429 block hold fleet-wide
#   - a tampered token entry is ignored, not served: a new call, 200
#   - Redis paused (slow): a cold request goes to IAM after Redis' timeout; a
#     client that goes away while its lookup is in flight cancels it
#   - Redis killed in the middle of a run: no failed request (cached tokens
#     are served, cold clients get tokens from IAM locally)
#   - Redis restarted: the gateways share again (one call for a new client)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/mock.sh"
. "$top/t/inc/redis.sh"
mkdir -p "$work/a/conf" "$work/a/logs" "$work/b/conf" "$work/b/logs"
cleanup() {   # mock.sh's, for two gateways and Redis
    for g in a b; do
        [ -f "$work/$g/logs/nginx.pid" ] && kill -QUIT "$(cat "$work/$g/logs/nginx.pid")" 2>/dev/null
    done
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    sleep 0.3
    redis_cleanup
    rm -rf "$work"
}

start_mock
port_a=${FLEET_TEST_PORT:-19315}   # and the next one
port_b=$((port_a + 1))

redis_start "Pw-$$-$RANDOM" || exit 1
node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="exchange-app").secret)' \
    "$top/t/mock/clients.json" >"$work/exchange.secret"
tenant=fleet-tenant

for g in a b; do
    port=$port_a; [ "$g" = b ] && port=$port_b
    cat >"$work/$g/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$REDIS_PORT password_file=$REDIS_PASSWORD_FILE timeout=500ms;
    oic_auth_redis_key_file $REDIS_KEY_FILE;
    server {
        listen 127.0.0.1:$port reuseport;
        location / {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_timeout 5s;
            oic_auth_negative_ttl 30s;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /gate {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_timeout 5s;
            oic_auth_negative_ttl 0;
            oic_auth_failure_limit 3 1m;
            oic_auth_iam_rate 2r/s burst=4;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            add_header X-Error \$oic_auth_error always;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /exchange {
            oic_auth exchange;
            oic_auth_cache tokens;
            oic_auth_jwks_uri http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$tenant/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            oic_auth_client_id exchange-app;
            oic_auth_client_secret_file $work/exchange.secret;
            oic_auth_assertion_key $top/build/certs/assertion.key;
            oic_auth_assertion_certificate $top/build/certs/assertion.pem;
            oic_auth_assertion_kid oic-gw;
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /short {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_timeout 5s;
            oic_auth_refresh_margin 5s;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
    "$nginx_bin" -p "$work/$g" -c conf/nginx.conf -e logs/error.log || { echo "nginx $g did not start"; exit 1; }
done

pass=0 fail=0
check() {   # name, expected, actual
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
json() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const j=JSON.parse(d);process.stdout.write(String(eval(process.argv[1])))})' "$1"; }
secret() { node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id===process.argv[2]).secret)' "$top/t/mock/clients.json" "$1"; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
calls() { curl -s "http://127.0.0.1:$iam/_test/stats" | json "j.token.by_client[\"$1\"]||0"; }
behave() { curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$iam/_test/iam/behavior"; }
enc() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"; }
drive() {   # port, n, extra query (auth=...&...)
    curl -s -m 60 "http://127.0.0.1:$iam/_test/drive?port=$1&n=$2&$3"
}
drive_both() {   # n per gateway, query, output prefix: both at once
    drive "$port_a" "$1" "$2" >"$work/$3a" &
    local da=$!
    drive "$port_b" "$1" "$2" >"$work/$3b"
    wait "$da"
}
req() {   # port, auth, path: "status x-cache"
    curl -s -o /dev/null -m 20 -D - -H "Authorization: $2" "http://127.0.0.1:$1${3:-/}" \
        | tr -d '\r' | awk 'NR==1{s=$2} tolower($1)=="x-cache:"{c=$2} END{print s" "c}'
}
reqe() {   # port, auth, path: "status x-error"
    curl -s -o /dev/null -m 20 -D - -H "Authorization: $2" "http://127.0.0.1:$1${3:-/}" \
        | tr -d '\r' | awk 'NR==1{s=$2} tolower($1)=="x-error:"{c=$2} END{print s" "c}'
}
total() { curl -s "http://127.0.0.1:$iam/_test/stats" | json 'j.token.total'; }
clients_up() { [ "$(redis_oic_clients | wc -l)" -ge 4 ]; }
redis_wait clients_up
check "both gateways' workers are connected to Redis" yes "$(clients_up && echo yes || echo no)"

# ---- 200 concurrent cold requests over both gateways: one IAM call ----

s=$(secret lag-app)
auth=$(enc "$(basic lag-app "$s")")
drive_both 100 "auth=$auth&conc=100&timeline=1" r
check "gateway A: 100 cold requests served" '{"200":100}' "$(json 'JSON.stringify(j.statuses)' <"$work/ra")"
check "gateway B: 100 cold requests served" '{"200":100}' "$(json 'JSON.stringify(j.statuses)' <"$work/rb")"
check "200 concurrent cold requests over two gateways: one IAM call" 1 "$(calls lag-app)"
fa=$(json 'j.timeline.filter(t=>t[2]==="FLEET").length' <"$work/ra")
fb=$(json 'j.timeline.filter(t=>t[2]==="FLEET").length' <"$work/rb")
check "the gateway that did not call IAM took the token from Redis (FLEET)" yes \
      "$( { [ "$fa" -gt 0 ] || [ "$fb" -gt 0 ]; } && echo yes || echo no)"

# ---- nothing in clear in Redis ----

dump() {
    redis_cli --scan
    for k in $(redis_cli --scan); do redis_cli GET "$k"; done
}
dump >"$work/redis.dump"
check "Redis holds entries" yes "$([ "$(redis_cli --scan | wc -l)" -ge 2 ] && echo yes || echo no)"
check "no client id in Redis" 0 "$(grep -a -c 'lag-app' "$work/redis.dump")"
check "no secret in Redis" 0 "$(grep -a -c -F "$s" "$work/redis.dump")"
# every token the mock issues is a JWT: eyJ... (base64 of '{"')
check "no token in Redis" 0 "$(grep -a -c 'eyJ' "$work/redis.dump")"
check "key names are the prefix and a hash" "" \
      "$(redis_cli --scan | grep -v -E '^oic_auth:[0-9a-f]{64}(:fail|:lock)?$')"

# ---- exchange mode: one IAM call per user for the fleet, no user name in Redis ----

user=carol@example.com   # a user the mock IAM knows
mint() { curl -s -X POST -H 'Content-Type: application/json' -d "{\"user\":\"$user\"}" \
             "http://127.0.0.1:$iam/_test/entra/$tenant/mint" | json 'j.token'; }
users() { curl -s "http://127.0.0.1:$iam/_test/stats" | json "j.token.by_user[\"$user\"]||0"; }
check "exchange: a user at A" "200 MISS" "$(req "$port_a" "Bearer $(mint)" /exchange)"
sleep 0.3
check "exchange: the same user at B (another Entra token), from Redis" "200 FLEET" \
      "$(req "$port_b" "Bearer $(mint)" /exchange)"
check "exchange: one IAM call for the user" 1 "$(users)"
dump >"$work/redis.dump"
check "no user name in Redis" 0 "$(grep -a -c -i 'carol' "$work/redis.dump")"
check "no token in Redis (exchange)" 0 "$(grep -a -c 'eyJ' "$work/redis.dump")"

# ---- the negative cache holds fleet-wide ----

bad=$(basic app1 wrong-secret)
c0=$(calls app1)
check "a wrong secret at gateway A: 401" "401 " "$(req "$port_a" "$bad" | sed 's/ .*/ /')"
sleep 0.3
check "the same at gateway B: 401 from Redis" "401 NEGATIVE" "$(req "$port_b" "$bad")"
check "one IAM call for the refusal, fleet-wide" 1 "$(( $(calls app1) - c0 ))"
dump >"$work/redis.dump"
check "no wrong secret in Redis" 0 "$(grep -a -c 'wrong-secret' "$work/redis.dump")"

# ---- a refresh ahead, once for the fleet ----

behave '{"client":"app2","behavior":{"expires_in":10}}'
a2=$(basic app2 "$(secret app2)")
c0=$(calls app2)
check "a 10 s token at A" "200 MISS" "$(req "$port_a" "$a2" /short)"
sleep 0.3
check "and at B, from Redis" "200 FLEET" "$(req "$port_b" "$a2" /short)"
sleep 5.3       # its refresh window (margin 5 s) has begun
for i in $(seq 10); do
    req "$port_a" "$a2" /short >>"$work/refresh"
    req "$port_b" "$a2" /short >>"$work/refresh"
    sleep 0.1
done
check "requests in the refresh window are served" 0 "$(grep -vc '^200 ' "$work/refresh")"
check "one refresh for the fleet: two IAM calls in all" 2 "$(( $(calls app2) - c0 ))"

# ---- a tampered token entry is ignored ----

a3=$(basic app3 "$(secret app3)")
c0=$(calls app3)
check "app3 at A" "200 MISS" "$(req "$port_a" "$a3")"
sleep 0.3
# flip one byte of the ciphertext of every token entry, TTL kept
redis_cli EVAL "for _, k in ipairs(redis.call('KEYS', 'oic_auth:*')) do
  if redis.call('TYPE', k).ok == 'string' and not string.find(k, ':', 10) then
    local v = redis.call('GET', k)
    local t = redis.call('PTTL', k)
    if #v > 40 and t > 0 then
      redis.call('SET', k, v:sub(1, 29) .. string.char((string.byte(v, 30) + 1) % 256) .. v:sub(31), 'PX', t)
    end
  end
end
return 1" 0 >/dev/null
check "B does not serve the tampered entry: it calls IAM" "200 MISS" "$(req "$port_b" "$a3")"
check "two IAM calls for app3" 2 "$(( $(calls app3) - c0 ))"
check "B logs the tampered entry" yes \
      "$(grep -q 'does not open' "$work/b/logs/error.log" && echo yes || echo no)"

# ---- the failure limit holds fleet-wide (3 refusals a minute) ----

c0=$(calls lag-app3)
reqe "$port_a" "$(basic lag-app3 wrong-1)" /gate >>"$work/limit"; sleep 0.2
reqe "$port_a" "$(basic lag-app3 wrong-2)" /gate >>"$work/limit"; sleep 0.2
reqe "$port_b" "$(basic lag-app3 wrong-3)" /gate >>"$work/limit"; sleep 0.2
check "three wrong secrets over both gateways: refused by IAM" "401 invalid_client,401 invalid_client,401 invalid_client," \
      "$(tr '\n' , <"$work/limit")"
check "the fleet's limit: a fourth at A is refused without a call" "401 client_throttled" \
      "$(reqe "$port_a" "$(basic lag-app3 wrong-4)" /gate)"
check "and at B" "401 client_throttled" "$(reqe "$port_b" "$(basic lag-app3 wrong-5)" /gate)"
check "three IAM calls in all" 3 "$(( $(calls lag-app3) - c0 ))"

# ---- the IAM budget holds fleet-wide (2r/s burst=4: 5 at once) ----

t0=$(total)
drive_both 40 "rand_clients=1&conc=40&path=/gate" b
used=$(( $(total) - t0 ))
ms=$(json 'Math.max(j.ms, 0)' <"$work/ba"); ms_b=$(json 'j.ms' <"$work/bb")
[ "$ms_b" -gt "$ms" ] && ms=$ms_b
# 5 at once, then 2 a second while the runs lasted, and one for rounding
allowed=$(( 5 + 2 * ms / 1000 + 1 ))
check "80 made-up clients over both gateways: at most the fleet's budget calls IAM ($used, $allowed allowed in $ms ms)" yes \
      "$([ "$used" -le "$allowed" ] && echo yes || echo no)"
check "both gateways refused some (iam_rate_limited)" yes \
      "$( [ "$(json 'j.statuses["503"]||0' <"$work/ba")" -gt 0 ] && [ "$(json 'j.statuses["503"]||0' <"$work/bb")" -gt 0 ] && echo yes || echo no)"

# ---- IAM's 429 blocks the fleet ----

check "IAM answers 429 at A" "503 iam_rate_limited" "$(reqe "$port_a" "$(basic rate-app "$(secret rate-app)")" /gate)"
sleep 0.1
c0=$(calls other-scope-app)
check "B makes no call while the block lasts" "503 iam_rate_limited" \
      "$(reqe "$port_b" "$(basic other-scope-app "$(secret other-scope-app)")" /gate)"
check "no IAM call from B" 0 "$(( $(calls other-scope-app) - c0 ))"
sleep 2

# ---- Redis slow (every command paused for 3 s): requests do not wait ----

redis_cli CLIENT PAUSE 3000 ALL >/dev/null
# a client that goes away while its Redis lookup is in flight cancels it
curl -s -o /dev/null -m 0.2 -H "Authorization: $(basic app8 "$(secret app8)")" "http://127.0.0.1:$port_a/"
sleep 0.1
check "a client gone during its Redis lookup: the lookup is cancelled" yes \
      "$(grep -q 'Redis lookup of the token for client "app8".* is cancelled' "$work/a/logs/error.log" && echo yes || echo no)"
t0=$(date +%s%N)
check "Redis paused: a cold client at A gets its token from IAM at once" "200 MISS" \
      "$(req "$port_a" "$(basic it-app "$(secret it-app)")")"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
check "within Redis' timeout (500 ms) and the call, not the pause ($took ms)" yes \
      "$([ "$took" -lt 2000 ] && echo yes || echo no)"
sleep 3
REDIS_WAIT=30 redis_wait clients_up

# ---- Redis killed mid-run ----

cold=""
for c in app4 app5 app6 app7 app8 finance-app hr-app; do
    cold="$cold&auth=$(enc "$(basic "$c" "$(secret "$c")")")"
done
warm="auth=$auth"
drive_both 300 "$warm$cold&interval_ms=10" k &
runs=$!
sleep 1
redis_kill9
wait "$runs"
check "gateway A while Redis died: every request served" '{"200":300}' "$(json 'JSON.stringify(j.statuses)' <"$work/ka")"
check "gateway B while Redis died: every request served" '{"200":300}' "$(json 'JSON.stringify(j.statuses)' <"$work/kb")"

c0=$(calls burst-app)
l=$(basic burst-app "$(secret burst-app)")
check "Redis down: a cold client at A gets a token from IAM" "200 MISS" "$(req "$port_a" "$l")"
check "Redis down: and at B" "200 MISS" "$(req "$port_b" "$l")"
check "Redis down: each gateway called IAM" 2 "$(( $(calls burst-app) - c0 ))"
check "Redis down: a cached token is served" "200 HIT" "$(req "$port_a" "$(basic lag-app "$s")")"

# ---- Redis back: the fleet shares again ----

redis_restart
REDIS_WAIT=45 redis_wait clients_up
check "Redis back: the gateways reconnect" yes "$(clients_up && echo yes || echo no)"
s2=$(secret lag-app2)
auth2=$(enc "$(basic lag-app2 "$s2")")
drive_both 50 "auth=$auth2&conc=50" r2
check "Redis back: 100 cold requests served" '{"200":50}{"200":50}' \
      "$(json 'JSON.stringify(j.statuses)' <"$work/r2a")$(json 'JSON.stringify(j.statuses)' <"$work/r2b")"
check "Redis back: one IAM call for the fleet again" 1 "$(calls lag-app2)"

check "no alert, no crash" 0 "$(cat "$work"/a/logs/error.log "$work"/b/logs/error.log | grep -cE '\[alert\]|\[crit\]|\[emerg\]|signal [0-9]+')"

echo "fleet-share: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
