#!/usr/bin/env bash
# PostgreSQL server for the shared face-gallery tests (Debian package, 15 on Debian 12).
# The tests run their own throwaway cluster (initdb + pg_ctl) on 127.0.0.1 and a free
# port, as the `postgres` system user when run as root; no system daemon is used.
set -euo pipefail

if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "installing Debian package: postgresql"
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends postgresql
# The package creates and starts a system cluster where an init system runs; the
# tests do not use it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop postgresql 2>/dev/null || true
fi
