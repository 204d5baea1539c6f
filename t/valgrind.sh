#!/usr/bin/env bash
# `make valgrind`: nginx (master + 2 workers) with the module under valgrind
# memcheck, the three modes (basic, bearer, exchange) and their error paths
# driven through the mock IAM and OIC, then three `nginx -s reload`s (one with
# a changed zone) with traffic after each, then a graceful stop. Every nginx
# process (master, the workers of each generation) writes its own valgrind
# log; the run fails on any error in any of them: invalid reads/writes, use
# of uninitialised values, bad frees, and definite leaks. valgrind.suppress
# (repository root, where OpenResty's Test::Nginx also looks for it) lists the
# suppressed reports that are not the module's.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${TEST_NGINX_MODULE:-$top/build/ngx_http_oic_auth_module.so}
port=${VALGRIND_TEST_PORT:-19314}
work=$(mktemp -d)
mkdir -p "$work/conf" "$work/logs"
mock_pid= vg_pid=
cleanup() {
    [ -n "$vg_pid" ] && kill -QUIT "$vg_pid" 2>/dev/null
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    sleep 0.3
    if [ -n "${VALGRIND_KEEP:-}" ]; then echo "# kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

. "$top/t/mock/start.sh"
start_mock
scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'
tenant=vg-tenant
secret_of() { node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id===process.argv[2]).secret)' "$top/t/mock/clients.json" "$1"; }
secret_of exchange-app >"$work/conf/exchange.secret"

write_conf() {   # $1: zone size
    cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
daemon off;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log logs/access.log;
    oic_auth_cache_zone tokens:$1;
    oic_auth_timeout 20s;
    server {
        listen 127.0.0.1:$port;
        add_header X-Cache \$oic_auth_cache_status always;
        add_header X-User \$oic_auth_user always;
        location /basic/ {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "$scope";
            proxy_pass http://127.0.0.1:$oic;
        }
        location /bearer/ {
            oic_auth bearer;
            oic_auth_cache tokens;
            oic_auth_jwks_uri http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$tenant/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_scopes_required oic_api_HR;
            proxy_pass http://127.0.0.1:$oic/_plain/;
        }
        location /exchange/ {
            oic_auth exchange;
            oic_auth_cache tokens;
            oic_auth_jwks_uri http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$tenant/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "$scope";
            oic_auth_client_id exchange-app;
            oic_auth_client_secret_file $work/conf/exchange.secret;
            oic_auth_assertion_key $top/build/certs/assertion.key;
            oic_auth_assertion_certificate $top/build/certs/assertion.pem;
            oic_auth_assertion_kid oic-gw;
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
}

pass=0 fail=0
check() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
code() { curl -s -o /dev/null -m 60 -w '%{http_code}' "$@"; }
mint() {
    curl -s -X POST -d "$1" "http://127.0.0.1:$iam/_test/entra/$tenant/mint" |
        node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(JSON.parse(d).token))'
}
workers() { pgrep -P "$vg_pid" | sort | tr '\n' ' '; }
replaced() {   # none of $old is left, and new workers are there
    local now w; now=$(workers)
    for w in $old; do grep -qw "$w" <<<"$now" && return 1; done
    [ -n "$now" ]
}

app3=$(secret_of app3)
hr=$(mint '{"user":"alice@example.com","claims":{"scp":"oic_api_HR"}}')
it=$(mint '{"user":"bob@example.com","claims":{"scp":"oic_api_IT"}}')
u=http://127.0.0.1:$port

traffic() {   # $1: round
    check "$1: basic" 200 "$(code -u "app3:$app3" "$u/basic/x")"
    check "$1: basic again" 200 "$(code -u "app3:$app3" "$u/basic/x")"
    check "$1: basic, wrong secret" 401 "$(code -u "app3:wrong" "$u/basic/x")"
    check "$1: basic, malformed" 401 "$(code -H 'Authorization: Basic !!!' "$u/basic/x")"
    check "$1: bearer" 200 "$(code -H "Authorization: Bearer $hr" "$u/bearer/x")"
    check "$1: bearer, other scope" 403 "$(code -H "Authorization: Bearer $it" "$u/bearer/x")"
    check "$1: bearer, garbage" 401 "$(code -H "Authorization: Bearer a.b.c" "$u/bearer/x")"
    check "$1: bearer, none" 401 "$(code "$u/bearer/x")"
    check "$1: exchange" 200 "$(code -H "Authorization: Bearer $hr" "$u/exchange/x")"
    check "$1: exchange again" 200 "$(code -H "Authorization: Bearer $hr" "$u/exchange/x")"
}

write_conf 1m
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --num-callers=50 --keep-debuginfo=yes \
    --gen-suppressions=all --suppressions="$top/valgrind.suppress" \
    --log-file="$work/vg.%p.log" \
    "$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log >"$work/nginx.out" 2>&1 &
vg_pid=$!
for _ in $(seq 600); do
    curl -s -o /dev/null -m 5 "$u/" && break
    kill -0 "$vg_pid" 2>/dev/null || break
    sleep 0.1
done
check "nginx under valgrind answers" yes "$(curl -s -o /dev/null -m 5 "$u/" && echo yes || echo no)"

traffic start
for round in 1 2 3; do
    old=$(workers)
    [ "$round" = 3 ] && write_conf 2m
    kill -HUP "$vg_pid"
    for _ in $(seq 600); do sleep 0.1; replaced && break; done
    check "reload $round: new workers" yes "$([ "$(workers)" != "$old" ] && echo yes || echo no)"
    traffic "reload $round"
done

kill -QUIT "$vg_pid"
for _ in $(seq 600); do kill -0 "$vg_pid" 2>/dev/null || break; sleep 0.1; done
check "nginx stopped" no "$(kill -0 "$vg_pid" 2>/dev/null && echo yes || echo no)"
vg_pid=

logs=$(ls "$work"/vg.*.log 2>/dev/null | wc -l)
# the master and the two workers of each of the 4 generations
check "a valgrind log per nginx process" yes "$([ "$logs" -ge 9 ] && echo yes || echo "no ($logs)")"
summaries=$(cat "$work"/vg.*.log | grep -c 'ERROR SUMMARY:')
check "every process reached its leak check" "$logs" "$summaries"
bad=$(grep -l 'ERROR SUMMARY: [1-9]' "$work"/vg.*.log)
check "no valgrind errors (invalid accesses, definite leaks)" "" "$bad"
for f in $bad; do echo "# ---- $f"; sed 's/^/# /' "$f"; done
check "no alerts in the error log" 0 "$(grep -c -E '\[(alert|crit|emerg)\]' "$work/logs/error.log")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
