#!/usr/bin/env bash
# Run a command with a PostgreSQL server for the tests, the way `make test` runs pytest:
# - PHASEKIT_TEST_POSTGRES_DSN set: use that server;
# - PHASEKIT_SKIP_POSTGRES=1: no server, and the PostgreSQL tests say they were skipped;
# - otherwise start a throwaway server (installing it if missing and allowed), and stop it
#   when the command ends, whether it passed, failed or was interrupted.
# Usage: .ci/with-postgres.sh COMMAND [ARG...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ -n "${PHASEKIT_TEST_POSTGRES_DSN:-}" ]; then
  exec "$@"
fi
if [ "${PHASEKIT_SKIP_POSTGRES:-}" = 1 ]; then
  echo "PostgreSQL tests will be skipped: PHASEKIT_SKIP_POSTGRES=1 is set" >&2
  exec "$@"
fi

if ! started=$("$here/start-postgres.sh" 2>/tmp/phasekit-start-postgres.log | tail -n 1) \
  || [ -z "$started" ]; then
  echo "make test: could not start a PostgreSQL server (see /tmp/phasekit-start-postgres.log):" \
    "install it (apt-get install postgresql), or set PHASEKIT_TEST_POSTGRES_DSN to a server" \
    "of yours, or set PHASEKIT_SKIP_POSTGRES=1 to skip the PostgreSQL tests" >&2
  exit 1
fi
eval "$started"
export PHASEKIT_TEST_POSTGRES_DSN
trap '"$here/stop-postgres.sh" "$PHASEKIT_PG_DATA"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$@"
