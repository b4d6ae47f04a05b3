package qnn

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
)

// cpuTime is the process's user+system CPU time. The benchmarks report it per op
// ("cpu-ms/op") beside wall time: on a shared machine it is the steadier measure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/1e6/float64(b.N), "cpu-ms/op")
}

// sharedModels is ../shared/models seen from this package (the repository's sibling).
var sharedModels = filepath.Join("..", "..", "..", "shared", "models")

func loadPlan(b *testing.B, rel string) *Plan {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(sharedModels, rel))
	if err != nil {
		b.Skipf("shared model %s absent: %v", rel, err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPlan(g)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func randomInput(g *model.Graph, seed uint64) model.Value {
	t := g.Tensors[g.Inputs[0]]
	r := rand.New(rand.NewPCG(seed, 1))
	d := make([]byte, t.NumElements()*t.DType.Size())
	for i := range d {
		d[i] = byte(r.Uint32())
	}
	return model.Value{Shape: t.Shape, DType: t.DType, Data: d}
}

// BenchmarkMobileNetV1 runs the coral MobileNetV1 models end to end (1.0_224_chain is the
// embedding extractor followed by the head layers). Skipped without ../shared/models.
func BenchmarkMobileNetV1(b *testing.B) {
	cases := []struct {
		name  string
		files []string
	}{
		{"0.25_128", []string{"coral/mobilenet_v1_0.25_128_quant.tflite"}},
		{"0.5_160", []string{"coral/mobilenet_v1_0.5_160_quant.tflite"}},
		{"0.75_192", []string{"coral/mobilenet_v1_0.75_192_quant.tflite"}},
		{"1.0_224_chain", []string{"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
			"coral/mobilenet_quant_v1_224_head_layers.tflite"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var plans []*Plan
			for _, f := range c.files {
				plans = append(plans, loadPlan(b, f))
			}
			x := randomInput(plans[0].Graph(), 1)
			b.ResetTimer()
			c0 := cpuTime()
			defer reportCPU(b, c0)
			for range b.N {
				v := x
				for _, p := range plans {
					in := p.Graph().Tensors[p.Graph().Inputs[0]]
					v.Shape = in.Shape
					out, err := p.Run([]model.Value{v})
					if err != nil {
						b.Fatal(err)
					}
					v = out[0]
				}
			}
		})
	}
}

// convBench builds a prepared convolution on random data.
func convBench(kind model.OpKind, hw, cin, cout, k, stride int, dt model.DType) (*ConvParams, []int32) {
	r := rand.New(rand.NewPCG(7, 8))
	p := &ConvParams{Kind: kind, InDType: dt, Batch: 1, InH: hw, InW: hw, InC: cin, KH: k, KW: k,
		StrideH: stride, StrideW: stride, DilationH: 1, DilationW: 1, DepthMultiplier: 1, InZeroPoint: 3}
	p.OutH, p.OutW = (hw+stride-1)/stride, (hw+stride-1)/stride
	p.PadTop = computePadding(stride, 1, hw, k, p.OutH)
	p.PadLeft = p.PadTop
	switch kind {
	case model.OpDepthwiseConv2D:
		p.OutC = cin
		p.Weights = make([]int32, k*k*cin)
	case model.OpFullyConnected:
		p.InH, p.InW, p.OutH, p.OutW, p.KH, p.KW, p.OutC = 1, 1, 1, 1, 1, 1, cout
		p.Weights = make([]int32, cin*cout)
	default:
		p.OutC = cout
		p.Weights = make([]int32, cout*k*k*cin)
	}
	for i := range p.Weights {
		p.Weights[i] = int32(r.IntN(255)) - 127
	}
	p.Bias = make([]int32, p.OutC)
	p.Requant = Requant{Multiplier: make([]int32, p.OutC), Shift: make([]int, p.OutC), ActMin: 0, ActMax: 255, Sched: Uniform(RoundUp)}
	for o := range p.OutC {
		p.Requant.Multiplier[o], p.Requant.Shift[o] = QuantizeMultiplier(0.0007)
	}
	x := make([]int32, p.Batch*p.InH*p.InW*p.InC)
	for i := range x {
		x[i] = int32(r.IntN(256))
	}
	if err := p.init(); err != nil {
		panic(err)
	}
	return p, x
}

// BenchmarkConv: CONV_2D 3x3 stride 1 and 1x1 (pointwise), by input size and channels.
func BenchmarkConv(b *testing.B) {
	for _, c := range []struct{ hw, cin, cout, k int }{
		{56, 128, 128, 1}, {28, 256, 256, 1}, {14, 512, 512, 1}, {112, 32, 64, 1}, {56, 64, 64, 3},
	} {
		b.Run(fmt.Sprintf("hw=%d/cin=%d/cout=%d/k=%d", c.hw, c.cin, c.cout, c.k), func(b *testing.B) {
			p, x := convBench(model.OpConv2D, c.hw, c.cin, c.cout, c.k, 1, model.Uint8)
			y := make([]int32, p.OutH*p.OutW*p.OutC)
			macs := float64(p.OutH * p.OutW * p.OutC * p.KH * p.KW * p.InC)
			b.ResetTimer()
			defer reportCPU(b, cpuTime())
			for range b.N {
				p.Run(x, y)
			}
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkDepthwise: 3x3 DEPTHWISE_CONV_2D, by input size, channels and stride.
func BenchmarkDepthwise(b *testing.B) {
	for _, c := range []struct{ hw, c, s int }{{112, 32, 1}, {56, 128, 1}, {28, 256, 2}, {14, 512, 1}} {
		b.Run(fmt.Sprintf("hw=%d/c=%d/s=%d", c.hw, c.c, c.s), func(b *testing.B) {
			p, x := convBench(model.OpDepthwiseConv2D, c.hw, c.c, c.c, 3, c.s, model.Uint8)
			y := make([]int32, p.OutH*p.OutW*p.OutC)
			macs := float64(p.OutH * p.OutW * p.OutC * 9)
			b.ResetTimer()
			defer reportCPU(b, cpuTime())
			for range b.N {
				p.Run(x, y)
			}
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkFullyConnected: one row times a [cout, cin] matrix.
func BenchmarkFullyConnected(b *testing.B) {
	for _, c := range []struct{ cin, cout int }{{1024, 1001}, {256, 256}} {
		b.Run(fmt.Sprintf("cin=%d/cout=%d", c.cin, c.cout), func(b *testing.B) {
			p, x := convBench(model.OpFullyConnected, 1, c.cin, c.cout, 1, 1, model.Uint8)
			y := make([]int32, p.OutC)
			b.ResetTimer()
			for range b.N {
				p.Run(x, y)
			}
		})
	}
}
