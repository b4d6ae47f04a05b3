"""Loading quantized models and running them in cleartext."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

import numpy as np

from . import _bridge, errors

__all__ = ["Model", "TensorInfo", "load", "ArrayLike", "Inputs"]

ArrayLike = Any
"""Anything :func:`numpy.asarray` accepts."""

Inputs = Union[ArrayLike, Sequence[ArrayLike], Mapping[str, ArrayLike]]
"""One array, a list of arrays (one per model input, in order) or a dict by input name."""


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output.

    Attributes:
        name: the tensor's name in the model file.
        shape: its shape (NHWC for images, as in TFLite).
        dtype: its element type (``numpy.dtype("uint8")``, ``"int8"``, ...).
        scale: its quantization scale, ``real = scale * (q - zero_point)``; 0.0 when the
            tensor is not quantized (as LiteRT's ``get_input_details()`` reports).
        zero_point: its quantization zero point (0 when not quantized).
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "TensorInfo":
        return cls(
            name=str(d["name"]),
            shape=tuple(int(x) for x in d["shape"]),
            dtype=np.dtype(d["dtype"]),
            # The core sends float32 scales; keep their exact value, as LiteRT reports them.
            scale=float(np.float32(d["scale"])),
            zero_point=int(d["zero_point"]),
        )


class Model:
    """A quantized model loaded by :func:`load`.

    Models are immutable; one model may be run from several threads at once.
    """

    def __init__(self, handle: Any, source: str | None = None) -> None:
        """Wrap a core model handle (use :func:`load` instead)."""
        self._handle = handle
        self._source = source
        info = json.loads(_bridge.call(handle.InfoJSON))
        self._format: str = info["format"]
        self._inputs = tuple(TensorInfo._from_json(t) for t in info["inputs"])
        self._outputs = tuple(TensorInfo._from_json(t) for t in info["outputs"])
        self._num_ops: int = int(info["num_ops"])

    @property
    def inputs(self) -> list[TensorInfo]:
        """The model's inputs, in order."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        """The model's outputs, in order."""
        return list(self._outputs)

    @property
    def format(self) -> str:
        """The file format the model was loaded from (``"tflite"``)."""
        return self._format

    @property
    def source(self) -> str | None:
        """The path the model was loaded from, or None when loaded from bytes."""
        return self._source

    def summary(self) -> str:
        """A human-readable description: inputs, outputs, one line per op, totals."""
        return str(_bridge.call(self._handle.Summary))

    def __repr__(self) -> str:
        src = f" {self._source!r}" if self._source else ""
        ins = ", ".join(f"{t.dtype}{list(t.shape)}" for t in self._inputs)
        outs = ", ".join(f"{t.dtype}{list(t.shape)}" for t in self._outputs)
        return f"<qmpc.Model {self._format}{src}: {self._num_ops} ops, ({ins}) -> ({outs})>"

    def _arrange(self, x: Inputs) -> list[ArrayLike]:
        """Order the user's inputs as the model's inputs."""
        names = [t.name for t in self._inputs]
        if isinstance(x, Mapping):
            missing = [n for n in names if n not in x]
            unknown = [k for k in x if k not in names]
            if missing or unknown:
                raise ValueError(
                    f"inputs by name: expected keys {names}, got {list(x)}"
                    + (f" (missing {missing})" if missing else "")
                    + (f" (unknown {unknown})" if unknown else "")
                )
            return [x[n] for n in names]
        if isinstance(x, (list, tuple)) and (
            len(names) > 1 or (len(x) == 1 and isinstance(x[0], np.ndarray))
        ):
            return list(x)
        return [x]

    def run(self, x: Inputs) -> np.ndarray | list[np.ndarray]:
        """Evaluate the model in cleartext, bit-exact with TFLite's reference kernels.

        Args:
            x: the input: a numpy array (or anything :func:`numpy.asarray` accepts) for a
                model with one input; a list of arrays in input order or a dict keyed by
                input name for several. Each must have the input's shape and dtype
                (see :attr:`inputs`). A float32 (or float64) array given for a uint8/int8
                input is quantized with that input's scale and zero point, as TFLite's
                QUANTIZE op does, with a :class:`UserWarning`. Non-contiguous arrays are
                copied. A batch of N inputs stacked along a leading axis (``[N, H, W, C]``
                for a ``[1, H, W, C]`` input, or ``[N, *shape]`` when the input has no
                batch axis of 1) is evaluated in one pass.

        Returns:
            The output array, or a list of arrays for a model with several outputs; for a
            batch, each of shape ``[N, ...]`` with row i equal to input i alone.

        Raises:
            ShapeError: an input has the wrong shape, or the number of inputs is wrong.
            DTypeError: an input has the wrong dtype.
        """
        packed = _bridge.pack(self._arrange(x))
        out = _bridge.call(self._handle.Run, _bridge.to_go(packed))
        arrays, warns = _bridge.unpack(_bridge.from_go(out))
        for w in warns:
            warnings.warn(w, UserWarning, stacklevel=2)
        return arrays[0] if len(arrays) == 1 else arrays


def load(model: str | os.PathLike[str] | bytes | bytearray | memoryview) -> Model:
    """Load a quantized model from a file path or from the file's contents.

    The format is detected from the contents: TFLite flatbuffers (``.tflite``) are
    supported now.

    Raises:
        FileNotFoundError: the path does not exist.
        ModelError: the file is empty, malformed or in an unsupported format.
        UnsupportedOpError: the model uses operators qmpc cannot evaluate (all are listed
            in ``.ops``).
    """
    source: str | None = None
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
    elif isinstance(model, (str, os.PathLike)):
        source = os.fspath(model)
        with open(source, "rb") as f:
            data = f.read()
    else:
        raise TypeError(f"qmpc.load expects a path or bytes, got {type(model).__name__}")
    if not data:
        raise errors.ModelError(f"empty model file{f' {source!r}' if source else ''}")
    handle = _bridge.call(_bridge.core.LoadModel, _bridge.to_go(data))
    return Model(handle, source)
