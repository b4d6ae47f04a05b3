"""Three party processes on loopback (``python -m qmpc.cluster party``) and the Python
client ``qmpc.Cluster``: the output equals the local secure run's (and the cleartext
run's); a party killed during an inference (made to pause in a chosen layer by the
QMPC_TEST_PAUSE_AT_LAYER test hook) gives a PartyError naming it and the layer within the
step timeout, and the cluster serves again once it is back; Ctrl-C interrupts a waiting
inference; a wrong key is a ConfigError; per-host keys (keygen, cluster-config) serve.

The parties are this machine's child processes on free 127.0.0.1 ports; every wait is
bounded and every process is stopped at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from ports import free_ports

import qmpc
import qmpc.cluster as qc

pytestmark = pytest.mark.skipif(
    getattr(__import__("qmpc._bridge", fromlist=["core"]).core, "OpenCluster", None) is None,
    reason="qmpc's core was built without cluster support (the secure engine is not in this build)",
)

STEP = 3.0  # seconds: the step timeout of these clusters


def _make_cluster(tmp: Path) -> Path:
    path = Path(qc.certs(tmp / "cluster", parties=3, step_timeout=STEP))
    cfg = json.loads(path.read_text())
    for p, port in zip(cfg["parties"], free_ports(3)):
        p["address"] = f"127.0.0.1:{port}"  # what a real deployment edits: the addresses
    path.write_text(json.dumps(cfg, indent=2))
    return path


class Parties:
    def __init__(self, path: Path, model: Path, logdir: Path, keys: dict[int, Path] | None = None) -> None:
        self.path, self.model, self.logdir = path, model, logdir
        self.keys = keys or {}
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, i: int, env: dict[str, str] | None = None) -> None:
        self.procs[i] = qc.start_party(
            self.path, i, model=self.model if i == 0 else None, key=self.keys.get(i),
            log=self.logdir / f"party{i}.log", env=env,
        )

    def wait_log(self, i: int, text: str, count: int = 1, within: float = 60.0) -> str:
        """Party i's log once it contains text count times (fails after within seconds)."""
        deadline = time.monotonic() + within
        path = self.logdir / f"party{i}.log"
        while True:
            s = path.read_text() if path.exists() else ""
            if s.count(text) >= count:
                return s
            assert self.procs[i].poll() is None, f"party {i} exited:\n{s}"
            assert time.monotonic() < deadline, f"party {i}: no {text!r} within {within} s:\n{s}"
            time.sleep(0.02)

    def stop(self) -> None:
        qc.stop_parties(list(self.procs.values()))

    def logs(self) -> str:
        return "\n".join(f"--- party {i}\n" + (self.logdir / f"party{i}.log").read_text() for i in self.procs)


@pytest.fixture
def parties(tmp_path: Path, digits_model: Path) -> Iterator[Parties]:
    ps = Parties(_make_cluster(tmp_path), digits_model, tmp_path)
    for i in range(3):
        ps.start(i)
    try:
        yield ps
    finally:
        ps.stop()


def _infer_until(c: qmpc.Cluster, x: np.ndarray, within: float = 60.0) -> qc.ClusterResult:
    deadline = time.monotonic() + within
    while True:
        try:
            return c.infer(x)
        except qmpc.PartyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(scope="module")
def digits_x(repo_root: Path) -> np.ndarray:
    return np.load(repo_root / "examples" / "digits" / "test_images.npy")[:3]


