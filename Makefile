# 行政执法人员资格管理系统 — the two commands: `make run` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app app
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: install install-test run test test-sqlite test-postgres lint bench clean

## install: system packages (fonts, HarfBuzz subsetter), the virtual environment, the database schema
install:
	bash scripts/install.sh
	$(FLASK) db upgrade

## install-test: install + what the tests need (chromium, PostgreSQL, test packages)
install-test:
	bash scripts/install.sh --test

# `make install`/`make run` on a developer's machine: without SECRET_KEY in the environment the
# app keeps a generated key in instance/secret_key (mode 600). Anything else (gunicorn, a plain
# `flask` command) refuses to start without SECRET_KEY. See README "安全与运维".
install run: export APP_ENV ?= development

## run: install, upgrade the database, create the first admin, load demo data when empty, serve
run: install
	$(FLASK) bootstrap
	$(FLASK) demo seed --if-empty
	@echo "打开 http://$(HOST):$(PORT) ，用上面的 admin 账号登录（已创建过则用原密码）"
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite, then again on a PostgreSQL server started for the run
test: install-test
	bash scripts/test.sh

lint:
	$(VENV)/bin/ruff check .

bench:
	$(PY) scripts/bench_pages.py --gunicorn

clean:
	rm -rf $(VENV) instance/app.db
