"""qmpc.Tamper, the testing aid that simulates a cheating party (gocore/net Tamperer).

Under rep3 (semi-honest) a party that alters one message changes the client's output and
nobody notices: the reason for a malicious protocol. Also: ``tampered`` tells whether the
message existed, the message accounting a tamper test relies on, and a random sweep
(tests/tamper_sweep.py) over (party, message, word, xor).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

import listed  # noqa: E402

from tamper_sweep import sample_tampers, sweep  # noqa: E402

DIGITS = Path(__file__).resolve().parent.parent / "examples" / "digits"


@pytest.fixture(scope="module")
def digits():
    m = qmpc.load(DIGITS / "digits_cnn_int8.tflite")
    x = np.load(DIGITS / "test_images.npy")[0:1]
    return m, x


@pytest.fixture(scope="module")
def clean(digits):
    m, x = digits
    return qmpc.secure_run(m, x, protocol="rep3", progress=False, message_sizes=True)


def test_message_accounting(clean):
    st = clean.stats
    assert clean.tampered is False
    assert len(st.messages) == 3 and all(n > 0 for n in st.messages)
    for p in range(3):
        phases = st.message_phases[p]
        # In order, without gaps, ending at the party's total; rep3's own set-up is one
        # PRG key to the previous party.
        assert phases[0].phase == "protocol" and phases[0].messages == range(0, 1)
        assert phases[-1].messages.stop == st.messages[p]
        for a, b in zip(phases, phases[1:]):
            assert a.messages.stop == b.messages.start
        assert len(st.message_sizes[p]) == st.messages[p]
        for ph in phases:
            if ph.layer >= 0:
                assert st.layers[ph.layer].kind == ph.phase
                assert len(ph.messages) == st.layers[ph.layer].messages[p]
    # Only the owner (0) sends while sharing the parameters, only the client (1) while
    # sharing its input.
    sends = {(p, ph.phase): len(ph.messages) > 0 for p in range(3) for ph in st.message_phases[p]}
    assert [sends[p, "parameters"] for p in range(3)] == [True, False, False]
    assert [sends[p, "input"] for p in range(3)] == [False, True, False]
    assert st.input is not None and st.input.messages == (0, 1, 0)


@pytest.mark.parametrize("party", [0, 2])
def test_rep3_tampered_reshare_silently_wrong(digits, clean, party):
    """Adding 2^40 or 2^3 to word 0 of a message party 0 or 2 sends in the last
    FULLY_CONNECTED layer (the first one that matters: rep3 defers the product's resharing,
    so the layer's first message settles the previous layer's output, and a term of a
    weight component that is zero changes nothing) makes the output wrong, and rep3 raises
    nothing. Two offsets: a word of a 64-bit share changes with 2^40, but a word of bit
    planes (the owner's bits lead its ChunkB2A message) holds one bit per output, 10 here,
    so only the low offset reaches a used bit. Whether an offset changes the output can
    depend on the random shares (a carry into a plane that the requantization drops), so
    the runs are seeded (Tamper.seed): each run repeats exactly."""
    m, x = digits
    want = m.run(x)
    fc = [ph for ph in clean.stats.message_phases[party] if ph.phase == "FULLY_CONNECTED"][-1]
    wrong = []
    for k in fc.messages:
        for add in (2**40, 2**3):
            r = qmpc.secure_run(m, x, protocol="rep3", progress=False,
                                tamper=qmpc.Tamper(party=party, message=k, add=add, seed=11))
            assert r.tampered is True
            if not np.array_equal(r.output, want):
                wrong.append((k, add))
    assert wrong, f"party {party}: no tampered message of the last FULLY_CONNECTED layer changed the output"


def test_seeded_tamper_repeats_exactly(digits, clean):
    """Tamper.seed fixes every party's randomness: two runs with the same seed give the same
    output even for an alteration whose effect depends on the shares, and some such
    alteration gives a right output under one seed and a wrong one under another (so the
    seed does reach the shares). Party 2's messages of the last FULLY_CONNECTED layer
    include such alterations (add 2^40 to a word of a ring share: whether the carry reaches
    a plane the requantization keeps depends on the shares)."""
    m, x = digits
    want = m.run(x)
    fc = [ph for ph in clean.stats.message_phases[2] if ph.phase == "FULLY_CONNECTED"][-1]
    for k in fc.messages:
        for add in (2**40, 2**3):
            right = set()
            for seed in range(1, 7):
                a, b = (qmpc.secure_run(m, x, protocol="rep3", progress=False,
                                        tamper=qmpc.Tamper(party=2, message=k, add=add, seed=seed)).output
                        for _ in range(2))
                np.testing.assert_array_equal(a, b, err_msg=f"message {k}, add {add}, seed {seed}: runs differ")
                right.add(bool(np.array_equal(a, want)))
            if right == {True, False}:
                return
    pytest.fail("no alteration of party 2's last FULLY_CONNECTED messages depends on the seed")


def test_rep3_some_tampered_message_of_each_layer_changes_the_output(digits, clean):
    """For every party and every CONV_2D / FULLY_CONNECTED layer, at least one of the
    layer's messages, tampered (word 0 xored with all ones: in bit-sliced messages, 64
    elements of a plane), changes the output; none raises."""
    m, x = digits
    want = m.run(x)
    for p in range(3):
        for ph in clean.stats.message_phases[p]:
            if ph.phase not in ("CONV_2D", "FULLY_CONNECTED"):
                continue
            changed = 0
            for k in ph.messages:
                r = qmpc.secure_run(m, x, protocol="rep3", progress=False,
                                    tamper=qmpc.Tamper(party=p, message=k, xor=2**64 - 1))
                assert r.tampered
                changed += not np.array_equal(r.output, want)
            assert changed > 0, f"party {p}, layer {ph.layer} ({ph.phase}): no tampered message changed the output"


@pytest.mark.parametrize("protocol", [p.name for p in listed.protocols()])
def test_tampered_flag(digits, protocol):
    """``tampered`` is True for a party's last message and False one past it (the run is
    then untouched), for every protocol."""
    m, x = digits
    want = m.run(x)
    r = qmpc.secure_run(m, x, protocol=protocol, progress=False)
    assert np.array_equal(r.output, want)
    for p, n in enumerate(r.stats.messages):
        past = qmpc.secure_run(m, x, protocol=protocol, progress=False,
                               tamper=qmpc.Tamper(party=p, message=n, xor=1))
        assert past.tampered is False
        assert np.array_equal(past.output, want)
        if n > 0:
            t = qmpc.Tamper(party=p, message=n - 1, xor=1)
            if next(i for i in qmpc.protocols() if i.name == protocol).security == "malicious, abort":
                # A malicious protocol's last message is part of its checks: the alteration
                # is caught, and the exception says that the message was altered.
                with pytest.raises(qmpc.CheatingDetected) as e:
                    qmpc.secure_run(m, x, protocol=protocol, progress=False, tamper=t)
                assert e.value.tampered is True
                continue
            last = qmpc.secure_run(m, x, protocol=protocol, progress=False, tamper=t)
            assert last.tampered is True


@pytest.mark.parametrize("tamper,fires", [
    (dict(add=-1), True),
    (dict(xor=2**64 - 1, word=3), True),
    (dict(xor=1, word=10**6), False),  # past the end of the message
    (dict(replay=1), True),  # the party's previous message to the same peer
    (dict(replay=10**6), False),  # no such earlier message
])
def test_tamper_kinds(digits, clean, tamper, fires):
    m, x = digits
    p = 0
    fc = [ph for ph in clean.stats.message_phases[p] if ph.phase == "FULLY_CONNECTED"][-1]
    r = qmpc.secure_run(m, x, protocol="rep3", progress=False,
                        tamper=qmpc.Tamper(party=p, message=fc.messages[1], **tamper))
    assert r.tampered is fires


@pytest.mark.parametrize("tamper", [
    qmpc.Tamper(party=0, message=3),  # no alteration
    qmpc.Tamper(party=0, message=3, xor=1, add=1),  # two
    qmpc.Tamper(party=0, message=3, xor=-1),
    qmpc.Tamper(party=0, message=3, xor=2**64),
    qmpc.Tamper(party=3, message=3, xor=1),  # no party 3
    qmpc.Tamper(party=0, message=-1, xor=1),
    qmpc.Tamper(party=0, message=1, replay=0),
])
def test_invalid_tamper(digits, tamper):
    m, x = digits
    with pytest.raises(qmpc.ConfigError):
        qmpc.secure_run(m, x, protocol="rep3", progress=False, tamper=tamper)


def test_tamper_is_frozen_and_typed(digits):
    t = qmpc.Tamper(party=2, message=40, xor=1)
    with pytest.raises(AttributeError):
        t.message = 41  # type: ignore[misc]
    assert t.spec() == "message=40,word=0,xor=0x1"
    assert qmpc.Tamper(party=0, message=1, replay=2, in_place=True).spec() == "message=1,word=0,replay=2,inplace=true"
    assert qmpc.Tamper(party=2, message=40, xor=1, seed=5).spec() == "message=40,word=0,xor=0x1"
    m, x = digits
    with pytest.raises(TypeError):
        qmpc.secure_run(m, x, protocol="rep3", progress=False, tamper="message=40,xor=1")  # type: ignore[arg-type]


def test_sample_tampers_is_uniform_over_messages(clean):
    st = clean.stats
    total = sum(st.messages)
    draws = list(sample_tampers(st, 3000, seed=3))
    per_party = np.bincount([t.party for t, _ in draws], minlength=3) / len(draws)
    want = np.array(st.messages) / total
    assert np.all(np.abs(per_party - want) < 0.05), (per_party, want)
    for t, _ in draws:
        assert 0 <= t.message < st.messages[t.party]
        assert 0 <= t.word < max(1, (st.message_sizes[t.party][t.message] + 7) // 8)
        assert 0 < t.xor < 2**64


def test_rep3_random_sweep(digits):
    """200 random (party, message, word, xor) tampers under rep3: every one reaches its
    message, none raises, and many change the output silently."""
    m, x = digits
    rep = sweep(m, x, "rep3", runs=200, seed=11)
    print(rep)
    for phase, c in sorted(rep.by_phase.items()):
        print(f"  {phase:16s} {dict(c)}")
    assert rep.runs == 200 and rep.tampered == 200
    assert not rep.raised
    assert rep.silent_wrong > 0


def test_rep3_in_place_tamper_is_a_consistent_wrong_component(digits, clean):
    """Party 1's first message of the OUTPUT phase settles the logits (rep3 defers the
    last B2A's resharing): its term becomes its own first component and party 0's second.
    Altered in place (both copies +1), the shared logit 0 is one larger: a
    consistent-looking wrong replicated value, which rep3 opens without complaint."""
    m, x = digits
    want = m.run(x)
    out = [ph for ph in clean.stats.message_phases[1] if ph.phase == "OUTPUT"][-1]
    k = out.messages[0]
    r = qmpc.secure_run(m, x, protocol="rep3", progress=False,
                        tamper=qmpc.Tamper(party=1, message=k, add=1, in_place=True))
    assert r.tampered is True
    assert int(r.output[0, 0]) == int(want[0, 0]) + 1
    np.testing.assert_array_equal(r.output[0, 1:], want[0, 1:])
    # The same alteration of the copy only: no error either (whether the output changes
    # depends on which copy of the component the rest of the computation reads).
    r = qmpc.secure_run(m, x, protocol="rep3", progress=False,
                        tamper=qmpc.Tamper(party=1, message=k, add=1))
    assert r.tampered is True


def test_exception_carries_tampered(digits):
    """When a tampered run raises, the exception says whether the tamper fired: semi2k's
    first message is a base-OT group element, and a flipped byte is not a valid encoding."""
    m, x = digits
    with pytest.raises(qmpc.PartyError) as e:
        qmpc.secure_run(m, x, protocol="semi2k", progress=False,
                        tamper=qmpc.Tamper(party=0, message=0, xor=0xFF))
    assert e.value.tampered is True
    assert "bad group element" in str(e.value)
