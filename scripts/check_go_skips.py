"""Read `go test -json` output and fail on Go tests that skipped without an allow-list entry.

    go test -json ./... > go-test.json
    python scripts/check_go_skips.py go-test.json scripts/go-test-skips.txt

Prints the package results (ok/FAIL lines), the output of every failed test, and every
skipped test with its reason; exits 1 if a test failed or if a test skipped that the
allow-list does not name. Allow-list lines: `PACKAGE TEST  # why` (TEST may name a subtest,
a/b; `PACKAGE TEST/*` allows every subtest of TEST). A line starting with `no-shared:` is
an entry that holds only when the shared models folder (../shared/models beside the
repository) is absent: where the folder exists (the project's CI), those tests must run.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "github.com/qmpc/qmpc/"


def load_allow(path: Path, shared_present: bool) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("no-shared:"):
            if shared_present:
                continue
            line = line[len("no-shared:"):].strip()
        pkg, test = line.split()
        out.append((pkg, test))
    return out


def main(argv: list[str]) -> int:
    events_path, allow_path = Path(argv[1]), Path(argv[2])
    shared_present = (ROOT.parent / "shared" / "models").is_dir()
    allow = load_allow(allow_path, shared_present)
    output: dict[tuple[str, str], list[str]] = defaultdict(list)
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    summary: list[str] = []
    for raw in events_path.read_text().splitlines():
        if not raw.startswith("{"):
            print(raw)  # build errors and the like
            continue
        e = json.loads(raw)
        pkg = e.get("Package", "").removeprefix(MODULE)
        test = e.get("Test", "")
        act = e.get("Action")
        if act == "output":
            output[(pkg, test)].append(e["Output"])
            if not test and (e["Output"].startswith(("ok ", "FAIL", "?")) or e["Output"].startswith("ok\t")):
                summary.append(e["Output"].rstrip())
        elif act == "skip" and test:
            skipped.append((pkg, test))
        elif act == "fail":
            failed.append((pkg, test))
    for line in summary:
        print(line)
    for pkg, test in failed:
        if test:
            print(f"\n--- FAIL {pkg} {test}")
            print("".join(output[(pkg, test)]), end="")
    unexpected = []
    if skipped:
        print(f"\nGo tests skipped ({len(skipped)}):")
    for pkg, test in skipped:
        why = " ".join(l.strip() for l in output[(pkg, test)] if not l.lstrip().startswith(("=== ", "--- ")))
        ok = any(p == pkg and fnmatch.fnmatchcase(test, t) for p, t in allow)
        print(f"  {'allowed   ' if ok else 'UNEXPECTED'} {pkg} {test}: {why}")
        if not ok:
            unexpected.append((pkg, test))
    if unexpected:
        print(f"\n{len(unexpected)} Go test(s) skipped without an entry in {allow_path}: "
              "make them run (generate their data in scripts/test.sh) or add an entry with the reason", file=sys.stderr)
    if failed:
        print(f"\ngo test failed ({len([f for f in failed if f[1]])} tests)", file=sys.stderr)
    return 1 if unexpected or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
