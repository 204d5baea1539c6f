# A real Redis for shell tests (the shell side of t/inc/OicRedis.pm):
# Debian's redis-server on 127.0.0.1, an ephemeral port, a temporary
# directory, no persistence.
#
#   . "$top/t/inc/redis.sh"
#   redis_start [PASSWORD]    sets REDIS_PORT, REDIS_DIR, REDIS_PID,
#                             REDIS_PASSWORD_FILE (with a password),
#                             REDIS_KEY_FILE (a fleet key file, 0600)
#   redis_cli ARGS...         redis-cli --raw against it
#   redis_oic_clients         the module's connections (CLIENT LIST lines
#                             named oic_auth:...)
#   redis_stop | redis_kill9 | redis_restart
#   redis_wait CMD...         until CMD succeeds, REDIS_WAIT s at most (10)
#   redis_cleanup             stops it and removes its directory: call it
#                             from the test's EXIT trap

REDIS_PORT= REDIS_DIR= REDIS_PID= REDIS_PASSWORD= REDIS_PASSWORD_FILE= REDIS_KEY_FILE=

redis_free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1) or die $!;
        print $s->sockport, "\n";'
}

redis_spawn() {
    local args=(--port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
                --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --daemonize no)
    [ -n "$REDIS_PASSWORD" ] && args+=(--requirepass "$REDIS_PASSWORD")
    redis-server "${args[@]}" </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    disown "$REDIS_PID"     # no "Killed" notice from bash for redis_kill9
    redis_wait redis_ping || { echo "redis-server did not start on 127.0.0.1:$REDIS_PORT"; tail -3 "$REDIS_DIR/redis.log"; return 1; }
}

redis_start() {
    command -v redis-server >/dev/null || { echo "redis-server is not installed (make deps)"; return 1; }
    REDIS_PASSWORD=${1:-}
    REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/oic-redis-XXXXXX")
    REDIS_PORT=$(redis_free_port)
    if [ -n "$REDIS_PASSWORD" ]; then
        REDIS_PASSWORD_FILE=$REDIS_DIR/redis.password
        (umask 077; printf '%s\n' "$REDIS_PASSWORD" >"$REDIS_PASSWORD_FILE")
    fi
    REDIS_KEY_FILE=$REDIS_DIR/fleet.key
    (umask 077; openssl rand -hex 32 >"$REDIS_KEY_FILE")
    redis_spawn
}

redis_cli() {
    if [ -n "$REDIS_PASSWORD" ]; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw --no-auth-warning -a "$REDIS_PASSWORD" "$@" 2>/dev/null
    else
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw "$@" 2>/dev/null
    fi
}

redis_ping() { [ "$(redis_cli PING)" = PONG ]; }

redis_oic_clients() { redis_cli CLIENT LIST | grep ' name=oic_auth:'; }

redis_wait() {   # CMD... : retry for up to REDIS_WAIT seconds (default 10)
    local i
    for i in $(seq $((${REDIS_WAIT:-10} * 20))); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

redis_reap() {   # SIGNAL
    [ -n "$REDIS_PID" ] || return 0
    kill "-$1" "$REDIS_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}

redis_stop()    { redis_reap TERM; }
redis_kill9()   { redis_reap KILL; }
redis_restart() { redis_reap TERM; redis_spawn; }

redis_cleanup() {
    redis_reap TERM
    [ -n "$REDIS_DIR" ] && rm -rf "$REDIS_DIR"
    REDIS_DIR=
}
