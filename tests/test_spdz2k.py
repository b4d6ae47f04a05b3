"""spdz2k (issue 14): two parties, dishonest majority, malicious with abort.

``spdz2k`` runs the two parties' own maliciously secure OT-based offline phase; a model
whose offline phase would send more than 20 GB per party is refused at once with a
``ConfigError`` that names the prediction. ``spdz2k-dealer`` is the same online phase with
a simulated trusted dealer (outside the threat model, labelled as such). The output equals
the cleartext run bit for bit; a party that alters any message raises
``qmpc.CheatingDetected`` where semi2k returns a wrong output without complaint; a random
sweep finds no undetected change.
Two ``qmpc party`` processes serve ``qmpc.Cluster`` clients with the same output; a party
that cheats towards the other, or alters its share to the client, makes the request fail
with ``CheatingDetected`` and the next request is served.
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
    sacrifice, TinyOT, edaBits) and the online phase, bit-exact; an altered message of the
    offline phase of each party is caught. A few messages are tried per party, because some
    alterations leave everything unchanged (a TinyOT leaky-AND message when the honest
    party's bit is 0, an OT row the honest key discards); none may change the output."""
    m, x = digits
    x = x[:1]
    info = next(p for p in qmpc.protocols() if p.name == "spdz2k")
    assert (info.parties, info.security, info.available, info.offline) == (2, "malicious, abort", True, True)
    r = qmpc.secure_run(m, x, protocol="spdz2k", progress=False)
    np.testing.assert_array_equal(r.output, m.run(x))
    assert r.stats.preprocessing != "dealer"
    assert r.stats.offline.bytes_sent[0] > 100 * r.stats.online.bytes_sent[0]
    want = m.run(x)
    for party in (0, 1):
        n, caught = r.stats.messages[party], False
        for k in (n // 2, n // 3, 2 * n // 3, n // 4):
            try:
                rr = qmpc.secure_run(m, x, protocol="spdz2k", progress=False,
                                     tamper=qmpc.Tamper(party=party, message=k, xor=1 << 5))
            except qmpc.CheatingDetected as e:
                assert e.tampered
                caught = True
                break
            np.testing.assert_array_equal(rr.output, want)  # harmless, never wrong
        assert caught, f"party {party}: no altered offline message among 4 was caught"


def test_offline_budget_refuses_large_models(shared_model):
    """MobileNetV1 0.5_160's offline phase would send about 53 GB per party (0.25_128's,
    about 17.5 GB, is admitted): spdz2k refuses it at once, naming the prediction and the
    alternatives, and the variable that raises the budget."""
    m = qmpc.load(shared_model("coral/mobilenet_v1_0.5_160_quant.tflite"))
    with pytest.raises(qmpc.ConfigError, match=r"GB per party.*QMPC_SPDZ2K_MAX_OFFLINE_GB.*spdz2k-dealer"):
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


# --- Two `qmpc party` processes over TLS (spdz2k's client protocol, gocore/mpc/spdz2k/client.go)

def _spdz2k_cluster(tmp_path: Path) -> Path:
    path = Path(qc.certs(tmp_path / "cluster", parties=2, protocol="spdz2k-dealer", step_timeout=STEP))
    cfg = json.loads(path.read_text())
    for p, port in zip(cfg["parties"], free_ports(2)):
        p["address"] = f"127.0.0.1:{port}"
    path.write_text(json.dumps(cfg, indent=2))
    return path


def _first_infer(c: qmpc.Cluster, x: np.ndarray, ps: Parties, within: float = 60.0) -> qmpc.CheatingDetected:
    """The first request once the cluster is up, which must fail with CheatingDetected."""
    deadline = time.monotonic() + within
    while True:
        try:
            r = c.infer(x)
            pytest.fail(f"no CheatingDetected: {r.output} {ps.logs()}")
        except qmpc.CheatingDetected as e:
            return e
        except qmpc.PartyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_cluster_bit_exact(tmp_path: Path, digits):
    """Two party processes over TLS: the client's checked input and output give the
    cleartext run's output bit for bit, request after request, and a batch."""
    m, x = digits
    ps = Parties(_spdz2k_cluster(tmp_path), DIGITS / "digits_cnn_int8.tflite", tmp_path)
    try:
        for i in range(2):
            ps.start(i)
        c = qmpc.Cluster(ps.path)
        assert c.protocol == "spdz2k-dealer" and len(c.parties) == 2
        for k in range(len(x)):
            r = _infer_until(c, x[k : k + 1])
            np.testing.assert_array_equal(r.output, m.run(x[k : k + 1]))
            assert r.stats.protocol == "spdz2k-dealer" and r.stats.parties == 2
        np.testing.assert_array_equal(c.infer(x).output, m.run(x))
    finally:
        ps.stop()


def test_cluster_cheating_party_caught(tmp_path: Path, digits):
    """Party 1 alters a message to party 0 in the last FULLY_CONNECTED layer (the test-only
    QMPC_TEST_TAMPER hook, counted as in a local run): the client's request fails with
    CheatingDetected, and the next request is served correctly."""
    m, x = digits
    x = x[:1]
    k = _fc_messages(qmpc.secure_run(m, x, protocol="spdz2k-dealer", progress=False), 1)[0]
    ps = Parties(_spdz2k_cluster(tmp_path), DIGITS / "digits_cnn_int8.tflite", tmp_path)
    try:
        for i in range(2):
            ps.start(i, env={"QMPC_TEST_TAMPER": f"message={k},add={2**40}"} if i == 1 else None)
        c = qmpc.Cluster(ps.path)
        e = _first_infer(c, x, ps)
        assert "check failed" in str(e)
        np.testing.assert_array_equal(_infer_until(c, x).output, m.run(x))
        assert "tampered with message" in ps.wait_log(1, "tampered with message")
    finally:
        ps.stop()


@pytest.mark.parametrize("party,spec,match", [
    (0, "message=0,word=5,add=1", "triple check"),       # its input mask a (element 5)
    (1, "message=0,word=300,xor=1", "triple check"),     # its c (element 300 - 4*64 = 44)
    (1, "message=1,word=0,xor=4", r"w = r\*y"),         # its output share y' (element 0)
    (0, "message=1,word=25,add=1", r"w = r\*y"),        # its r (element 25 - 20 = 5)
])
def test_cluster_share_to_client_altered(tmp_path: Path, digits, party, spec, match):
    """A party alters what it sends to the client (the test-only QMPC_TEST_TAMPER_CLIENT
    hook): its input-mask triple or its output share. The client's check catches it
    (CheatingDetected), and the next request is served correctly."""
    m, x = digits
    x = x[:1]
    ps = Parties(_spdz2k_cluster(tmp_path), DIGITS / "digits_cnn_int8.tflite", tmp_path)
    try:
        for i in range(2):
            ps.start(i, env={"QMPC_TEST_TAMPER_CLIENT": spec} if i == party else None)
        c = qmpc.Cluster(ps.path)
        e = _first_infer(c, x, ps)
        assert re.search(match, str(e)), e
        np.testing.assert_array_equal(_infer_until(c, x).output, m.run(x))
        assert "altered true" in ps.wait_log(party, "tampered with client message")
    finally:
        ps.stop()
