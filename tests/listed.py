"""The registry's protocols as the registry-wide tests iterate them.

``spdz2k`` runs its own maliciously secure OT-based offline phase, which costs about
0.33 GB per party on the digits model and minutes of CPU (BENCHMARKS.md).
Its online phase is exactly ``spdz2k-dealer``'s (the same code with correlations from a
labelled dealer), which every registry-wide test runs; ``tests/test_spdz2k.py`` and the
Go tests (``TestSpdz2kOT``) run ``spdz2k`` itself with the OT phase, bit-exact and
tamper-tested. The registry-wide tests skip it to keep the suite's time bounded.
"""
from __future__ import annotations

import qmpc

#: Protocols that the registry-wide tests leave to their own test file, and why.
COVERED_ELSEWHERE = {
    "spdz2k": "its online phase runs as spdz2k-dealer here; tests/test_spdz2k.py runs its OT offline phase",
    "rep3-mal-wan": "rep3-mal with rep3's requantization circuit: the Go registry-wide tests (views, tampers, "
                    "every block) run it, and tests/test_rep3mal.py its output, rounds and a tamper sweep",
}


def protocols() -> list:
    """``qmpc.protocols()`` without those in COVERED_ELSEWHERE."""
    return [p for p in qmpc.protocols() if p.name not in COVERED_ELSEWHERE]
