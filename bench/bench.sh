#!/usr/bin/env bash
# Requests per second of one nginx (2 workers, Debian's /usr/sbin/nginx with
# build/ngx_http_oic_auth_module.so) for
#   1. a plain proxy_pass,
#   2. oic_auth bearer with one repeated token (verified once, then the
#      verified-token cache),
#   3. oic_auth bearer with a different token on every request (each one an
#      RS256 signature verification),
#   4. oic_auth basic, one legacy client (its IAM token from the shared cache),
#  4b. the same with an oic_auth_limit per client that the load never
#      exceeds (1000000r/s, burst=1000 nodelay: counted, never refused), run
#      right after 4: the cost of the limit on the hit path,
#   5. oic_auth exchange, one Entra user (the user's IAM token from the cache),
#   6. oic_auth basic, one wrong secret hammered (IAM refuses it once; the
#      refusal is remembered),
#   7. oic_auth basic, a new made-up client id on every request (IAM is asked
#      no more than the default budget allows: 2r/s burst=8),
#   8. case 4 again while case 7 runs at the same time (the cached client's
#      requests/s during the flood),
#   9. case 4 with fleet mode on (the zone "fleet", a real redis-server): the
#      local-hit path, which never touches Redis,
#  10. fleet mode, the cost of a Redis hit: one request per client with a
#      cold local zone and the token in Redis (FLEET), against the next
#      request of the same client (a local HIT), timed one by one with curl
#      (medians over the mock's clients),
# all proxying to a "return 200" server block of the same nginx on another
# port (keep-alive upstream connections), measured with wrk. For 6 to 8 the
# IAM token calls made during the run are reported too.
#
#   bench/bench.sh                 # wrk -t2 -c32 -d10s for 1 and 2, 20,000 tokens for 3
#   BENCH_DURATION=5s BENCH_TOKENS=40000 bench/bench.sh
#   BENCH_LIMIT_PAIRS=6 bench/bench.sh   # then 4, 4b and 9 alternately, 6 times each
#   BENCH_METRICS_PAIRS=6 bench/bench.sh # then 2, 4 and 5 with metrics off and
#                                  # on alternately, 6 times each (below)
#   BENCH_PORT=27020 bench/bench.sh    # nginx on 27020 and 27021 (else two free ports)
#
#   bench/bench.sh hit             # the hit paths side by side (below)
#   bench/bench.sh callgrind       # their instructions per request (below)
#
# "hit": one nginx with ONE worker, wrk -t1 -c32 (BENCH_THREADS,
# BENCH_CONNECTIONS), keep-alive upstream: plain proxy_pass, basic (cache
# hit), bearer (one repeated token) and exchange (cache hit), each with the
# same Entra-shaped token (RS256, ~1 KB, 17 claims); BENCH_ROUNDS rounds
# (default 5) of BENCH_DURATION (default 5s) per case, the order of the cases
# rotated each round; per case the requests/s of every round, their median
# and the ratios to plain (the ratio of the medians, and the median of the
# ratios within a round). On a shared machine only the ratios within a round
# mean something, and even they swing with the load; steadier: the worker's
# CPU time per request in each run (/proc/PID/schedstat, user and kernel),
# also reported with its ratios (plain's over the case's, per round).
#
# "callgrind": the same cases, each served by a single nginx process
# (master_process off, daemon off) under valgrind --tool=callgrind, driven
# by h2load over keep-alive connections: a run answering W warm-up requests
# and one answering W + N (BENCH_CG_WARMUP, default 200; BENCH_CG_REQUESTS,
# default 2000); the difference of their instruction counts over N is the
# instructions per request of the case, whatever the load of the machine.
# Printed: per case its instructions/request and that minus plain
# proxy_pass, then (callgrind_annotate, inclusive) the module's functions
# that cost the most per request. BENCH_CG_KEEP=dir keeps the callgrind
# output files there. Cases "bearer-vars" and "exchange-vars" add
# proxy_set_header lines with the $oic_auth_* variables.
#
# BENCH_HTTP_CONF: text added to the http block.
# BENCH_METRICS_PORT=N: an "oic_auth_metrics" location on 127.0.0.1:N (so
# that every request is counted); "hit" then prints the request counters
# at the end, the proof that they counted.
#
# Everything runs on 127.0.0.1 and is stopped at exit: the mock Entra ID of
# t/mock/idp.js (JWKS, and the test-only mint endpoint that pre-mints
# BENCH_TOKENS distinct tokens into a file) and the nginx under test. Run 3
# sends each pre-minted token exactly once (each wrk thread its own share)
# and its rate is measured over the time the tokens took (about 2 s for
# 20,000 tokens at 10,000/s: raise BENCH_TOKENS for a longer run; the mock
# mints about 800 tokens/s).
#
# Metrics on the hit paths (BENCH_METRICS_PAIRS=N): a second nginx with the
# same configuration plus an "oic_auth_metrics" location (so every request
# is counted: the requests, the token cache or verified-token cache lookup)
# runs beside the first on two more ports; cases 2, 4 and 5 then run against
# the one without and the one with metrics alternately (the order swapped
# every pair), N times each: the medians and the median ratio of the pairs.
#
# Needs: nginx, nodejs, wrk, curl (installed with apt-get when missing).

set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${MODULE:-$TOP/build/ngx_http_oic_auth_module.so}
CERTS=$TOP/build/certs
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
TOKENS=${BENCH_TOKENS:-20000}
LIMIT_PAIRS=${BENCH_LIMIT_PAIRS:-0}
METRICS_PAIRS=${BENCH_METRICS_PAIRS:-0}
TENANT=bench-tenant
MODE=${1:-all}
WORKERS=2

