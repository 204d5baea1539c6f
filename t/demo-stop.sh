#!/usr/bin/env bash
# `make stop`: end what `make run` started.
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
[ -f "$demo/logs/nginx.pid" ] && kill -QUIT "$(cat "$demo/logs/nginx.pid")" 2>/dev/null
[ -f "$demo/mock.pid" ] && kill "$(cat "$demo/mock.pid")" 2>/dev/null
rm -f "$demo/mock.pid"
echo "stopped"
