"""Concurrent clients on one cluster: three ``qmpc party`` processes over TLS on loopback.

* load: 4 clients x 25 requests at once (each client its own ``qmpc.Cluster``, one request
  after the other), every output equal to ``m.run``, no failure; the latency percentiles
  are printed (``-s``). The model is the smallest that exercises it (TFLM hello_world,
  three FULLY_CONNECTED layers). By hand, for a bigger model and other counts::

      QMPC_LOAD_MODEL=../shared/models/coral/mobilenet_v1_0.25_128_quant.tflite \\
      QMPC_LOAD_CLIENTS=4 QMPC_LOAD_REQUESTS=25 \\
          .venv/bin/python -m pytest -s tests/test_cluster_load.py -k load

* a client that disconnects while its request runs (a party paused in it by the
  QMPC_TEST_PAUSE_AT_LAYER hook): the other clients, served meanwhile, are not disturbed,
  and the parties end the left request's session at once;
* beyond ``max_sessions`` requests in flight, a client gets ``qmpc.ClusterBusy`` naming the
  bound at once (not a hang).

Counts and every wait are bounded; the parties are stopped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from ports import free_ports

import qmpc
import qmpc.cluster as qc

pytestmark = pytest.mark.skipif(
    getattr(__import__("qmpc._bridge", fromlist=["core"]).core, "OpenCluster", None) is None,
    reason="qmpc's core was built without cluster support (the secure engine is not in this build)",
)

STEP = 10.0  # seconds: the step timeout of these clusters
LOG_WAIT = 60.0


class Cluster3:
    """Three party processes of one cluster config, with their logs."""

    def __init__(self, tmp: Path, model: Path, max_sessions: int, env: dict[int, dict[str, str]] | None = None) -> None:
        self.path = Path(qc.certs(tmp / "cluster", parties=3, step_timeout=STEP, max_sessions=max_sessions))
        cfg = json.loads(self.path.read_text())
        assert cfg["max_sessions"] == max_sessions
        for p, port in zip(cfg["parties"], free_ports(3)):
            p["address"] = f"127.0.0.1:{port}"
        self.path.write_text(json.dumps(cfg, indent=2))
        self.logdir = tmp
        self.procs = [
            qc.start_party(self.path, i, model=model if i == 0 else None, log=tmp / f"party{i}.log",
                           env=(env or {}).get(i))
            for i in range(3)
        ]

    def log(self, i: int) -> str:
        p = self.logdir / f"party{i}.log"
        return p.read_text() if p.exists() else ""

    def wait_log(self, i: int, text: str, count: int = 1, within: float = LOG_WAIT) -> str:
        deadline = time.monotonic() + within
        while True:
            s = self.log(i)
            if s.count(text) >= count:
                return s
            assert self.procs[i].poll() is None, f"party {i} exited:\n{s}"
            assert time.monotonic() < deadline, f"party {i}: no {text!r} within {within} s:\n{s}"
            time.sleep(0.02)

    def stop(self) -> None:
        qc.stop_parties(self.procs)


def _load_model(shared_model: Callable[[str], Path]) -> Path:
    env = os.environ.get("QMPC_LOAD_MODEL")
    return Path(env) if env else shared_model("tflm/hello_world_int8.tflite")


def _inputs(m: qmpc.Model, n: int, seed: int) -> list[np.ndarray]:
    """n random integer inputs of the model's input shape and type."""
    rng = np.random.default_rng(seed)
    t = m.inputs[0]
    info = np.iinfo(t.dtype)
    return [rng.integers(info.min, info.max + 1, size=t.shape, dtype=t.dtype) for _ in range(n)]


def _first(c: qmpc.Cluster, x: np.ndarray, within: float = 120.0) -> Any:
    """The first inference, retried while the cluster forms."""
    deadline = time.monotonic() + within
    while True:
        try:
            return c.infer(x)
        except qmpc.PartyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def cluster4(tmp_path: Path, shared_model: Callable[[str], Path]) -> Iterator[tuple[Cluster3, Path]]:
    model = _load_model(shared_model)
    c = Cluster3(tmp_path, model, max_sessions=4)
    try:
        yield c, model
    finally:
        c.stop()


