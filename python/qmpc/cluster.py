"""Deployed parties: run qmpc's computing parties as separate processes (one per host) and
use them as a client.

A cluster is described by one JSON file: each party's id, address and certificate, and the
client's certificate. Each party and the client make their own key on their own host with
:func:`keygen` (``qmpc keygen``) and hand over only the certificate; :func:`cluster_config`
(``qmpc cluster-config``) assembles the file from the certificates and addresses.
:func:`certs` (``qmpc certs``) makes every key in one directory: a shortcut for tests and
demos on one host. Parties talk over mutually authenticated TLS 1.3; a peer is accepted
only with the certificate the file pins for it. The model owner (party 0 by default)
secret-shares the weights once when the parties start (kept when they reconnect); they then
serve many inferences, several clients at once (up to ``max_sessions`` in the config,
default 4, each request in its own session with its own protocol randomness; one more
raises :class:`qmpc.ClusterBusy`)::

    import qmpc
    path = qmpc.cluster.certs("cluster", parties=3)          # one-host demo: every key here
    procs = [qmpc.cluster.start_party(path, 0, model="model.tflite"),
             qmpc.cluster.start_party(path, 1),
             qmpc.cluster.start_party(path, 2)]               # or `qmpc party ...` on each host
    r = qmpc.Cluster(path).infer(x)        # a qmpc.SecureResult, as secure_run returns
    r.output, r.stats.table(), r.traffic()

If a party dies, stalls or disconnects during an inference, :meth:`Cluster.infer` raises
:class:`qmpc.PartyError` naming the party and the step within the step timeout (30 s by
default); the other parties reconnect when it is back.

A party runs in its own process: ``python -m qmpc.cluster party --config cluster.json --id N
[--model M]``. Never run a party inside a notebook kernel or after ``fork``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO, Any, Mapping, Sequence

import numpy as np

from . import _bridge
from .secure import SecureResult, Stats

__all__ = ["Cluster", "ClusterResult", "certs", "cluster_config", "keygen", "start_party", "stop_parties", "main"]


def _core_fn(name: str) -> Any:
    fn = getattr(_bridge.core, name, None)
    if fn is None:
        raise ImportError(
            f"qmpc's compiled core lacks {name}: it was built without cluster support "
            "(rebuild qmpc with the secure engine)"
        )
    return fn


def certs(
    out: str | os.PathLike[str],
    parties: int = 0,
    *,
    protocol: str = "rep3",
    host: str = "127.0.0.1",
    base_port: int = 7100,
    step_timeout: float = 0.0,
    max_sessions: int = 0,
    force: bool = False,
) -> str:
    """Make every key, self-signed certificate and ``cluster.json`` in one directory: the
    one-host shortcut for tests and demos.

    Whoever runs it holds every party's private key and could impersonate any party; for
    parties run by separate organisations use :func:`keygen` on each host and
    :func:`cluster_config`. ``parties`` 0 takes the
    protocol's number of parties. Party ``i`` listens on ``host:base_port+i``.
    ``max_sessions`` bounds the client requests served at once (0: the default, 4). Private keys
    (``partyN.key``, ``client.key``) are written with mode 0600. Existing keys are kept
    unless ``force``.

    Returns:
        The path of ``cluster.json``.
    """
    fn = _core_fn("GenerateCluster")
    return str(
        _bridge.call(fn, os.fspath(out), parties, protocol, host, base_port, float(step_timeout), int(max_sessions), force)
    )


def keygen(out: str | os.PathLike[str], id: int | None = None, *, client: bool = False, force: bool = False) -> dict[str, str]:
    """Make this host's private key and self-signed certificate in ``out``: for party ``id``
    (``partyN.key``, ``partyN.crt``) or, with ``client=True``, for the client
    (``client.key``, ``client.crt``).

    The key (mode 0600) never leaves this host; send the certificate to whoever assembles
    ``cluster.json`` (:func:`cluster_config`) and check that the file pins ``pin``.

    Returns:
        ``{"key": path, "cert": path, "pin": "sha256:..."}``.
    """
    if client == (id is not None):
        raise ValueError("give a party id or client=True (not both)")
    raw = _bridge.call(_core_fn("Keygen"), os.fspath(out), -1 if client else int(id or 0), force)
    return dict(json.loads(raw))


def cluster_config(
    out: str | os.PathLike[str],
    parties: Mapping[int, tuple[str, str | os.PathLike[str]]] | Sequence[str],
    client: str | os.PathLike[str],
    *,
    protocol: str = "rep3",
    owner: int = 0,
    model: str | os.PathLike[str] | None = None,
    model_digest: str = "",
    reveal: str = "",
    step_timeout: float = 0.0,
    connect_timeout: float = 0.0,
    max_sessions: int = 0,
    force: bool = False,
) -> dict[str, Any]:
    """Assemble ``cluster.json`` from the parties' addresses and certificates.

    Args:
        out: where to write the config.
        parties: ``{id: ("host:port", certificate path)}``, or specs ``"ID=HOST:PORT,CERT"``.
        client: the client's certificate (from :func:`keygen` with ``client=True``).
        model, model_digest: optional: pin the model (a file, or its digest as hex).
        step_timeout, connect_timeout: seconds (0: the defaults, 30 s and 2 min).
        max_sessions: client requests served at once, each in its own session (0: 4).

    The certificates are copied into the file; it holds no private key.

    Returns:
        ``{"path", "hash", "parties": [{"id", "address", "pin"}], "client_pin"}``.
    """
    if isinstance(parties, Mapping):
        specs = [f"{i}={addr},{os.fspath(cert)}" for i, (addr, cert) in parties.items()]
    else:
        specs = list(parties)
    raw = _bridge.call(
        _core_fn("AssembleCluster"), os.fspath(out), "\n".join(specs), os.fspath(client), protocol, owner,
        os.fspath(model) if model is not None else "", model_digest, reveal, float(step_timeout),
        float(connect_timeout), int(max_sessions), force,
    )
    return dict(json.loads(raw))


@dataclass(frozen=True)
class ClusterResult(SecureResult):
    """One inference on a cluster: a :class:`qmpc.SecureResult` (``output``, ``stats``,
    ``protocol``, ``reveal``) with, in addition, every party's own report.

    ``stats`` has the same form as :func:`qmpc.secure_run`'s: per layer the slowest party's
    time, every party's bytes sent and the most rounds; ``setup`` is the weights' sharing
    (done once when the parties start, not per inference; ``parties[i]["setup_reused"]``
    says it was done before the parties last reconnected).
    ``parties[i]`` is party i's report: ``seconds``, ``net`` (bytes sent and received,
    messages, rounds of this inference) and ``peers`` (the same per peer link).
    """

    parties: tuple[dict[str, Any], ...] = ()

    def traffic(self) -> list[dict[str, Any]]:
        """Per party and peer link: bytes and messages sent and received in this inference."""
        rows = []
        for p in self.parties:
            for link in p.get("peers") or []:
                rows.append(
                    {
                        "party": p["party"],
                        "peer": link["peer"],
                        "bytes_sent": link["bytes_sent"],
                        "bytes_received": link["bytes_received"],
                        "messages_sent": link["messages_sent"],
                        "messages_received": link["messages_received"],
                    }
                )
        return rows


class Cluster:
    """A client of running ``qmpc party`` processes.

    Args:
        config: path of ``cluster.json`` (from :func:`certs` or ``qmpc certs``).
        key: the client's private key (default: the config's ``client.key``).
        step_timeout: seconds; overrides the config's bound on every wait for a party.

    Raises:
        ConfigError: the file is malformed, or the key does not match the client's
            certificate.
    """

    def __init__(
        self,
        config: str | os.PathLike[str],
        *,
        key: str | os.PathLike[str] | None = None,
        step_timeout: float | None = None,
    ) -> None:
        fn = _core_fn("OpenCluster")
        self._path = os.fspath(config)
        self._handle = _bridge.call(fn, self._path, os.fspath(key) if key else "", float(step_timeout or 0))
        self._config: dict[str, Any] = json.loads(_bridge.call(self._handle.ConfigJSON))

    @property
    def config(self) -> dict[str, Any]:
        """The cluster's settings: protocol, owner, reveal, parties (id, address, pin), timeouts."""
        return dict(self._config)

    @property
    def protocol(self) -> str:
        return str(self._config["protocol"])

    @property
    def parties(self) -> list[dict[str, Any]]:
        return list(self._config["parties"])

    def __repr__(self) -> str:
        addrs = ", ".join(p["address"] for p in self._config["parties"])
        return f"<qmpc.Cluster {self.protocol} {self._path}: {addrs}>"

    def infer(self, x: Any | Sequence[Any] | Mapping[str, Any], *, passes: int = 1) -> ClusterResult:
        """Run one secure inference: secret-share ``x`` to the parties, reconstruct the output.

        Args:
            x: the input array (a list of arrays for a model with several inputs), of the
                model input's shape and integer dtype; float32 is quantized with the model's
                input parameters, with a :class:`UserWarning`. A batch ``[N, ...]`` for a
                batch-1 model is evaluated in one secure pass (the rounds of one input) and
                gives ``[N, ...]`` outputs, row i equal to input i alone.
            passes: evaluate a batch as ``min(passes, N)`` secure passes at once, each over
                a consecutive part of the batch in a client session of its own (the
                cluster's ``max_sessions`` must allow them). The outputs are the same; on a
                link of limited bandwidth one pass computes while another's messages
                travel, so the batch ends sooner (the statistics sum the passes' bytes).

        Raises:
            ClusterBusy: the cluster already serves ``max_sessions`` requests (a
                PartyError; nothing ran).
            PartyError: a party is unreachable, failed, stalled or disconnected (the
                message names it and the step), or parties returned inconsistent shares.
            ConfigError: the parties run other settings than this config.
            ShapeError, DTypeError: the input does not fit the model.
            CancelledError: interrupted (Ctrl-C closes the connections).
        """
        import warnings as _warnings

        if isinstance(passes, bool) or not isinstance(passes, int) or passes < 1:
            raise ValueError(f"passes={passes!r}: want an int of at least 1")
        arrays = list(x) if isinstance(x, (list, tuple)) else [x]
        packed = _bridge.to_go(_bridge.pack(arrays))
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = _bridge.call(self._handle.InferPasses, packed, passes)
            except BaseException as e:  # re-raised in the caller's thread
                box["error"] = e

        t = threading.Thread(target=work, name="qmpc-cluster-infer", daemon=True)
        t.start()
        try:
            while t.is_alive():
                t.join(0.1)
        except KeyboardInterrupt:
            _bridge.call(self._handle.Cancel)
            t.join()
            raise
        if "error" in box:
            raise box["error"]
        res = box["result"]
        outputs, warns = _bridge.unpack(_bridge.from_go(_bridge.call(res.Outputs)))
        for w in warns:
            _warnings.warn(w, UserWarning, stacklevel=2)
        raw = json.loads(_bridge.call(res.StatsJSON))
        parties = tuple(raw.pop("cluster", None) or ())
        out: np.ndarray | list[np.ndarray] = outputs[0] if len(outputs) == 1 else outputs
        return ClusterResult(
            output=out,
            stats=Stats._from_json(json.dumps(raw)),
            protocol=self.protocol,
            reveal=str(self._config.get("reveal") or "output"),
            extra={"warnings": warns},
            parties=parties,
        )


