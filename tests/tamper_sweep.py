"""Random tamper sweeps (qmpc.Tamper): a helper for cheating tests.

A sweep first runs the model once untampered, recording how many messages each party sends
and how long each is (``secure_run(..., message_sizes=True)``; the communication pattern
does not depend on the data or on a tamper). It then draws tampers uniformly: a message
uniformly among all messages of all parties, a 64-bit word uniformly among the words of
that message, and a nonzero 64-bit xor (or offset), and classifies each tampered run::

    from tamper_sweep import sweep
    rep = sweep(m, x, "rep3", runs=200, seed=1)
    rep.silent_wrong     # tampered, no error, output differs from the cleartext result
    rep.raised           # exceptions by class name (rep3-mal: CheatingDetected)
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

import qmpc


def _words(size: int) -> int:
    return max(1, (size + 7) // 8)


def sample_tampers(stats: qmpc.Stats, count: int, seed: int,
                   kinds: tuple[str, ...] = ("xor",),
                   in_place: bool = False) -> Iterator[tuple[qmpc.Tamper, str]]:
    """Draws ``count`` tampers uniformly over the messages of ``stats`` (from a run with
    ``message_sizes=True``): each message of each party equally likely, then a word of it,
    then a kind from ``kinds`` (``"xor"``, ``"add"``: a uniform nonzero 64-bit value;
    ``"replay"``: replay=1), with ``in_place`` (qmpc.Tamper). Yields (tamper, phase of the
    message)."""
    sizes = stats.message_sizes
    if not sizes:
        raise ValueError("stats has no message sizes: run secure_run(..., message_sizes=True)")
    owners = [(p, k) for p, sz in enumerate(sizes) for k in range(len(sz))]
    if not owners:
        raise ValueError("no party sent a message")
    rng = np.random.default_rng(seed)
    for _ in range(count):
        p, k = owners[int(rng.integers(len(owners)))]
        word = int(rng.integers(_words(sizes[p][k])))
        kind = kinds[int(rng.integers(len(kinds)))]
        value = int(rng.integers(1, 2**64, dtype=np.uint64))
        if kind == "xor":
            t = qmpc.Tamper(party=p, message=k, word=word, xor=value, in_place=in_place)
        elif kind == "add":
            t = qmpc.Tamper(party=p, message=k, word=word, add=value, in_place=in_place)
        elif kind == "replay":
            t = qmpc.Tamper(party=p, message=k, replay=1, in_place=in_place)
        else:
            raise ValueError(f"unknown tamper kind {kind!r}")
        yield t, phase_of(stats, p, k)


def phase_of(stats: qmpc.Stats, party: int, message: int) -> str:
    """The phase (``"input"``, ``"CONV_2D"``, ...) in which ``party`` sent ``message``."""
    for ph in stats.message_phases[party]:
        if message in ph.messages:
            return ph.phase
    return "?"


@dataclass
class SweepReport:
    """What a sweep saw. ``silent_wrong`` is the number a malicious protocol must keep at 0."""

    runs: int = 0
    tampered: int = 0  #: runs whose message existed and was altered
    raised: collections.Counter = field(default_factory=collections.Counter)
    silent_wrong: int = 0  #: no error, output differs from the cleartext result
    unchanged: int = 0  #: no error, output equal (the alteration did not matter)
    by_phase: dict[str, collections.Counter] = field(default_factory=dict)
    examples: list[qmpc.Tamper] = field(default_factory=list)  #: some silent_wrong tampers

    def __str__(self) -> str:
        return (f"{self.runs} runs, {self.tampered} tampered: {self.silent_wrong} silently wrong, "
                f"{self.unchanged} unchanged, raised {dict(self.raised)}")


def sweep(model: qmpc.Model, x: Any, protocol: str, runs: int, seed: int,
          kinds: tuple[str, ...] = ("xor",), in_place: bool = False, **kw: Any) -> SweepReport:
    """Runs ``runs`` randomly tampered secure inferences of ``model`` on ``x`` and
    classifies them against the cleartext result ``model.run(x)``."""
    want = model.run(x)
    clean = qmpc.secure_run(model, x, protocol=protocol, progress=False, message_sizes=True, **kw)
    rep = SweepReport()
    for t, phase in sample_tampers(clean.stats, runs, seed, kinds, in_place):
        rep.runs += 1
        c = rep.by_phase.setdefault(phase, collections.Counter())
        try:
            r = qmpc.secure_run(model, x, protocol=protocol, progress=False, tamper=t, **kw)
        except qmpc.QmpcError as e:
            rep.tampered += bool(getattr(e, "tampered", False))
            rep.raised[type(e).__name__] += 1
            c[type(e).__name__] += 1
            continue
        rep.tampered += r.tampered
        if _equal(r.output, want):
            rep.unchanged += 1
            c["unchanged"] += 1
        else:
            rep.silent_wrong += 1
            c["silent_wrong"] += 1
            if len(rep.examples) < 10:
                rep.examples.append(t)
    return rep


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))
    return bool(np.array_equal(a, b))