def test_load_4_clients_x_25_requests(cluster4: tuple[Cluster3, Path]) -> None:
    cl, model = cluster4
    clients = int(os.environ.get("QMPC_LOAD_CLIENTS", "4"))
    requests = int(os.environ.get("QMPC_LOAD_REQUESTS", "25"))
    m = qmpc.load(model)
    _first(qmpc.Cluster(cl.path), _inputs(m, 1, 0)[0])
    xs = [_inputs(m, requests, seed=10 + k) for k in range(clients)]
    wants = [[m.run(x) for x in xk] for xk in xs]
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    wrong: list[str] = []

    def client(k: int) -> None:
        c = qmpc.Cluster(cl.path)
        try:
            for i, x in enumerate(xs[k]):
                t0 = time.perf_counter()
                r = c.infer(x)
                lat[k].append(time.perf_counter() - t0)
                if not np.array_equal(r.output, wants[k][i]):
                    wrong.append(f"client {k} request {i}: {r.output} != {wants[k][i]}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    bound = float(os.environ.get("QMPC_LOAD_TIMEOUT", "600"))
    for t in threads:
        t.join(max(0.0, bound - (time.perf_counter() - start)))
    wall = time.perf_counter() - start
    assert not any(t.is_alive() for t in threads), f"clients still running after {bound} s"
    assert not errors, errors
    assert not wrong, wrong[:5]
    allv = np.array([v for lk in lat for v in lk])
    assert len(allv) == clients * requests
    p50, p90, p99 = np.percentile(allv, [50, 90, 99])
    print(f"\nload: {model.name}, {clients} clients x {requests} requests, max_sessions 4: "
          f"{wall:.2f} s wall, {len(allv) / wall:.2f} requests/s; latency p50 {p50 * 1e3:.1f} ms, "
          f"p90 {p90 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {allv.max() * 1e3:.1f} ms")
    lanes = cl.log(0).count('msg="inference started"')
    assert lanes >= clients * requests + 1


def test_client_leaves_mid_request_others_served(tmp_path: Path, shared_model: Callable[[str], Path]) -> None:
    """Client A (a separate process, ``qmpc infer``) is killed while party 1 is paused in its
    request; clients B and C are served before and after, and the parties end A's session
    without waiting for a step timeout."""
    model = shared_model("tflm/hello_world_int8.tflite")
    m = qmpc.load(model)
    cl = Cluster3(tmp_path, model, max_sessions=4, env={1: {"QMPC_TEST_PAUSE_AT_LAYER": "1"}})
    try:
        x = _inputs(m, 1, 3)[0]
        np.save(tmp_path / "x.npy", x)
        # Wait for the session (not an inference: the hook pauses the process's first one).
        for i in range(3):
            cl.wait_log(i, "session ready")
        a = subprocess.Popen(
            [sys.executable, "-m", "qmpc", "infer", "--config", str(cl.path), "--input", str(tmp_path / "x.npy"),
             "--output", str(tmp_path / "y.npy")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            cl.wait_log(1, "qmpc test hook: party 1 paused in layer 1")
            assert a.poll() is None, "client A finished although party 1 paused its request"
            # Other clients while A's request is stuck: each in its own session.
            others = [qmpc.Cluster(cl.path) for _ in range(2)]
            for k, c in enumerate(others):
                for xi in _inputs(m, 3, 20 + k):
                    np.testing.assert_array_equal(c.infer(xi).output, m.run(xi))
            left = time.monotonic()
            a.kill()
            a.wait(10)
        finally:
            if a.poll() is None:
                a.kill()
                a.wait(10)
        # Every party sees the client leave; the session ends on every party at once.
        cl.wait_log(0, "session lane ended", within=STEP)
        cl.wait_log(1, "inference failed", within=STEP)
        assert time.monotonic() - left < STEP, "A's session ended only after a step timeout"
        for k, c in enumerate(others):
            for xi in _inputs(m, 3, 30 + k):
                np.testing.assert_array_equal(c.infer(xi).output, m.run(xi))
        assert all(p.poll() is None for p in cl.procs), "a party exited"
    finally:
        cl.stop()


def test_beyond_max_sessions_is_cluster_busy(tmp_path: Path, shared_model: Callable[[str], Path]) -> None:
    """max_sessions 1: while one request runs (party 2 paused in it), another client gets
    qmpc.ClusterBusy naming the bound, at once; when the first client leaves, it is served."""
    model = shared_model("tflm/hello_world_int8.tflite")
    m = qmpc.load(model)
    cl = Cluster3(tmp_path, model, max_sessions=1, env={2: {"QMPC_TEST_PAUSE_AT_LAYER": "0"}})
    try:
        x = _inputs(m, 1, 4)[0]
        for i in range(3):
            cl.wait_log(i, "session ready")
        c1, c2 = qmpc.Cluster(cl.path), qmpc.Cluster(cl.path)
        box: dict[str, Any] = {}

        def first() -> None:
            try:
                box["result"] = c1.infer(x)
            except BaseException as e:  # noqa: BLE001 - inspected below
                box["error"] = e

        t = threading.Thread(target=first, daemon=True)
        t.start()
        cl.wait_log(2, "qmpc test hook: party 2 paused")
        t0 = time.monotonic()
        with pytest.raises(qmpc.ClusterBusy, match=r"maximum of 1 concurrent sessions.*max_sessions"):
            c2.infer(x)
        assert time.monotonic() - t0 < STEP / 2, "the refusal waited"
        assert t.is_alive()
        # The paused request gives up after one step timeout (party 2 sends nothing): then
        # the session is free again.
        t.join(3 * STEP)
        assert not t.is_alive()
        assert isinstance(box.get("error"), qmpc.PartyError), box
        deadline = time.monotonic() + 2 * STEP
        while True:
            try:
                np.testing.assert_array_equal(c2.infer(x).output, m.run(x))
                break
            except qmpc.ClusterBusy:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        cl.stop()
