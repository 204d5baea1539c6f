#!/usr/bin/env bash
# `make run`: start the bundled mock OCI IAM + mock OIC on loopback and Debian's
# nginx with the freshly built module, then show a legacy Basic client reaching
# OIC through the module, the second call served from the token cache, a
# route that requires a team's scope, an Entra user token exchanged for an
# IAM token for that user, and what the metrics endpoint counted.
# Everything keeps running afterwards so you can try it yourself; `make stop` ends it.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=$top/build/ngx_http_oic_auth_module.so
port=${DEMO_PORT:-8080}

bash "$top/t/demo-stop.sh" >/dev/null 2>&1 || true
mkdir -p "$demo/conf" "$demo/logs"

# the mock identity provider and backend: ephemeral loopback ports, printed as JSON
nohup node "$top/t/mock/idp.js" --certs "$top/build/certs" >"$demo/mock.ports" 2>"$demo/logs/mock.log" &
echo $! >"$demo/mock.pid"
for _ in $(seq 100); do [ -s "$demo/mock.ports" ] && break; sleep 0.1; done
ports=$(head -1 "$demo/mock.ports")
iam=$(sed -E 's/.*"iam":([0-9]+).*/\1/' <<<"$ports")
oic=$(sed -E 's/.*"oic":([0-9]+).*/\1/' <<<"$ports")
[ -n "$iam" ] && [ -n "$oic" ] || { echo "the mock IdP did not start, see $demo/logs/mock.log"; exit 1; }

scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'
tenant=demo-tenant
node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="exchange-app").secret)' \
    "$top/t/mock/clients.json" >"$demo/conf/exchange-app.secret"

cat >"$demo/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log logs/access.log;
    oic_auth_cache_zone oic_tokens:1m;

    server {
        listen 127.0.0.1:$port;

        # legacy clients: Basic client credentials in, OCI IAM token out
        location /ic/api/ {
            oic_auth                basic;
            oic_auth_cache          oic_tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope          "$scope";
            add_header X-OIC-Auth-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }

        # scopes per team: Entra tokens validated here, HR scope required
        location /hr/ {
            oic_auth                 bearer;
            oic_auth_cache           oic_tokens;
            oic_auth_jwks_uri        http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
            oic_auth_issuer          https://login.microsoftonline.com/$tenant/v2.0;
            oic_auth_audience        api://oic-gateway;
            oic_auth_scopes_required oic_api_HR;
            proxy_pass http://127.0.0.1:$oic/_plain/;
        }

        # Entra ID user token in, OCI IAM user token out (cached per user)
        location /entra/ {
            oic_auth                       exchange;
            oic_auth_cache                 oic_tokens;
            oic_auth_jwks_uri              http://127.0.0.1:$iam/$tenant/discovery/v2.0/keys;
            oic_auth_issuer                https://login.microsoftonline.com/$tenant/v2.0;
            oic_auth_audience              api://oic-gateway;
            oic_auth_token_endpoint        http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope                 "$scope";
            oic_auth_client_id             exchange-app;
            oic_auth_client_secret_file    $demo/conf/exchange-app.secret;
            oic_auth_assertion_key         $top/build/certs/assertion.key;
            oic_auth_assertion_certificate $top/build/certs/assertion.pem;
            oic_auth_assertion_kid         oic-gw;
            add_header X-OIC-Auth-Cache \$oic_auth_cache_status always;
            add_header X-OIC-Auth-User \$oic_auth_user always;
            proxy_pass http://127.0.0.1:$oic;
        }

        # Prometheus metrics (README "Monitoring"), from this host only
        location = /metrics {
            oic_auth_metrics;
            allow 127.0.0.1;
            deny all;
        }
    }
}
CONF

"$nginx_bin" -t -p "$demo" -c conf/nginx.conf -e logs/error.log
"$nginx_bin" -p "$demo" -c conf/nginx.conf -e logs/error.log

secret=$(node -e 'const c=require(process.argv[1]).clients.find(c=>c.id==="legacy-app");process.stdout.write(c.secret)' "$top/t/mock/clients.json")
# RFC 6749 2.3.1: form-urlencode id and secret, then Basic
enc() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]).replace(/%20/g,"+").replace(/[!\x27()~]/g,c=>"%"+c.charCodeAt(0).toString(16).toUpperCase()))' "$1"; }
cred="$(enc legacy-app):$(enc "$secret")"

