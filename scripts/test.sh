#!/usr/bin/env bash
# The whole suite on SQLite, then again on a throwaway PostgreSQL cluster started here.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/python -m pytest"

echo "== ruff =="
.venv/bin/ruff check . || exit 1

echo "== tests on SQLite =="
$PYTEST "$@"
rc_sqlite=$?

echo "== tests on PostgreSQL =="
eval "$(bash scripts/pg.sh start)"
trap 'bash scripts/pg.sh stop "$PGTEST_DIR" >/dev/null 2>&1' EXIT
TEST_DATABASE_URL="$PGTEST_URL" $PYTEST "$@"
rc_pg=$?

echo "SQLite: exit $rc_sqlite; PostgreSQL: exit $rc_pg"
[ $rc_sqlite = 0 ] && [ $rc_pg = 0 ]
