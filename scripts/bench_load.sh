#!/usr/bin/env bash
# 20 clerks for a minute on gunicorn + PostgreSQL (`make bench-load`; README "性能基准").
#
# Serves the app as `make serve` does (deploy/gunicorn.conf.py and the job worker, SECRET_KEY
# set) over bench_pages.py's register of LOAD_OFFICERS officers, runs scripts/locustfile.py
# headless for a fixed time and prints the figures as a Markdown table (scripts/bench_load.py
# report): requests/s, p50/p95/p99 per request and for all pages, the errors, the one-offs (an
# export made by the job worker, an import through the import centre), the CPU per request.
# Everything it starts (PostgreSQL, gunicorn, the job worker, locust) it stops on exit.
# The login limit (10/minute from one address) is raised for the run: every simulated user logs
# in from 127.0.0.1 within a few seconds. Run as root (scripts/pg.sh runs PostgreSQL as postgres).
#
#   LOAD_OFFICERS=200000 (100000 …)  LOAD_USERS=20  LOAD_SECONDS=60  LOAD_WAIT=1,3 (think time, s)
#   LOAD_JOBS=4 LOAD_IMPORTS=5  users doing one big export (a job) / one import during the run
#   LOAD_READS_ONLY=1  the pages only (no export, no import)
#   LOAD_DATABASE_URL  a PostgreSQL database to use (built once when empty, reused; the run's
#                      imports stay in it); default: a throw-away cluster (scripts/pg.sh) holding
#                      a copy of the register kept in BENCH_CACHE (/tmp/bench_pages; built and
#                      kept there the first time: minutes at 200,000), removed at the end
#   LOAD_OUT=/tmp/bench_load  (locust's CSV, log and request times; gunicorn's and the worker's logs)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=$VENV/bin/python
USERS=${LOAD_USERS:-20}
export LOAD_SECONDS=${LOAD_SECONDS:-60}
export LOAD_OUT=${LOAD_OUT:-/tmp/bench_load}
export LOAD_OFFICERS=${LOAD_OFFICERS:-200000}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # this tree's app, also from a git worktree
mkdir -p "$LOAD_OUT"
rm -f "$LOAD_OUT"/requests.jsonl "$LOAD_OUT"/oneoffs.jsonl "$LOAD_OUT"/load_*.csv "$LOAD_OUT"/cpu.txt "$LOAD_OUT"/steady \
  "$LOAD_OUT"/jobs.db*

cleanup() {
  [ -n "${locust:-}" ] && kill "$locust" 2>/dev/null && wait "$locust" 2>/dev/null
  [ -n "${worker:-}" ] && kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null
  [ -n "${web:-}" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null
  [ -n "${PGTEST_DIR:-}" ] && bash scripts/pg.sh stop "$PGTEST_DIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${LOAD_DATABASE_URL:-}" ]; then
  eval "$($PY scripts/bench_load.py cluster --officers "$LOAD_OFFICERS")"
  LOAD_DATABASE_URL=$PGTEST_URL
fi
$PY scripts/bench_load.py prepare "$LOAD_DATABASE_URL" --officers "$LOAD_OFFICERS" --users "$USERS"

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL=$LOAD_DATABASE_URL
export SECRET_KEY=${SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_hex(32))')}
export LOGIN_RATE_LIMIT=${LOGIN_RATE_LIMIT:-1000/minute}
export GUNICORN_ACCESS_LOG=${GUNICORN_ACCESS_LOG:-/dev/null}
export HUEY_SQLITE_PATH=$LOAD_OUT/jobs.db  # the job queue of this run only
$VENV/bin/flask --app app jobs worker >"$LOAD_OUT/worker.log" 2>&1 &
worker=$!
HOST=127.0.0.1 PORT=$port $VENV/bin/gunicorn -c deploy/gunicorn.conf.py >"$LOAD_OUT/gunicorn.log" 2>&1 &
web=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.3
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "gunicorn did not answer: $LOAD_OUT/gunicorn.log"; exit 1; }

dbname=${LOAD_DATABASE_URL##*/}
dbname=${dbname%%\?*}
workers=${GUNICORN_WORKERS:-$($PY -c 'import multiprocessing; print(max(2, multiprocessing.cpu_count()))')}
cat >"$LOAD_OUT/meta.json" <<EOF
{"users": $USERS, "seconds": $LOAD_SECONDS, "officers": $LOAD_OFFICERS, "workers": "$workers",
 "threads": "${GUNICORN_THREADS:-4}", "load_before": "$(cut -d' ' -f1-3 /proc/loadavg)"}
EOF
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $USERS users for ${LOAD_SECONDS}s on port $port" >&2
# Logins (a deliberately slow password hash, 20 at once, each an audited write) are not the daily
# load: locust measures LOAD_SECONDS from when the last user is logged in ($LOAD_OUT/steady), then
# quits (-t is only a safety cap); the CPU per request is counted over that window.
$VENV/bin/locust -f scripts/locustfile.py --headless -u "$USERS" -r 5 -t "$((LOAD_SECONDS + ${LOAD_LOGIN_LIMIT:-600}))s" \
  --host "http://127.0.0.1:$port" --csv "$LOAD_OUT/load" --only-summary --stop-timeout 30 \
  >"$LOAD_OUT/locust.log" 2>&1 &
locust=$!
while kill -0 "$locust" 2>/dev/null && [ ! -s "$LOAD_OUT/steady" ]; do sleep 0.2; done
echo "$($PY scripts/bench_load.py cpu "$web" "$dbname") $(date +%s.%N)" >"$LOAD_OUT/cpu.txt"
wait "$locust" || true
locust=
echo "$($PY scripts/bench_load.py cpu "$web" "$dbname") $(date +%s.%N)" >>"$LOAD_OUT/cpu.txt"
$PY scripts/bench_load.py report "$LOAD_OUT"
if grep -q "Traceback" "$LOAD_OUT/gunicorn.log" "$LOAD_OUT/worker.log"; then
  echo "errors logged: see $LOAD_OUT/gunicorn.log and $LOAD_OUT/worker.log"
fi
