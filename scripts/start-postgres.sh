#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1:$PGPORT for the test suite (Debian's packages).
# Prints the SQLAlchemy URL to use as CAPI_TEST_DATABASE_URL.
set -euo pipefail
PGPORT=${PGPORT:-5433}
PGDIR=${PGDIR:-/tmp/capi-packages-pg}
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# PostgreSQL refuses to run as root: use the postgres user when we are root.
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! pg_isready -h 127.0.0.1 -p "$PGPORT" -q 2>/dev/null; then
  if [ ! -f "$PGDIR/PG_VERSION" ]; then
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
    run "$BIN/initdb" -D "$PGDIR" -A trust -U postgres >/dev/null
  fi
  run "$BIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/log" -w \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
