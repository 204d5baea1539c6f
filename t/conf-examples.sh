#!/usr/bin/env bash
# `nginx -t` on every conf/*.conf example, with the module just built, test
# key material for the secret and key files, and loopback for OIC's host (no
# DNS here). An example that does not parse is a bug.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${TEST_NGINX_MODULE:-$top/build/ngx_http_oic_auth_module.so}
work=$(mktemp -d)
mkdir -p "$work/logs"   # nginx -t checks that the pid file can be created
trap 'rm -rf "$work"' EXIT
printf 'example-secret\n' >"$work/client_secret"
(umask 077; openssl rand -hex 32 >"$work/fleet.key"; printf 'example-password\n' >"$work/redis.password")
pass=0 fail=0
for f in "$top"/conf/*.conf; do
    name=$(basename "$f")
    sed -e "s#load_module modules/ngx_http_oic_auth_module.so;#load_module $module;#" \
        -e 's#server oic-test\.integration\.us-phoenix-1\.ocp\.oraclecloud\.com:443;#server 127.0.0.1:443;#' \
        -e "s#/etc/nginx/oic/client_secret#$work/client_secret#" \
        -e "s#/etc/nginx/oic/fleet.key#$work/fleet.key#" \
        -e "s#/etc/nginx/oic/redis.password#$work/redis.password#" \
        -e "s#/etc/nginx/oic/#$top/build/certs/#" \
        -e "s#/var/log/nginx/#$work/#" \
        -e 's#listen 8080#listen 127.0.0.1:8080#' "$f" >"$work/$name"
    if out=$("$nginx_bin" -t -p "$work" -c "$work/$name" -e "$work/error.log" 2>&1); then
        echo "ok - conf/$name"; pass=$((pass + 1))
    else
        echo "not ok - conf/$name"; echo "$out" | sed 's/^/#   /'; fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