case "$MODE" in
all) ;;
hit)
    WORKERS=1 TOKENS=0 THREADS=${BENCH_THREADS:-1} DURATION=${BENCH_DURATION:-5s}
    ROUNDS=${BENCH_ROUNDS:-5} ;;
callgrind)
    WORKERS=1 TOKENS=0
    CG_WARMUP=${BENCH_CG_WARMUP:-200} CG_REQUESTS=${BENCH_CG_REQUESTS:-2000} ;;
*)
    echo "usage: bench/bench.sh [all | hit | callgrind]" >&2; exit 2 ;;
esac

need() { command -v "$1" >/dev/null 2>&1; }
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
need wrk || missing+=(wrk)
need node || missing+=(nodejs)
need curl || missing+=(curl)
need redis-server || missing+=(redis-server)
if [ "$MODE" = callgrind ]; then
    need valgrind || missing+=(valgrind)
    need h2load || missing+=(nghttp2-client)
fi
[ -x "$NGINX" ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    $SUDO apt-get install -y "${missing[@]}" >/dev/null
fi
[ -f "$MODULE" ] || make -C "$TOP" module >/dev/null
[ -s "$CERTS/server.pem" ] || bash "$TOP/t/mock/gen-certs.sh" "$CERTS" >/dev/null

WORK=$(mktemp -d /tmp/oic-bench-XXXXXX)
MOCK_PID=
NGINX_STARTED=
M_STARTED=
CG_PID=

cleanup() {
    set +e
    if [ -n "${CG_PID:-}" ]; then
        kill -QUIT "$CG_PID" 2>/dev/null
        wait "$CG_PID" 2>/dev/null
    fi
    if [ -n "$M_STARTED" ] && [ -s "$WORK/m/logs/nginx.pid" ]; then
        "$NGINX" -p "$WORK/m/" -c conf/nginx.conf -e "$WORK/m/logs/error.log" -s quit 2>/dev/null
        for _ in $(seq 50); do [ -s "$WORK/m/logs/nginx.pid" ] || break; sleep 0.1; done
    fi
    if [ -n "$NGINX_STARTED" ] && [ -s "$WORK/logs/nginx.pid" ]; then
        "$NGINX" -p "$WORK/" -c conf/nginx.conf -e "$WORK/logs/error.log" -s quit 2>/dev/null
        for _ in $(seq 50); do [ -s "$WORK/logs/nginx.pid" ] || break; sleep 0.1; done
    fi
    exec 3>&- 2>/dev/null
    if [ -n "$MOCK_PID" ]; then
        kill "$MOCK_PID" 2>/dev/null
        wait "$MOCK_PID" 2>/dev/null
    fi
    redis_cleanup
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Redis for fleet mode (cases 9 and 10): t/inc/redis.sh

. "$TOP/t/inc/redis.sh"
redis_start >&2 || exit 1

# ---- the mock IdP (its stdin is our fd 3: it exits when we do)

mkfifo "$WORK/mock.in"
node "$TOP/t/mock/idp.js" --certs "$CERTS" --exit-on-stdin-eof <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
exec 3>"$WORK/mock.in"
for _ in $(seq 100); do grep -q '"iam"' "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
IAM_PORT=$(sed -n 's/.*"iam":\([0-9]*\).*/\1/p' "$WORK/mock.out")
[ -n "$IAM_PORT" ] || { echo "the mock IdP did not start:" >&2; cat "$WORK/mock.err" >&2; exit 1; }

# ---- pre-mint the tokens (distinct: every token has its own uti and signature)

cat >"$WORK/mint.js" <<'EOF'
const http = require('http');
const [port, n, tid] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const conc = 32, agent = new http.Agent({ keepAlive: true, maxSockets: conc });
let next = 0, done = 0; const out = [];
function one() {
  if (next >= n) return;
  next++;
  const req = http.request({ host: '127.0.0.1', port, path: `/_test/entra/${tid}/mint`, method: 'POST', agent,
    headers: { 'Content-Type': 'application/json' } }, (res) => {
    let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => {
      if (res.statusCode !== 200) { console.error('mint failed', res.statusCode, b); process.exit(1); }
      out.push(JSON.parse(b).token);
      if (++done === n) { process.stdout.write(out.join('\n') + '\n'); agent.destroy(); } else one();
    });
  });
  req.on('error', (e) => { console.error('mint failed', e.message); process.exit(1); });
  req.end('{}');
}
for (let i = 0; i < conc; i++) one();
EOF
echo "minting $TOKENS tokens (RS256, mock Entra tenant $TENANT)..." >&2
node "$WORK/mint.js" "$IAM_PORT" "$((TOKENS + 1))" "$TENANT" >"$WORK/all.txt"
head -n 1 "$WORK/all.txt" >"$WORK/repeated.txt"
tail -n +2 "$WORK/all.txt" >"$WORK/tokens.txt"
[ "$(sort -u "$WORK/tokens.txt" | wc -l)" -eq "$TOKENS" ] || { echo "tokens are not distinct" >&2; exit 1; }
REPEATED=$(cat "$WORK/repeated.txt")

# ---- nginx: the front server and the "return 200" upstream on two free ports

if [ -n "${BENCH_PORT:-}" ]; then
    FRONT_PORT=$BENCH_PORT UP_PORT=$((BENCH_PORT + 1))
    M_FRONT_PORT=$((BENCH_PORT + 2)) M_UP_PORT=$((BENCH_PORT + 3))
else
    read -r FRONT_PORT UP_PORT M_FRONT_PORT M_UP_PORT < <(node -e '
    const net = require("net"); const ports = [];
    (function next() {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        ports.push(s.address().port); s.close(() => ports.length < 4 ? next() : console.log(ports.join(" ")));
      });
    })();')
fi

