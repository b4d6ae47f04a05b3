#!/usr/bin/env bash
# Benchmark: rep3 MobileNetV1 between three `qmpc party` processes over emulated LAN and WAN
# links; the client runs `qmpc infer`. Writes a Markdown table to $OUT (default
# tests/bench/netem_results.md) and prints it.
#
#   bash tests/bench/netem.sh                      # MobileNetV1 0.25_128, 3 runs per setting
#   MODELS="a.tflite b.tflite" REPS=5 bash tests/bench/netem.sh
#   BATCHES="1 16" bash tests/bench/netem.sh       # also batches of 16 images in one pass
#   CLIENTS=4 bash tests/bench/netem.sh            # 4 clients at once (each its own session)
#   PASSES=2 BATCHES=16 bash tests/bench/netem.sh  # each batch as 2 secure passes at once
#                                                  # (qmpc infer --passes; each its own session)
#   QMPC_BIN=/tmp/main/qmpc bash tests/bench/netem.sh   # another build of qmpc (e.g. main's),
#                                                  # with this tree's script and delayproxy
#   PROXY_BIN=/tmp/old/delayproxy bash tests/bench/netem.sh  # another delayproxy build
#   PROFILE_DIR=/tmp/prof bash tests/bench/netem.sh  # parties and proxy write CPU profiles
#                                                  # there (partyI-SETTING.prof, proxy-SETTING.prof)
#
# Links (override with LAN_RTT_MS, LAN_MBIT, WAN_RTT_MS, WAN_MBIT):
#   LAN: 0.2 ms round trip, 10 Gbit/s;  WAN: 40 ms round trip, 100 Mbit/s.
#
# Emulation, chosen automatically (or QMPC_BENCH_MODE=netns|proxy):
#   netns: as root with `ip netns` and the kernel's sch_netem: one network namespace per party
#          and one for the client, joined by veth pairs to a bridge in another namespace; each
#          host's egress has `tc netem delay RTT/2 rate R`. Addresses 10.213.0.0/24 exist only
#          inside these namespaces, which the script deletes at exit.
#   proxy: otherwise: every party on 127.0.0.1 behind tests/bench/delayproxy (a user-space
#          link with RTT/2 delay per direction and rate R), parties started with --listen.
# Everything is bounded: each inference has a 10-minute limit, parties are killed by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
MODELS="${MODELS:-$ROOT/../shared/models/coral/mobilenet_v1_0.25_128_quant.tflite}"
REPS="${REPS:-3}"
BATCHES="${BATCHES:-1}"
CLIENTS="${CLIENTS:-1}"
PASSES="${PASSES:-1}"
SETTINGS="${SETTINGS:-LAN WAN}"
OUT="${OUT:-$ROOT/tests/bench/netem_results.md}"
LAN_RTT_MS="${LAN_RTT_MS:-0.2}"; LAN_MBIT="${LAN_MBIT:-10000}"
WAN_RTT_MS="${WAN_RTT_MS:-40}"; WAN_MBIT="${WAN_MBIT:-100}"
PY="${PY:-$ROOT/.venv/bin/python}"

say() { echo "netem.sh: $*" >&2; }

models=()
for m in $MODELS; do
	if [ -f "$m" ]; then models+=("$m"); else say "skipping absent model $m"; fi
done
if [ "${#models[@]}" -eq 0 ]; then
	echo "netem.sh: SKIPPED: no model found (the MobileNets are in ../shared/models)"
	exit 0
fi

TMP="$(mktemp -d /tmp/qmpc-bench.XXXXXX)"
PIDS=()
NETNS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	for n in "${NETNS[@]:-}"; do [ -n "$n" ] && ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

say "building qmpc and delayproxy"
if [ -n "${QMPC_BIN:-}" ]; then cp "$QMPC_BIN" "$TMP/qmpc"; else go build -o "$TMP/qmpc" ./gocore/cmd/qmpc; fi
if [ -n "${PROXY_BIN:-}" ]; then cp "$PROXY_BIN" "$TMP/delayproxy"; else go build -o "$TMP/delayproxy" ./tests/bench/delayproxy; fi
Q="$TMP/qmpc"

