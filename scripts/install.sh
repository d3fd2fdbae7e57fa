#!/usr/bin/env bash
# Installs what is missing: apt packages, the virtual environment, the package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

pkgs=(fonts-noto-cjk libharfbuzz-subset0 poppler-utils zbar-tools)
[ $want_test = 1 ] && pkgs+=(chromium postgresql redis-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
extra=""
[ $want_test = 1 ] && extra="[test]"
stamp=".venv/.installed${extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q -e ".${extra}"
  touch "$stamp"
fi
mkdir -p instance
.venv/bin/python - <<'PY'
from weasyprint.text.ffi import harfbuzz_subset  # noqa: F401  (fast font subsetting)
PY
