package engine

import (
	"math/rand/v2"
	"testing"
)

// TestSharedModelsSpdz2k: spdz2k's online phase (with the simulated trusted dealer)
// equals cleartext bit for bit on the real models, every MAC check passing.
func TestSharedModelsSpdz2k(t *testing.T) {
	models := []string{
		"tflm/hello_world_int8.tflite",
		"tflm/person_detect.tflite",
		"coral/mobilenet_v1_0.25_128_quant.tflite",
	}
	if testing.Short() {
		models = models[:2]
	}
	for _, m := range models {
		t.Run(m, func(t *testing.T) {
			g := sharedModel(t, m)
			in := randomInputs(g, rand.New(rand.NewPCG(42, 1)))
			res := checkSecure(t, g, in, "spdz2k-dealer")
			t.Logf("%s: %.2f s (offline %.2f s), %d/%d bytes sent online, %d rounds", m, res.Total.Seconds, res.Offline.Seconds,
				res.Total.BytesSent[0], res.Total.BytesSent[1], res.Total.Rounds)
			if testing.Verbose() {
				t.Log("\n" + res.Table())
			}
		})
	}
}

// TestSpdz2kTamperEveryMessage: every message of both parties (set-up, weight and input
// sharing, Beaver openings, A2B openings, AND masks, B2A masks, the checks' coin,
// commitments and verdicts, the opening to the client) altered by a bit flip, and every
// fifth also by an offset, a replay and an in-place change, ends in errs.Cheating.
func TestSpdz2kTamperEveryMessage(t *testing.T) { tamperEveryMessage(t, "spdz2k-dealer") }

// TestSpdz2kRandomTamperSweep: random (party, message, word, xor), zero undetected output
// changes (QMPC_TAMPER_SWEEP sets the number of runs; CI runs 300).
func TestSpdz2kRandomTamperSweep(t *testing.T) { randomTamperSweep(t, "spdz2k-dealer") }
