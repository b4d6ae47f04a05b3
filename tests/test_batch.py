"""Batches: ``m.run(X)``, ``qmpc.secure_run(m, X)`` and ``qmpc.estimate(..., batch=N)`` on a
batch-1 model with ``X`` of shape ``[N, ...]`` evaluate the N inputs in one pass (one
secure pass: the rounds of one input, about N times the bytes); every output row equals
the input alone, bit for bit. ``qmpc bench`` prints the per-layer table of a batch.
(``Cluster.infer`` on a batch: tests/test_cluster.py.)
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

qmpc = pytest.importorskip("qmpc")

import listed  # noqa: E402

from qmpc import cli  # noqa: E402


@pytest.fixture(scope="module")
def digits(digits_model: Path):
    return qmpc.load(digits_model)


@pytest.fixture(scope="module")
def images(repo_root: Path) -> np.ndarray:
    return np.load(repo_root / "examples" / "digits" / "test_images.npy")[:16]


def per_image(m, X):
    return np.concatenate([m.run(X[i : i + 1]) for i in range(len(X))])


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_run_batch_equals_each_image(digits, images, n):
    X = images[:n]
    y = digits.run(X)
    assert y.shape == (n, 10)
    np.testing.assert_array_equal(y, per_image(digits, X))


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_secure_batch_equals_each_image(digits, images, n):
    X = images[:n]
    want = per_image(digits, X)
    one = qmpc.secure_run(digits, X[:1], protocol="rep3", progress=False)
    for p in listed.protocols():
        r = qmpc.secure_run(digits, X, protocol=p.name, progress=False)
        np.testing.assert_array_equal(r.output, want)
        assert r.stats.batch == n
        assert r.stats.bytes_per_image == pytest.approx(sum(r.stats.total.bytes_sent) / n)
        assert r.stats.seconds_per_image == pytest.approx(r.stats.total.seconds / n)
        if p.name == "rep3":
            assert sum(r.stats.total.bytes_sent) <= 1.01 * n * sum(one.stats.total.bytes_sent)
            # The digits model's last layers have at most 64 elements per image, where the
            # round counter counts one round fewer for a single image (see the Go test
            # engine.TestSecureBatch); MobileNetV1 below is exact.
            assert one.stats.total.rounds <= r.stats.total.rounds <= one.stats.total.rounds + 2


def test_progress_bar_counts_images(digits, images, capsys):
    r = qmpc.secure_run(digits, images[:3], protocol="rep3", progress=True)
    np.testing.assert_array_equal(r.output, per_image(digits, images[:3]))
    assert "secure inference (3 images)" in capsys.readouterr().err


def test_mobilenet_secure_batch_rounds_of_one_image(shared_model):
    m = qmpc.load(shared_model("coral/mobilenet_v1_0.25_128_quant.tflite"))
    rng = np.random.default_rng(5)
    X = rng.integers(0, 256, size=(2, 128, 128, 3), dtype=np.uint8)
    r = qmpc.secure_run(m, X, protocol="rep3", progress=False)
    np.testing.assert_array_equal(r.output, per_image(m, X))
    one = qmpc.secure_run(m, X[:1], protocol="rep3", progress=False)
    assert r.stats.total.rounds == one.stats.total.rounds
    assert sum(r.stats.total.bytes_sent) <= 1.01 * 2 * sum(one.stats.total.bytes_sent)
    est = qmpc.estimate(m, "rep3", batch=2)
    assert est.batch == 2
    assert est.total.rounds == one.stats.total.rounds
    assert est.total.bytes_sent == r.stats.total.bytes_sent


def test_estimate_batch(digits):
    one = qmpc.estimate(digits, "rep3")
    four = qmpc.estimate(digits, "rep3", batch=4)
    assert one.batch == 1 and four.batch == 4
    # Below 4x: bit-sliced planes are padded to 64-element words, and rep3's fused
    # requantization pads each shift group of a small per-channel layer (digits: 128
    # outputs, several shifts), which a batch shares (3.79x here).
    assert 3.7 * sum(one.total.bytes_sent) <= sum(four.total.bytes_sent) <= 4.04 * sum(one.total.bytes_sent)
    with pytest.raises(ValueError):
        qmpc.estimate(digits, "rep3", batch=0)


def test_wrong_shape_is_still_a_shape_error(digits, images):
    with pytest.raises(qmpc.ShapeError, match=r"expected shape \(1, 8, 8, 1\).*\(N, 8, 8, 1\).*got \(3, 8, 8, 2\)"):
        digits.run(np.zeros((3, 8, 8, 2), dtype=images.dtype))
    with pytest.raises(qmpc.ShapeError, match=r"got \(8, 8, 1\)"):
        qmpc.secure_run(digits, images[0], protocol="rep3", progress=False)


def test_cli_bench(digits_model):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["bench", str(digits_model), "--batch", "3"]) == 0
    text = out.getvalue()
    for want in ("protocol rep3, 3 parties, batch 3", "CONV_2D", "TOTAL", "PER IMAGE", "SETUP"):
        assert want in text
