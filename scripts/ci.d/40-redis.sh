#!/usr/bin/env bash
# Redis server for the gateway's shared rate-limit tests (Debian package). The tests
# start their own redis-server on 127.0.0.1 and a free port; nothing runs as a daemon.
set -euo pipefail

command -v redis-server >/dev/null 2>&1 && exit 0

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "installing Debian package: redis-server"
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends redis-server
# The package starts a system daemon where an init system runs; the tests do not use it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop redis-server 2>/dev/null || true
fi
