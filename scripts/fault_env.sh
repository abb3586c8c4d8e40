#!/usr/bin/env bash
# A throwaway PostgreSQL cluster and redis-server for the fault tests (tests/faults), loopback only.
#
#   eval "$(scripts/fault_env.sh up)"     # start both; prints the variables to export
#   scripts/fault_env.sh down             # stop both and delete their files (uses FAULT_ENV_DIR)
#
# PostgreSQL runs from a fresh initdb in a temporary directory (trust auth, 127.0.0.1 only), as the
# postgres user when this runs as root. Ports: FAULT_PG_PORT (5499) and FAULT_REDIS_PORT (6390).
# Every wait is bounded.
set -euo pipefail

PG_PORT="${FAULT_PG_PORT:-5499}"
REDIS_PORT="${FAULT_REDIS_PORT:-6390}"
PG_BIN="${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"

as_pg() {
  # Run a command as the owner of the cluster (postgres when we are root).
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

up() {
  local dir
  dir="$(mktemp -d /tmp/jakmentor-faults.XXXXXX)"
  # Whatever fails from here on, leave nothing running behind us.
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then down "'"$dir"'" >/dev/null 2>&1; fi; exit "$rc"' EXIT
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/redis"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/pg"; fi
  as_pg "'$PG_BIN/initdb' -D '$dir/pg/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >'$dir/pg/initdb.log' 2>&1" \
    || { cat "$dir/pg/initdb.log" >&2; exit 1; }
  as_pg "'$PG_BIN/pg_ctl' -D '$dir/pg/data' -l '$dir/pg/server.log' -w -t 30 \
      -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$dir/pg' -c fsync=off\" start >/dev/null" \
    || { cat "$dir/pg/server.log" >&2; exit 1; }
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null
  cat <<EOF
export FAULT_ENV_DIR='$dir'
export FAULT_PG_URL='postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres'
export FAULT_PG_CLUSTER='$dir/pg/data'
export FAULT_PG_BIN='$PG_BIN'
export FAULT_REDIS_PORT='$REDIS_PORT'
EOF
}

down() {
  local dir="${1:-${FAULT_ENV_DIR:-}}"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "fault_env: nothing to stop (FAULT_ENV_DIR unset or missing)" >&2
    return 0
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 \
      || kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
  fi
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_pg "'$PG_BIN/pg_ctl' -D '$dir/pg/data' -m immediate -w -t 30 stop >/dev/null" || true
  fi
  case "$dir" in /tmp/jakmentor-faults.*) rm -rf "$dir" ;; esac
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  *) echo "usage: $0 up|down [dir]" >&2; exit 2 ;;
esac
