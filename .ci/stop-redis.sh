#!/usr/bin/env bash
# Stop the server `.ci/start-redis.sh` started and remove its directory.
# Usage: .ci/stop-redis.sh "$PHASEKIT_REDIS_DIR"
set -uo pipefail
dir="$1"
if [ -f "$dir/redis.pid" ]; then
  pid="$(cat "$dir/redis.pid")"
  kill -TERM "$pid" 2>/dev/null
  # Wait for it to exit (five seconds), then make sure.
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$dir"