_children: list[subprocess.Popen[bytes]] = []


@atexit.register
def _stop_children() -> None:
    """Parties started by start_party do not outlive this process."""
    stop_parties([p for p in _children if p.poll() is None], timeout=5.0)


def start_party(
    config: str | os.PathLike[str],
    id: int,
    *,
    model: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
    log: str | os.PathLike[str] | IO[Any] | None = None,
    log_level: str = "info",
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start party ``id`` as a child process running :func:`main` (``party ...``).

    Its structured logs go to ``log`` (a path or an open file; default: inherited stderr).
    ``env`` adds environment variables for the child (e.g. the testing aid
    ``QMPC_TEST_PAUSE_AT_LAYER``, docs/deploy.md).
    Stop it with :func:`stop_parties` (or ``proc.terminate()``); parties still running when
    this Python process exits are stopped then.
    """
    # (-c rather than -m qmpc.cluster: the package imports this module first, and runpy
    # would warn about running an already imported module)
    runner = "import sys; from qmpc.cluster import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", runner, "party", "--config", os.fspath(config), "--id", str(id),
           "--log-level", log_level]
    if model is not None:
        cmd += ["--model", os.fspath(model)]
    if key is not None:
        cmd += ["--key", os.fspath(key)]
    out: Any = None
    if isinstance(log, (str, os.PathLike)):
        out = open(log, "ab")  # noqa: SIM115 - the child keeps it
    elif log is not None:
        out = log
    try:
        child_env = {**os.environ, **env} if env else None
        proc = subprocess.Popen(cmd, stdout=out, stderr=out if out is not None else None, stdin=subprocess.DEVNULL,
                                env=child_env)
        _children[:] = [p for p in _children if p.poll() is None] + [proc]
        return proc
    finally:
        if isinstance(log, (str, os.PathLike)) and out is not None:
            out.close()


def stop_parties(procs: Sequence[subprocess.Popen[Any]], timeout: float = 10.0) -> None:
    """Terminate party processes (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qmpc.cluster party --config cluster.json --id N [--model M]``."""
    ap = argparse.ArgumentParser(prog="python -m qmpc.cluster", description="run a qmpc computing party")
    sub = ap.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("party", help="run one computing party until SIGINT/SIGTERM")
    pp.add_argument("--config", required=True, help="cluster.json (from qmpc certs)")
    pp.add_argument("--id", type=int, required=True, help="this party's id")
    pp.add_argument("--model", default="", help="the model (only the model owner gives it)")
    pp.add_argument("--key", default="", help="private key (default: the config's)")
    pp.add_argument("--log-level", default="info", choices=["debug", "info", "warn", "error"])
    a = ap.parse_args(argv)
    from .errors import QmpcError

    try:
        _bridge.call(_core_fn("ServeParty"), a.config, a.id, a.model, a.key, a.log_level)
    except QmpcError as e:
        print(f"qmpc party: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
