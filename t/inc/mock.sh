# Sourced by the t/*.sh tests (after setting $top, the repository): the nginx
# under test ($nginx_bin, $module), a work directory ($work, with conf/ and
# logs/) removed at exit with the nginx and the mock servers, and
# start_mock, which starts t/mock/idp.js on loopback and sets $iam and $oic
# to its IAM and OIC ports.
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
module=${TEST_NGINX_MODULE:-$top/build/ngx_http_oic_auth_module.so}
work=$(mktemp -d)
mkdir -p "$work/conf" "$work/logs"
mock_pid=

cleanup() {   # the nginx (its old workers too, which a reload test may have), the mock, $work
    if [ -f "$work/logs/nginx.pid" ]; then
        kill -QUIT "$(cat "$work/logs/nginx.pid")" 2>/dev/null
        for _ in $(seq 50); do [ -f "$work/logs/nginx.pid" ] || break; sleep 0.1; done
    fi
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

start_mock() {
    node "$top/t/mock/idp.js" --certs "$top/build/certs" >"$work/ports" 2>"$work/mock.log" &
    mock_pid=$!
    for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
    if [ ! -s "$work/ports" ]; then
        echo "the mock servers did not start:" >&2
        cat "$work/mock.log" >&2
        exit 1
    fi
    iam=$(sed -E 's/.*"iam":([0-9]+).*/\1/' "$work/ports")
    oic=$(sed -E 's/.*"oic":([0-9]+).*/\1/' "$work/ports")
}
