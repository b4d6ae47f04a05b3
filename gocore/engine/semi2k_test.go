package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/semi2k"
	"github.com/qmpc/qmpc/gocore/net"
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

// offlineStatser is semi2k's offline accounting (cumulative).
type offlineStatser interface{ OfflineStats() semi2k.OfflineStats }

// BenchmarkMobileNetV1Semi2k measures one secure inference of MobileNetV1 0.25_128 with
// semi2k, both parties in this process over pipes, splitting the offline phase (making
// correlated randomness, drawn just in time) from the online phase: seconds (summed over
// the inference; the slower party's offline), MB sent per party, rounds, and the
// correlations used.
func BenchmarkMobileNetV1Semi2k(b *testing.B) {
	for _, protocol := range append([]string{}, semi2kProtocols...) {
		for _, m := range []string{"0.25_128"} {
			b.Run(protocol+"/"+m, func(b *testing.B) {
				benchSemi2k(b, protocol, sharedModel(b, "coral/mobilenet_v1_"+m+"_quant.tflite"))
			})
		}
	}
}

func benchSemi2k(b *testing.B, protocol string, g *model.Graph) {
	in := randomInputs(g, rand.New(rand.NewPCG(1, 1)))
	ps, err := local.New(protocol, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, p := range ps {
			p.Conn().Close()
		}
	}()
	parties := make([][]*Party, len(ps))
	err = local.Each(ps, func(p mpc.Protocol) error {
		chain, err := chainParties(p, []*model.Graph{g})
		if err != nil {
			return err
		}
		parties[p.ID()] = chain
		return chain[0].Setup()
	})
	if err != nil {
		b.Fatal(err)
	}
	type cost struct {
		net, off net.Stats
		offSec   float64
		used     semi2k.Demand
	}
	var costs [2]cost
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err = local.Each(ps, func(p mpc.Protocol) error {
			o := p.(offlineStatser)
			before, offBefore := p.Conn().Stats(), o.OfflineStats()
			e := parties[p.ID()][0]
			var mine []model.Value
			if p.ID() == 1 {
				mine = in
			}
			if _, err := e.Infer(mine); err != nil {
				return err
			}
			after, offAfter := p.Conn().Stats(), o.OfflineStats()
			costs[p.ID()] = cost{after.Sub(before), offAfter.Net.Sub(offBefore.Net), offAfter.Seconds - offBefore.Seconds,
				semi2k.Demand{
					ANDTriples:    offAfter.Used.ANDTriples - offBefore.Used.ANDTriples,
					DaBits:        offAfter.Used.DaBits - offBefore.Used.DaBits,
					TripleWords:   offAfter.Used.TripleWords - offBefore.Used.TripleWords,
					OneSidedOTs:   offAfter.Used.OneSidedOTs - offBefore.Used.OneSidedOTs,
					OneSidedWords: offAfter.Used.OneSidedWords - offBefore.Used.OneSidedWords,
				}}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	total := time.Since(start).Seconds() / float64(b.N)
	off := max(costs[0].offSec, costs[1].offSec)
	b.ReportMetric(total, "s/inference")
	b.ReportMetric(off, "s-offline")
	b.ReportMetric(total-off, "s-online")
	for i, c := range costs {
		b.ReportMetric(float64(c.off.BytesSent)/1e6, fmt.Sprintf("MB-offline/party%d", i))
		b.ReportMetric(float64(c.net.BytesSent-c.off.BytesSent)/1e6, fmt.Sprintf("MB-online/party%d", i))
	}
	b.ReportMetric(float64(costs[0].off.Rounds), "rounds-offline")
	b.ReportMetric(float64(costs[0].net.Rounds-costs[0].off.Rounds), "rounds-online")
	u := costs[0].used
	b.ReportMetric(float64(u.ANDTriples)/1e6, "M-ANDtriples")
	b.ReportMetric(float64(u.DaBits)/1e6, "M-daBits")
	b.ReportMetric(float64(u.TripleWords)/1e6, "M-tripleWords")
	b.ReportMetric(float64(u.OneSidedOTs)/1e6, "M-oneSidedOTs")
	b.ReportMetric(float64(u.OneSidedWords)/1e6, "M-oneSidedWords")
}
