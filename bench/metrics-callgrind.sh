#!/usr/bin/env bash
# What metrics cost on the hit paths, in instructions per request (valgrind
# --tool=callgrind: exact counts, unlike requests/s on a shared machine).
# One nginx process (master_process off) with the configuration of
# t/inc/metrics.sh (basic, bearer and exchange locations on the mock IAM),
# without and with an "oic_auth_metrics" location; for each mode: a few
# requests to warm up (the IAM token, the JWKS), then N1 or N2 requests of
# that mode on one keep-alive connection. (Ir(N2) - Ir(N1)) / (N2 - N1) is
# what one more request costs, nginx and all (startup and warm-up cancel);
# "metrics code" the same for the instructions of the metrics' own code
# (src/ngx_http_oic_auth_metrics.[ch], inlined counts included). The totals
# vary by some 100 instructions a request between runs of the same
# configuration (each run's zone secrets give other rbtree shapes, RSA
# blinding): compare them with that in mind.
#
#   bench/metrics-callgrind.sh              # N1=200, N2=1200
#   CG_N1=100 CG_N2=600 bench/metrics-callgrind.sh
#
# Port: RELOAD_TEST_PORT (t/inc/metrics.sh), else 19311. Needs valgrind.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/inc/metrics.sh"
n1=${CG_N1:-200} n2=${CG_N2:-1200}

ir() {   # ir <metrics location or ""> <path> <Authorization> <n>: "total metrics-code" Ir
    metrics_conf 1 "$1"
    rm -f "$work/cg.out"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log \
        -g 'daemon off; master_process off;' >"$work/vg.log" 2>&1 &
    local vg=$! code
    for _ in $(seq 300); do curl -s -o /dev/null "$u/" && break; sleep 0.1; done
    curl -s -o /dev/null -H "Authorization: $3" "$u$2/warm[1-5]"
    code=$(curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: $3" "$u$2/x[1-$4]" | sort -u | xargs)
    kill -QUIT "$(cat "$work/logs/nginx.pid")"
    wait "$vg"
    [ "$code" = 200 ] || { echo "$2: answered $code" >&2; exit 1; }
    echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$work/cg.out")" \
         "$(callgrind_annotate --auto=no --threshold=100 "$work/cg.out" |
            awk '/ngx_http_oic_auth_metrics\.[ch]:/ {gsub(",", "", $1); n += $1} END {print n + 0}')"
}

printf '%-10s %12s %12s %10s %20s\n' mode "off Ir/req" "on Ir/req" "on - off" "metrics code off/on"
for c in "basic /basic/ Basic $(printf 'app3:%s' "$app3" | base64 -w0)" \
         "bearer /bearer/ Bearer $hr" "exchange /exchange/ Bearer $hr"; do
    set -- $c
    mode=$1 path=$2 auth="$3 $4"
    read -r a am < <(ir "" "$path" "$auth" "$n1")
    read -r b bm < <(ir "" "$path" "$auth" "$n2")
    off=$(( (b - a) / (n2 - n1) )) offm=$(( (bm - am) / (n2 - n1) ))
    read -r a am < <(ir "$metrics_location" "$path" "$auth" "$n1")
    read -r b bm < <(ir "$metrics_location" "$path" "$auth" "$n2")
    on=$(( (b - a) / (n2 - n1) ))
    printf '%-10s %12d %12d %+10d %20s\n' "$mode" "$off" "$on" "$((on - off))" "$offm / $(( (bm - am) / (n2 - n1) ))"
done