# cpu_ticks PID...: user+system CPU of each process in clock ticks (/proc/PID/stat fields 14, 15)
cpu_ticks() {
	local p
	for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0; done | paste -sd' '
}
TIMEWRAP=()
[ -x /usr/bin/time ] && TIMEWRAP=(/usr/bin/time -f "%U %S")
PASSES_FLAG=()
[ "$PASSES" != 1 ] && PASSES_FLAG=(--passes "$PASSES")

# --- choose the emulation ---
MODE="${QMPC_BENCH_MODE:-}"
REASON=""
if [ -z "$MODE" ]; then
	if [ "$(id -u)" != 0 ]; then
		MODE=proxy; REASON="not root"
	elif ! command -v ip >/dev/null || ! ip netns add qmpcb-probe 2>/dev/null; then
		MODE=proxy; REASON="ip netns unavailable"
	else
		if ip netns exec qmpcb-probe tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
			MODE=netns
		else
			MODE=proxy; REASON="tc netem unavailable (kernel without sch_netem)"
		fi
		ip netns del qmpcb-probe
	fi
fi
say "emulation: $MODE${REASON:+ ($REASON)}"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# set_addresses CONFIG ADDR0 ADDR1 ADDR2
set_addresses() {
	"$PY" - "$CLIENTS" "$PASSES" "$@" <<'PYEOF'
import json, sys
clients, path, addrs = int(sys.argv[1]), sys.argv[3], sys.argv[4:]
cfg = json.load(open(path))
for p, a in zip(cfg["parties"], addrs):
    p["address"] = a
cfg["timeouts"]["step"] = "120s"
cfg["max_sessions"] = max(4, clients * int(sys.argv[2]))
json.dump(cfg, open(path, "w"), indent=2)
PYEOF
}

# netns_setup RTT_MS MBIT: namespaces qmpcb-p0..2 (10.213.0.1-3), qmpcb-c (10.213.0.10)
netns_setup() {
	local half rate sw=qmpcb-sw
	half="$("$PY" -c "print($1/2)")ms"
	rate="$2mbit"
	ip netns add $sw; NETNS+=($sw)
	ip -n $sw link add br0 type bridge
	ip -n $sw link set br0 up
	local names=(p0 p1 p2 c) addrs=(10.213.0.1 10.213.0.2 10.213.0.3 10.213.0.10) i
	for i in 0 1 2 3; do
		local ns="qmpcb-${names[$i]}"
		ip netns add "$ns"; NETNS+=("$ns")
		ip link add "qb${names[$i]}" type veth peer name "qbs${names[$i]}"
		ip link set "qb${names[$i]}" netns "$ns"
		ip link set "qbs${names[$i]}" netns $sw
		ip -n $sw link set "qbs${names[$i]}" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "qb${names[$i]}" name eth0
		ip -n "$ns" addr add "${addrs[$i]}/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip netns exec "$ns" tc qdisc add dev eth0 root netem delay "$half" rate "$rate" limit 100000
	done
}

netns_teardown() {
	for n in qmpcb-p0 qmpcb-p1 qmpcb-p2 qmpcb-c qmpcb-sw; do ip netns del "$n" 2>/dev/null || true; done
	NETNS=()
}

