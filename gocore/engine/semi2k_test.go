package engine

import (
	"math/rand/v2"
	"testing"
)

// semi2kProtocols are the two-party protocols the shared models are checked with: the
// OT-based offline phase and the trusted-dealer one.
var semi2kProtocols = []string{"semi2k-dealer"}

// TestSharedModelsSemi2k: the two-party protocol's output equals cleartext bit for bit on
// the real models (the larger ones only without -short).
func TestSharedModelsSemi2k(t *testing.T) {
	models := []string{
		"tflm/hello_world_int8.tflite",
		"tflm/person_detect.tflite",
		"coral/mobilenet_v1_0.25_128_quant.tflite",
		"coral_2020/mobilenet_v1_0.25_128_quant.tflite",
	}
	if !testing.Short() {
		models = append(models, "coral/mobilenet_v1_0.5_160_quant.tflite", "coral/mobilenet_v2_1.0_224_quant.tflite")
	}
	for _, m := range models {
		for _, p := range semi2kProtocols {
			t.Run(m+"/"+p, func(t *testing.T) {
				g := sharedModel(t, m)
				in := randomInputs(g, rand.New(rand.NewPCG(42, 1)))
				checkSecure(t, g, in, p)
			})
		}
	}
}
