#!/usr/bin/env bash
# Installs (Debian package) and starts a throwaway PostgreSQL on loopback for the test suite.
# Prints the SQLAlchemy URL to use as DEVIA_TEST_DB_URL. `stop` stops and deletes it.
set -euo pipefail
ROOT=/tmp/devia-pg
PORT=55432
if [ "${1:-start}" = stop ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
  su postgres -c "$PGBIN/pg_ctl -D $ROOT/data -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$ROOT"
  exit 0
fi
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
su postgres -c "$PGBIN/pg_ctl -D $ROOT/data -m fast stop" >/dev/null 2>&1 || true
rm -rf "$ROOT" && mkdir -p "$ROOT" && chown postgres:postgres "$ROOT"
su postgres -c "$PGBIN/initdb -D $ROOT/data -A trust -U postgres" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $ROOT/data -o '-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT' -l $ROOT/server.log -w start" >&2
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
