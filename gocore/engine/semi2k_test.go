package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
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
// the real models: with the trusted dealer on all (the larger ones only without -short),
// with the OT offline phase on the small models and MobileNetV1 0.25_128.
func TestSharedModelsSemi2k(t *testing.T) {
	models := []string{
		"tflm/hello_world_int8.tflite",
		"tflm/person_detect.tflite",
		"coral/mobilenet_v1_0.25_128_quant.tflite",
	}
	if !testing.Short() {
		models = append(models, "coral/mobilenet_v1_0.5_160_quant.tflite", "coral/mobilenet_v2_1.0_224_quant.tflite")
	}
	for _, m := range models {
		for _, pre := range semi2kPreprocessing {
			if pre == mpc.PreprocessingDefault && m != "coral/mobilenet_v1_0.25_128_quant.tflite" && !strings.HasPrefix(m, "tflm/") {
				// The OT offline phase takes ~30 s of CPU per MobileNetV1 0.25_128 and grows
				// with the model; the online phase is the same code with either source.
				continue
			}
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

// BenchmarkMobileNetV1Semi2k measures one secure inference of MobileNetV1 with semi2k
// (and checks it bit for bit against the cleartext evaluator),
// both parties in this process over pipes, and splits the offline phase (correlated
// randomness) from the online phase: seconds, MB sent per party, rounds. Setup (base
// OTs, weights: none are sent) is excluded.
func BenchmarkMobileNetV1Semi2k(b *testing.B) {
	for _, pre := range semi2kPreprocessing {
		for _, m := range []string{"0.25_128", "0.5_160", "0.75_192"} {
			b.Run(preName(pre)+"/"+m, func(b *testing.B) {
				g := sharedModel(b, "coral/mobilenet_v1_"+m+"_quant.tflite")
				in := randomInputs(g, rand.New(rand.NewPCG(1, 1)))
				var res *Result
				for i := 0; i < b.N; i++ {
					res = runSemi2k(b, g, in, pre)
				}
				// The benchmark is also the bit-exactness check of the larger models with
				// the OT offline phase (too long for the test suite).
				want, err := qnn.Run(g, in)
				if err != nil {
					b.Fatal(err)
				}
				for i := range want {
					if !bytes.Equal(res.Outputs[i].Data, want[i].Data) {
						b.Fatalf("output %d differs from the cleartext evaluator", i)
					}
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
				// Where the time and bytes go, by layer kind (party 1 is the client, which
				// sends the one-sided products' correlations).
				type agg struct {
					offS, onS     float64
					offMB, onMB   [2]float64
					layers, elems int
				}
				kinds := map[string]*agg{}
				var order []string
				for _, l := range res.Layers {
					a, ok := kinds[l.Kind]
					if !ok {
						a = &agg{}
						kinds[l.Kind] = a
						order = append(order, l.Kind)
					}
					o := l.Online()
					a.layers++
					a.elems += l.Elements
					a.offS += l.Offline.Seconds
					a.onS += o.Seconds
					for i := range 2 {
						a.offMB[i] += float64(l.Offline.BytesSent[i]) / 1e6
						a.onMB[i] += float64(o.BytesSent[i]) / 1e6
					}
				}
				for _, k := range order {
					a := kinds[k]
					b.Logf("%-18s %2d layers %7d outputs: offline %6.2f s, MB sent %7.1f / %7.1f; online %5.3f s, MB sent %5.1f / %5.1f",
						k, a.layers, a.elems, a.offS, a.offMB[0], a.offMB[1], a.onS, a.onMB[0], a.onMB[1])
				}
			})
		}
	}
}
