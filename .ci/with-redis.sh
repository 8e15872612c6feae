#!/usr/bin/env bash
# Run a command with a Redis server for the Celery example and its test, the way `make test`
# and `make demo` run them:
# - PHASEKIT_REDIS_URL set: use that server;
# - PHASEKIT_SKIP_REDIS=1: no server, and the Redis test says it was skipped;
# - otherwise start a throwaway server (installing it if missing and allowed), and stop it
#   when the command ends, whether it passed, failed or was interrupted.
# Usage: .ci/with-redis.sh COMMAND [ARG...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ -n "${PHASEKIT_REDIS_URL:-}" ]; then
  exec "$@"
fi
if [ "${PHASEKIT_SKIP_REDIS:-}" = 1 ]; then
  echo "Redis test will be skipped: PHASEKIT_SKIP_REDIS=1 is set" >&2
  exec "$@"
fi

if ! started=$("$here/start-redis.sh" 2>/tmp/phasekit-start-redis.log | tail -n 1) \
  || [ -z "$started" ]; then
  echo "could not start a Redis server (see /tmp/phasekit-start-redis.log):" \
    "install it (apt-get install redis-server), or set PHASEKIT_REDIS_URL to a server" \
    "of yours, or set PHASEKIT_SKIP_REDIS=1 to skip the Redis test" >&2
  exit 1
fi
eval "$started"
export PHASEKIT_REDIS_URL
trap '"$here/stop-redis.sh" "$PHASEKIT_REDIS_DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$@"
