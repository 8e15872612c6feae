#!/usr/bin/env bash
# Start a throwaway PostgreSQL server, installing the Debian package when it is missing and
# this user may (root with apt-get). Prints `export PHASEKIT_TEST_POSTGRES_DSN=...` on its
# last line; `.ci/stop-postgres.sh` stops it and removes its data.
# Usage: eval "$(.ci/start-postgres.sh | tail -n 1)"
# Settings: PHASEKIT_PG_PORT (default: a free port), PHASEKIT_PG_DATA (default: a new
# directory under /tmp).
set -euo pipefail

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

if ! bin=$(find_bin); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "start-postgres: no PostgreSQL server here, and only root with apt-get can install one" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

port="${PHASEKIT_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
if [ -n "${PHASEKIT_PG_DATA:-}" ]; then
  data="$PHASEKIT_PG_DATA"
else
  data=$(mktemp -d /tmp/phasekit-pg.XXXXXX)
  # A server that fails to start leaves no data directory behind (cleared once started).
  trap 'rm -rf "$data"' EXIT
fi

# PostgreSQL refuses to run as root: run it as the 'postgres' user the package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then chown postgres: "$data"; fi
as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
trap - EXIT
echo "export PHASEKIT_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$port/postgres PHASEKIT_PG_DATA=$data"
