package engine

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/net"
)

// TestSharedModelsRep3Mal: the malicious three-party protocol's output equals cleartext
// bit for bit on the real models (every check passes when nobody cheats).
func TestSharedModelsRep3Mal(t *testing.T) {
	models := []string{
		"tflm/hello_world_int8.tflite",
		"tflm/person_detect.tflite",
		"coral/mobilenet_v1_0.25_128_quant.tflite",
	}
	for _, m := range models {
		t.Run(m, func(t *testing.T) {
			g := sharedModel(t, m)
			in := randomInputs(g, rand.New(rand.NewPCG(42, 1)))
			res := checkSecure(t, g, in, "rep3-mal")
			t.Logf("%s: %.2f s, %d/%d/%d bytes, %d rounds\n%s", m, res.Total.Seconds,
				res.Total.BytesSent[0], res.Total.BytesSent[1], res.Total.BytesSent[2], res.Total.Rounds, res.Table())
		})
	}
}

// TestMobileNetV1ChainRep3Mal: MobileNetV1 1.0_224 (extractor and head, TestMobileNetV1Chain)
// under rep3-mal equals the cleartext chain. Opt-in (QMPC_REP3MAL_CHAIN=1): it takes
// minutes on a shared 2-core machine. It logs the seconds, each party's bytes and the
// rounds (BENCHMARKS.md, rep3-mal session 6; CPU and peak memory from /usr/bin/time).
func TestMobileNetV1ChainRep3Mal(t *testing.T) {
	if os.Getenv("QMPC_REP3MAL_CHAIN") == "" {
		t.Skip("opt-in: QMPC_REP3MAL_CHAIN=1")
	}
	stats, elapsed := mobileNetV1Chain(t, "rep3-mal")
	var most, rounds int64
	for _, s := range stats {
		most, rounds = max(most, s.BytesSent), max(rounds, s.Rounds)
	}
	t.Logf("rep3-mal MobileNetV1 1.0_224 chain: bit-exact, %.2f s, %.1f MB sent by the busiest party (%d/%d/%d bytes), %d rounds",
		elapsed.Seconds(), float64(most)/1e6, stats[0].BytesSent, stats[1].BytesSent, stats[2].BytesSent, rounds)
}

// runTampered runs g under the malicious protocol proto with tm (nil: none),
// deterministic randomness.
func runTampered(t *testing.T, proto string, g *model.Graph, c *Compiled, in []model.Value, tm *Tamper) (*Result, error) {
	t.Helper()
	return RunLocalWith(proto, g, c, in, Options{Owner: 0, Client: 1},
		LocalOptions{Tamper: tm, MessageSizes: tm == nil, Rand: func(id int) io.Reader { return rand.NewChaCha8([32]byte{byte(id), 3}) }})
}

// randomMessage picks a message uniformly among all messages of all parties of the clean
// run res: its sender p and its index k among p's messages.
func randomMessage(r *rand.Rand, res *Result) (p, k int) {
	var total int64
	for _, m := range res.Messages {
		total += m
	}
	i := r.Int64N(total)
	for i >= res.Messages[p] {
		i -= res.Messages[p]
		p++
	}
	return p, int(i)
}

// words is the number of 64-bit words of message k of party p (at least 1).
func words(res *Result, p, k int) int { return max(int(res.MessageSizes[p][k])/8, 1) }

// tamperOutcome runs one tampered inference and classifies it: "detected" (errs.Cheating),
// "unchanged" (the tamper altered nothing), or a failure message.
func tamperOutcome(t *testing.T, proto string, g *model.Graph, c *Compiled, in []model.Value, want []byte, tm *Tamper) string {
	res, err := runTampered(t, proto, g, c, in, tm)
	fired := tm.Fired
	switch {
	case err != nil && errs.KindOf(err) == errs.Cheating:
		return "detected"
	case err != nil:
		return fmt.Sprintf("error that is not a cheating report: %v", err)
	case !fired:
		return "unchanged"
	case bytes.Equal(res.Outputs[0].Data, want):
		// e.g. an in-place change of the party's own PRG key: a different random key,
		// used consistently, is not a deviation that matters.
		return "altered, undetected, output unchanged"
	}
	return "altered, undetected, WRONG OUTPUT"
}

