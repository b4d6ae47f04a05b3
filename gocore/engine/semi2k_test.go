package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// semi2kPreprocessing are the two offline phases of semi2k the shared models are checked
// with: the OT-based one (the default) and the trusted dealer.
var semi2kPreprocessing = []string{mpc.PreprocessingDefault, mpc.PreprocessingDealer}

func preName(pre string) string {
	if pre == "" {
		return "ot"
	}
	return pre
}

// runSemi2k runs g on in with semi2k and the given preprocessing.
func runSemi2k(t testing.TB, g *model.Graph, in []model.Value, pre string) *Result {
	t.Helper()
	c, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunLocalWith("semi2k", g, c, in, Options{Owner: 0, Client: 1}, LocalOptions{Preprocessing: pre})
	if err != nil {
		t.Fatalf("semi2k (%s): %v", preName(pre), err)
	}
	return res
}

// TestSharedModelsSemi2k: the two-party protocol's output equals cleartext bit for bit on
// the real models, with both offline phases (the larger models only without -short).
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
		for _, pre := range semi2kPreprocessing {
			t.Run(m+"/"+preName(pre), func(t *testing.T) {
				g := sharedModel(t, m)
				in := randomInputs(g, rand.New(rand.NewPCG(42, 1)))
				want, err := qnn.Run(g, in)
				if err != nil {
					t.Fatal(err)
				}
				res := runSemi2k(t, g, in, pre)
				if res.Preprocessing != pre {
					t.Fatalf("result labelled preprocessing %q, want %q", res.Preprocessing, pre)
				}
				for i := range want {
					if !bytes.Equal(res.Outputs[i].Data, want[i].Data) {
						t.Fatalf("output %d differs from the cleartext evaluator", i)
					}
				}
			})
		}
	}
}

// BenchmarkMobileNetV1Semi2k measures one secure inference of MobileNetV1 with semi2k,
// both parties in this process over pipes, and splits the offline phase (correlated
// randomness) from the online phase: seconds, MB sent per party, rounds. Setup (base
// OTs, weights: none are sent) is excluded.
func BenchmarkMobileNetV1Semi2k(b *testing.B) {
	for _, pre := range semi2kPreprocessing {
		for _, m := range []string{"0.25_128"} {
			b.Run(preName(pre)+"/"+m, func(b *testing.B) {
				g := sharedModel(b, "coral/mobilenet_v1_"+m+"_quant.tflite")
				in := randomInputs(g, rand.New(rand.NewPCG(1, 1)))
				var res *Result
				for i := 0; i < b.N; i++ {
					res = runSemi2k(b, g, in, pre)
				}
				off, on := res.Offline, res.Online
				b.ReportMetric(off.Seconds+on.Seconds, "s/inference")
				b.ReportMetric(off.Seconds, "s-offline")
				b.ReportMetric(on.Seconds, "s-online")
				for i := range off.BytesSent {
					b.ReportMetric(float64(off.BytesSent[i])/1e6, fmt.Sprintf("MB-offline/party%d", i))
					b.ReportMetric(float64(on.BytesSent[i])/1e6, fmt.Sprintf("MB-online/party%d", i))
				}
				b.ReportMetric(float64(off.Rounds), "rounds-offline")
				b.ReportMetric(float64(on.Rounds), "rounds-online")
			})
		}
	}
}