mkdir -p "$WORK/conf" "$WORK/logs"
SCOPE='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'
secret_of() { node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id===process.argv[2]).secret)' "$TOP/t/mock/clients.json" "$1"; }
secret_of exchange-app >"$WORK/exchange.secret"
# RFC 6749 2.3.1: form-urlencode, then Basic
basic_of() { node -e 'const f=s=>encodeURIComponent(s).replace(/%20/g,"+").replace(/[!\x27()~]/g,c=>"%"+c.charCodeAt(0).toString(16).toUpperCase());
  process.stdout.write(Buffer.from(f(process.argv[1])+":"+f(process.argv[2])).toString("base64"))' "$1" "$2"; }
BASIC=$(basic_of app1 "$(secret_of app1)")
WRONG=$(basic_of app2 wrong-secret)
# an IAM token like those basic and exchange forward (one more IAM call): what
# /plain-iam forwards, so that plain-basic and plain-exchange send the
# upstream the same bytes as basic and exchange without the module
IAM_TOKEN=$(curl -s --max-time 60 -H "Authorization: Basic $BASIC" --data-urlencode grant_type=client_credentials \
    --data-urlencode "scope=$SCOPE" "http://127.0.0.1:$IAM_PORT/oauth2/v1/token" |
    node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(JSON.parse(d).access_token))')
[ -n "$IAM_TOKEN" ] || { echo "no IAM token from the mock" >&2; exit 1; }
SINGLE=
[ "$MODE" != callgrind ] || SINGLE='master_process off; daemon off;'
METRICS_CONF=
[ -z "${BENCH_METRICS_PORT:-}" ] ||
    METRICS_CONF="server { listen 127.0.0.1:$BENCH_METRICS_PORT; location = /metrics { oic_auth_metrics; } }"
cat >"$WORK/conf/nginx.conf" <<EOF
load_module $MODULE;
$SINGLE
worker_processes $WORKERS;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    oic_auth_cache_zone oic:64m;
    oic_auth_limit_zone perclient:1m rate=1000000r/s;
    ${BENCH_HTTP_CONF:-}
    $METRICS_CONF

    # fleet mode: two zones of one "gateway" sharing one Redis (10: the
    # second one is cold when the first has put the token in Redis)
    oic_auth_cache_zone fleet:64m fleet;
    oic_auth_cache_zone fleet2:8m fleet;
    oic_auth_redis 127.0.0.1:$REDIS_PORT;
    oic_auth_redis_key_file $REDIS_KEY_FILE;

    upstream backend {
        server 127.0.0.1:$UP_PORT;
        keepalive 64;
    }

    server {
        listen 127.0.0.1:$UP_PORT;
        location / { return 200 "ok\n"; }
    }

    server {
        listen 127.0.0.1:$FRONT_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /plain {
            proxy_pass http://backend;
        }

        location /plain-iam {
            proxy_set_header Authorization "Bearer $IAM_TOKEN";
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }

        location /bearer {
            oic_auth bearer;
            oic_auth_cache oic;
            oic_auth_jwks_uri http://127.0.0.1:$IAM_PORT/$TENANT/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$TENANT/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_scopes_required oic_api_HR;
            proxy_pass http://backend;
        }

        location /basic {
            oic_auth basic;
            oic_auth_cache oic;
            oic_auth_token_endpoint http://127.0.0.1:$IAM_PORT/oauth2/v1/token;
            oic_auth_scope "$SCOPE";
            proxy_pass http://backend;
        }

        location /basic-fleet {
            oic_auth basic;
            oic_auth_cache fleet;
            oic_auth_token_endpoint http://127.0.0.1:$IAM_PORT/oauth2/v1/token;
            oic_auth_scope "$SCOPE";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://backend;
        }

        location /basic-fleet2 {
            oic_auth basic;
            oic_auth_cache fleet2;
            oic_auth_token_endpoint http://127.0.0.1:$IAM_PORT/oauth2/v1/token;
            oic_auth_scope "$SCOPE";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://backend;
        }

        location /basic-limit {
            oic_auth basic;
            oic_auth_cache oic;
            oic_auth_token_endpoint http://127.0.0.1:$IAM_PORT/oauth2/v1/token;
            oic_auth_scope "$SCOPE";
            oic_auth_limit perclient burst=1000 nodelay;
            proxy_pass http://backend;
        }

        location /exchange {
            oic_auth exchange;
            oic_auth_cache oic;
            oic_auth_jwks_uri http://127.0.0.1:$IAM_PORT/$TENANT/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$TENANT/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_token_endpoint http://127.0.0.1:$IAM_PORT/oauth2/v1/token;
            oic_auth_scope "$SCOPE";
            oic_auth_client_id exchange-app;
            oic_auth_client_secret_file $WORK/exchange.secret;
            oic_auth_assertion_key $CERTS/assertion.key;
            oic_auth_assertion_certificate $CERTS/assertion.pem;
            oic_auth_assertion_kid oic-gw;
            proxy_pass http://backend;

            location /exchange-vars {
                proxy_set_header X-OIC-User \$oic_auth_user;
                proxy_set_header X-OIC-Sub \$oic_auth_subject;
                proxy_set_header Connection "";
                proxy_pass http://backend;
            }
        }

        location /bearer-vars {
            oic_auth bearer;
            oic_auth_cache oic;
            oic_auth_jwks_uri http://127.0.0.1:$IAM_PORT/$TENANT/discovery/v2.0/keys;
            oic_auth_issuer https://login.microsoftonline.com/$TENANT/v2.0;
            oic_auth_audience api://oic-gateway;
            oic_auth_scopes_required oic_api_HR;
            proxy_set_header X-OIC-User \$oic_auth_user;
            proxy_set_header X-OIC-Sub \$oic_auth_subject;
            proxy_set_header X-OIC-Scopes \$oic_auth_scopes;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
    }
}
EOF

if [ "$METRICS_PAIRS" -gt 0 ]; then
    # the same on two other ports, with a metrics location
    mkdir -p "$WORK/m/conf" "$WORK/m/logs"
    sed -e "s/127\.0\.0\.1:$FRONT_PORT;/127.0.0.1:$M_FRONT_PORT;/" \
        -e "s/127\.0\.0\.1:$UP_PORT;/127.0.0.1:$M_UP_PORT;/g" \
        -e 's|^        location /plain {|        location = /metrics { oic_auth_metrics; }\n&|' \
        "$WORK/conf/nginx.conf" >"$WORK/m/conf/nginx.conf"
    "$NGINX" -p "$WORK/m/" -c conf/nginx.conf -e "$WORK/m/logs/error.log"
    M_STARTED=1
fi

check() {   # check <path> [token | "Basic ..."] [port]: the answer must be 200 "ok"
    local out auth=
    case "${2:-}" in "") ;; Basic*) auth="Authorization: $2" ;; *) auth="Authorization: Bearer $2" ;; esac
    out=$(curl -s -o /dev/null --max-time 60 -w '%{http_code}' ${auth:+-H "$auth"} "http://127.0.0.1:${3:-$FRONT_PORT}$1")
    [ "$out" = 200 ] || { echo "GET $1 answered $out" >&2; cat "$WORK/logs/error.log" >&2; exit 1; }
}