// tamperModel is the small convolutional model of the tamper tests, compiled, with its
// input and an untampered run of proto (message sizes recorded).
func tamperModel(t *testing.T, proto string) (*model.Graph, *Compiled, []model.Value, *Result) {
	t.Helper()
	g, c, in, _ := tinyModel(t)
	clean, err := runTampered(t, proto, g, c, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g, c, in, clean
}

// TestRep3MalTamperEveryMessage: on a small convolutional model, every message of every
// party (protocol set-up, weight sharing, input, every layer's products and conversions,
// the checks' triples, coin, openings, hashes and verdicts, the opening to the client) is
// altered by a bit flip; every fifth also by an added offset, a replay of the party's
// previous message to the same peer, and an in-place offset (a consistent-looking but
// wrong replicated component). Every altered run must end in errs.Cheating.
func TestRep3MalTamperEveryMessage(t *testing.T) { tamperEveryMessage(t, "rep3-mal") }

// tamperEveryMessage is TestRep3MalTamperEveryMessage for the malicious protocol proto.
func tamperEveryMessage(t *testing.T, proto string) {
	g, c, in, clean := tamperModel(t, proto)
	want := clean.Outputs[0].Data
	counts := map[string]int{}
	for p := range clean.Messages {
		for k := range int(clean.Messages[p]) {
			specs := []net.Tamper{{Message: k, Word: k % words(clean, p, k), Xor: 1 << (k % 64)}}
			if k%5 == 0 {
				specs = append(specs, net.Tamper{Message: k, Add: 0x9e3779b97f4a7c15},
					net.Tamper{Message: k, Replay: 1}, net.Tamper{Message: k, Add: 1 << 40, InPlace: true})
			}
			for _, s := range specs {
				oc := tamperOutcome(t, proto, g, c, in, want, &Tamper{Party: p, Spec: s})
				counts[oc]++
				if oc != "detected" && oc != "unchanged" && !(s.InPlace && oc == "altered, undetected, output unchanged") {
					t.Errorf("party %d, %v: %s", p, s, oc)
				}
			}
		}
	}
	t.Logf("messages per party %v: %v", clean.Messages, counts)
}

// TestRep3MalRandomTamperSweep: random (party, message, word, xor) over all messages of a
// small model; zero undetected changes. QMPC_TAMPER_SWEEP sets the number of runs (the
// 10,000-run sweep of BENCHMARKS.md); CI runs 300.
func TestRep3MalRandomTamperSweep(t *testing.T) { randomTamperSweep(t, "rep3-mal") }

// randomTamperSweep is TestRep3MalRandomTamperSweep for the malicious protocol proto.
func randomTamperSweep(t *testing.T, proto string) {
	runs := 300
	if s := os.Getenv("QMPC_TAMPER_SWEEP"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		runs = n
	}
	g, c, in, clean := tamperModel(t, proto)
	want := clean.Outputs[0].Data
	r := rand.New(rand.NewPCG(11, 13))
	counts := map[string]int{}
	for range runs {
		p, k := randomMessage(r, clean)
		s := net.Tamper{Message: k, Word: r.IntN(words(clean, p, k)), Xor: r.Uint64() | 1}
		oc := tamperOutcome(t, proto, g, c, in, want, &Tamper{Party: p, Spec: s})
		counts[oc]++
		if oc != "detected" && oc != "altered, undetected, output unchanged" {
			t.Errorf("party %d, %v: %s", p, s, oc)
		}
	}
	t.Logf("%d random tampers over %v messages: %v", runs, clean.Messages, counts)
}
