#!/usr/bin/env bash
# Makes sure a PostgreSQL server and a Redis server are reachable for the tests, and exports
#   CONTURS_TEST_POSTGRES_URL  (an admin URL; every test creates and drops its own database)
#   CONTURS_TEST_REDIS_URL     (tests use their own key prefixes and never flush it)
# It reuses the machine's servers on the standard ports when they answer; otherwise it starts
# throwaway servers on free ports under a temporary directory (stopped by `services_stop`).
# CONTURS_TEST_THROWAWAY=1 forces the throwaway servers even when the machine's are up.
# Source it:  . scripts/services.sh && services_start

_services_dir=""

_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

_need() {
  # _need <command> <debian package>: install the package when the command is missing.
  command -v "$1" >/dev/null 2>&1 && return 0
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/$1" ] && { PATH="$PATH:$d"; return 0; }; done
  echo "services: $1 not found; installing $2" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null; fi
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/$1" ] && PATH="$PATH:$d"; done
  command -v "$1" >/dev/null 2>&1
}

# The board's end-to-end tests drive Debian's headless Chromium through chromedriver.
browser_ensure() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then return 0; fi
  echo "services: installing chromium and chromium-driver for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; fi
}

_services_tmp() {
  [ -n "$_services_dir" ] || _services_dir=$(mktemp -d /tmp/conturs-services.XXXXXX)
  chmod 755 "$_services_dir"
}

_postgres_start() {
  if [ -n "${CONTURS_TEST_POSTGRES_URL:-}" ] && psql "$CONTURS_TEST_POSTGRES_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    echo "services: using PostgreSQL at CONTURS_TEST_POSTGRES_URL"; return 0
  fi
  _need psql postgresql-client
  if [ -z "${CONTURS_TEST_THROWAWAY:-}" ] && psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
    export CONTURS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
    echo "services: using the machine's PostgreSQL on 127.0.0.1:5432"; return 0
  fi
  _need initdb postgresql
  _services_tmp
  local port data run_as=()
  port=$(_free_port); data="$_services_dir/pg"
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then chown postgres "$_services_dir" "$data"; run_as=(runuser -u postgres --); fi
  "${run_as[@]}" initdb -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${run_as[@]}" pg_ctl -D "$data" -l "$data/log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export CONTURS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "services: started a throwaway PostgreSQL on port $port"
}

_redis_start() {
  _need redis-cli redis-tools
  if [ -n "${CONTURS_TEST_REDIS_URL:-}" ] && redis-cli -u "$CONTURS_TEST_REDIS_URL" ping >/dev/null 2>&1; then
    echo "services: using Redis at CONTURS_TEST_REDIS_URL"; return 0
  fi
  if [ -z "${CONTURS_TEST_THROWAWAY:-}" ] && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then
    export CONTURS_TEST_REDIS_URL="redis://127.0.0.1:6379"
    echo "services: using the machine's Redis on 127.0.0.1:6379 (tests use their own key prefixes)"; return 0
  fi
  _need redis-server redis-server
  _services_tmp
  local port; port=$(_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$_services_dir" --pidfile "$_services_dir/redis.pid" --logfile "$_services_dir/redis.log"
  for _ in $(seq 50); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  export CONTURS_TEST_REDIS_URL="redis://127.0.0.1:$port"
  echo "services: started a throwaway Redis on port $port"
}

services_start() {
  _postgres_start
  _redis_start
}

services_stop() {
  [ -n "$_services_dir" ] || return 0
  [ -f "$_services_dir/redis.pid" ] && kill "$(cat "$_services_dir/redis.pid")" 2>/dev/null
  if [ -d "$_services_dir/pg" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- pg_ctl -D "$_services_dir/pg" -m immediate stop >/dev/null 2>&1
    else pg_ctl -D "$_services_dir/pg" -m immediate stop >/dev/null 2>&1; fi
  fi
  rm -rf "$_services_dir"
}
