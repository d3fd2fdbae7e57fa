#!/usr/bin/env bash
# 20 clerks for a minute on gunicorn + PostgreSQL (`make bench-load`; README "性能基准").
#
# Serves the app as `make serve` does (deploy/gunicorn.conf.py and the job worker, SECRET_KEY
# set) over a register of 20,000 officers (bench_pages.py's data, built once by
# scripts/bench_load.py prepare), runs scripts/locustfile.py headless and prints requests/s,
# p50/p95 per page and the errors. The login limit (10/minute from one address) is raised for the
# run: every simulated user logs in from 127.0.0.1 within a few seconds.
#
#   LOAD_DATABASE_URL  a PostgreSQL database to use (built once, reused); default: a throwaway
#                      cluster (scripts/pg.sh, run as root), built and removed each time
#   LOAD_USERS=20  LOAD_SECONDS=60  LOAD_WAIT=1,3 (think time, s)  LOAD_OFFICERS=20000
#   LOAD_READS_ONLY=1  the pages only (no import or export)
#   LOAD_OUT=/tmp/bench_load  (locust's CSV and log, gunicorn's log)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=$VENV/bin/python
USERS=${LOAD_USERS:-20}
SECONDS_=${LOAD_SECONDS:-60}
OUT=${LOAD_OUT:-/tmp/bench_load}
export LOAD_OFFICERS=${LOAD_OFFICERS:-20000}
mkdir -p "$OUT"

cleanup() {
  [ -n "${worker:-}" ] && kill "$worker" 2>/dev/null || true
  [ -n "${web:-}" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null || true
  [ -n "${PGTEST_DIR:-}" ] && bash scripts/pg.sh stop "$PGTEST_DIR"
  return 0
}
trap cleanup EXIT INT TERM

if [ -z "${LOAD_DATABASE_URL:-}" ]; then
  eval "$(bash scripts/pg.sh start)"
  LOAD_DATABASE_URL=$PGTEST_URL
fi
$PY scripts/bench_load.py prepare "$LOAD_DATABASE_URL" --officers "$LOAD_OFFICERS" --users "$USERS"

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL=$LOAD_DATABASE_URL
export SECRET_KEY=${SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_hex(32))')}
export LOGIN_RATE_LIMIT=${LOGIN_RATE_LIMIT:-1000/minute}
export GUNICORN_ACCESS_LOG=${GUNICORN_ACCESS_LOG:-/dev/null}
$VENV/bin/flask --app app jobs worker >"$OUT/worker.log" 2>&1 &
worker=$!
HOST=127.0.0.1 PORT=$port $VENV/bin/gunicorn -c deploy/gunicorn.conf.py >"$OUT/gunicorn.log" 2>&1 &
web=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.3
done

dbname=${LOAD_DATABASE_URL##*/}
dbname=${dbname%%\?*}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $USERS users for ${SECONDS_}s on port $port"
# A login's password hash is deliberately slow and 20 at once are not the daily load: the CPU
# per request is counted from when every user is logged in (locust's CSV, rewritten each second).
$VENV/bin/locust -f scripts/locustfile.py --headless -u "$USERS" -r 5 -t "${SECONDS_}s" \
  --host "http://127.0.0.1:$port" --csv "$OUT/load" --only-summary \
  >"$OUT/locust.log" 2>&1 &
locust=$!
rm -f "$OUT/load_stats.csv"
for _ in $(seq 240); do
  sleep 0.5
  [ "$($PY scripts/bench_load.py logins "$OUT/load")" -ge "$USERS" ] && break
done
echo "$($PY scripts/bench_load.py cpu "$web" "$dbname") $($PY scripts/bench_load.py logins "$OUT/load" --pages)" \
  >"$OUT/load_cpu.txt"
wait "$locust" || true
echo "$($PY scripts/bench_load.py cpu "$web" "$dbname") $($PY scripts/bench_load.py logins "$OUT/load" --pages)" \
  >>"$OUT/load_cpu.txt"
$PY scripts/bench_load.py report "$OUT/load"
if grep -q "Traceback" "$OUT/gunicorn.log"; then
  echo "gunicorn logged errors: see $OUT/gunicorn.log"
fi
