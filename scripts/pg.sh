#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster as the postgres user (it refuses root).
#   eval "$(scripts/pg.sh start)"  -> sets PGTEST_DIR and PGTEST_URL
#   scripts/pg.sh stop DIR
set -euo pipefail
cd /  # runuser keeps the cwd, which postgres may not be allowed to enter
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/pgtest.XXXXXX)
    chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -c fsync=off -c full_page_writes=off -c synchronous_commit=off -k $dir" start >/dev/null
    runuser -u postgres -- "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres certmgr_test
    echo "export PGTEST_DIR=$dir"
    echo "export PGTEST_URL=postgresql+psycopg://postgres@127.0.0.1:$port/certmgr_test"
    ;;
  stop)
    dir=$2
    runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
