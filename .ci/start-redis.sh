#!/usr/bin/env bash
# Start a throwaway Redis server on 127.0.0.1, installing Debian's redis-server package when
# it is missing and this user may (root with apt-get). No persistence: nothing is saved to
# disk, and its pidfile, log and working directory live in a new temporary directory.
# Prints `export PHASEKIT_REDIS_URL=redis://127.0.0.1:PORT/0 PHASEKIT_REDIS_DIR=...` on its
# last line; `.ci/stop-redis.sh "$PHASEKIT_REDIS_DIR"` stops it and removes that directory.
# Usage: eval "$(.ci/start-redis.sh | tail -n 1)"
# Settings: PHASEKIT_REDIS_PORT (default: a free port), PHASEKIT_REDIS_DIR (default: a new
# directory under /tmp).
set -euo pipefail

if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "start-redis: no redis-server here, and only root with apt-get can install one" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq redis-server >&2
fi

port="${PHASEKIT_REDIS_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
dir="${PHASEKIT_REDIS_DIR:-$(mktemp -d /tmp/phasekit-redis.XXXXXX)}"
mkdir -p "$dir"

redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
  --save "" --appendonly no --dir "$dir" \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2

# Wait until it answers PING (ten seconds at most).
for _ in $(seq 100); do
  if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
    echo "export PHASEKIT_REDIS_URL=redis://127.0.0.1:$port/0 PHASEKIT_REDIS_DIR=$dir"
    exit 0
  fi
  sleep 0.1
done
echo "start-redis: the server on port $port did not answer (see $dir/redis.log)" >&2
"$(dirname "$0")/stop-redis.sh" "$dir"
exit 1