def test_cluster_equals_local_secure_run(parties: Parties, digits_model: Path, digits_x: np.ndarray) -> None:
    m = qmpc.load(digits_model)
    c = qmpc.Cluster(parties.path)
    assert c.protocol == "rep3" and len(c.parties) == 3
    for k in range(len(digits_x)):  # the parties serve many inferences
        x = digits_x[k : k + 1]
        r = _infer_until(c, x)
        assert isinstance(r, qmpc.SecureResult)
        local = qmpc.secure_run(m, x, protocol="rep3")
        np.testing.assert_array_equal(r.output, local.output)
        np.testing.assert_array_equal(r.output, m.run(x))
        assert r.stats.protocol == "rep3" and r.stats.parties == 3
        assert [layer.kind for layer in r.stats.layers] == [layer.kind for layer in local.stats.layers]
        # The same protocol code sends the same bytes over TLS as over pipes, layer by
        # layer (OUTPUT differs: shares go to an outside client instead of a party).
        for a, b in zip(r.stats.layers, local.stats.layers):
            if a.kind != "OUTPUT":
                assert (a.name, a.bytes_sent, a.rounds) == (b.name, b.bytes_sent, b.rounds)
        rows = r.traffic()
        assert sorted((row["party"], row["peer"]) for row in rows) == [
            (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
        got = {(row["party"], row["peer"]): row for row in rows}
        for (a, b), row in got.items():  # what a sends to b, b receives from a
            assert row["bytes_sent"] == got[(b, a)]["bytes_received"]
        sent = {p["party"]: p["net"]["BytesSent"] for p in r.parties}
        for p in range(3):
            assert sum(row["bytes_sent"] for row in rows if row["party"] == p) == sent[p]


def test_cluster_batch(parties: Parties, digits_model: Path, repo_root: Path) -> None:
    """A batch travels with the request: one secure pass, every row equals the image alone."""
    m = qmpc.load(digits_model)
    images = np.load(repo_root / "examples" / "digits" / "test_images.npy")
    c = qmpc.Cluster(parties.path)
    one = _infer_until(c, images[:1])
    for n in (1, 2, 7, 16):
        X = images[:n]
        r = c.infer(X)
        assert r.output.shape == (n, 10)
        np.testing.assert_array_equal(r.output, np.concatenate([m.run(X[i : i + 1]) for i in range(n)]))
        assert r.stats.batch == n
        assert r.stats.total.rounds <= one.stats.total.rounds + 2  # see test_batch.py
        assert sum(r.stats.total.bytes_sent) <= 1.01 * n * sum(one.stats.total.bytes_sent)


def test_cluster_batch_in_passes(parties: Parties, digits_model: Path, repo_root: Path) -> None:
    """A batch as several passes at once (each its own session): the same outputs, the batch's size."""
    m = qmpc.load(digits_model)
    images = np.load(repo_root / "examples" / "digits" / "test_images.npy")
    c = qmpc.Cluster(parties.path)
    _infer_until(c, images[:1])
    X = images[:7]
    want = np.concatenate([m.run(X[i : i + 1]) for i in range(7)])
    for passes in (2, 3):
        r = c.infer(X, passes=passes)
        np.testing.assert_array_equal(r.output, want)
        assert r.stats.batch == 7
    with pytest.raises(ValueError, match="passes"):
        c.infer(X, passes=0)


def _restart_paused(parties: Parties, i: int, layer: int) -> None:
    """Restart party i with the QMPC_TEST_PAUSE_AT_LAYER hook; wait for the new session."""
    ready = {j: parties.wait_log(j, "session ready").count("session ready") + 1 for j in range(3) if j != i}
    parties.procs[i].kill()
    parties.procs[i].wait(10)
    (parties.logdir / f"party{i}.log").unlink()
    parties.start(i, env={"QMPC_TEST_PAUSE_AT_LAYER": str(layer)})
    parties.wait_log(i, "session ready")
    for j, n in ready.items():
        parties.wait_log(j, "session ready", n)


def _infer_in_thread(c: qmpc.Cluster, x: np.ndarray) -> tuple[threading.Thread, dict[str, object]]:
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = c.infer(x)
        except BaseException as e:  # noqa: BLE001 - inspected by the test
            box["error"] = e
        box["at"] = time.monotonic()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t, box


def test_party_killed_mid_inference_then_back(parties: Parties, digits_model: Path, digits_x: np.ndarray) -> None:
    """Party 2 is killed while an inference is under way (it paused in layer 1 by the test
    hook, and the client is still waiting): infer raises a PartyError naming party 2 and
    layer 1's op within one step (+1 s); once party 2 is back, the cluster serves again."""
    c = qmpc.Cluster(parties.path)
    x = digits_x[:1]
    want = _infer_until(c, x)
    op = want.stats.layers[1]
    _restart_paused(parties, 2, 1)
    t, box = _infer_in_thread(c, x)
    log = parties.wait_log(2, "qmpc test hook: party 2 paused in layer 1")
    assert t.is_alive(), f"the inference ended before the kill: {box}\n{log}"
    killed = time.monotonic()
    parties.procs[2].kill()
    t.join(3 * STEP)
    assert not t.is_alive()
    err = box.get("error")
    assert isinstance(err, qmpc.PartyError), box
    assert "party 2 disconnected" in str(err) and f'{op.name}"' in str(err) and f"{op.kind} " in str(err), str(err)
    assert float(box["at"]) - killed < STEP + 1.0  # type: ignore[arg-type]
    parties.procs[2].wait(10)
    parties.start(2)
    np.testing.assert_array_equal(_infer_until(c, x).output, want.output)
    assert parties.procs[0].poll() is None and parties.procs[1].poll() is None, parties.logs()


def test_cheating_party_rep3_silently_wrong(tmp_path: Path, digits_model: Path, digits_x: np.ndarray) -> None:
    """Party 2 runs with the test-only QMPC_TEST_TAMPER hook (docs/testing.md): it adds
    2^40 to word 0 of its first message in the FULLY_CONNECTED layer (the number a local
    run gives). Under rep3 (semi-honest) the client gets a wrong output and no error; the
    message is counted from the session's start, so the next request is right."""
    m = qmpc.load(digits_model)
    x = digits_x[:1]
    local = qmpc.secure_run(m, x, protocol="rep3", progress=False)
    k = [ph for ph in local.stats.message_phases[2] if ph.phase == "FULLY_CONNECTED"][-1].messages[0]
    ps = Parties(_make_cluster(tmp_path), digits_model, tmp_path)
    try:
        for i in range(3):
            ps.start(i, env={"QMPC_TEST_TAMPER": f"message={k},add={2**40}"} if i == 2 else None)
        c = qmpc.Cluster(ps.path)
        r = _infer_until(c, x)
        assert not np.array_equal(r.output, m.run(x)), (r.output, m.run(x), ps.logs())
        ps.wait_log(2, f"qmpc test hook: party 2 tampered with message {k} (to party 1, 512 bytes, altered true)",
                    within=10)
        np.testing.assert_array_equal(c.infer(x).output, m.run(x))
    finally:
        ps.stop()


def test_ctrl_c_during_inference(parties: Parties, digits_x: np.ndarray) -> None:
    """Ctrl-C (KeyboardInterrupt in the main thread) while an inference waits for a party
    whose computation hangs: infer raises KeyboardInterrupt at once (well before the step
    timeout), and the next inference succeeds once the cluster has re-formed."""
    import _thread

    c = qmpc.Cluster(parties.path)
    x = digits_x[:1]
    want = _infer_until(c, x).output
    _restart_paused(parties, 1, 2)
    timer = threading.Thread(target=lambda: (parties.wait_log(1, "qmpc test hook: party 1 paused"), _thread.interrupt_main()))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        c.infer(x)
    timer.join()
    assert time.monotonic() - start < STEP, "Ctrl-C did not interrupt the waiting inference"
    # The leader saw it leave, or ended its session because another party saw it leave.
    deadline = time.monotonic() + STEP
    while not any(s in parties.wait_log(0, "") for s in ("client left before its result", "the client disconnected")):
        assert time.monotonic() < deadline, parties.logs()
        time.sleep(0.02)
    np.testing.assert_array_equal(_infer_until(c, x).output, want)


def test_several_clients_at_once(parties: Parties, digits_model: Path, digits_x: np.ndarray) -> None:
    """Three clients submit at the same time; party 0 orders the requests and every client
    gets its own input's output."""
    m = qmpc.load(digits_model)
    _infer_until(qmpc.Cluster(parties.path), digits_x[:1])  # the cluster is up
    threads = [_infer_in_thread(qmpc.Cluster(parties.path), digits_x[k : k + 1]) for k in range(3)]
    for k, (t, box) in enumerate(threads):
        t.join(60)
        assert "result" in box, box
        np.testing.assert_array_equal(box["result"].output, m.run(digits_x[k : k + 1]))  # type: ignore[attr-defined]


def test_reveal_argmax(tmp_path: Path, digits_model: Path, digits_x: np.ndarray) -> None:
    """With "reveal": "argmax" the client gets the top-1 index, and each party sends it the
    shares of one value instead of the ten logits'."""
    path = _make_cluster(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["reveal"] = "argmax"
    path.write_text(json.dumps(cfg, indent=2))
    ps = Parties(path, digits_model, tmp_path)
    for i in range(3):
        ps.start(i)
    try:
        c = qmpc.Cluster(path)
        m = qmpc.load(digits_model)
        for k in range(3):
            x = digits_x[k : k + 1]
            r = _infer_until(c, x)
            assert r.reveal == "argmax"
            assert int(np.asarray(r.output).reshape(-1)[0]) == int(np.argmax(m.run(x)))
            out = [layer for layer in r.stats.layers if layer.kind == "OUTPUT"][0]
            assert np.asarray(r.output).size == 1
            # rep3: each party exports its two 8-byte components of each revealed element:
            # 16 bytes for one index (the ten logits would be 160)
            assert list(out.bytes_sent) == [16, 16, 16], out.bytes_sent
    finally:
        ps.stop()


def test_wrong_key_and_bad_config(tmp_path: Path) -> None:
    path = _make_cluster(tmp_path)
    with pytest.raises(qmpc.ConfigError, match="does not match"):
        qmpc.Cluster(path, key=path.parent / "party1.key")
    cfg = json.loads(path.read_text())
    cfg["protocol"] = "nope"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cfg))
    with pytest.raises(qmpc.ConfigError, match="protocol"):
        qmpc.Cluster(bad)
    # No parties running: a clear PartyError naming the unreachable parties, quickly.
    c = qmpc.Cluster(path)
    start = time.monotonic()
    with pytest.raises(qmpc.PartyError, match="party 0 at 127.0.0.1"):
        c.infer(np.zeros((1, 8, 8, 1), np.int8))
    assert time.monotonic() - start < STEP


def test_cli_certs_and_infer(parties: Parties, digits_model: Path, digits_x: np.ndarray, tmp_path: Path) -> None:
    """The `qmpc` console script's certs and infer subcommands (the same as the Go CLI's)."""
    from qmpc import cli

    assert cli.main(["certs", "--out", str(tmp_path / "c2"), "--parties", "3"]) == 0
    assert json.loads((tmp_path / "c2" / "cluster.json").read_text())["protocol"] == "rep3"
    _infer_until(qmpc.Cluster(parties.path), digits_x[:1])  # the cluster is up
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, digits_x[:1])
    assert cli.main(["infer", "--config", str(parties.path), "--input", str(x), "--output", str(y)]) == 0
    assert np.array_equal(np.load(y), qmpc.load(digits_model).run(digits_x[:1]))
    assert cli.main(["infer", "--config", str(parties.path), "--input", str(tmp_path / "missing.npy"),
                     "--output", str(y)]) == 1


