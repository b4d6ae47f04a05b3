#!/usr/bin/env bash
# Run every test: Go (gofmt, go vet, go test) and Python (pytest, which also executes the
# notebooks). Sets up .venv first (scripts/setup.sh). Extra arguments go to pytest.
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

echo "== go test ./..."
go test -timeout 30m ./...

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
