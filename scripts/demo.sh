#!/usr/bin/env bash
# Run the demo: classify held-out handwritten digits with the bundled int8 CNN
# (examples/demo.py). Sets up .venv first (scripts/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec "$ROOT/.venv/bin/python" examples/demo.py "$@"
