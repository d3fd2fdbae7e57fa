#!/usr/bin/env bash
# `make lint`, and the first step of `make test`: style (ruff), the floors and the package graph
# (import-linter, contracts in pyproject.toml), dead code (vulture), and the project's own rules
# (scripts/lint_rules.py).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
echo "== ruff ==";           .venv/bin/ruff check . || rc=1
echo "== import-linter =="; .venv/bin/lint-imports --no-cache || rc=1
echo "== vulture ==";        .venv/bin/vulture || rc=1  # dead code; allow-list: scripts/vulture_allow.py
if [ -f scripts/lint_rules.py ]; then
  echo "== project rules =="; .venv/bin/python scripts/lint_rules.py || rc=1
fi
exit $rc
