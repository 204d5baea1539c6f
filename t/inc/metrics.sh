# The shell side of the metrics tests (t/metrics-reload.sh,
# t/metrics-promtool.sh): the mock IAM + OIC, an nginx (master + workers)
# with a location of each mode, a limit and "oic_auth_metrics", traffic
# through them with curl, and the scrape. Needs $top; t/inc/mock.sh sets
# $work and cleans up at exit.
#
#   . "$top/t/inc/metrics.sh"
#   metrics_conf WORKERS [LOC]    writes the configuration (LOC: instead of
#                                 the metrics location, e.g. "" for none)
#   metrics_start | metrics_reload
#   scrape                        the body of GET /metrics
#   values                        its lines with a value other than 0, without
#                                 the histograms' buckets and sums (times
#                                 vary), the zones' bytes and the JWKS fetch
#                                 time; the mock's port as PORT
#   check NAME EXPECTED ACTUAL    one TAP line; metrics_done: the summary
#   code CURL-ARGS...             the status of a request
#   traffic                       one round through every mode (below)

. "$top/t/inc/mock.sh"   # $nginx_bin, $module, $work, cleanup at exit
port=${RELOAD_TEST_PORT:-19311}
pass=0 fail=0
u=http://127.0.0.1:$port

start_mock
scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'
tenant=metrics-tenant
secret_of() { node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id===process.argv[2]).secret)' "$top/t/mock/clients.json" "$1"; }
secret_of exchange-app >"$work/conf/exchange.secret"

metrics_location='location = /metrics {
            oic_auth_metrics;
            allow 127.0.0.1;
            deny all;
        }'
metrics_conf() {   # $1: workers, $2: instead of the metrics location
    cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes $1;
events { worker_connections 256; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m;
    oic_auth_limit_zone perclient:1m rate=1r/m;
    server {
        listen 127.0.0.1:$port reuseport;
        oic_auth_cache tokens;
        oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
        oic_auth_scope "$scope";
        oic_auth_jwks_uri http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
        oic_auth_issuer https://login.microsoftonline.com/$tenant/v2.0;
        oic_auth_audience api://oic-gateway;
        location / {
            return 404;
        }
        location /basic/ {
            oic_auth basic;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /limited/ {
            oic_auth basic;
            oic_auth_limit perclient burst=1 nodelay;
            proxy_pass http://127.0.0.1:$oic;
        }
        location /bearer/ {
            oic_auth bearer;
            oic_auth_scopes_required oic_api_HR;
            proxy_pass http://127.0.0.1:$oic/_plain/;
        }
        location /exchange/ {
            oic_auth exchange;
            oic_auth_client_id exchange-app;
            oic_auth_client_secret_file $work/conf/exchange.secret;
            oic_auth_assertion_key $top/build/certs/assertion.key;
            oic_auth_assertion_certificate $top/build/certs/assertion.pem;
            oic_auth_assertion_kid oic-gw;
            proxy_pass http://127.0.0.1:$oic;
        }
        ${2-$metrics_location}
    }
}
CONF
}

check() {   # name, expected, actual
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1"; diff <(echo "$2") <(echo "$3") | sed 's/^/#   /'; fail=$((fail + 1)); fi
}
metrics_done() {
    check "no alerts in the error log" 0 "$(grep -c -E '\[(alert|crit|emerg)\]' "$work/logs/error.log")"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
code() { curl -s -o /dev/null -m 30 -w '%{http_code}' "$@"; }
mint() {
    curl -s -X POST -d "$1" "http://127.0.0.1:$iam/_test/entra/$tenant/mint" |
        node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(JSON.parse(d).token))'
}
scrape() { curl -s -m 10 "$u/metrics"; }
values() {
    scrape | grep -v '^#' | grep -v ' 0$' \
        | grep -v -E '_bucket\{|_sum\{|_timestamp_seconds|_bytes\{' \
        | sed -E 's/127\.0\.0\.1:[0-9]+/PORT/g'
}
workers() { pgrep -P "$(cat "$work/logs/nginx.pid")" | sort | tr '\n' ' '; }

metrics_start() {
    # nothing may still listen on the port (an earlier test's nginx)
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break; sleep 0.1; done
    "$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }
    for _ in $(seq 50); do curl -s -o /dev/null "$u/metrics" && break; sleep 0.1; done
}

# nginx -s reload; 0 once the old workers are gone and new ones are there
metrics_reload() {
    local old new w gone
    old=$(workers)
    kill -HUP "$(cat "$work/logs/nginx.pid")"
    for _ in $(seq 100); do
        sleep 0.1; new=$(workers); gone=1
        for w in $old; do grep -qw "$w" <<<"$new" && gone=0; done
        [ "$gone" = 1 ] && [ -n "$new" ] && return 0
    done
    return 1
}

app3=$(secret_of app3)
app4=$(secret_of app4)
hr=$(mint '{"user":"alice@example.com","claims":{"scp":"oic_api_HR"}}')
it=$(mint '{"user":"bob@example.com","claims":{"scp":"oic_api_IT"}}')

# One round: basic twice and with a wrong secret (app3; its token cached
# after the first round), bearer with the HR scope, the IT scope and garbage,
# exchange twice (alice), the limit thrice (app4: 1r/m burst=1 nodelay, so
# passed, passed, rejected in the first round; rejected after, within a
# minute).
traffic() {   # $1: round, $2: the limit's statuses
    check "$1: basic" 200 "$(code -u "app3:$app3" "$u/basic/x")"
    check "$1: basic again" 200 "$(code -u "app3:$app3" "$u/basic/x")"
    check "$1: basic, wrong secret" 401 "$(code -u "app3:wrong" "$u/basic/x")"
    check "$1: bearer" 200 "$(code -H "Authorization: Bearer $hr" "$u/bearer/x")"
    check "$1: bearer, other scope" 403 "$(code -H "Authorization: Bearer $it" "$u/bearer/x")"
    check "$1: bearer, garbage" 401 "$(code -H "Authorization: Bearer a.b.c" "$u/bearer/x")"
    check "$1: exchange" 200 "$(code -H "Authorization: Bearer $hr" "$u/exchange/x")"
    check "$1: exchange again" 200 "$(code -H "Authorization: Bearer $hr" "$u/exchange/x")"
    check "$1: limit" "$2" "$(for _ in 1 2 3; do code -u "app4:$app4" "$u/limited/x"; echo; done | xargs)"
}
