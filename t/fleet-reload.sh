#!/usr/bin/env bash
# Fleet mode's Redis connections across nginx's own life: each worker
# connects at start (CLIENT LIST shows one oic_auth:<host>:<pid>:<key id>
# connection per worker, db as configured); a reload replaces them with the
# new workers' (the old workers close theirs and exit); a reload while Redis
# is down does not hold the old workers (the reconnect timers do not keep a
# stopping worker alive); Redis back: the new workers connect; a graceful
# stop closes every connection, with no "open socket left" alert. Real nginx
# (master + 2 workers) and Debian's redis-server (t/inc/redis.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
module=${TEST_NGINX_MODULE:-$top/build/ngx_http_oic_auth_module.so}
. "$top/t/inc/redis.sh"
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
work=$(mktemp -d)
mkdir -p "$work/conf" "$work/logs"
cleanup() {
    [ -f "$work/logs/nginx.pid" ] && kill -QUIT "$(cat "$work/logs/nginx.pid")" 2>/dev/null
    sleep 0.3
    redis_cleanup
    rm -rf "$work"
}
trap cleanup EXIT

port=${RELOAD_TEST_PORT:-19312}
redis_start "Pw-$$-$RANDOM" || exit 1

cat >"$work/conf/nginx.conf" <<CONF
load_module $module;
pid logs/nginx.pid;
error_log logs/error.log info;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m fleet;
    oic_auth_redis 127.0.0.1:$REDIS_PORT password_file=$REDIS_PASSWORD_FILE db=2 timeout=2s;
    oic_auth_redis_key_file $REDIS_KEY_FILE;
    server {
        listen 127.0.0.1:$port;
        location = /t { return 204; }
    }
}
CONF

pass=0 fail=0
check() {   # name, expected, actual
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
master() { cat "$work/logs/nginx.pid" 2>/dev/null; }
workers() { pgrep -P "$(master)" | sort -n | tr '\n' ' '; }
# the pids in the module's connections' names, and their dbs
client_pids() { redis_oic_clients | sed -E 's/.* name=oic_auth:[^:]+:([0-9]+):.*/\1/' | sort -n | tr '\n' ' '; }
client_dbs() { redis_oic_clients | sed -E 's/.* db=([0-9]+) .*/\1/' | sort -u | tr '\n' ' '; }
clients_are_workers() { [ -n "$(workers)" ] && [ "$(client_pids)" = "$(workers)" ]; }
gone() { for p in $1; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/t"; }
alerts() { grep -cE '\[alert\]|\[crit\]|open socket' "$work/logs/error.log"; }

"$nginx_bin" -p "$work" -c conf/nginx.conf -e logs/error.log || { echo "nginx did not start"; exit 1; }

redis_wait clients_are_workers
check "each worker connects at start" "$(workers)" "$(client_pids)"
check "with db 2 selected" "2 " "$(client_dbs)"

old=$(workers)
kill -HUP "$(master)"
REDIS_WAIT=15 redis_wait gone "$old"
check "a reload: the old workers exit (the key check's timer does not hold them)" yes "$(gone "$old" && echo yes || echo no)"
redis_wait clients_are_workers
check "the new workers' connections replace theirs" "$(workers)" "$(client_pids)"
check "no alert after the reload" 0 "$(alerts)"

redis_kill9
redis_wait grep -q 'Redis is not used for' "$work/logs/error.log"
old=$(workers)
kill -HUP "$(master)"
REDIS_WAIT=15 redis_wait gone "$old"
check "a reload with Redis down: the old workers exit (retry timers do not hold them)" yes \
      "$(gone "$old" && echo yes || echo no)"
check "requests are served with Redis down" 204 "$(status)"

redis_restart
REDIS_WAIT=45 redis_wait clients_are_workers
check "Redis back: the new workers connect" "$(workers)" "$(client_pids)"

kill -QUIT "$(master)"
m=$(master)
REDIS_WAIT=15 redis_wait gone "$m"
check "a graceful stop ends nginx" yes "$(gone "$m" && echo yes || echo no)"
redis_wait eval '[ -z "$(redis_oic_clients)" ]'
check "and closes every connection" "" "$(client_pids)"
check "no alert, no socket left open" 0 "$(alerts)"

echo "fleet-reload: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