run() {
    echo "\$ $*"
    "$@"
    echo
}

cat <<TXT

oic_auth demo: nginx on 127.0.0.1:$port, mock OCI IAM on :$iam, mock OIC on :$oic
---------------------------------------------------------------------------------
A legacy client sends only Basic client credentials. nginx adds the OIC scope,
gets an OCI IAM token for that client, caches it, and forwards the call with
Authorization: Bearer <token>. The mock OIC echoes what it received.

TXT
run curl -s -i -u "$cred" "http://127.0.0.1:$port/ic/api/integration/v1/flows/rest/HELLO/1.0/greet"
echo "The second call is served from the cache (X-OIC-Auth-Cache: HIT, same token jti):"
echo
run curl -s -i -u "$cred" "http://127.0.0.1:$port/ic/api/integration/v1/flows/rest/HELLO/1.0/greet"
echo "A wrong secret never gets the cached token: IAM refuses it (401):"
echo
run curl -s -i -u "legacy-app:wrong" "http://127.0.0.1:$port/ic/api/integration/v1/flows/rest/HELLO/1.0/greet"
echo "IAM was called $(curl -s "http://127.0.0.1:$iam/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const s=JSON.parse(d);process.stdout.write(String(s.token.by_client["legacy-app"]||0))})') time(s) for legacy-app."
mint() {   # mint <json>: an Entra-like token of the demo tenant (test-only endpoint)
    curl -s -X POST -d "$1" "http://127.0.0.1:$iam/_test/entra/$tenant/mint" |
        node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(JSON.parse(d).token))'
}
hr=$(mint '{"user":"alice@example.com","claims":{"scp":"oic_api_HR"}}')
it=$(mint '{"user":"bob@example.com","claims":{"scp":"oic_api_IT"}}')
printf 'HR_TOKEN=%s\nIT_TOKEN=%s\nENTRA_TOKEN=%s\n' "$hr" "$it" "$hr" >"$demo/tokens.env"

cat <<TXT

Scopes per team: /hr/ requires the scope oic_api_HR. An HR token passes, an IT
token gets 403 with error="insufficient_scope":

TXT
echo "\$ curl -s -o /dev/null -w '%{http_code}\\n' -H \"Authorization: Bearer \$HR_TOKEN\" http://127.0.0.1:$port/hr/report"
curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $hr" "http://127.0.0.1:$port/hr/report"
echo
echo "\$ curl -s -i -H \"Authorization: Bearer \$IT_TOKEN\" http://127.0.0.1:$port/hr/report"
curl -s -i -H "Authorization: Bearer $it" "http://127.0.0.1:$port/hr/report" | grep -E '^(HTTP|WWW-Authenticate)'
echo

cat <<TXT
Entra ID -> OCI IAM: alice's Entra token is validated, exchanged for an IAM
token for alice (JWT user assertion grant) and cached per user; OIC sees
sub=alice@example.com, sub_type=user:

TXT
for i in 1 2; do
    echo "\$ curl -s -i -H \"Authorization: Bearer \$ENTRA_TOKEN\" http://127.0.0.1:$port/entra/integration/v1/flows/rest/HELLO/1.0/greet"
    curl -s -i -H "Authorization: Bearer $hr" "http://127.0.0.1:$port/entra/integration/v1/flows/rest/HELLO/1.0/greet" |
        grep -E '^(HTTP|X-OIC|\{)' | sed -E 's/("jti":"[^"]*").*/\1, ...}/'
    echo
done

cat <<TXT

What the module counted (Prometheus format; README "Monitoring"): requests
by mode and outcome, token cache lookups, IAM calls and bearer refusals:

TXT
echo "\$ curl -s http://127.0.0.1:$port/metrics | grep -E '^oic_auth_(requests|token_cache_lookups|iam_requests|bearer_refusals)_total' | grep -v ' 0\$'"
curl -s "http://127.0.0.1:$port/metrics" |
    grep -E '^oic_auth_(requests|token_cache_lookups|iam_requests|bearer_refusals)_total' | grep -v ' 0$'

cat <<TXT

Still running: try the curl lines above (the tokens: . $demo/tokens.env).
Logs: $demo/logs/. Stop with: make stop
TXT
