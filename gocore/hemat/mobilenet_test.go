package hemat_test

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/hemat"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/spdz2k"
	"github.com/qmpc/qmpc/gocore/ring128"
)

func sharedModel(t testing.TB, rel string) *model.Graph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "models", rel))
	if err != nil {
		t.Skipf("shared model %s not available (%v): skipped", rel, err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return g
}

// layer is one linear layer's triple: a matrix product or a depthwise convolution.
type layer struct {
	name  string
	macs  int64
	mm    *hemat.MatMulCost
	dw    *hemat.Depthwise
	count int64
}

// linearLayers returns the triples spdz2k's engine path asks for in one inference of g
// (the counted demand's MatMul and GatherMulSum calls), the depthwise geometry taken
// from the graph's depthwise convolutions (matched by output size and kernel).
func linearLayers(t testing.TB, p *hemat.Params, g *model.Graph) ([]layer, *mpc.Demand) {
	c, err := engine.Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Demand(g, 2, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	var dws []hemat.Depthwise
	for _, op := range g.Ops {
		if op.Kind != model.OpDepthwiseConv2D {
			continue
		}
		in, f, out := g.Tensors[op.Inputs[0]].Shape, g.Tensors[op.Inputs[1]].Shape, g.Tensors[op.Outputs[0]].Shape
		dw := hemat.Depthwise{H: in[1], W: in[2], C: out[3], KH: f[1], KW: f[2], Stride: op.StrideH, OH: out[1], OW: out[2]}
		if op.Padding == model.PadSame {
			dw.PadT = max((dw.OH-1)*dw.Stride+dw.KH-dw.H, 0) / 2
			dw.PadL = max((dw.OW-1)*dw.Stride+dw.KW-dw.W, 0) / 2
		}
		dws = append(dws, dw)
	}
	var ls []layer
	for _, call := range d.Infer.Calls {
		switch call.Op {
		case "MatMul":
			mc, err := p.BestMatMul(call.M, call.K, call.N, 2)
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, layer{name: fmt.Sprintf("matmul [%d,%d]x[%d,%d]", call.M, call.K, call.K, call.N), macs: int64(call.M * call.K * call.N), mm: &mc, count: call.Count})
		case "GatherMulSum":
			// identical calls are merged: take Count depthwise convolutions of that size
			// (their geometry may differ: 64x64x8 and 32x32x32 both give 32768 outputs)
			for n := int64(0); n < call.Count; n++ {
				hit := false
				for i := range dws {
					if dws[i].OH*dws[i].OW*dws[i].C == call.N && dws[i].KH*dws[i].KW == call.K {
						dw := dws[i]
						dws = append(dws[:i], dws[i+1:]...)
						ls = append(ls, layer{name: fmt.Sprintf("depthwise %dx%dx%d s%d", dw.H, dw.W, dw.C, dw.Stride), macs: dw.MACs(), dw: &dw, count: 1})
						hit = true
						break
					}
				}
				if !hit {
					t.Fatalf("GatherMulSum of %d outputs in groups of %d (x%d): no depthwise convolution of that size", call.N, call.K, call.Count)
				}
			}
		case "Mul", "MulSum":
			t.Logf("also %d x %s n=%d k=%d (elementwise triples, not linear layers)", call.Count, call.Op, call.N, call.K)
		}
	}
	return ls, d.Infer
}

// TestMobileNetLinearLayers prints the linear layers' triples of MobileNetV1 0.25_128 and
// the HE plan's polynomials and bytes per party (an upload and two responses: the
// sacrificed triple shares the encrypted factor), beside the OT Π_Triple's prediction.
func TestMobileNetLinearLayers(t *testing.T) {
	p, err := hemat.NewParams()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"coral/mobilenet_v1_0.25_128_quant.tflite", "coral/mobilenet_v1_0.5_160_quant.tflite"} {
		g := sharedModel(t, name)
		ls, demand := linearLayers(t, p, g)
		var macs, bytes, otBytes, elems, outs int64
		for _, l := range ls {
			var b, xp, wp, op, prods int64
			var desc string
			var nA, nB, nC int64
			switch {
			case l.mm != nil:
				c := l.mm
				b = int64(c.Upload + 2*c.Response)
				xp, wp, op, prods = int64(c.XPolys), int64(c.WPolys), int64(c.OutPolys), int64(c.Products)
				desc = fmt.Sprintf("blocks %dx%dx%d tr=%v", c.MW, c.KW, c.NW, c.Transpose)
				nA, nB, nC = int64(c.M*c.K), int64(c.K*c.N), int64(c.M*c.N)
				// Π_Triple: tau = 384 OTs of n (Z_2^128) per entry of A, 4 bytes each
				otBytes += l.count * (nA*384*(16*int64(c.N)+4) + (2*nA+nB+2*nC)*772)
			default:
				pl, err := hemat.DepthwisePlan(*l.dw)
				if err != nil {
					t.Fatal(err)
				}
				b = int64(p.UploadBytes(pl) + 2*p.ResponseBytes(pl))
				xp, wp, op, prods = int64(pl.XPolys), int64(pl.WPolys), int64(pl.OutPolys()), int64(pl.Products)
				desc = pl.Name
				nA, nB, nC = int64(pl.LeftLen), int64(pl.RightLen), int64(pl.OutLen)
				units := l.macs // gather triples: one unit per multiply-accumulate, l = 1
				otBytes += units*384*(16+4) + (2*units+units+2*nC)*772
			}
			macs += l.count * l.macs
			bytes += l.count * b
			outs += l.count * 2 * op // the triple's and the sacrifice's response
			elems += l.count * (2*nA + nB + 2*nC)
			t.Logf("%-32s x%d  %9d MACs  X %4d W %4d out %4d prod %5d  %8.2f MB  %5.1f B/MAC  %s",
				l.name, l.count, l.macs, xp, wp, op, prods, float64(b)/1e6, float64(b)/float64(l.macs), desc)
		}
		t.Logf("%s: %d linear layers, %d MACs; HE products %.3f GB per party (%.1f B/MAC); authenticating A, B, C, A', C' (%d elements, 772 B each) %.2f GB; OT Π_Triple (this test's model of its costs) %.1f GB",
			name, len(ls), macs, float64(bytes)/1e9, float64(bytes)/float64(macs), elems, float64(elems)*772/1e9, float64(otBytes)/1e9)
		t.Logf("%s: %d response polynomials under each party's public key per inference: %d inferences per key pair (at most %d response polynomials)",
			name, outs, hemat.MaxResponses/outs, hemat.MaxResponses)
		// spdz2k's own prediction of the OT offline phase, whole and for the linear calls only
		all, err := spdz2k.PredictOffline(demand)
		if err != nil {
			t.Fatal(err)
		}
		lin := &mpc.Demand{}
		for _, c := range demand.Calls {
			if c.Op == "MatMul" || c.Op == "GatherMulSum" {
				lin.Add(c, c.Count)
			}
		}
		linCost, err := spdz2k.PredictOffline(lin)
		if err != nil {
			t.Fatal(err)
		}
		he := all.Total() - linCost.Total() + float64(bytes) + float64(elems)*772
		t.Logf("spdz2k.PredictOffline (OT): %.1f GB (%v); its linear triples %.1f GB (%v); with HE products and COPEe authentication instead: %.1f GB per party",
			all.Total()/1e9, all, linCost.Total()/1e9, linCost, he/1e9)
	}
}

