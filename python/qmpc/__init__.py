"""qmpc: secure multi-party inference of quantized neural networks.

Load a quantized TFLite model and run it::

    import qmpc
    m = qmpc.load("model.tflite")
    print(m.summary())
    y = m.run(x)          # cleartext, bit-exact with TFLite's reference kernels

The computation is done by a Go core (``qmpc._core``, compiled into the wheel). Go's
runtime does not survive ``fork()``: in a child forked after ``import qmpc`` (the default
start method of :mod:`multiprocessing` on Linux, PyTorch DataLoader workers) every qmpc call
raises :class:`QmpcError` instead of hanging. Use the ``spawn`` start method.
"""

from __future__ import annotations

from ._version import __version__
from .errors import (
    CancelledError,
    ConfigError,
    DTypeError,
    ModelError,
    CheatingDetected,
    ClusterBusy,
    PartyError,
    QmpcError,
    ShapeError,
    UnsupportedOpError,
)
from .model import Model, TensorInfo, load
from .torch import from_torch  # imports PyTorch only when called
from .cluster import Cluster  # noqa: E402  (also makes qmpc.cluster available)
from .secure import (
    PROTOCOLS,
    LayerCost,
    MessagePhase,
    PhaseCost,
    ProtocolInfo,
    SecureResult,
    Stats,
    Tamper,
    estimate,
    protocols,
    secure_run,
)

__all__ = [
    "__version__",
    "load",
    "from_torch",
    "Cluster",
    "Model",
    "TensorInfo",
    "secure_run",
    "Tamper",
    "estimate",
    "protocols",
    "PROTOCOLS",
    "ProtocolInfo",
    "PhaseCost",
    "SecureResult",
    "Stats",
    "LayerCost",
    "MessagePhase",
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
]
