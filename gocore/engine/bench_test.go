package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// benchChain runs a chain of graphs (the output shares of one feed the next, nothing is
// revealed in between) under protocol, b.N inferences after one Setup, and reports the
// inference seconds, MB sent by each party and in all, and rounds.
func benchChain(b *testing.B, protocol string, graphs ...*model.Graph) {
	in := randomInputs(graphs[0], rand.New(rand.NewPCG(1, 1)))
	ps, err := local.New(protocol, 0)
	if err != nil {
		b.Fatal(err)
	}
	parties := make([][]*Party, len(ps))
	err = local.Each(ps, func(p mpc.Protocol) error {
		chain, err := chainParties(p, graphs)
		if err != nil {
			return err
		}
		for _, e := range chain {
			if err := e.Setup(); err != nil {
				return err
			}
		}
		parties[p.ID()] = chain
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	sent := make([]int64, len(ps))
	roundsOf := make([]int64, len(ps)) // the most of any party is reported
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err = local.Each(ps, func(p mpc.Protocol) error {
			before := p.Conn().Stats()
			chain := parties[p.ID()]
			var mine []model.Value
			if p.ID() == 1 {
				mine = in
			}
			shares := make([]mpc.AShare, 1)
			var vals []uint64
			if p.ID() == 1 {
				v, err := ClientInputs(graphs[0], mine)
				if err != nil {
					return err
				}
				if vals, err = ToRing(v[0]); err != nil {
					return err
				}
			}
			s, err := p.Input(1, vals, graphs[0].Tensors[chain[0].SharedInputs()[0]].NumElements())
			if err != nil {
				return err
			}
			shares[0] = s
			for _, e := range chain {
				if shares, err = e.InferShares(shares); err != nil {
					return err
				}
			}
			if _, err := p.Open(shares[0], 1); err != nil {
				return err
			}
			st := p.Conn().Stats().Sub(before)
			sent[p.ID()] = st.BytesSent  // each party writes its own slot
			roundsOf[p.ID()] = st.Rounds // each party writes its own slot
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/inference")
	var total int64
	for i, v := range sent {
		b.ReportMetric(float64(v)/1e6, fmt.Sprintf("MB/party%d", i))
		total += v
	}
	b.ReportMetric(float64(total)/1e6, "MB/total")
	b.ReportMetric(float64(slices.Max(roundsOf)), "rounds")
	for _, p := range ps {
		p.Conn().Close()
	}
}

// chainParties makes party p's engines for a chain of graphs (party 0 owns the models,
// party 1 is the client).
func chainParties(p mpc.Protocol, graphs []*model.Graph) ([]*Party, error) {
	var chain []*Party
	for _, g := range graphs {
		gp := g
		if p.ID() != 0 {
			gp = PublicGraph(g)
		}
		e, err := NewParty(p, gp, Options{Owner: 0, Client: 1})
		if err != nil {
			return nil, err
		}
		chain = append(chain, e)
	}
	return chain, nil
}

// BenchmarkMobileNetV1 measures secure inference of the paper's MobileNetV1 models from
// ../shared/models, all parties in this process over pipes (one image, exact mode), under
// rep3 and rep3-mal (issue 9's targets: 0.25_128 at most 0.8 s, the 1.0_224 chain at most
// 10 s). The first inference of a run also pays for the process's fresh memory (page
// faults); -benchtime 1x measures that cold case, larger counts a serving process.
func BenchmarkMobileNetV1(b *testing.B) {
	for _, protocol := range []string{"rep3", "rep3-mal"} {
		for _, m := range []string{"0.25_128", "0.5_160", "0.75_192"} {
			b.Run(protocol+"/"+m, func(b *testing.B) {
				benchChain(b, protocol, sharedModel(b, "coral/mobilenet_v1_"+m+"_quant.tflite"))
			})
		}
		b.Run(protocol+"/1.0_224_chain", func(b *testing.B) {
			benchChain(b, protocol,
				sharedModel(b, "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"),
				sharedModel(b, "coral/mobilenet_quant_v1_224_head_layers.tflite"))
		})
	}
}

// BenchmarkMobileNetBatch measures one secure pass over a batch of N images of
// MobileNetV1 0.25_128 (rep3, all parties in this process over pipes, the weights shared
// once outside the timing) and reports images/s and the Go heap's peak in-use bytes per
// run (runtime.MemStats.HeapInuse sampled every 10 ms).
func BenchmarkMobileNetBatch(b *testing.B) {
	g := sharedModel(b, "coral/mobilenet_v1_0.25_128_quant.tflite")
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("rep3/N=%d", n), func(b *testing.B) {
			bg, c, err := NewBatches(g, nil).Get(n)
			if err != nil {
				b.Fatal(err)
			}
			in := make([]model.Value, 1)
			t := bg.Tensors[bg.Inputs[0]]
			in[0] = model.Value{Shape: t.Shape, DType: t.DType, Data: make([]byte, t.NumElements()*t.DType.Size())}
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
			b.ResetTimer()
			for range b.N {
				_, err := RunLocalWith("rep3", bg, c, in, Options{Owner: 0, Client: 1}, LocalOptions{Batch: n})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			<-done
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(peak.Load())/1e6, "peak-heap-MB")
		})
	}
}
