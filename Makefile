# 行政执法人员资格管理系统 — the two commands: `make run` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app app
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: install install-test run serve test test-sqlite test-postgres lint bench bench-load clean

## install: system packages (fonts, HarfBuzz subsetter), the virtual environment, the database schema
install:
	bash scripts/install.sh
	$(FLASK) db upgrade

## install-test: install + what the tests need (chromium, PostgreSQL, test packages)
install-test:
	bash scripts/install.sh --test

# `make install`/`make run` on a developer's machine: without SECRET_KEY in the environment the
# app keeps a generated key in instance/secret_key (mode 600), which later `flask` commands reuse.
# Anything else (gunicorn) refuses to start without SECRET_KEY. See README "安全与运维".
install run: export APP_ENV ?= development

## run: install, upgrade the database, create the first admin, load demo data when empty, serve
run: install
	$(FLASK) bootstrap
	$(FLASK) demo seed --if-empty
	@echo "打开 http://$(HOST):$(PORT) ，用上面的 admin 账号登录（已创建过则用原密码）"
	@# The job worker (PDFs, big exports) runs beside the development server and stops with it.
	$(FLASK) jobs worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

## serve: production: gunicorn (deploy/gunicorn.conf.py) + the job worker; needs SECRET_KEY.
## DATABASE_URL (PostgreSQL or SQLite), REDIS_URL (several app servers), HOST, PORT as for run.
## WORKER=0 when the worker runs elsewhere (systemd: deploy/certmgr-worker.service).
WORKER ?= 1
serve:
	@test -n "$$SECRET_KEY" || { echo "未设置 SECRET_KEY：生产环境必须提供（见 README“部署”）。例如：export SECRET_KEY=\$$(python3 -c 'import secrets; print(secrets.token_hex(32))')" >&2; exit 1; }
	bash scripts/install.sh
	$(FLASK) db upgrade
	@if [ "$(WORKER)" = 1 ]; then \
	  $(FLASK) jobs worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py; \
	else HOST=$(HOST) PORT=$(PORT) exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py; fi

## test: the whole suite on SQLite, then again on a PostgreSQL server started for the run
test: install-test
	bash scripts/test.sh

## lint: ruff, the floors and package-cycle contracts (import-linter), the project's own rules
lint:
	bash scripts/lint.sh

## bench: every page at BENCH_OFFICERS officers (200,000) on SQLite and PostgreSQL, whole organisation and
## scoped; prints a Markdown table for the README (README "性能基准"). The data sets are built once and kept
## in BENCH_CACHE; BENCH_PG_URL=postgresql+psycopg://… uses that database instead of a throw-away cluster.
BENCH_OFFICERS ?= 200000
BENCH_RUNS ?= 5
BENCH_CACHE ?= /tmp/bench_pages
BENCH_PG_URL ?=
BENCH_ARGS ?=
bench:
	$(PY) scripts/bench_pages.py --officers $(BENCH_OFFICERS) --runs $(BENCH_RUNS) --photos 0 --scoped \
	  --cache $(BENCH_CACHE) $(if $(BENCH_PG_URL),--pg-url $(BENCH_PG_URL)) $(BENCH_ARGS)

## bench-load: 20 clerks for 60 s (locust: daily pages, exports, an import) on gunicorn + PostgreSQL + the job
## worker at BENCH_OFFICERS officers (LOAD_* settings: scripts/bench_load.sh)
bench-load:
	BENCH_CACHE=$(BENCH_CACHE) LOAD_OFFICERS=$${LOAD_OFFICERS:-$(BENCH_OFFICERS)} bash scripts/bench_load.sh

clean:
	rm -rf $(VENV) instance/app.db
