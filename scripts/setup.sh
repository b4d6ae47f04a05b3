#!/usr/bin/env bash
# Set up the development environment in the repository: a Python virtualenv in .venv with
# the pinned requirements (requirements-dev.txt, then requirements-convert.txt without
# dependency resolution) and qmpc installed in development mode
# (pip install -e ., which compiles the Go core with gopy into python/qmpc/_core).
#
# Needs Go >= 1.26, Python >= 3.11 (python3.11, or set QMPC_PYTHON) and a C compiler.
# Idempotent and fast when nothing changed: the requirements and the build are redone only
# when their inputs' hash changes (stamps in .venv/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PIP_VERSION="26.3"

say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# --- Go ---
command -v go >/dev/null 2>&1 || die "Go >= 1.26 is needed on PATH (https://go.dev/dl/)"
gover="$(go env GOVERSION)"
if ! printf '%s\n' "$gover" | awk -F'[go.]+' '{ exit !($2 > 1 || ($2 == 1 && $3 >= 26)) }'; then
	die "Go >= 1.26 is needed, found $gover"
fi

# --- Python virtualenv ---
py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
if [ ! -x "$PY" ] || ! py_ok "$PY"; then
	base=""
	for cand in "${QMPC_PYTHON:-}" python3.11 python3 python; do
		if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && py_ok "$cand"; then
			base="$(command -v "$cand")"
			break
		fi
	done
	[ -n "$base" ] || die "Python >= 3.11 is needed (python3.11 on PATH, or set QMPC_PYTHON)"
	say "creating .venv with $base ($("$base" --version 2>&1))"
	rm -rf "$VENV"
	"$base" -m venv "$VENV"
	"$PY" -m pip install -q --disable-pip-version-check "pip==$PIP_VERSION"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1

# --- requirements ---
req_hash="$(cat requirements.txt requirements-dev.txt requirements-convert.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.qmpc-requirements" 2>/dev/null)" != "$req_hash" ]; then
	say "installing requirements-dev.txt (the first time downloads TensorFlow and PyTorch: a few minutes)"
	t0=$SECONDS
	"$PY" -m pip install -q -r requirements-dev.txt
	# The PyTorch-to-TFLite converter: --no-deps, as requirements-convert.txt explains.
	"$PY" -m pip install -q --no-deps -r requirements-convert.txt
	echo "$req_hash" >"$VENV/.qmpc-requirements"
	say "requirements installed in $((SECONDS - t0))s"
fi

# --- qmpc (Go core + Python package), rebuilt when its sources change ---
build_hash="$(
	{
		"$PY" -c 'import sys; print(sys.version)'
		go env GOVERSION
		find go.mod go.sum setup.py pyproject.toml gocore pybind -type f \
			\( -name '*.go' ! -name '*_test.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.py' -o -name '*.toml' \) \
			-print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1
)"
if [ "$(cat "$VENV/.qmpc-build" 2>/dev/null)" != "$build_hash" ] ||
	! compgen -G "python/qmpc/_core/_core.*.so" >/dev/null ||
	[ ! -x "$VENV/bin/qmpc" ]; then
	say "building qmpc (Go core via gopy) and installing it in development mode"
	t0=$SECONDS
	rm -f "$VENV/.qmpc-build"
	"$PY" -m pip install -q --no-build-isolation --no-deps -e .
	# Check the result (setuptools' editable mode has hidden build failures before).
	(cd "$VENV" && "$PY" -c 'import qmpc, qmpc._bridge as b; assert b.core.Version() == qmpc.__version__') ||
		die "qmpc was installed but its Go core does not load"
	echo "$build_hash" >"$VENV/.qmpc-build"
	say "qmpc built in $((SECONDS - t0))s"
fi
