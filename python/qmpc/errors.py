"""qmpc's exceptions, and how Go errors become them.

Every exception qmpc raises for a problem with a model, an input, a configuration or a peer
is a :class:`QmpcError`. ``QmpcError`` subclasses :class:`RuntimeError`, because that is
what the compiled core raises for any Go error and what code written against it may
already catch; :class:`ShapeError` is also a :class:`ValueError` and :class:`DTypeError`
also a :class:`TypeError`, so generic handlers keep working.

The Go side (``gocore/errs``) prefixes a message with ``qmpc:<kind>:`` and the binding
(``pybind``) appends a last line ``qmpc-details: {json}``; :func:`from_go_message` turns such
a message into the matching exception with the prefix and the details line removed.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "QmpcError",
    "ModelError",
    "UnsupportedOpError",
    "ShapeError",
    "DTypeError",
    "ConfigError",
    "PartyError",
    "CheatingDetected",
    "ClusterBusy",
    "CancelledError",
    "from_go_message",
]


class QmpcError(RuntimeError):
    """Base class of qmpc's errors.

    Raised as such for internal errors (a bug in qmpc: please report it).

    Attributes:
        kind: the Go error kind (``"model"``, ``"shape"``, ..., ``"internal"``).
        details: machine-readable details sent by the Go side (may be empty).
    """

    kind: str = "internal"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class ModelError(QmpcError):
    """A model file is malformed, inconsistent or in an unsupported format."""

    kind = "model"


class UnsupportedOpError(ModelError):
    """A model uses operators qmpc cannot evaluate.

    Attributes:
        ops: the names of all unsupported operators of the model, in order of first
            occurrence (for example ``["LSTM", "EXP"]``).
    """

    kind = "unsupported-op"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        ops = self.details.get("ops")
        if isinstance(ops, list):
            self.ops: list[str] = [str(o) for o in ops]
        else:  # no details: parse "unsupported ops: LSTM (2), EXP (1)"
            m = re.search(r"unsupported ops: (.*)", message)
            self.ops = re.findall(r"([^,]+?) \(\d+\)(?:, |$)", m.group(1)) if m else []


class ShapeError(QmpcError, ValueError):
    """A tensor has the wrong shape (or the wrong number of inputs was given)."""

    kind = "shape"


class DTypeError(QmpcError, TypeError):
    """A tensor has the wrong element type."""

    kind = "dtype"


class ConfigError(QmpcError):
    """A configuration is invalid, or parties were started with different ones."""

    kind = "config"


class PartyError(QmpcError):
    """A party failed, disconnected, timed out, sent malformed data or cheated."""

    kind = "party"


class CheatingDetected(PartyError):
    """A malicious-secure protocol's integrity check failed: some party deviated from the
    protocol. The run was aborted before any value that depends on secrets was opened, so
    nobody (the client included) received an output."""

    kind = "cheating"


class ClusterBusy(PartyError):
    """The cluster already serves its maximum of concurrent client sessions
    (``max_sessions`` in ``cluster.json``, default 4); nothing ran. Try again when one
    ends, or raise the bound on every party."""

    kind = "busy"


class CancelledError(QmpcError):
    """A run was cancelled (for example by KeyboardInterrupt)."""

    kind = "cancelled"


_BY_KIND: dict[str, type[QmpcError]] = {
    cls.kind: cls
    for cls in (
        ModelError,
        UnsupportedOpError,
        ShapeError,
        DTypeError,
        ConfigError,
        PartyError,
        CheatingDetected,
        ClusterBusy,
        CancelledError,
    )
}

_KIND_RE = re.compile(r"qmpc:([a-z][a-z-]*): ")
_DETAILS_PREFIX = "\nqmpc-details: "


def from_go_message(message: str) -> QmpcError:
    """Return the exception for a Go error message.

    The kind is taken from the details line if present, else from the first
    ``qmpc:<kind>:`` found anywhere in the message (the outermost kind); a message without
    a kind gives a plain :class:`QmpcError`.
    """
    details: dict[str, Any] = {}
    at = message.rfind(_DETAILS_PREFIX)
    if at >= 0:
        try:
            parsed = json.loads(message[at + len(_DETAILS_PREFIX) :])
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            details = parsed
            message = message[:at]
    m = _KIND_RE.search(message)
    kind = details.get("kind") or (m.group(1) if m else "internal")
    if m:
        message = message[: m.start()] + message[m.end() :]
    cls = _BY_KIND.get(str(kind), QmpcError)
    err = cls(message, details=details)
    err.kind = str(kind)
    return err
