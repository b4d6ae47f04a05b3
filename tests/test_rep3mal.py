"""rep3-mal (issue 9): three parties, honest majority, malicious with abort.

The output equals the cleartext run bit for bit; a party that alters any message (a
simulated cheater, ``qmpc.Tamper``) makes the run raise ``qmpc.CheatingDetected`` before
the client sees anything, where rep3 returns a wrong output without complaint; a random
sweep finds no undetected change; a cheating ``qmpc party`` process makes the client's
request fail with ``CheatingDetected`` and the next request is served correctly.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

from tamper_sweep import sweep  # noqa: E402
from ports import free_ports  # noqa: E402
from test_cluster import STEP, Parties, _infer_until  # noqa: E402

import qmpc.cluster as qc  # noqa: E402

DIGITS = Path(__file__).resolve().parent.parent / "examples" / "digits"


@pytest.fixture(scope="module")
def digits():
    m = qmpc.load(DIGITS / "digits_cnn_int8.tflite")
    x = np.load(DIGITS / "test_images.npy")[0:2]
    return m, x


def _fc_tamper(m, x, party: int) -> "qmpc.Tamper":
    """The first alteration (add 2^40 to word 0, or xor it with all ones) of a message
    party sends in the last FULLY_CONNECTED layer (under rep3) that changes rep3's output.
    The run is seeded (Tamper.seed), so the alteration's effect, which for some alterations
    depends on the random shares (e.g. a flipped one-hot bit), repeats exactly."""
    r = qmpc.secure_run(m, x, protocol="rep3", progress=False)
    want = m.run(x)
    ph = [ph for ph in r.stats.message_phases[party] if ph.phase == "FULLY_CONNECTED"][-1]
    for j in ph.messages:
        for t in (qmpc.Tamper(party=party, message=j, add=2**40, seed=7),
                  qmpc.Tamper(party=party, message=j, xor=2**64 - 1, seed=7)):
            if not np.array_equal(qmpc.secure_run(m, x, protocol="rep3", tamper=t, progress=False).output, want):
                return t
    raise AssertionError(f"party {party}: no message of the last FULLY_CONNECTED layer changes the output")


def test_bit_exact_and_listed(digits):
    m, x = digits
    r = qmpc.secure_run(m, x, protocol="rep3-mal", progress=False)
    np.testing.assert_array_equal(r.output, m.run(x))
    info = next(p for p in qmpc.protocols() if p.name == "rep3-mal")
    assert (info.parties, info.corruption, info.security, info.available) == (3, "honest majority", "malicious, abort", True)
    assert [l.kind for l in r.stats.layers][-2:] == ["VERIFY", "OUTPUT"] or any(l.kind == "VERIFY" for l in r.stats.layers)
    e = qmpc.estimate(m, protocol="rep3-mal")
    assert e.total.rounds > 0


def test_wan_variant_fewer_rounds_same_output(digits):
    """rep3-mal-wan is rep3-mal with requantization's least-depth circuit: the same output,
    fewer rounds (more AND gates to prove), and cheating is caught as well."""
    m, x = digits
    r = qmpc.secure_run(m, x, protocol="rep3-mal", progress=False)
    w = qmpc.secure_run(m, x, protocol="rep3-mal-wan", progress=False)
    np.testing.assert_array_equal(w.output, m.run(x))
    assert w.stats.total.rounds < r.stats.total.rounds, (w.stats.total.rounds, r.stats.total.rounds)
    info = next(p for p in qmpc.protocols() if p.name == "rep3-mal-wan")
    assert (info.parties, info.security, info.available) == (3, "malicious, abort", True)
    rep = sweep(m, x[:1], "rep3-mal-wan", runs=20, seed=4, kinds=("xor", "add", "replay"))
    assert rep.silent_wrong == 0, rep
    assert rep.tampered > 0


@pytest.mark.parametrize("party", [0, 2])
def test_tamper_caught_where_rep3_is_silently_wrong(digits, party):
    m, x = digits
    t = _fc_tamper(m, x, party)
    # The seeded run repeats exactly: rep3 returns the wrong output again, without complaint.
    bad = qmpc.secure_run(m, x, protocol="rep3", tamper=t, progress=False)
    assert bad.tampered and not np.array_equal(bad.output, m.run(x))
    # The same party, the same kind of deviation, under rep3-mal: every message of the
    # layer (rep3-mal numbers its messages differently, so try them all).
    r = qmpc.secure_run(m, x, protocol="rep3-mal", progress=False)
    ph = [p for p in r.stats.message_phases[party] if p.phase == "FULLY_CONNECTED"][-1]
    for j in ph.messages:
        with pytest.raises(qmpc.CheatingDetected, match="rep3-mal") as e:
            qmpc.secure_run(m, x, protocol="rep3-mal", tamper=qmpc.Tamper(party=party, message=j, add=2**40), progress=False)
        assert e.value.tampered and isinstance(e.value, qmpc.PartyError)


def test_random_sweep_no_undetected_change(digits):
    m, x = digits
    rep = sweep(m, x[:1], "rep3-mal", runs=60, seed=3, kinds=("xor", "add", "replay"))
    assert rep.silent_wrong == 0, rep
    assert rep.tampered > 0


def test_cheating_party_process_caught(tmp_path: Path, digits):
    """Party 2 runs with the test-only QMPC_TEST_TAMPER hook under rep3-mal: the client's
    request fails with CheatingDetected (a PartyError naming the check) and the parties
    serve the next request correctly."""
    m, x = digits
    x = x[:1]
    local = qmpc.secure_run(m, x, protocol="rep3-mal", progress=False)
    k = [ph for ph in local.stats.message_phases[2] if ph.phase == "FULLY_CONNECTED"][-1].messages[0]
    path = Path(qc.certs(tmp_path / "cluster", parties=3, protocol="rep3-mal", step_timeout=STEP))
    cfg = json.loads(path.read_text())
    for p, port in zip(cfg["parties"], free_ports(3)):
        p["address"] = f"127.0.0.1:{port}"
    path.write_text(json.dumps(cfg, indent=2))
    ps = Parties(path, DIGITS / "digits_cnn_int8.tflite", tmp_path)
    try:
        for i in range(3):
            ps.start(i, env={"QMPC_TEST_TAMPER": f"message={k},add={2**40}"} if i == 2 else None)
        c = qmpc.Cluster(path)
        deadline = time.monotonic() + 60
        while True:  # until the cluster is up; the first inference is the cheated one
            try:
                r = c.infer(x)
                pytest.fail(f"no CheatingDetected: {r.output} {ps.logs()}")
            except qmpc.CheatingDetected as e:
                # The failed check is named: an opening's hash check, a product proof or
                # an AND proof, whichever an honest party evaluates first.
                assert re.search(r"check|product proof|AND proof", str(e)), str(e)
                break
            except qmpc.PartyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        np.testing.assert_array_equal(_infer_until(c, x).output, m.run(x))
    finally:
        ps.stop()


def test_pytorch_model_bit_exact():
    """A PyTorch model quantized by FX (qnnpack) and imported with qmpc.from_torch: rep3-mal
    equals the cleartext run."""
    torch = pytest.importorskip("torch")
    from test_torch import SHAPE, calib, make_net, quantize_fx

    qm = quantize_fx(make_net(False), "qnnpack")
    m = qmpc.from_torch(qm, torch.zeros(SHAPE))
    x = next(iter(calib(1, 3, SHAPE))).numpy()
    r = qmpc.secure_run(m, x, protocol="rep3-mal", progress=False)
    np.testing.assert_array_equal(r.output, m.run(x))