# the hit-path cases: their location and their Authorization header
# (plain-bearer: plain proxy_pass of the request bearer gets, the Entra
# token forwarded as it is)
case_path() { case "$1" in plain-basic|plain-exchange) echo /plain-iam ;; plain*) echo /plain ;; *) echo "/$1" ;; esac; }
case_auth() {
    case "$1" in
    plain) ;;
    basic|plain-basic) echo "Basic $BASIC" ;;
    *) echo "Bearer $REPEATED" ;;
    esac
}
# the plain proxy_pass a mode's case compares with: the same request, and the
# same bytes to the upstream (the Entra token for bearer, an IAM token for
# basic and exchange), without the module
own_plain() { case "$1" in basic|bearer|exchange) echo "plain-$1" ;; *-vars) echo "plain-${1%-vars}" ;; *) echo "$1" ;; esac; }

if [ "$MODE" = callgrind ]; then
    # cg_run <case> <requests> <out>: a fresh nginx under callgrind answers
    # one request of the case (its cache fill), then <requests> of them;
    # CG_IR: the instructions of the whole process (not in a subshell: the
    # exit trap stops the nginx of a failed run)
    cg_run() {
        local path auth log=$WORK/logs/callgrind-$1-$2.log
        path=$(case_path "$1") auth=$(case_auth "$1")
        valgrind --tool=callgrind --callgrind-out-file="$3" \
            "$NGINX" -p "$WORK/" -c conf/nginx.conf -e "$WORK/logs/error.log" >"$log" 2>&1 &
        CG_PID=$!
        # listening (no request before the counted ones: the same in every run)
        for _ in $(seq 300); do
            [ -z "$(ss -ltnH "sport = :$FRONT_PORT")" ] || break
            sleep 0.2
        done
        check "$path" "${auth#Bearer }"
        h2load --h1 -n "$2" -c 4 -t 1 ${auth:+-H "Authorization: $auth"} \
            "http://127.0.0.1:$FRONT_PORT$path" >"$WORK/h2load.txt" 2>&1
        grep -q "status codes: $2 2xx" "$WORK/h2load.txt" || {
            echo "$1: not all of $2 requests answered 2xx:" >&2
            cat "$WORK/h2load.txt" "$WORK/logs/error.log" >&2; exit 1; }
        kill -QUIT "$CG_PID"
        wait "$CG_PID" || true
        CG_PID=
        CG_IR=$(awk '/^(summary|totals):/ {print $2; exit}' "$3")
        [ -n "$CG_IR" ] || { echo "$1: no callgrind totals in $3" >&2; exit 1; }
    }

    CG_CASES=${BENCH_CG_CASES:-plain plain-basic plain-bearer plain-exchange basic bearer exchange bearer-vars exchange-vars}
    CG_DIR=${BENCH_CG_KEEP:-$WORK/cg}
    mkdir -p "$CG_DIR"
    echo "callgrind: $CG_WARMUP and $((CG_WARMUP + CG_REQUESTS)) requests per case..." >&2
    declare -A IPR
    for c in $CG_CASES; do
        cg_run "$c" "$CG_WARMUP" "$CG_DIR/callgrind.$c.warmup"
        a=$CG_IR
        cg_run "$c" "$((CG_WARMUP + CG_REQUESTS))" "$CG_DIR/callgrind.$c"
        IPR[$c]=$(( (CG_IR - a) / CG_REQUESTS ))
        echo "  $c: ${IPR[$c]} instructions/request" >&2
    done

    echo
    echo "oic_auth hit paths under callgrind: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), one process, h2load -c4 (keep-alive), $(date -u +%Y-%m-%d)"
    echo "instructions per request: (run of $((CG_WARMUP + CG_REQUESTS)) - run of $CG_WARMUP) / $CG_REQUESTS"
    printf '%-16s %14s %14s %16s\n' "case" "instr/request" "minus plain" "minus own plain"
    for c in $CG_CASES; do
        o=$(own_plain "$c")
        printf '%-16s %14s %14s %16s\n' "$c" "${IPR[$c]}" \
            "$([ -n "${IPR[plain]:-}" ] && echo $((IPR[$c] - IPR[plain])) || echo -)" \
            "$([ "$o" != "$c" ] && [ -n "${IPR[$o]:-}" ] && echo $((IPR[$c] - IPR[$o])) || echo -)"
    done
    # cg_funcs <case> <inclusive yes|no>: "per-request-instructions<TAB>function"
    # of every function, the run of W + N minus the run of W, over N
    cg_funcs() {
        local f
        for f in "$CG_DIR/callgrind.$1.warmup" "$CG_DIR/callgrind.$1"; do
            callgrind_annotate --inclusive="$2" --threshold=100 --show-percs=no \
                --auto=no "$f" 2>/dev/null | awk -v run="$f" '
                $1 ~ /^[0-9,]+$/ && NF >= 2 {
                    ir = $1; gsub(",", "", ir); $1 = ""; name = substr($0, 2)
                    sub(/ \[[^]]*\]$/, "", name); sub(/^[^:]*\//, "", name)
                    print run "\t" ir "\t" name }'
        done | awk -F'\t' -v b="$CG_DIR/callgrind.$1" -v n="$CG_REQUESTS" '
            { k = $3; if ($1 == b) { if ($2 > B[k]) B[k] = $2 } else if ($2 > A[k]) A[k] = $2 }
            END { for (k in B) printf "%d\t%s\n", (B[k] - A[k]) / n, k }'
    }
    for c in $CG_CASES; do
        [ "$c" != plain ] || continue
        echo
        echo "$c, per request: the module's functions (inclusive)"
        cg_funcs "$c" yes | awk -F'\t' '$2 ~ /oic/ && $1 >= 50' | sort -rn | head -n 20 \
            | awk -F'\t' '{printf "%10d  %s\n", $1, $2}'
        if [ -n "${IPR[plain]:-}" ]; then
            echo "$c, per request: where the instructions added to plain go (self cost, case minus plain)"
            join -t "$(printf '\t')" -j 2 -a 1 -e 0 -o 0,1.1,2.1 \
                <(cg_funcs "$c" no | sort -t "$(printf '\t')" -k 2) \
                <(cg_funcs plain no | sort -t "$(printf '\t')" -k 2) \
                | awk -F'\t' '$2 - $3 >= 50 {printf "%d\t%s\n", $2 - $3, $1}' \
                | sort -rn | head -n 20 | awk -F'\t' '{printf "%10d  %s\n", $1, $2}'
        fi
    done
    exit 0
