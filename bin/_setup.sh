# Sourced by bin/start and bin/test: a virtual environment with the project installed.
# Needs only Python 3.11 and a C compiler; re-installs when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  echo "[aid-portal] creating the virtual environment .venv"
  "$(pick_python)" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  # pip speaks for itself (no --quiet): each package as it is collected, downloaded,
  # built and installed, so a first install of a few minutes never looks hung.
  echo "[aid-portal] installing dependencies into .venv (a first run takes a few minutes)"
  echo "[aid-portal] step 1 of 2: upgrading pip"
  .venv/bin/python -m pip install --upgrade --progress-bar on pip
  echo "[aid-portal] step 2 of 2: installing the portal and its dependencies (pyproject.toml)"
  .venv/bin/python -m pip install --progress-bar on -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
  echo "[aid-portal] dependencies installed"
fi
