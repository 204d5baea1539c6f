#!/usr/bin/env bash
# The Debian package, installed into the system's nginx and removed again:
# `make deb` builds libnginx-mod-http-oic-auth; `apt-get install ./<deb>`
# links /etc/nginx/modules-enabled/50-mod-http-oic-auth.conf to the packaged
# load_module line; a config without load_module that includes
# modules-enabled/*.conf passes `nginx -t` and an nginx started with it on
# loopback (never port 80) gets a token from the mock IAM for a Basic client;
# `apt-get remove` takes the link away and the system's own config still
# passes `nginx -t`; `apt-get purge` leaves nothing behind.
#
# Needs root (or password-less sudo) and apt; the system's nginx service is
# left to what apt's maintainer scripts do (reload it if it runs). The machine
# is left as found, also on failure. Runs are serialised by a lock, since the
# package is machine-wide. Port: DEB_TEST_PORT, else TEST_NGINX_PORT.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nginx_bin=/usr/sbin/nginx   # the distribution's nginx: the package is for it
pkg=libnginx-mod-http-oic-auth
so=/usr/lib/nginx/modules/ngx_http_oic_auth_module.so
available=/usr/share/nginx/modules-available/mod-http-oic-auth.conf
enabled=/etc/nginx/modules-enabled/50-mod-http-oic-auth.conf
port=${DEB_TEST_PORT:-${TEST_NGINX_PORT:-19314}}
scope='https://oic-test.integration.us-phoenix-1.ocp.oraclecloud.com:443urn:opc:resource:consumer::all'

SUDO=
if [ "$(id -u)" != 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"
    else echo "skip - t/deb.sh installs a package: needs root or password-less sudo"; exit 0; fi
fi

# build as the caller, then go on as root holding the lock
if [ -z "${OIC_AUTH_DEB_LOCKED:-}" ]; then
    out=$(make -s -C "$top" deb certs 2>&1) || { echo "$out"; echo "not ok - make deb"; exit 1; }
    lock=/run/lock/oic_auth-deb-test.lock
    [ -d /run/lock ] || lock=/tmp/oic_auth-deb-test.lock
    exec $SUDO env "PATH=$PATH" OIC_AUTH_DEB_LOCKED=1 \
        "DEB_TEST_PORT=$port" flock -w 900 "$lock" bash "$0" "$@"
fi

installed() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; }
known() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv 'not-installed'; }
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 "$@" \
        >"$work/apt.log" 2>&1 || { echo "# apt-get $* failed:"; sed 's/^/#   /' "$work/apt.log"; return 1; }
}

if known || [ -e "$enabled" ] || [ -L "$enabled.removed" ]; then
    echo "not ok - $pkg is already on this machine (dpkg: $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)," \
         "link: $(ls "$enabled"* 2>/dev/null)); purge it before running this test"
    exit 1
fi