fi

"$NGINX" -p "$WORK/" -c conf/nginx.conf -e "$WORK/logs/error.log"
NGINX_STARTED=1

check /plain
check /bearer "$REPEATED"            # also fetches the JWKS
check /basic "Basic $BASIC"           # fetches app1's IAM token
check /basic-limit "Basic $BASIC"
check /basic-fleet "Basic $BASIC"     # app1's token in the fleet zone
check /exchange "$REPEATED"          # fetches alice's IAM token
if [ -n "$M_STARTED" ]; then
    check /bearer "$REPEATED" "$M_FRONT_PORT"
    check /basic "Basic $BASIC" "$M_FRONT_PORT"
    check /exchange "$REPEATED" "$M_FRONT_PORT"
    check /metrics "" "$M_FRONT_PORT"
fi
out=$(curl -s -o /dev/null --max-time 60 -w '%{http_code}' -H "Authorization: Bearer x$REPEATED" "http://127.0.0.1:$FRONT_PORT/bearer")
[ "$out" = 401 ] || { echo "a broken token answered $out, not 401" >&2; exit 1; }

# ---- wrk (run 3: see distinct.lua)

cat >"$WORK/distinct.lua" <<'EOF'
-- Each thread sends its own share of the tokens, each exactly once, and
-- stops when all of its share is answered. wrk's main thread still sleeps for
-- the whole -d, so the rate is computed here: answers / (last answer - first
-- request), over all threads (wall clock through LuaJIT's FFI).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } oic_bench_ts;
int clock_gettime(int clk_id, oic_bench_ts *tp);
]]
local ts = ffi.new("oic_bench_ts")
local function now()
  ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