// crossTimes runs one direction of a sacrificed triple's products for plan pl: party i
// encrypts its (shared) factor, party j answers two products (the triple's and the
// sacrifice's plaintext factor), party i decrypts both. It returns the seconds of the
// encryptor (encrypt and decrypt) and of the multiplier, and the bytes each sent.
func crossTimes(b *testing.B, p *hemat.Params, pl *hemat.Plan, ski *hemat.SecretKey, pk *hemat.PublicKey, seed uint64) (encS, mulS float64, encB, mulB int) {
	r := rand.New(rand.NewPCG(seed, 1))
	x := ring128.Make(pl.EncLen())
	w := [2]ring128.Vec{ring128.Make(pl.PlainLen()), ring128.Make(pl.PlainLen())}
	for _, v := range []ring128.Vec{x, w[0], w[1]} {
		for i := range v.Lo {
			v.Lo[i], v.Hi[i] = r.Uint64(), r.Uint64()
		}
	}
	t0 := time.Now()
	up, err := ski.Encrypt(pl, x, crand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	encS += time.Since(t0).Seconds()
	encB += len(up)
	t0 = time.Now()
	u, err := p.ReadUpload(pl, pk, up)
	if err != nil {
		b.Fatal(err)
	}
	mulS += time.Since(t0).Seconds()
	for k := range w {
		t0 = time.Now()
		resp, _, err := p.Respond(u, w[k], crand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		mulS += time.Since(t0).Seconds()
		mulB += len(resp)
		t0 = time.Now()
		if _, err := ski.Decrypt(pl, resp); err != nil {
			b.Fatal(err)
		}
		encS += time.Since(t0).Seconds()
	}
	return
}

// cpuSeconds is the process's user and system CPU time.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkMobileNetProducts runs the HE products of every linear layer of MobileNetV1
// 0.25_128 and 0.5_160 (both directions, the triple's and the sacrifice's product, both parties in
// this process, one after the other) and logs seconds and bytes per layer. Run with
// -benchtime 1x.
func BenchmarkMobileNetProducts(b *testing.B) {
	for _, name := range []string{"mobilenet_v1_0.25_128", "mobilenet_v1_0.5_160"} {
		b.Run(name, func(b *testing.B) { benchProducts(b, "coral/"+name+"_quant.tflite") })
	}
}

func benchProducts(b *testing.B, model string) {
	p, err := hemat.NewParams()
	if err != nil {
		b.Fatal(err)
	}
	g := sharedModel(b, model)
	ls, _ := linearLayers(b, p, g)
	var keys [2]struct {
		sk *hemat.SecretKey
		pk *hemat.PublicKey
	}
	for i := range keys {
		if keys[i].sk, keys[i].pk, err = p.KeyGen(crand.Reader); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		cpu0 := cpuSeconds(b)
		var cpu, bytes float64
		var macs int64
		for li, l := range ls {
			var pl *hemat.Plan
			if l.mm != nil {
				pl, err = l.mm.Plan()
			} else {
				pl, err = hemat.DepthwisePlan(*l.dw)
			}
			if err != nil {
				b.Fatal(err)
			}
			var s, sent [2]float64
			for rep := int64(0); rep < l.count; rep++ { // identical layers run l.count times
				for i := 0; i < 2; i++ {
					j := 1 - i
					es, ms, eb, mb := crossTimes(b, p, pl, keys[i].sk, keys[i].pk, uint64(li*2+i))
					s[i] += es
					s[j] += ms
					sent[i] += float64(eb)
					sent[j] += float64(mb)
				}
			}
			cpu += s[0] + s[1]
			bytes += sent[0]
			macs += l.count * l.macs
			b.Logf("%-28s x%d  steps' wall time party 0 %.2f s, party 1 %.2f s; sent %.2f / %.2f MB", l.name, l.count, s[0], s[1], sent[0]/1e6, sent[1]/1e6)
		}
		used := cpuSeconds(b) - cpu0
		b.Logf("total: %d MACs, steps' wall time %.1f s (both parties, one after the other), process CPU %.1f s, %.3f GB sent per party (party 0)", macs, cpu, used, bytes/1e9)
		b.ReportMetric(cpu, "step-s")
		b.ReportMetric(used, "cpu-s")
		b.ReportMetric(bytes/1e9, "GB/party")
	}
}
