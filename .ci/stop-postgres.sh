#!/usr/bin/env bash
# Stop the server `.ci/start-postgres.sh` started and remove its data directory.
# Usage: .ci/stop-postgres.sh "$PHASEKIT_PG_DATA"
set -uo pipefail
data="$1"
for bin in /usr/lib/postgresql/*/bin; do
  if [ -x "$bin/pg_ctl" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
    else
      "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
    fi
    break
  fi
done
rm -rf "$data"