tokens, sent, answered, bad, first, last = {}, 0, 0, 0, 0, 0
function init(args)
  local n, nthreads = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if n % nthreads == id then tokens[#tokens + 1] = line end
    n = n + 1
  end
end

function request()
  local i = sent + 1
  if i > #tokens then
    i = #tokens          -- only while stopping: the last token again
  else
    sent = i
  end
  if first == 0 then first = now() end
  return wrk.format("GET", "/bearer", { ["Authorization"] = "Bearer " .. tokens[i] })
end

function response(status, headers, body)
  if answered < #tokens then
    answered = answered + 1
    if status ~= 200 then bad = bad + 1 end
    last = now()
    if answered == #tokens then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local n, nbad, t0, t1 = 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    n = n + t:get("answered")
    nbad = nbad + t:get("bad")
    if t:get("first") > 0 then t0 = math.min(t0, t:get("first")) end
    t1 = math.max(t1, t:get("last"))
  end
  io.write(string.format("distinct: %d %.3f %.2f %d\n", n, t1 - t0, n / (t1 - t0), nbad))
end
EOF

cat >"$WORK/madeup.lua" <<'EOF'
-- Every request: Basic credentials of a client id nobody knows, new each time.
local b64c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  return ((s:gsub(".", function(c)
    local r, b = "", c:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64c:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n = 0
function request()
  n = n + 1
  local cred = string.format("made-up-%d-%d-%d:x", tid, n, math.random(1, 1000000000))
  return wrk.format("GET", "/basic", { ["Authorization"] = "Basic " .. b64(cred) })
end
EOF

iam_calls() { curl -s "http://127.0.0.1:$IAM_PORT/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(String(JSON.parse(d).token.total)))'; }

run() {   # run <name> <wrk args...>: prints "rps p50 p99 requests non2xx errors"
    local name=$1; shift
    local log="$WORK/wrk-$name.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$log" 2>&1
    local rps p50 p99 reqs non2xx errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
    p50=$(awk '$1 == "50%" {print $2}' "$log")
    p99=$(awk '$1 == "99%" {print $2}' "$log")
    reqs=$(awk '/requests in/ {print $1}' "$log")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$log")
    errs=$(awk '/Socket errors:/ {print}' "$log")
    [ -n "$rps" ] || { echo "wrk failed:" >&2; cat "$log" >&2; exit 1; }
    echo "$rps ${p50:--} ${p99:--} $reqs ${non2xx:-0} ${errs:+socket-errors}"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

if [ "$MODE" = hit ]; then
    # the cases side by side: every round runs each once, in a rotated order
    HIT_CASES=(plain plain-basic plain-bearer plain-exchange basic bearer exchange)
    declare -A RPS RATIOS RATIOS_OWN NS CPU_PL CPU_OWN
    # the worker's time on a CPU (ns, /proc/PID/schedstat) per request answered:
    # what a request costs it, user and kernel, whatever else the machine runs
    HIT_WORKER=$(pgrep -P "$(cat "$WORK/logs/nginx.pid")" | head -1)
    worker_ns() { awk '{print $1}' "/proc/$HIT_WORKER/schedstat"; }
    echo "hit paths: $ROUNDS rounds of wrk -t$THREADS -c$CONNECTIONS -d$DURATION per case (nginx: 1 worker, $(nproc) CPUs)..." >&2
    for round in $(seq "$ROUNDS"); do
        declare -A R=() N=()
        for i in "${!HIT_CASES[@]}"; do
            c=${HIT_CASES[$(( (i + round - 1) % ${#HIT_CASES[@]} ))]}
            auth=$(case_auth "$c")
            ns0=$(worker_ns)
            set -- $(run "$c-$round" ${auth:+-H "Authorization: $auth"} "http://127.0.0.1:$FRONT_PORT$(case_path "$c")")
            ns1=$(worker_ns)
            [ "$5" = 0 ] && [ -z "${6:-}" ] || { echo "$c: failed requests" >&2; cat "$WORK/wrk-$c-$round.txt" >&2; exit 1; }
            R[$c]=${1%.*}
            RPS[$c]="${RPS[$c]:-} ${1%.*}"
            N[$c]=$(( (ns1 - ns0) / $4 ))
            NS[$c]="${NS[$c]:-} ${N[$c]}"
        done
        for c in "${HIT_CASES[@]}"; do
            CPU_PL[$c]="${CPU_PL[$c]:-} $(awk -v a="${N[$c]}" -v b="${N[plain]}" 'BEGIN {printf "%.3f", b / a}')"
            CPU_OWN[$c]="${CPU_OWN[$c]:-} $(awk -v a="${N[$c]}" -v b="${N[$(own_plain "$c")]}" 'BEGIN {printf "%.3f", b / a}')"
            RATIOS[$c]="${RATIOS[$c]:-} $(awk -v a="${R[$c]}" -v b="${R[plain]}" 'BEGIN {printf "%.3f", a / b}')"
            RATIOS_OWN[$c]="${RATIOS_OWN[$c]:-} $(awk -v a="${R[$c]}" -v b="${R[$(own_plain "$c")]}" 'BEGIN {printf "%.3f", a / b}')"
        done
        echo "  round $round: $(for c in "${HIT_CASES[@]}"; do printf '%s %s  ' "$c" "${R[$c]}"; done)" >&2
    done
    fmedian() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
    echo
    echo "oic_auth hit paths side by side: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker, wrk -t$THREADS -c$CONNECTIONS -d$DURATION x $ROUNDS rounds (alternating), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
    printf '%-14s %-56s %8s %8s %8s %8s\n' "case" "requests/s, round by round" "median" "x plain" "(round)" "x own"
    PLAIN=$(median <<<"${RPS[plain]}")
    for c in "${HIT_CASES[@]}"; do
        m=$(median <<<"${RPS[$c]}")
        printf '%-14s %-56s %8s %8s %8s %8s\n' "$c" "${RPS[$c]# }" "$m" \
            "$(awk -v a="$m" -v b="$PLAIN" 'BEGIN {printf "%.2f", a / b}')" "$(fmedian <<<"${RATIOS[$c]}")" \
            "$(fmedian <<<"${RATIOS_OWN[$c]}")"
    done
    echo "(x plain: median over median of plain; (round): median of the ratios to plain within a round;"
    echo " x own: median of the ratios within a round to the mode's own plain case: plain-basic, plain-bearer,"
    echo " plain-exchange send the upstream what basic, bearer, exchange send it, without the module)"
    echo
    printf '%-14s %-56s %8s %8s %8s\n' "case" "worker CPU ns/request, round by round" "median" "x plain" "x own"
    for c in "${HIT_CASES[@]}"; do
        printf '%-14s %-56s %8s %8s %8s\n' "$c" "${NS[$c]# }" "$(median <<<"${NS[$c]}")" \
            "$(fmedian <<<"${CPU_PL[$c]}")" "$(fmedian <<<"${CPU_OWN[$c]}")"
    done
    echo "(x plain, x own: median over the rounds of the CPU time per request of plain (the mode's own plain"
    echo " case) over that of the case: the rate the case would reach against it on a CPU of its own)"
    echo "IAM token requests during the whole run: $(iam_calls) (one of them the token of /plain-iam)"
    if [ -n "${BENCH_METRICS_PORT:-}" ]; then
        echo "metrics on: the requests counted"
        curl -s "http://127.0.0.1:$BENCH_METRICS_PORT/metrics" | grep '^oic_auth_requests_total'
    else
        echo "metrics off (BENCH_METRICS_PORT unset)"
    fi
    exit 0
fi

echo "running wrk -t$THREADS -c$CONNECTIONS -d$DURATION (nginx: 2 workers, $(nproc) CPUs)..." >&2
R1=$(run plain "http://127.0.0.1:$FRONT_PORT/plain")
R2=$(run repeated -H "Authorization: Bearer $REPEATED" "http://127.0.0.1:$FRONT_PORT/bearer")
R4=$(run basic -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic")
R4L=$(run basic-limit -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic-limit")
R5=$(run exchange -H "Authorization: Bearer $REPEATED" "http://127.0.0.1:$FRONT_PORT/exchange")
R9=$(run fleet -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic-fleet")

# 10: for each plain client of the mock, its token into Redis through the
# first fleet zone, then two requests in the second one: FLEET, then HIT
timed() {   # timed <path> <Basic ...>: "ms x-cache"
    curl -s -o /dev/null -D - -w 'time %{time_total}\n' -H "Authorization: $2" "http://127.0.0.1:$FRONT_PORT$1" \
        | tr -d '\r' | awk 'tolower($1) == "x-cache:" {c = $2} $1 == "time" {t = $2 * 1000} END {printf "%.3f %s\n", t, c}'
}
F_MS= H_MS=
for c in $(node -e 'for (const c of require(process.argv[1]).clients) if (!c.behavior && c.scopes === "oic" && /^[\x21-\x7e]+$/.test(c.secret)) console.log(c.id)' "$TOP/t/mock/clients.json"); do
    b="Basic $(basic_of "$c" "$(secret_of "$c")")"
    set -- $(timed /basic-fleet "$b")
    [ "${2:-}" = MISS ] || [ "${2:-}" = HIT ] || continue
    sleep 0.05      # the SET that shares it
    set -- $(timed /basic-fleet2 "$b")
    [ "${2:-}" = FLEET ] || { echo "10: $c was $2 in the cold zone, not FLEET" >&2; exit 1; }
    F_MS="$F_MS $1"
    set -- $(timed /basic-fleet2 "$b")
    [ "${2:-}" = HIT ] || { echo "10: $c was $2 the second time, not HIT" >&2; exit 1; }
    H_MS="$H_MS $1"
done
# wrk's main thread sleeps for the whole -d even when the script stops early:
# allow the tokens 3 times the time they would take at the rate of run 2
D3=$(awk -v t="$TOKENS" -v r="${R2%% *}" -v d="${DURATION%s}" 'BEGIN {
    s = int(3 * t / r) + 1; if (d ~ /^[0-9]+$/ && s > d) s = d; print s "s" }')
R3=$(DURATION=$D3 run distinct -s "$WORK/distinct.lua" "http://127.0.0.1:$FRONT_PORT/bearer" -- "$WORK/tokens.txt" "$THREADS")
# the rate of run 3 is the script's (answers over the time they took), not wrk's
read -r D_N D_SECS D_RPS D_BAD < <(awk '/^distinct:/ {print $2, $3, $4, $5}' "$WORK/wrk-distinct.txt")
[ "$D_N" = "$TOKENS" ] && [ "$D_BAD" = 0 ] || {
    echo "run 3: $D_N of $TOKENS tokens answered, $D_BAD not 200" >&2; cat "$WORK/wrk-distinct.txt" >&2; exit 1; }
set -- $R3
R3="$D_RPS $2 $3 $D_N $5 ${6:-}"

# the floods (after the runs above, so that they cannot disturb them)
C0=$(iam_calls)
R6=$(run wrong -H "Authorization: Basic $WRONG" "http://127.0.0.1:$FRONT_PORT/basic")
C1=$(iam_calls)
R7=$(run madeup -s "$WORK/madeup.lua" "http://127.0.0.1:$FRONT_PORT/basic")
C2=$(iam_calls)
# 8: the cached client (half the connections) while made-up ids flood (the other half)
HALF=$((CONNECTIONS / 2)); HALF_T=$(( THREADS > 1 ? THREADS / 2 : 1 ))
( THREADS=$HALF_T CONNECTIONS=$HALF run flood -s "$WORK/madeup.lua" "http://127.0.0.1:$FRONT_PORT/basic" >"$WORK/r8-flood" ) &
FLOOD=$!
R8=$(THREADS=$HALF_T CONNECTIONS=$HALF run during -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic")
wait "$FLOOD"
R8F=$(cat "$WORK/r8-flood")
C3=$(iam_calls)

# no request may have failed, no token may have been refused
for r in "$R1" "$R2" "$R3" "$R4" "$R4L" "$R5" "$R8" "$R9"; do
    set -- $r
    if [ "$5" != 0 ] || [ -n "${6:-}" ]; then
        echo "failed requests ($r):" >&2
        cat "$WORK"/wrk-*.txt >&2
        tail -n 20 "$WORK/logs/error.log" >&2
        exit 1
    fi
done

echo
echo "oic_auth benchmark: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 2 workers, wrk -t$THREADS -c$CONNECTIONS, $(nproc) CPUs ($(uname -m)), $(date -u +%Y-%m-%d)"
printf '%-44s %12s %10s %10s %10s\n' "case" "requests/s" "p50" "p99" "requests"
printf '%-44s %12s %10s %10s %10s\n' "--------------------------------------------" "----------" "--------" "--------" "--------"
# 4, 4b and 9 alternately: on a busy machine one run of each is mostly noise
P4= P4L= P9=
for _ in $(seq "$LIMIT_PAIRS"); do
    set -- $(run basic -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic")
    [ "$5" = 0 ] || { echo "4: failed requests" >&2; exit 1; }
    P4="$P4 ${1%.*}"
    set -- $(run basic-limit -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic-limit")
    [ "$5" = 0 ] || { echo "4b: failed requests" >&2; exit 1; }
    P4L="$P4L ${1%.*}"
    set -- $(run fleet -H "Authorization: Basic $BASIC" "http://127.0.0.1:$FRONT_PORT/basic-fleet")
    [ "$5" = 0 ] || { echo "9: failed requests" >&2; exit 1; }
    P9="$P9 ${1%.*}"
done
fmedian() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

ratio_median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# 2, 4 and 5 without and with metrics, alternately (the order swapped every pair)
declare -A MOFF MON MRATIO
mcase() {   # mcase <port> <name> <path> <Authorization>: requests/s, integer
    set -- $(run "$2" -H "Authorization: $4" "http://127.0.0.1:$1$3")
    [ "$5" = 0 ] || { echo "metrics pairs: failed requests" >&2; exit 1; }
    echo "${1%.*}"
}
for i in $(seq "$METRICS_PAIRS"); do
    for c in "2 /bearer Bearer $REPEATED" "4 /basic Basic $BASIC" "5 /exchange Bearer $REPEATED"; do
        set -- $c
        if [ $((i % 2)) = 1 ]; then
            off=$(mcase "$FRONT_PORT" "m$1-off" "$2" "$3 $4"); on=$(mcase "$M_FRONT_PORT" "m$1-on" "$2" "$3 $4")
        else
            on=$(mcase "$M_FRONT_PORT" "m$1-on" "$2" "$3 $4"); off=$(mcase "$FRONT_PORT" "m$1-off" "$2" "$3 $4")
        fi
        MOFF[$1]="${MOFF[$1]:-} $off" MON[$1]="${MON[$1]:-} $on"
        MRATIO[$1]="${MRATIO[$1]:-} $(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')"
    done
done

set -- $R1; printf '%-44s %12s %10s %10s %10s\n' "1. proxy_pass, no oic_auth" "$1" "$2" "$3" "$4"
set -- $R2; printf '%-44s %12s %10s %10s %10s\n' "2. bearer, one repeated token (cache)" "$1" "$2" "$3" "$4"
set -- $R3; printf '%-44s %12s %10s %10s %10s\n' "3. bearer, all-distinct tokens (RS256 verify)" "$1" "$2" "$3" "$4"
set -- $R4; printf '%-44s %12s %10s %10s %10s\n' "4. basic, one client (IAM token cached)" "$1" "$2" "$3" "$4"
set -- $R4L; printf '%-44s %12s %10s %10s %10s\n' "4b. basic, as 4 + oic_auth_limit (not hit)" "$1" "$2" "$3" "$4"
set -- $R5; printf '%-44s %12s %10s %10s %10s\n' "5. exchange, one user (IAM token cached)" "$1" "$2" "$3" "$4"
set -- $R6; printf '%-44s %12s %10s %10s %10s   IAM calls: %s (%s answered 401)\n' "6. basic, one wrong secret hammered" "$1" "$2" "$3" "$4" "$((C1 - C0))" "$5"
set -- $R7; printf '%-44s %12s %10s %10s %10s   IAM calls: %s (%s answered 401/503)\n' "7. basic, a made-up client id per request" "$1" "$2" "$3" "$4" "$((C2 - C1))" "$5"
set -- $R8; printf '%-44s %12s %10s %10s %10s   IAM calls: %s, with the flood beside it\n' "8. case 4 during case 7 (half the conns each)" "$1" "$2" "$3" "$4" "$((C3 - C2))"
set -- $R8F; printf '%-44s %12s %10s %10s %10s   (%s answered 401/503)\n' "   the flood beside it" "$1" "$2" "$3" "$4" "$5"
set -- $R9; printf '%-44s %12s %10s %10s %10s\n' "9. case 4 with fleet mode on (local hit)" "$1" "$2" "$3" "$4"
printf '%-44s %12s %10s\n' "10. fleet: cold local zone, token in Redis" "$(wc -w <<<"$F_MS") clients" "$(fmedian <<<"$F_MS")ms"
printf '%-44s %12s %10s   (one request at a time, curl time_total, medians)\n' "    the next request (local hit)" "" "$(fmedian <<<"$H_MS")ms"
echo "(1, 2, 4, 4b, 5 to 9: $DURATION each; 3: each of the $TOKENS tokens once, in $D_SECS s)"
echo "(7 and 8: the default budget allows 9 calls at once, then 2 a second: at most $((9 + 2 * ${DURATION%s})) in $DURATION each)"
if [ "$LIMIT_PAIRS" -gt 0 ]; then
    echo "4, 4b and 9 alternately, $LIMIT_PAIRS x $DURATION each (requests/s):"
    echo "   4:$P4   median $(median <<<"$P4")"
    echo "  4b:$P4L   median $(median <<<"$P4L")"
    echo "   9:$P9   median $(median <<<"$P9")"
fi
if [ "$METRICS_PAIRS" -gt 0 ]; then
    echo "metrics off and on alternately, $METRICS_PAIRS x $DURATION each (requests/s; ratio: on/off of a pair):"
    for c in "2 bearer, one repeated token" "4 basic, one client" "5 exchange, one user"; do
        set -- $c; n=$1; shift
        echo "  $n. $*:"
        echo "     off:${MOFF[$n]}   median $(median <<<"${MOFF[$n]}")"
        echo "      on:${MON[$n]}   median $(median <<<"${MON[$n]}")"
        echo "   ratio:${MRATIO[$n]}   median $(ratio_median <<<"${MRATIO[$n]}")"
    done
    echo "  counted by the one with metrics:"
    curl -s "http://127.0.0.1:$M_FRONT_PORT/metrics" | grep -E '^oic_auth_(requests_total|token_cache_lookups_total|verified_cache_lookups_total)' | grep -v ' 0$' | sed 's/^/    /'
fi
echo "IAM token requests during the whole run: $(curl -s "http://127.0.0.1:$IAM_PORT/_test/stats" | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>process.stdout.write(String(JSON.parse(d).token.total)))')"
