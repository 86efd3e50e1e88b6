# Sourced by scripts/run and scripts/test: create .venv with Python 3.11+ and install the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python 3.11 or newer is needed ($PY is $("$PY" -V 2>&1))" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# The pinned versions (requirements/*.lock), then the project itself without resolving again.
# Reinstall only when pyproject.toml or the lock file changed since the last install.
LOCK="requirements/$([ "${EXTRAS:-}" = test ] && echo test || echo run).lock"
STAMP=".venv/.installed-$(cat pyproject.toml "$LOCK" | sha256sum | cut -c1-16)-${EXTRAS:-base}"
if [ ! -f "$STAMP" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$LOCK"
  .venv/bin/python -m pip install --quiet --no-deps -e ".${EXTRAS:+[$EXTRAS]}"
  rm -f .venv/.installed-* && touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
