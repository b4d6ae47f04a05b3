"""Secure inference: all computing parties in this process (``secure_run``), and cost
estimates (``estimate``).

The parties run as goroutines of the Go core, connected by in-memory pipes: the protocol
code and the bytes it sends are exactly those of a deployment over TLS (see
``qmpc.Cluster``), only the transport differs.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from . import _bridge
from .model import Inputs, Model

@dataclass(frozen=True)
class ProtocolInfo:
    """One protocol of the registry (the Go core's ``mpc/registry``): its threat model.

    ``str(info)`` is its name; ``info == "rep3"`` compares the name.
    """

    name: str
    paper: str  #: the paper's column, by the MP-SPDZ program name of its artifact
    summary: str
    parties: int  #: the default number of computing parties
    min_parties: int
    max_parties: int  #: 0: no upper bound
    corruption: str  #: "honest majority", "dishonest majority" or "none"
    security: str  #: "semi-honest", "covert", "malicious, abort" or "none"
    domain: str  #: e.g. "Z_2^64"
    offline: bool  #: has an offline phase (correlated randomness)
    dealer: bool  #: accepts ``preprocessing="dealer"`` (a trusted third party)
    available: bool  #: built in this version (else planned)

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other
        if isinstance(other, ProtocolInfo):
            return self.name == other.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)


def _protocol_table() -> tuple[ProtocolInfo, ...]:
    out = []
    for d in json.loads(_bridge.call(_bridge.core.Protocols)):
        out.append(ProtocolInfo(
            name=d["name"], paper=d.get("paper", ""), summary=d.get("summary", ""),
            parties=int(d["default_parties"]), min_parties=int(d["min_parties"]),
            max_parties=int(d["max_parties"]), corruption=d["corruption"],
            security=d["security"], domain=d["domain"], offline=bool(d["offline"]),
            dealer=bool(d["dealer"]), available=bool(d["available"])))
    return tuple(out)


def protocols(all: bool = False) -> tuple[ProtocolInfo, ...]:
    """The protocols :func:`secure_run` accepts in this build, with their threat models.

    Args:
        all: also list the settings of the paper that are planned but not built yet
            (``available`` is False for those).
    """
    return tuple(p for p in _protocol_table() if all or p.available)


#: The available protocols' one-line summaries, by name (from :func:`protocols`).
PROTOCOLS: Mapping[str, str] = {p.name: p.summary for p in protocols()}


@dataclass(frozen=True)
class PhaseCost:
    """Cost of one phase (offline or online) of a layer, over all parties."""

    seconds: float  #: wall time of the slowest party
    bytes_sent: tuple[int, ...]  #: payload bytes sent by each party
    rounds: int  #: communication rounds (the most of any party)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any] | None) -> "PhaseCost":
        d = d or {}
        return cls(
            seconds=float(d.get("seconds", 0.0)),
            bytes_sent=tuple(int(b) for b in d.get("bytes_sent") or ()),
            rounds=int(d.get("rounds", 0)),
        )

    @property
    def megabytes(self) -> float:
        """Megabytes (10^6 bytes) sent by all parties together."""
        return sum(self.bytes_sent) / 1e6


@dataclass(frozen=True)
class LayerCost:
    """Cost of one layer (or of the parameter set-up, or of the total) over all parties.

    ``seconds``, ``bytes_sent`` and ``rounds`` are the whole cost; ``offline`` is the part
    spent on correlated randomness (zero for protocols without an offline phase) and
    ``online`` the rest.
    """

    op: int
    kind: str
    name: str
    shape: tuple[int, ...]
    elements: int
    seconds: float  #: wall time of the slowest party
    bytes_sent: tuple[int, ...]  #: payload bytes sent by each party
    rounds: int  #: communication rounds (the most of any party)
    offline: PhaseCost = field(default_factory=lambda: PhaseCost(0.0, (), 0))
    messages: tuple[int, ...] = ()  #: messages sent by each party

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "LayerCost":
        return cls(
            op=int(d.get("op", -1)),
            kind=str(d.get("kind", "")),
            name=str(d.get("name", "")),
            shape=tuple(d.get("shape") or ()),
            elements=int(d.get("elements", 0)),
            seconds=float(d.get("seconds", 0.0)),
            bytes_sent=tuple(int(b) for b in d.get("bytes_sent") or ()),
            rounds=int(d.get("rounds", 0)),
            offline=PhaseCost._from_json(d.get("offline")),
            messages=tuple(int(m) for m in d.get("messages") or ()),
        )

    @property
    def online(self) -> PhaseCost:
        """The layer's cost without its offline part."""
        off = self.offline.bytes_sent or (0,) * len(self.bytes_sent)
        return PhaseCost(
            seconds=max(0.0, self.seconds - self.offline.seconds),
            bytes_sent=tuple(b - o for b, o in zip(self.bytes_sent, off)),
            rounds=max(0, self.rounds - self.offline.rounds),
        )

    @property
    def megabytes(self) -> float:
        """Megabytes (10^6 bytes) sent by all parties together."""
        return sum(self.bytes_sent) / 1e6


@dataclass(frozen=True)
class MessagePhase:
    """The messages one party sent in one phase of a local run (:attr:`Stats.message_phases`).

    ``phase`` is ``"protocol"`` (the protocol's own set-up, e.g. key exchange),
    ``"parameters"`` (sharing the model parameters), ``"input"`` (the client sharing its
    input) or a layer's kind (``"PREPROCESS"``, ``"CONV_2D"``, ..., ``"OUTPUT"``), then
    ``layer`` is its index in :attr:`Stats.layers` (else -1). ``messages`` are the indices
    a :class:`Tamper` of that party can name.
    """

    phase: str
    layer: int
    messages: range


@dataclass(frozen=True)
class Stats:
    """Costs of a secure run: per layer, the one-time parameter sharing, and the total."""

    protocol: str
    parties: int
    setup: LayerCost  #: the model owner sharing the parameters (once per model)
    layers: tuple[LayerCost, ...]  #: one inference, layer by layer
    total: LayerCost  #: sum over ``layers`` (offline + online)
    seconds: float  #: wall time of the whole local run (set-up included)
    #: "" for the protocol's own offline phase, "dealer" for a trusted dealer
    preprocessing: str = ""
    #: what one inference asks of the protocol, counted on the public graph, by kind:
    #: ``macs_one_sided`` / ``macs_shared`` (multiply-accumulates with one operand held
    #: in the clear by one party / both shared), ``and`` (AND gates), ``a2b_bits``,
    #: ``a2b_split_bits`` (the A2B operands of rep3's fused requantization),
    #: ``b2a_bits``, ``input``, ``open``, ... (``mpc.Demand.Summary`` in the Go core)
    demand: dict[str, int] = field(default_factory=dict)
    #: inputs evaluated in this one secure pass (``x`` of shape [N, ...] on a batch-1 model)
    batch: int = 1
    seconds_per_image: float = 0.0  #: ``total.seconds / batch``
    bytes_per_image: float = 0.0  #: all parties' bytes of ``total`` / ``batch``
    #: messages each party sent in the whole run (protocol set-up, parameters, input,
    #: layers): a :class:`Tamper` of party ``p`` can name messages ``0 .. messages[p]-1``
    messages: tuple[int, ...] = ()
    #: per party, its messages split by phase in the order sent (local runs)
    message_phases: tuple[tuple[MessagePhase, ...], ...] = ()
    #: the client sharing its input (local runs; not part of ``layers`` or ``total``)
    input: LayerCost | None = None
    #: ``message_sizes[p][k]``: bytes of party ``p``'s message ``k`` (only with
    #: ``secure_run(..., message_sizes=True)``, else empty)
    message_sizes: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def _from_json(cls, s: str) -> "Stats":
        d = json.loads(s)
        return cls(
            batch=int(d.get("batch") or 1),
            seconds_per_image=float(d.get("seconds_per_image") or 0.0),
            bytes_per_image=float(d.get("bytes_per_image") or 0.0),
            protocol=d["protocol"],
            parties=int(d["parties"]),
            setup=LayerCost._from_json(d["setup"]),
            layers=tuple(LayerCost._from_json(x) for x in d.get("layers") or ()),
            total=LayerCost._from_json(d["total"]),
            seconds=float(d["seconds"]),
            preprocessing=str(d.get("preprocessing") or ""),
            demand={str(k): int(v) for k, v in (d.get("demand_summary") or {}).items()},
            messages=tuple(int(m) for m in d.get("messages") or ()),
            message_phases=tuple(
                tuple(MessagePhase(str(r["phase"]), int(r["layer"]), range(int(r["from"]), int(r["to"])))
                      for r in rs or ())
                for rs in d.get("message_ranges") or ()),
            input=LayerCost._from_json(d["input"]) if d.get("input") else None,
            message_sizes=tuple(tuple(int(b) for b in sz or ()) for sz in d.get("message_sizes") or ()),
        )

    @property
    def offline(self) -> PhaseCost:
        """The offline part of ``total`` (correlated randomness; zero for rep3)."""
        return self.total.offline

    @property
    def online(self) -> PhaseCost:
        """The online part of ``total``."""
        return self.total.online

    def by_kind(self) -> dict[str, LayerCost]:
        """Costs summed per layer kind (``CONV_2D``, ``DEPTHWISE_CONV_2D``, ...)."""
        out: dict[str, LayerCost] = {}
        for layer in self.layers:
            prev = out.get(layer.kind)
            if prev is None:
                out[layer.kind] = LayerCost(-1, layer.kind, layer.kind, (), layer.elements,
                                            layer.seconds, layer.bytes_sent, layer.rounds)
            else:
                out[layer.kind] = LayerCost(
                    -1, layer.kind, layer.kind, (), prev.elements + layer.elements,
                    prev.seconds + layer.seconds,
                    tuple(a + b for a, b in zip(prev.bytes_sent, layer.bytes_sent)),
                    prev.rounds + layer.rounds)
        return out

    def table(self) -> str:
        """A plain-text table: one line per layer, then the total and the set-up.

        ``MB/party`` is each party's whole traffic of the layer; ``offline MB/party`` the part
        of it spent on correlated randomness (protocols with an offline phase).
        """
        head = (f"{'#':>4} {'layer':<20} {'shape':<18} {'ms':>9} {'MB/party':>22} "
                f"{'offline MB/party':>22} {'rounds':>7}")
        lines = [head, "-" * len(head)]

        def row(layer: LayerCost, label: str) -> str:
            mb = "/".join(f"{b / 1e6:.2f}" for b in layer.bytes_sent)
            off = "/".join(f"{b / 1e6:.2f}" for b in layer.offline.bytes_sent) or "-"
            shape = "x".join(str(d) for d in layer.shape)
            return (f"{label:>4} {layer.kind[:20]:<20} {shape[:18]:<18} "
                    f"{layer.seconds * 1e3:9.1f} {mb:>22} {off:>22} {layer.rounds:7d}")

        for layer in self.layers:
            lines.append(row(layer, str(layer.op) if layer.op >= 0 else ""))
        lines.append("-" * len(head))
        lines.append(row(self.total, ""))
        lines.append(row(self.setup, ""))
        return "\n".join(lines)


@dataclass(frozen=True)
class SecureResult:
    """What a secure run returns: the client's output and the costs."""

    output: np.ndarray | list[np.ndarray]
    stats: Stats
    protocol: str
    reveal: str = "output"
    extra: dict[str, Any] = field(default_factory=dict)
    #: with ``secure_run(..., tamper=...)``: whether the tampered message existed and was
    #: altered (False: the party sent fewer messages, or the alteration changed nothing)
    tampered: bool = False


@dataclass(frozen=True)
class Tamper:
    """Alter one message that one computing party sends: simulates a cheating party; for
    tests and demonstrations (a testing aid, not part of any protocol).

    Pass it to :func:`secure_run` (``tamper=``). Party ``party`` sends its messages as the
    protocol says, except message number ``message`` (0-based, counted over everything the
    party sends from the protocol's set-up on, to any peer; :attr:`Stats.messages` and
    :attr:`Stats.message_phases` of an untampered run give the range), which is altered in
    exactly one way:

    - ``xor``: 64-bit word ``word`` of the message (bytes ``8*word`` to ``8*word+7``,
      little-endian) is xored with ``xor`` (0 < xor < 2**64);
    - ``add``: ``add`` is added to word ``word`` modulo 2**64 (negative values wrap);
    - ``replay=d`` (d >= 1): the message is replaced by the d-th most recent earlier message
      the party sent to the same peer (1: the previous one), cut or padded with zero bytes
      to the replaced message's length, so that the receiver does not reject it as a
      message of the wrong size before any check of its content.

    A message shorter than ``8*(word+1)`` bytes has only its present bytes changed.

    By default the altered message is a copy. ``in_place=True`` alters the sender's own
    buffer too: where the protocol keeps what it sends as part of its shares (rep3 keeps a
    reshared value as its first component, the receiver's second), sender and receiver
    then hold the same wrong value, a consistent-looking but wrong replicated component.
    :attr:`SecureResult.tampered` (and the ``tampered`` attribute of an exception that the
    run raises) tells whether the message existed and was altered.

    ``seed`` (an int) makes the run draw every party's randomness from a stream keyed by
    the seed and the party's index instead of the operating system's generator, so that
    the run repeats exactly: the same shares, the same messages, the same effect of the
    alteration (whether an alteration changes a semi-honest protocol's output can depend
    on the random shares). For tests only: with a known seed the shares hide nothing.

    Example::

        qmpc.secure_run(m, x, protocol="rep3", tamper=qmpc.Tamper(party=2, message=40, xor=1))
        # rep3 (semi-honest) cannot notice: the output may silently be wrong

    Parties of a ``qmpc party`` cluster take the same alteration from the test-only
    environment variable ``QMPC_TEST_TAMPER`` (e.g. ``message=40,xor=1``; docs/testing.md).
    """

    party: int
    message: int
    xor: int = 0
    add: int = 0
    replay: int | None = None
    word: int = 0
    in_place: bool = False
    seed: int | None = None

    def spec(self) -> str:
        """The alteration in the Go core's format (that of ``QMPC_TEST_TAMPER``)."""
        parts = [f"message={int(self.message)}", f"word={int(self.word)}"]
        if self.xor:
            parts.append(f"xor={int(self.xor):#x}" if self.xor > 0 else f"xor={int(self.xor)}")
        if self.add:
            parts.append(f"add={int(self.add) % 2**64:#x}")
        if self.replay is not None:
            parts.append(f"replay={int(self.replay)}")
        if self.in_place:
            parts.append("inplace=true")
        return ",".join(parts)


def _progress_bar(total: int, forced: bool, images: int = 1) -> Any:
    """A tqdm bar (a widget in notebooks); unless ``forced``, none when stderr is not a
    terminal (tqdm's ``disable=None``), so that logs do not fill with redraws."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return None
    desc = f"secure inference ({images} images)" if images > 1 else "secure inference"
    return tqdm(total=total, desc=desc, unit="layer", leave=False,
                disable=False if forced else None)


def secure_run(
    model: Model,
    x: Inputs,
    protocol: str = "rep3",
    *,
    reveal: str = "output",
    owner: int | None = None,
    client: int | None = None,
    preprocessing: str = "",
    progress: bool | None = None,
    tamper: Tamper | None = None,
    message_sizes: bool = False,
) -> SecureResult:
    """Run one secure inference with all computing parties in this process.

    The model owner (party ``owner``) secret-shares the parameters, the client (party
    ``client``) secret-shares ``x`` and alone receives the result; the parties see only
    shares. The graph structure and the quantization parameters are public.

    Args:
        model: a model from :func:`qmpc.load`.
        x: the input, as for :meth:`Model.run` (a float input is quantized with a warning).
            A batch ``[N, ...]`` for a batch-1 model runs in one secure pass (the rounds of
            one input, about N times the bytes) and gives ``[N, ...]`` outputs, each row
            equal to that input alone; ``stats.batch`` and ``stats.seconds_per_image``.
        protocol: a name from :func:`protocols`, e.g. ``"rep3"`` (3 parties, honest
            majority, semi-honest) or ``"plain"`` (no security; for debugging).
        reveal: ``"output"``: the client gets the model's outputs, bit-exact with
            :meth:`Model.run` (a final SOFTMAX / LOGISTIC / DEQUANTIZE is applied by the
            client in the clear to the revealed logits); ``"argmax"``: the client gets only
            the index of the largest logit along the last axis (int32, first index on ties).
        owner, client: party indices of the model owner and the client (default: the
            model owner is party 0 and the client party 1, as in the paper).
        preprocessing: ``""`` (default): correlated randomness comes from the protocol's
            own offline phase, run by the parties; ``"dealer"``: a trusted third party
            deals it (outside the protocol's threat model; for comparison with tools that
            do this by default). The dealer is simulated in this process, with keys the
            parties could both derive: it shows the costs of that model, not its security,
            and a ``qmpc party`` cluster never uses it. Only protocols with an offline phase
            accept ``"dealer"``.
        progress: show a tqdm bar (default: when the run lasts more than a second and
            stderr is a terminal or a notebook; ``True``: always; ``False``: never).
        tamper: a testing aid (:class:`Tamper`): one party alters one message it sends,
            simulating a cheating party. ``result.tampered`` tells whether it did; if the
            run raises, the exception has the same ``tampered`` attribute.
        message_sizes: a testing aid: record the length of every message each party
            sends in ``result.stats.message_sizes`` (to pick a word inside a message for
            a :class:`Tamper`).

    Returns:
        A :class:`SecureResult` with ``output`` and ``stats``.

    Raises:
        ShapeError, DTypeError: the input does not fit the model.
        ConfigError: unknown protocol, reveal mode or party index.
        UnsupportedOpError: the model has an op the secure engine cannot evaluate.
        CancelledError: interrupted (Ctrl-C); the parties stop at the next layer.
    """
    run = _bridge.call(_bridge.core.NewSecureRun, model._handle, protocol, reveal,
                       -1 if owner is None else owner, -1 if client is None else client,
                       preprocessing)
    if tamper is not None:
        if not isinstance(tamper, Tamper):
            raise TypeError(f"tamper must be a qmpc.Tamper, not {type(tamper).__name__}")
        _bridge.call(run.SetTamper, int(tamper.party), tamper.spec())
        if tamper.seed is not None:
            run.SetTestSeed(int(tamper.seed) % 2**63, True)
    if message_sizes:
        run.SetMessageSizes(True)
    packed = _bridge.pack(model._arrange(x))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = _bridge.call(run.Execute, _bridge.to_go(packed))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["err"] = e

    t = threading.Thread(target=work, name="qmpc-secure-run", daemon=True)
    start = time.monotonic()
    t.start()
    bar = None
    try:
        while t.is_alive():
            t.join(0.05)
            if bar is None and progress is not False and (
                progress or time.monotonic() - start > 1.0
            ):
                total = run.Total()
                if total > 0:
                    bar = _progress_bar(total, forced=bool(progress), images=int(run.Images()))
            if bar is not None:
                bar.n = run.Done()
                bar.refresh()
    except KeyboardInterrupt:
        run.Cancel()
        t.join()
        raise
    finally:
        if bar is not None:
            bar.n = run.Done()
            bar.close()
    if "err" in box:
        if tamper is not None:
            try:
                box["err"].tampered = bool(run.Tampered())
            except AttributeError:  # an exception type without a __dict__
                pass
        raise box["err"]
    arrays, warns = _bridge.unpack(_bridge.from_go(box["out"]))
    for w in warns:
        warnings.warn(w, UserWarning, stacklevel=2)
    stats = Stats._from_json(_bridge.call(run.StatsJSON))
    out: np.ndarray | list[np.ndarray] = arrays[0] if len(arrays) == 1 else arrays
    return SecureResult(output=out, stats=stats, protocol=protocol, reveal=reveal,
                        tampered=tamper is not None and bool(run.Tampered()))


def estimate(model: Model, protocol: str = "rep3", *, reveal: str = "output",
             preprocessing: str = "", batch: int = 1) -> Stats:
    """Costs of one secure inference of ``model``, without its parameters or an input.

    With ``batch=N``, the cost of one secure pass over N inputs (``stats.batch``,
    ``stats.seconds_per_image``, ``stats.bytes_per_image``): the rounds of one input, the
    bytes about N times.

    The parties run the protocol (offline phase included) on zero-valued parameters and
    inputs of the right shapes; the communication of qmpc's protocols does not depend on
    the values, so bytes and rounds are exact, and seconds are one run's on this machine
    (all parties local). ``stats.offline`` and ``stats.online`` split the cost;
    ``stats.demand`` counts what the inference asks of the protocol.
    """
    if int(batch) < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    return Stats._from_json(_bridge.call(_bridge.core.Estimate, model._handle, protocol,
                                         reveal, preprocessing, int(batch)))
