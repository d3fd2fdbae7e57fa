#!/usr/bin/env bash
# The whole suite on SQLite and, at the same time, on a throwaway PostgreSQL cluster started here.
# Each pass writes its own log (printed when both are done) and its own temporary folder; the
# exit code is 0 only when both passes are green. Arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest)

# Lint first (ruff, the floors contract, the project's own rules): a back-arrow fails the run.
bash scripts/lint.sh || exit 1

work=$(mktemp -d /tmp/certmgr-test.XXXXXX)
PGTEST_DIR=""
cleanup() {
  [ -n "$PGTEST_DIR" ] && bash scripts/pg.sh stop "$PGTEST_DIR" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'kill ${pid_sqlite:-} ${pid_pg:-} 2>/dev/null; exit 130' INT TERM

pg_env=$(bash scripts/pg.sh start) || { echo "PostgreSQL did not start" >&2; exit 1; }
eval "$pg_env"

started=$(date +%s)
"${PYTEST[@]}" --basetemp="$work/sqlite" "$@" >"$work/sqlite.log" 2>&1 &
pid_sqlite=$!
TEST_DATABASE_URL="$PGTEST_URL" "${PYTEST[@]}" --basetemp="$work/pg" "$@" >"$work/pg.log" 2>&1 &
pid_pg=$!

wait $pid_sqlite; rc_sqlite=$?
echo "== tests on SQLite ($(( $(date +%s) - started )) s) =="
cat "$work/sqlite.log"
wait $pid_pg; rc_pg=$?
echo "== tests on PostgreSQL ($(( $(date +%s) - started )) s) =="
cat "$work/pg.log"

echo "SQLite: exit $rc_sqlite; PostgreSQL: exit $rc_pg"
[ $rc_sqlite = 0 ] && [ $rc_pg = 0 ]
