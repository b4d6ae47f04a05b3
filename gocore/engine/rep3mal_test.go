package engine

import (
	"math/rand/v2"
	"testing"
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
			t.Logf("%s: %.2f s, %d/%d/%d bytes, %d rounds", m, res.Total.Seconds,
				res.Total.BytesSent[0], res.Total.BytesSent[1], res.Total.BytesSent[2], res.Total.Rounds)
		})
	}
}
