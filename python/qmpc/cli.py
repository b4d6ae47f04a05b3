"""The ``qmpc`` command line: ``qmpc inspect MODEL`` prints a model's summary."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import QmpcError, TensorInfo, __version__, load


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qmpc", description="Secure inference of quantized neural networks."
    )
    p.add_argument("--version", action="version", version=f"qmpc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    ins = sub.add_parser("inspect", help="print a model's inputs, outputs and ops")
    ins.add_argument("model", help="path of a quantized model (.tflite)")
    ins.add_argument("--json", action="store_true", help="print inputs and outputs as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "inspect":
        try:
            m = load(args.model)
        except (QmpcError, OSError) as e:
            print(f"qmpc inspect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        if args.json:
            info = {
                "format": m.format,
                "inputs": [_info(t) for t in m.inputs],
                "outputs": [_info(t) for t in m.outputs],
            }
            print(json.dumps(info, indent=2))
        else:
            print(m.summary(), end="")
    return 0


def _info(t: TensorInfo) -> dict[str, object]:
    return {
        "name": t.name,
        "shape": list(t.shape),
        "dtype": t.dtype.name,
        "scale": t.scale,
        "zero_point": t.zero_point,
    }


if __name__ == "__main__":
    sys.exit(main())
