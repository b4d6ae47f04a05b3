#!/usr/bin/env bash
# Run every test: Go (gofmt, go vet, go test) and Python (pytest, which also executes the
# notebooks and checks their committed outputs, and builds the binary wheel with scripts/wheel.sh
# and tests it in a fresh virtualenv without Go: tests/test_wheel.py, about 3 min the first
# time, 30 s when the wheel is up to date; -m "not wheel" skips it). Sets up .venv first
# (scripts/setup.sh). Extra arguments go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
PY="$ROOT/.venv/bin/python"

echo "== gofmt"
unformatted="$(gofmt -l gocore pybind)"
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet ./..."
go vet ./...

echo "== test data for the Go tests"
# gocore/engine and gocore/model/onnx read ONNX Runtime-quantized models from
# tests/_generated/onnx; gocore/qnn compares with LiteRT outputs dumped into $QMPC_REFDIR.
# Both are remade when their generators or the pinned requirements change.
GEN="$ROOT/tests/_generated"
export QMPC_REFDIR="$GEN/ref"
stamp="$(cat tests/onnx_models.py tests/gen_models.py tools/refdump/refdump.py requirements-dev.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$GEN/.go-test-data" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$GEN/onnx" "$QMPC_REFDIR"
	"$PY" tests/onnx_models.py "$GEN/onnx" >/dev/null
	"$PY" tools/refdump/refdump.py --out "$QMPC_REFDIR" --generated --trace 2>"$GEN/refdump.log" ||
		{ cat "$GEN/refdump.log" >&2; exit 1; }
	echo "$stamp" >"$GEN/.go-test-data"
fi

echo "== go test ./... (a skipped test fails unless scripts/go-test-skips.txt lists it)"
gojson="$GEN/go-test.json"
gostatus=0
go test -json -timeout 30m ./... >"$gojson" || gostatus=$?
"$PY" scripts/check_go_skips.py "$gojson" scripts/go-test-skips.txt || gostatus=1
if [ "$gostatus" -ne 0 ]; then
	echo "go test failed (full output: $gojson)" >&2
	exit 1
fi

# The registry's test-only toy protocol (gocore/mpc/registry/toy.go) exists only in builds
# with this tag: these tests iterate the registry and run it through local runs, the
# Python binding's entry points, a cluster and the CLI without naming it.
echo "== go test -tags qmpctest (a protocol added by one registry line)"
go test -tags qmpctest -run 'Every|InferEqualsLocalRun' ./gocore/mpc/registry ./gocore/cluster/inference ./gocore/cmd/qmpc ./pybind

echo "== pytest"
status=0
"$PY" -m pytest -q tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
	echo "pytest collected no tests: that is a failure here" >&2
	exit 1
fi
exit "$status"
