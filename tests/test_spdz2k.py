"""spdz2k (issue 14): two parties, dishonest majority, malicious with abort.

``spdz2k`` runs the two parties' own maliciously secure OT-based offline phase; a model
whose offline phase would send more than 20 GB per party is refused at once with a
``ConfigError`` that names the prediction. ``spdz2k-dealer`` is the same online phase with
a simulated trusted dealer (outside the threat model, labelled as such). The output equals
the cleartext run bit for bit; a party that alters any message raises
``qmpc.CheatingDetected`` where semi2k returns a wrong output without complaint; a random
sweep finds no undetected change.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

from tamper_sweep import sweep  # noqa: E402

DIGITS = Path(__file__).resolve().parent.parent / "examples" / "digits"


@pytest.fixture(scope="module")
def digits():
    m = qmpc.load(DIGITS / "digits_cnn_int8.tflite")
    x = np.load(DIGITS / "test_images.npy")[0:2]
    return m, x


def test_bit_exact_listed_and_labelled(digits):
    m, x = digits
    r = qmpc.secure_run(m, x, protocol="spdz2k-dealer", progress=False)
    np.testing.assert_array_equal(r.output, m.run(x))
    info = next(p for p in qmpc.protocols() if p.name == "spdz2k-dealer")
    assert (info.parties, info.corruption, info.security, info.available) == (2, "dishonest majority", "malicious, abort", True)
    assert "dealer" in info.summary
    assert r.stats.preprocessing == "dealer"


def test_ot_offline_phase_bit_exact_and_checked(digits):
    """spdz2k itself: the OT offline phase (malicious OT extension, COPEe, triples with
    sacrifice, TinyOT, daBits) and the online phase, bit-exact; one altered message of the
    offline phase of each party is caught."""
    m, x = digits
    x = x[:1]
    info = next(p for p in qmpc.protocols() if p.name == "spdz2k")
    assert (info.parties, info.security, info.available, info.offline) == (2, "malicious, abort", True, True)
    r = qmpc.secure_run(m, x, protocol="spdz2k", progress=False)
    np.testing.assert_array_equal(r.output, m.run(x))
    assert r.stats.preprocessing != "dealer"
    assert r.stats.offline.bytes_sent[0] > 100 * r.stats.online.bytes_sent[0]
    for party in (0, 1):
        with pytest.raises(qmpc.CheatingDetected) as e:
            qmpc.secure_run(m, x, protocol="spdz2k", progress=False,
                            tamper=qmpc.Tamper(party=party, message=r.stats.messages[party] // 2, xor=1 << 5))
        assert e.value.tampered


def test_offline_budget_refuses_large_models(shared_model):
    """MobileNetV1 0.25_128's OT offline phase would send hundreds of GB per party: spdz2k
    refuses it at once, naming the prediction and the alternatives."""
    m = qmpc.load(shared_model("coral/mobilenet_v1_0.25_128_quant.tflite"))
    with pytest.raises(qmpc.ConfigError, match=r"GB per party.*spdz2k-dealer"):
        qmpc.estimate(m, protocol="spdz2k")


def _fc_messages(r, party: int) -> list[int]:
    return [ph for ph in r.stats.message_phases[party] if ph.phase == "FULLY_CONNECTED"][-1].messages


@pytest.mark.parametrize("party", [0, 1])
def test_tamper_caught_where_semi2k_is_silently_wrong(digits, party):
    m, x = digits
    x = x[:1]
    ref = m.run(x)
    semi = qmpc.secure_run(m, x, protocol="semi2k", preprocessing="dealer", progress=False)
    bad = qmpc.secure_run(m, x, protocol="semi2k", preprocessing="dealer", progress=False,
                          tamper=qmpc.Tamper(party=party, message=_fc_messages(semi, party)[0], add=2**40))
    assert bad.tampered and not np.array_equal(bad.output, ref)
    r = qmpc.secure_run(m, x, protocol="spdz2k-dealer", progress=False)
    for k in _fc_messages(r, party):
        with pytest.raises(qmpc.CheatingDetected, match="spdz2k") as e:
            qmpc.secure_run(m, x, protocol="spdz2k-dealer", progress=False,
                            tamper=qmpc.Tamper(party=party, message=k, add=2**40))
        assert e.value.tampered and isinstance(e.value, qmpc.PartyError)


def test_random_sweep_no_undetected_change(digits):
    m, x = digits
    rep = sweep(m, x[:1], "spdz2k-dealer", runs=60, seed=5, kinds=("xor", "add", "replay"))
    assert rep.silent_wrong == 0, rep
    assert rep.tampered > 0


def test_estimate_matches_run(digits):
    m, x = digits
    e = qmpc.estimate(m, protocol="spdz2k-dealer")
    r = qmpc.secure_run(m, x[:1], protocol="spdz2k-dealer", progress=False)
    assert e.total.rounds == r.stats.total.rounds
    assert e.online.bytes_sent == r.stats.online.bytes_sent