# run_setting NAME RTT_MS MBIT MODEL: prints "| row |" lines
run_setting() {
	local name="$1" rtt="$2" mbit="$3" model="$4" dir="$TMP/$(basename "$4" .tflite)-$1"
	mkdir -p "$dir"
	"$Q" certs --out "$dir" --parties 3 >/dev/null
	local cfg="$dir/cluster.json" client=() launch=()
	local pp=() watch=() # watch: the parties' PIDs, then the proxy's (proxy mode)
	if [ "$MODE" = netns ]; then
		netns_setup "$rtt" "$mbit"
		set_addresses "$cfg" 10.213.0.1:7100 10.213.0.2:7100 10.213.0.3:7100
		launch=("ip netns exec qmpcb-p0" "ip netns exec qmpcb-p1" "ip netns exec qmpcb-p2")
		client=(ip netns exec qmpcb-c)
	else
		local l=() p=() maps=() i half
		for i in 0 1 2; do l+=("127.0.0.1:$(free_port)"); p+=("127.0.0.1:$(free_port)"); done
		set_addresses "$cfg" "${p[@]}"
		for i in 0 1 2; do maps+=(-map "${p[$i]}=${l[$i]}"); pp+=(--listen "${l[$i]}"); done
		half="$("$PY" -c "print($rtt/2)")ms"
		local pprof=()
		[ -n "${PROFILE_DIR:-}" ] && pprof=(-cpuprofile "$PROFILE_DIR/proxy-$name.prof")
		"$TMP/delayproxy" -delay "$half" -rate "$mbit" "${pprof[@]}" "${maps[@]}" >"$dir/proxy.log" 2>&1 &
		PIDS+=($!)
		proxypid=$!
		launch=("" "" "")
	fi
	local i
	for i in 0 1 2; do
		local extra=()
		[ "$i" = 0 ] && extra=(--model "$model")
		[ "$MODE" = proxy ] && extra+=("${pp[@]:$((2*i)):2}")
		[ -n "${PROFILE_DIR:-}" ] && extra+=(--cpuprofile "$PROFILE_DIR/party$i-$name.prof")
		# shellcheck disable=SC2086
		${launch[$i]} "$Q" party --config "$cfg" --id "$i" "${extra[@]}" >"$dir/party$i.log" 2>&1 &
		PIDS+=($!)
		watch+=($!)
	done
	[ "$MODE" = proxy ] && watch+=("$proxypid")
	# random inputs of the model's shape and type, and batches of them ([N, ...] for batch 1)
	local b
	for b in $BATCHES; do
	"$PY" - "$model" "$dir/x$b.npy" "$b" <<'PYEOF'
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
d = Interpreter(sys.argv[1]).get_input_details()[0]
info = np.iinfo(d["dtype"])
shape = [int(sys.argv[3])] + list(d["shape"][1:])
np.save(sys.argv[2], np.random.default_rng(0).integers(info.min, info.max + 1, shape, dtype=d["dtype"]))
PYEOF
	done
	cp "$dir/x$(echo $BATCHES | cut -d' ' -f1).npy" "$dir/x.npy"
	# wait until the cluster serves (bounded), then measure
	local ok=0 t
	for t in $(seq 1 60); do
		if timeout 600 "${client[@]}" "$Q" infer --config "$cfg" --input "$dir/x.npy" --output "$dir/y.npy" >/dev/null 2>&1; then ok=1; break; fi
		sleep 1
	done
	if [ "$ok" != 1 ]; then
		say "$name: the cluster did not serve; logs in $dir"; tail -5 "$dir"/party*.log >&2
		return 1
	fi
	local r
	for b in $BATCHES; do
	for r in $(seq 1 "$REPS"); do
		local s e k cp=() failed=0 c0 c1
		c0="$(cpu_ticks "${watch[@]}")"
		s="$(date +%s.%N)"
		for k in $(seq 1 "$CLIENTS"); do
			: >"$dir/ctime$b-$r-$k"
			timeout 600 "${client[@]}" "${TIMEWRAP[@]}" ${TIMEWRAP:+-o "$dir/ctime$b-$r-$k"} "$Q" infer ${PASSES_FLAG[@]+"${PASSES_FLAG[@]}"} --config "$cfg" --input "$dir/x$b.npy" --output "$dir/y$k.npy" --stats "$dir/stats$b-$r-$k.json" >/dev/null 2>>"$dir/client.log" &
			cp+=($!)
		done
		for k in "${cp[@]}"; do wait "$k" || failed=1; done
		e="$(date +%s.%N)"
		c1="$(cpu_ticks "${watch[@]}")"
		if [ "$failed" != 0 ]; then
			say "$name: a client failed (batch $b, run $r); see $dir/client.log"
			continue
		fi
		"$PY" - "$dir/stats$b-$r-1.json" "$s" "$e" "$name" "$rtt" "$mbit" "$(basename "$model")" "$r" "$b" "$CLIENTS" "$c0" "$c1" "$dir/ctime$b-$r-" "$PASSES" <<'PYEOF'
import json, os, sys
st = json.load(open(sys.argv[1]))
start, end, name, rtt, mbit, model, rep, batch, clients, c0, c1, ctime, passes = sys.argv[2:]
passes = min(int(passes), int(batch))
tick = os.sysconf("SC_CLK_TCK")
cpu = [(int(float(b)) - int(float(a))) / tick for a, b in zip(c0.split(), c1.split())]
cl = 0.0
for k in range(1, int(clients) + 1):
    try:
        cl += sum(float(v) for v in open(f"{ctime}{k}").read().split()[-2:])
    except (OSError, ValueError):
        cl = float("nan")
parties = "/".join(f"{c:.2f}" for c in cpu[:3])
proxy = f"{cpu[3]:.2f}" if len(cpu) > 3 else "-"
mb = [p["net"]["BytesSent"] / 1e6 for p in st]
rounds = max(p["net"]["Rounds"] for p in st)
hops = max(p["net"].get("Hops", 0) for p in st)
load = open("/proc/loadavg").read().split()[0]
party_s = max(p["seconds"] for p in st)
client_s = float(end) - float(start)
images = int(batch) * int(clients)
print(f"| {model} | {name} ({rtt} ms RTT, {mbit} Mbit/s) | {clients} | {batch} | {passes} | {rep} | {client_s:.2f} | {client_s / images:.2f} | {party_s:.2f} | {'/'.join(f'{m:.1f}' for m in mb)} | {rounds} | {hops} | {load} | {parties} | {cl:.2f} | {proxy} |")
PYEOF
	done
	done
	for i in "${PIDS[@]}"; do kill "$i" 2>/dev/null || true; done
	for i in "${PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
	PIDS=()
	[ "$MODE" = proxy ] && say "$name: $(tail -1 "$dir/proxy.log")"
	[ "$MODE" = netns ] && netns_teardown
	return 0
}