def test_cli_bench_on_cluster(parties: Parties, digits_model: Path, digits_x: np.ndarray,
                              capsys: pytest.CaptureFixture[str], shared_model: Any) -> None:
    """`qmpc bench --cluster` measures one inference on the running cluster: the per-layer
    table and totals, the rounds of a local bench; a model the cluster does not serve is
    refused."""
    from qmpc import cli

    _infer_until(qmpc.Cluster(parties.path), digits_x[:1])  # the cluster is up
    assert cli.main(["bench", str(digits_model), "--cluster", str(parties.path), "--batch", "2", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert cli.main(["bench", str(digits_model), "--batch", "2", "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert got["batch"] == 2 and got["protocol"] == "rep3"
    assert got["total"]["rounds"] == local["total"]["rounds"]
    assert cli.main(["bench", "--cluster", str(parties.path)]) == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "rep3, 3 parties" in text, text
    other = shared_model("tflm/hello_world_int8.tflite")
    assert cli.main(["bench", str(other), "--cluster", str(parties.path)]) == 1
    assert "not the given one" in capsys.readouterr().err


def test_per_host_keys_serve(tmp_path: Path, digits_model: Path, digits_x: np.ndarray) -> None:
    """Each party and the client make their key in their own directory (`qmpc keygen`, the
    console script); `qmpc cluster-config` assembles cluster.json from the certificates;
    the cluster serves, and a party whose key the file does not pin is refused."""
    from qmpc import cli

    hosts = {i: tmp_path / f"host{i}" for i in range(3)}
    for i, d in hosts.items():
        assert cli.main(["keygen", "--id", str(i), "--out", str(d)]) == 0
        assert cli.main(["keygen", "--id", str(i), "--out", str(d)]) == 1  # keeps an existing key
    assert cli.main(["keygen", "--client", "--out", str(tmp_path / "client")]) == 0
    specs = []
    for (i, d), port in zip(hosts.items(), free_ports(3)):
        specs += ["--party", f"{i}=127.0.0.1:{port},{d / f'party{i}.crt'}"]
    path = tmp_path / "cluster.json"
    assert cli.main(["cluster-config", *specs, "--client", str(tmp_path / "client" / "client.crt"),
                     "--step-timeout", str(STEP), "--out", str(path)]) == 0
    text = path.read_text()
    assert "PRIVATE KEY" not in text and ".key" not in text
    keys = {i: d / f"party{i}.key" for i, d in hosts.items()}
    ps = Parties(path, digits_model, tmp_path, keys=keys)
    for i in range(3):
        ps.start(i)
    try:
        c = qmpc.Cluster(path, key=tmp_path / "client" / "client.key")
        x = digits_x[:1]
        np.testing.assert_array_equal(_infer_until(c, x).output, qmpc.load(digits_model).run(x))
        with pytest.raises(qmpc.ConfigError, match="the client: key .* does not match the configured certificate"):
            qmpc.Cluster(path, key=keys[1])
        # Party 1 makes a new key; cluster.json still pins its old certificate.
        qc.keygen(hosts[1], 1, force=True)
        r = subprocess.run(
            [sys.executable, "-c", "import sys; from qmpc.cluster import main; sys.exit(main(sys.argv[1:]))",
             "party", "--config", str(path), "--id", "1", "--key", str(keys[1])],
            capture_output=True, text=True, timeout=60,
        )
        assert r.returncode == 1 and "party 1: key" in r.stderr and "does not match the configured certificate" in r.stderr, r.stderr
    finally:
        ps.stop()
