"""The ``qmpc`` command line (installed with the Python package):

* ``qmpc inspect MODEL`` prints a model's summary;
* ``qmpc bench MODEL [--protocol P] [--batch N]`` measures a secure inference locally and
  prints the per-layer table (the Go command's ``bench``, same Go code); with
  ``--cluster cluster.json`` it measures one inference on a running cluster as its client;
* ``qmpc keygen`` (on each host: its own key), ``qmpc cluster-config`` (cluster.json from
  the certificates), ``qmpc party`` and ``qmpc infer`` make, run and use a cluster of parties
  on separate hosts (docs/deploy.md), through the same Go code as ``qmpc.Cluster``;
  ``qmpc certs`` makes every key on one host, for tests and demos. The Go
  command ``go build -o qmpc ./gocore/cmd/qmpc`` has the same subcommands and needs no Python
  (for party hosts).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import QmpcError, TensorInfo, __version__, load, protocols


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qmpc", description="Secure inference of quantized neural networks."
    )
    p.add_argument("--version", action="version", version=f"qmpc {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    ins = sub.add_parser("inspect", help="print a model's inputs, outputs and ops")
    ins.add_argument("model", help="path of a quantized model (.tflite)")
    ins.add_argument("--json", action="store_true", help="print inputs and outputs as JSON")

    b = sub.add_parser("bench", help="measure a secure inference locally (all parties in this process) or on a "
                       "running cluster (--cluster): per-layer seconds, MB per party, rounds, offline/online split")
    b.add_argument("model", nargs="?", default="", help="path of a quantized model (.tflite or .onnx); "
                   "optional with --cluster (then it must be the model the cluster serves)")
    b.add_argument("--protocol", default="rep3", help="; ".join(
        f"{p.name} ({p.summary})" for p in protocols()) + " (default rep3)")
    b.add_argument("--batch", type=int, default=1, help="inputs evaluated in one secure pass (default 1)")
    b.add_argument("--reveal", default="output", help='what the client learns: "output" (default) or "argmax"')
    b.add_argument("--preprocessing", default="", help='"" (the protocol\'s offline phase) or "dealer"')
    b.add_argument("--json", action="store_true", help="print the result as JSON")
    b.add_argument("--cluster", default="", help="measure on this running cluster (its cluster.json) as its client, "
                   "with the cluster's protocol, reveal and model, over a batch of zero inputs")
    b.add_argument("--key", default="", help="with --cluster: the client's private key (default: the config's)")

    k = sub.add_parser("keygen", help="make this host's private key and certificate (the key stays here)")
    who = k.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", type=int, help="this host's party id (writes partyN.key, partyN.crt)")
    who.add_argument("--client", action="store_true", help="the client's key (client.key, client.crt)")
    k.add_argument("--out", default=".", help="directory for the key and the certificate")
    k.add_argument("--force", action="store_true", help="overwrite an existing key")

    cc = sub.add_parser("cluster-config", help="assemble cluster.json from the parties' certificates and addresses")
    cc.add_argument("--party", action="append", required=True, metavar="ID=HOST:PORT,CERT",
                    help="party ID listens on HOST:PORT; CERT is the certificate it made with qmpc keygen (repeat)")
    cc.add_argument("--client", required=True, help="the client's certificate (qmpc keygen --client)")
    cc.add_argument("--out", default="cluster.json", help="where to write the config")
    cc.add_argument("--protocol", default="rep3", help="; ".join(
        f"{p.name} ({p.summary})" for p in protocols()) + " (default rep3)")
    cc.add_argument("--owner", type=int, default=0, help="id of the party that holds the model")
    cc.add_argument("--model", default=None, help="optional: pin this model file's digest")
    cc.add_argument("--model-digest", default="", help="optional: pin this model digest (hex)")
    cc.add_argument("--reveal", default="", help='what the client learns: "output" (default) or "argmax"')
    cc.add_argument("--step-timeout", type=float, default=0.0, help="seconds (default 30)")
    cc.add_argument("--connect-timeout", type=float, default=0.0, help="seconds (default 120)")
    cc.add_argument("--max-sessions", type=int, default=0, help="client requests served at once, each in its own session (default 4)")
    cc.add_argument("--force", action="store_true", help="overwrite an existing config")

    c = sub.add_parser("certs", help="one-host shortcut for tests and demos: every key, certificate and cluster.json "
                       "in one directory (whoever runs it holds every key; use keygen + cluster-config to deploy)")
    c.add_argument("--parties", type=int, default=0, help="number of computing parties (default: the protocol's)")
    c.add_argument("--out", default="cluster", help="directory for keys, certificates and cluster.json")
    c.add_argument("--protocol", default="rep3", help="; ".join(
        f"{p.name} ({p.summary})" for p in protocols()) + " (default rep3)")
    c.add_argument("--host", default="127.0.0.1", help="every party's address (edit cluster.json for separate hosts)")
    c.add_argument("--base-port", type=int, default=7100, help="party i listens on base-port+i")
    c.add_argument("--max-sessions", type=int, default=0, help="client requests served at once, each in its own session (default 4)")
    c.add_argument("--force", action="store_true", help="overwrite existing keys")

    pa = sub.add_parser("party", help="run one computing party until Ctrl-C / SIGTERM")
    pa.add_argument("--config", required=True, help="cluster.json (from qmpc certs)")
    pa.add_argument("--id", type=int, required=True, help="this party's id")
    pa.add_argument("--model", default="", help="the model (.tflite or .onnx): only the model owner gives it")
    pa.add_argument("--key", default="", help="private key (default: the config's)")
    pa.add_argument("--log-level", default="info", choices=["debug", "info", "warn", "error"])

    inf = sub.add_parser("infer", help="secure inference on a running cluster (the client)")
    inf.add_argument("--config", required=True, help="cluster.json (from qmpc certs)")
    inf.add_argument("--input", required=True, help="input tensor (.npy)")
    inf.add_argument("--output", required=True, help="where to write the output (.npy)")
    inf.add_argument("--key", default=None, help="client private key (default: the config's)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command in ("keygen", "cluster-config", "certs", "party", "infer"):
        return _cluster_command(args)
    if args.command == "bench":
        from . import _bridge

        try:
            if args.cluster:
                text = _bridge.call(_bridge.core.BenchCluster, args.cluster, args.key, args.model,
                                    int(args.batch), bool(args.json))
            elif not args.model:
                print("qmpc bench: give a model (or --cluster cluster.json)", file=sys.stderr)
                return 2
            else:
                m = load(args.model)
                text = _bridge.call(_bridge.core.Bench, m._handle, args.protocol, args.reveal,
                                    args.preprocessing, int(args.batch), bool(args.json))
        except (QmpcError, OSError) as e:
            print(f"qmpc bench: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
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


def _cluster_command(args: argparse.Namespace) -> int:
    from . import cluster

    try:
        if args.command == "keygen":
            k = cluster.keygen(args.out, None if args.client else args.id, client=args.client, force=args.force)
            print(f"wrote {k['key']} (private key, mode 0600: keep it on this host, never copy it)")
            print(f"wrote {k['cert']} (certificate: send it to whoever assembles cluster.json)")
            print(f"pin {k['pin']}")
            return 0
        if args.command == "cluster-config":
            r = cluster.cluster_config(args.out, args.party, args.client, protocol=args.protocol, owner=args.owner,
                                       model=args.model, model_digest=args.model_digest, reveal=args.reveal,
                                       step_timeout=args.step_timeout, connect_timeout=args.connect_timeout,
                                       max_sessions=args.max_sessions, force=args.force)
            print(f"wrote {r['path']} (config {r['hash']}); it holds certificates, no private key.")
            for p in r["parties"]:
                print(f"  party {p['id']}  {p['address']:<21}  pin {p['pin']}")
            print(f"  client{'':<26}pin {r['client_pin']}")
            return 0
        if args.command == "certs":
            path = cluster.certs(args.out, args.parties, protocol=args.protocol, host=args.host,
                                 base_port=args.base_port, max_sessions=args.max_sessions, force=args.force)
            print(path)
            return 0
        if args.command == "party":
            return cluster.main(["party", "--config", args.config, "--id", str(args.id), "--model", args.model,
                                 "--key", args.key, "--log-level", args.log_level])
        import numpy as np

        kw = {"key": args.key} if args.key else {}
        r = cluster.Cluster(args.config, **kw).infer(np.load(args.input))
        out = r.output if isinstance(r.output, list) else [r.output]
        np.save(args.output, out[0])
        for i, extra in enumerate(out[1:], start=1):
            stem = args.output[:-4] if args.output.endswith(".npy") else args.output
            np.save(f"{stem}_{i}.npy", extra)
        t = r.stats.total
        print(f"{args.output}: {out[0].dtype}{list(out[0].shape)}; {t.seconds:.3f} s, "
              f"MB sent per party {[round(b / 1e6, 2) for b in t.bytes_sent]}, {t.rounds} rounds")
        return 0
    except (QmpcError, OSError, ValueError) as e:
        print(f"qmpc {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


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
