#!/usr/bin/env bash
# Re-execute the notebooks in notebooks/ in place (all of them, or those given), so that they
# are committed with their outputs and plots; tests/test_notebooks.py checks that the
# committed outputs still match the code. Sets up .venv first (scripts/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec "$ROOT/.venv/bin/python" tests/notebook_runner.py "$@"
