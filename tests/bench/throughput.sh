#!/usr/bin/env bash
# Benchmark: rep3 throughput (images per second) and peak memory for batches of N images in
# one secure pass, (1) all three parties in one process (`qmpc bench --batch N`) and (2) three
# `qmpc party` processes over TLS on loopback ("LAN": no delay emulation) with a `qmpc infer`
# client. Writes a Markdown table to $OUT (default tests/bench/throughput_results.md).
#
#   bash tests/bench/throughput.sh                 # MobileNetV1 0.25_128, N = 1 4 16 64
#   BATCHES="1 4" MODES=inproc bash tests/bench/throughput.sh
#
# Peak memory: in-process, the maximum resident set of the whole process (three parties) from
# /usr/bin/time -v; LAN, each party's VmHWM from /proc (the cluster is restarted for every N,
# so the peak is that batch's) and the client's from /usr/bin/time -v. Bounded: every run has
# a 10-minute limit; parties are killed by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
MODEL="${MODEL:-$ROOT/../shared/models/coral/mobilenet_v1_0.25_128_quant.tflite}"
BATCHES="${BATCHES:-1 4 16 64}"
MODES="${MODES:-inproc lan}"
OUT="${OUT:-$ROOT/tests/bench/throughput_results.md}"
PY="${PY:-$ROOT/.venv/bin/python}"

say() { echo "throughput.sh: $*" >&2; }
if [ ! -f "$MODEL" ]; then
	echo "throughput.sh: SKIPPED: no model $MODEL"
	exit 0
fi
TMP="$(mktemp -d /tmp/qmpc-tput.XXXXXX)"
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
go build -o "$TMP/qmpc" ./gocore/cmd/qmpc
Q="$TMP/qmpc"
rows="$TMP/rows.md"
: >"$rows"

maxrss_gb() { awk '/Maximum resident set size/ {printf "%.2f", $NF/1048576}' "$1"; }

for b in $BATCHES; do
	"$PY" - "$MODEL" "$TMP/x$b.npy" "$b" <<'PYEOF'
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
d = Interpreter(sys.argv[1]).get_input_details()[0]
info = np.iinfo(d["dtype"])
shape = [int(sys.argv[3])] + list(d["shape"][1:])
np.save(sys.argv[2], np.random.default_rng(0).integers(info.min, info.max + 1, shape, dtype=d["dtype"]))
PYEOF
done

case " $MODES " in *" inproc "*)
	for b in $BATCHES; do
		l0="$(cut -d' ' -f1 /proc/loadavg)"
		s="$(date +%s.%N)"
		timeout 600 /usr/bin/time -v "$Q" bench "$MODEL" --batch "$b" --json >"$TMP/bench$b.json" 2>"$TMP/time$b.txt"
		e="$(date +%s.%N)"
		"$PY" - "$TMP/bench$b.json" "$b" "$s" "$e" "$(maxrss_gb "$TMP/time$b.txt")" "$l0 / $(cut -d' ' -f1 /proc/loadavg)" >>"$rows" <<'PYEOF'
import json, sys
st = json.load(open(sys.argv[1]))
b, s, e, rss, load = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
tot = st["total"] if "total" in st else st
secs = tot.get("seconds")
mb = tot.get("mb_per_party") or tot.get("MBPerParty")
rounds = tot.get("rounds")
print(f"| in-process | {b} | {secs:.2f} | {b / secs:.2f} | {secs / b:.3f} | {e - s:.2f} | {rounds} | {rss} GB (3 parties) | {load} |")
PYEOF
	done
;; esac

case " $MODES " in *" lan "*)
	free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
	for b in $BATCHES; do
		dir="$TMP/lan$b"
		mkdir -p "$dir"
		"$Q" certs --out "$dir" --parties 3 --base-port "$(free_port)" >/dev/null
		"$PY" - "$dir/cluster.json" <<'PYEOF'
import json, socket, sys
cfg = json.load(open(sys.argv[1]))
for p in cfg["parties"]:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p["address"] = "127.0.0.1:%d" % s.getsockname()[1]; s.close()
cfg["timeouts"]["step"] = "300s"
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PYEOF
		pp=()
		for i in 0 1 2; do
			extra=()
			[ "$i" = 0 ] && extra=(--model "$MODEL")
			"$Q" party --config "$dir/cluster.json" --id "$i" "${extra[@]}" >"$dir/party$i.log" 2>&1 &
			PIDS+=($!)
			pp+=($!)
		done
		ok=0
		for t in $(seq 1 60); do
			if timeout 600 "$Q" infer --config "$dir/cluster.json" --input "$TMP/x1.npy" --output "$dir/y.npy" >/dev/null 2>&1; then ok=1; break; fi
			sleep 1
		done
		[ "$ok" = 1 ] || { say "cluster did not serve (N=$b)"; tail -5 "$dir"/party*.log >&2; exit 1; }
		l0="$(cut -d' ' -f1 /proc/loadavg)"
		s="$(date +%s.%N)"
		timeout 600 /usr/bin/time -v "$Q" infer --config "$dir/cluster.json" --input "$TMP/x$b.npy" --output "$dir/y.npy" --stats "$dir/stats.json" >/dev/null 2>"$dir/time.txt"
		e="$(date +%s.%N)"
		hwm=()
		for p in "${pp[@]}"; do hwm+=("$(awk '/VmHWM/ {printf "%.2f", $2/1048576}' "/proc/$p/status")"); done
		"$PY" - "$dir/stats.json" "$b" "$s" "$e" "$(IFS=/; echo "${hwm[*]}")" "$(maxrss_gb "$dir/time.txt")" "$l0 / $(cut -d' ' -f1 /proc/loadavg)" >>"$rows" <<'PYEOF'
import json, sys
st = json.load(open(sys.argv[1]))
b, s, e, hwm, crss, load = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
party_s = max(p["seconds"] for p in st)
rounds = max(p["net"]["Rounds"] for p in st)
c = e - s
print(f"| LAN (3 processes, TLS on loopback) | {b} | {c:.2f} | {b / c:.2f} | {c / b:.3f} | {party_s:.2f} (party) | {rounds} | {hwm} GB (parties), client {crss} GB | {load} |")
PYEOF
		for p in "${pp[@]}"; do kill "$p" 2>/dev/null || true; done
		for p in "${pp[@]}"; do wait "$p" 2>/dev/null || true; done
		PIDS=()
	done
;; esac

{
	echo "# rep3 throughput and peak memory, batches of N images in one secure pass"
	echo
	echo "Produced by \`bash tests/bench/throughput.sh\` on $(date -u +%Y-%m-%d) (commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)), model $(basename "$MODEL")."
	echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), Linux $(uname -r), shared with other jobs (see the load column)."
	echo
	echo "Seconds: in-process, the secure layers (slowest party per layer, summed; wall s is the whole command: model load, weight sharing, input, layers); LAN, the client's wall time (connect, share the input, compute, reconstruct) and the slowest party's inference. images/s = N / seconds. Load: 1-minute load average at the start and at the end of the run (2 cores)."
	echo
	echo "| setting | N | seconds | images/s | s per image | wall s | rounds | peak RSS | load |"
	echo "|---|---|---|---|---|---|---|---|---|"
	cat "$rows"
} >"$OUT"
cat "$OUT"
