#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests, installing it with apt-get if missing.
# Prints the DSN to use as PHASEKIT_TEST_POSTGRES_DSN on its last line.
# Usage: eval "$(.ci/start-postgres.sh | tail -n 1)"   (or: make test-postgres)
set -euo pipefail

port="${PHASEKIT_PG_PORT:-54329}"
data="${PHASEKIT_PG_DATA:-/tmp/phasekit-postgres}"

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

if ! bin=$(find_bin); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

# PostgreSQL refuses to run as root: run it as the 'postgres' user the package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  rm -rf "$data"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
fi
echo "export PHASEKIT_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$port/postgres"