work=$(mktemp -d)
mkdir -p "$work/conf" "$work/logs"
mock_pid= ours=
stop_nginx() {
    local pid
    [ -f "$work/logs/nginx.pid" ] || return 0
    pid=$(cat "$work/logs/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$work/logs/nginx.pid"
}
cleanup() {
    stop_nginx
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    if [ -n "$ours" ] && known; then
        echo "# cleanup: purging $pkg"
        apt_get purge "$pkg" || echo "# cleanup: purge failed, remove $pkg by hand"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0 fail=0
check() {   # name, expected, actual
    if [ "$2" = "$3" ]; then echo "ok - $1"; pass=$((pass + 1));
    else echo "not ok - $1: expected '$2', got '$3'"; fail=$((fail + 1)); fi
}
nginx_t() {   # [conf]: "ok", or nginx's complaint without time, pid and file
    local out
    if out=$("$nginx_bin" -t ${1:+-c "$1"} 2>&1); then echo ok
    else echo "$out" | grep -m1 -E '\[(emerg|crit|alert|error)\]' |
         sed -E 's/.*\[[a-z]+\] ([0-9]+#[0-9]+: )?//; s/ in \/[^ ]*$//'; fi
}

# ---- the package ----
debs=("$top"/build/deb/${pkg}_*.deb)
check "make deb builds one package" 1 "${#debs[@]}"
deb=${debs[0]}
depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
for d in nginx-abi-1.22.1-7 libcurl4 libjansson4 libssl3 libstdc++6; do
    check "the package depends on $d" yes \
          "$(tr ',' '\n' <<<"$depends" | awk -v d="$d" '$1 == d {y=1} END {print y ? "yes" : "no"}')"
done
check "the system's nginx config passes nginx -t before the install" ok "$(nginx_t)"

# ---- install ----
ours=1
apt_get install "$deb" || { echo "not ok - apt-get install $deb"; exit 1; }
check "apt-get install ./$(basename "$deb")" yes "$(installed && echo yes || echo no)"
check "modules-enabled link points to modules-available" "$available" "$(readlink "$enabled")"
check "the load_module line" "load_module modules/ngx_http_oic_auth_module.so;" "$(cat "$enabled" 2>/dev/null)"
check "modules/ in nginx's prefix is the packaged .so" "$so" \
      "$(readlink -f /usr/share/nginx/modules/ngx_http_oic_auth_module.so)"
check "the .so belongs to the package" "$pkg" "$(dpkg-query -S "$so" 2>/dev/null | cut -d: -f1)"
check "every library of the .so resolves" 0 "$(ldd "$so" | grep -c 'not found')"

# ---- a config without load_module ----
node "$top/t/mock/idp.js" --certs "$top/build/certs" >"$work/ports" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
iam=$(sed -E 's/.*"iam":([0-9]+).*/\1/' "$work/ports")
oic=$(sed -E 's/.*"oic":([0-9]+).*/\1/' "$work/ports")
secret=$(node -e 'process.stdout.write(require(process.argv[1]).clients.find(c=>c.id==="app3").secret)' "$top/t/mock/clients.json")

write_conf() {   # $1: file, $2: the include line (or nothing)
    cat >"$1" <<CONF
$2
pid $work/logs/nginx.pid;
error_log $work/logs/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    oic_auth_cache_zone tokens:1m;
    server {
        listen 127.0.0.1:$port;
        location / {
            oic_auth basic;
            oic_auth_cache tokens;
            oic_auth_token_endpoint http://127.0.0.1:$iam/oauth2/v1/token;
            oic_auth_scope "$scope";
            add_header X-Cache \$oic_auth_cache_status always;
            proxy_pass http://127.0.0.1:$oic;
        }
    }
}
CONF
}
conf=$work/conf/nginx.conf
write_conf "$conf" 'include /etc/nginx/modules-enabled/*.conf;'
write_conf "$work/conf/no-include.conf" ''
check "no load_module in the config" 0 "$(grep -c load_module "$conf")"
check "nginx -t: the module comes from modules-enabled" ok "$(nginx_t "$conf")"
check "nginx -t without the include: the directive is unknown" \
      'unknown directive "oic_auth_cache_zone"' "$(nginx_t "$work/conf/no-include.conf")"

# the distribution's prefix (modules/ is relative to it), this test's pid and logs
if "$nginx_bin" -c "$conf" -e "$work/logs/error.log"; then
    for _ in $(seq 50); do [ -s "$work/logs/nginx.pid" ] && break; sleep 0.1; done
    sleep 0.3
    master=$(cat "$work/logs/nginx.pid")
    worker=$(pgrep -P "$master" | head -n1)
    check "the worker runs the packaged .so" yes \
          "$(grep -q " $so\$" "/proc/$worker/maps" 2>/dev/null && echo yes || echo no)"
    check "no credentials: 401 from the module" "401 Basic" \
          "$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/x" | tr -d '\r' |
             awk 'NR==1 {s=$2} tolower($1)=="www-authenticate:" {c=$2} END {print s, c}')"
    body=$(curl -s -D "$work/headers" -u "app3:$secret" "http://127.0.0.1:$port/x")
    check "Basic client: 200 from the mock OIC" 200 "$(awk 'NR==1 {print $2}' "$work/headers")"
    check "Basic client: a token fetched from IAM" MISS "$(tr -d '\r' <"$work/headers" | awk '$1=="X-Cache:" {print $2}')"
    check "the mock OIC saw an IAM token for app3" app3 \
          "$(node -e 'try{process.stdout.write(String(JSON.parse(process.argv[1]).client_id))}catch(e){}' "$body")"
    check "second request: from the cache" HIT \
          "$(curl -s -o /dev/null -D - -u "app3:$secret" "http://127.0.0.1:$port/x" | tr -d '\r' | awk '$1=="X-Cache:" {print $2}')"
    check "no alerts in the error log" 0 "$(grep -c -E '\[(alert|crit|emerg)\]' "$work/logs/error.log")"
else
    check "nginx starts with the config without load_module" started "failed"
    cat "$work/logs/error.log" 2>/dev/null | sed 's/^/#   /'
fi
stop_nginx

# ---- remove, purge ----
apt_get remove "$pkg" || { echo "not ok - apt-get remove $pkg"; exit 1; }
check "apt-get remove: the package is gone" no "$(installed && echo yes || echo no)"
check "apt-get remove: the modules-enabled link is gone" no "$([ -e "$enabled" ] || [ -L "$enabled" ] && echo yes || echo no)"
check "apt-get remove: the .so is gone" no "$([ -e "$so" ] && echo yes || echo no)"
check "after remove: the system's nginx config passes nginx -t" ok "$(nginx_t)"
check "after remove: oic_auth is unknown again" \
      'unknown directive "oic_auth_cache_zone"' "$(nginx_t "$conf")"
# a package with maintainer scripts stays known (config-files) until purged
if known; then apt_get purge "$pkg" || { echo "not ok - apt-get purge $pkg"; exit 1; }; fi
check "apt-get purge: dpkg forgets the package" no "$(known && echo yes || echo no)"
check "apt-get purge: nothing left in modules-enabled" "" "$(ls -A /etc/nginx/modules-enabled | grep oic || true)"
check "after purge: the system's nginx config passes nginx -t" ok "$(nginx_t)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