rows="$TMP/rows.md"
: >"$rows"
for model in "${models[@]}"; do
	case " $SETTINGS " in *" LAN "*) run_setting LAN "$LAN_RTT_MS" "$LAN_MBIT" "$model" | tee -a "$rows" ;; esac
	case " $SETTINGS " in *" WAN "*) run_setting WAN "$WAN_RTT_MS" "$WAN_MBIT" "$model" | tee -a "$rows" ;; esac
done

{
	echo "# rep3 MobileNetV1 between three party processes, LAN and WAN"
	echo
	echo "Produced by \`bash tests/bench/netem.sh\` on $(date -u +%Y-%m-%d) (commit $(git rev-parse --short HEAD 2>/dev/null || echo ?))."
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r); all three parties and the client on this one machine."
	echo "Emulation: $MODE${REASON:+ ($REASON)}. TLS 1.3 between all parties and to the client."
	echo
	echo "Seconds: client wall time (connect, share, compute, reconstruct; with several clients at once, each its own \`qmpc infer\` process and session, from the first start to the last end); per image: client seconds / (clients x batch) (a batch of N images is one secure pass, or PASSES passes at once, each over a part of the batch in its own session: \`qmpc infer --passes\`; MB then sums the passes, rounds and hops are the most of any pass); party seconds: the slowest party's inference (of client 1). MB: payload sent by each party (parties 0/1/2) in the inference (of client 1). Rounds: the most of any party. Hops: the most growth of any party's Lamport clock over the inference (one-way delays on the longest chain of messages; 0 from binaries whose TLS links do not carry the clock). Load: the 1-minute load average when the run ended (the machine may be shared). CPU s: user+system CPU seconds of each process over the run (/proc/PID/stat of parties 0/1/2 and of the delay proxy; the clients' from /usr/bin/time), on this one machine."
	echo
	echo "| model | link | clients | batch | passes | run | client s | client s per image | party s | MB sent per party | rounds | hops | load | CPU s parties | CPU s client | CPU s proxy |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows"
} >"$OUT"
cat "$OUT"
