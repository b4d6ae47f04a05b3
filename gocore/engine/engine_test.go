package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/qnn"
)

var protocols = []string{"plain", "rep3", "semi2k", "rep3-mal", "spdz2k-dealer"}

// randomInputs draws inputs over each input type's full range (float inputs: uniform in a
// range wider than the quantized one, so that clamping is exercised).
func randomInputs(g *model.Graph, r *rand.Rand) []model.Value {
	var in []model.Value
	for _, t := range g.Inputs {
		tt := g.Tensors[t]
		n := tt.NumElements()
		v := model.Value{Shape: tt.Shape, DType: tt.DType, Data: make([]byte, n*tt.DType.Size())}
		switch tt.DType {
		case model.Float32:
			for i := 0; i < n; i++ {
				binary.LittleEndian.PutUint32(v.Data[4*i:], math.Float32bits(float32(r.Float64()*6-3)))
			}
		default:
			for i := range v.Data {
				v.Data[i] = byte(r.Uint32())
			}
		}
		in = append(in, v)
	}
	return in
}

func checkSecure(t *testing.T, g *model.Graph, in []model.Value, protocol string) *Result {
	t.Helper()
	want, err := qnn.Run(g, in)
	if err != nil {
		t.Fatalf("qnn.Run: %v", err)
	}
	res, err := RunLocal(protocol, g, in, Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatalf("RunLocal(%s): %v", protocol, err)
	}
	if len(res.Outputs) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", protocol, len(res.Outputs), len(want))
	}
	for i := range want {
		if res.Outputs[i].DType != want[i].DType || !slices.Equal(res.Outputs[i].Shape, want[i].Shape) {
			t.Fatalf("%s output %d: %v%v, want %v%v", protocol, i, res.Outputs[i].DType, res.Outputs[i].Shape, want[i].DType, want[i].Shape)
		}
		if !bytes.Equal(res.Outputs[i].Data, want[i].Data) {
			diff := 0
			for j := range want[i].Data {
				if res.Outputs[i].Data[j] != want[i].Data[j] {
					diff++
				}
			}
			t.Fatalf("%s output %d differs from the cleartext evaluator in %d of %d bytes", protocol, i, diff, len(want[i].Data))
		}
	}
	return res
}

// TestAllOps runs every op kind of the IR, uint8 per-tensor and int8 per-channel, through
// every protocol and compares with the cleartext evaluator bit for bit.
func TestAllOps(t *testing.T) {
	for _, dt := range []model.DType{model.Uint8, model.Int8} {
		for seed := uint64(1); seed <= 3; seed++ {
			g := tflitetest.AllOps(dt, seed)
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(seed, 7))
			for _, p := range protocols {
				t.Run(dt.String()+"/"+p, func(t *testing.T) {
					checkSecure(t, g, randomInputs(g, r), p)
				})
			}
		}
	}
}

func sharedModel(t testing.TB, rel string) *model.Graph {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "models", rel)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared model %s not available (%v): skipped", rel, err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return g
}

// TestSharedModels: real third-party models, secure output equals cleartext bit for bit.
func TestSharedModels(t *testing.T) {
	models := []string{
		"tflm/hello_world_int8.tflite",
		"tflm/person_detect.tflite",
		"coral/mobilenet_v1_0.25_128_quant.tflite",
		"coral_2020/mobilenet_v1_0.25_128_quant.tflite",
	}
	if !testing.Short() {
		models = append(models, "coral/mobilenet_v1_0.5_160_quant.tflite", "coral/mobilenet_v1_0.75_192_quant.tflite",
			"coral/mobilenet_v2_1.0_224_quant.tflite", "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite")
	}
	for _, m := range models {
		t.Run(m, func(t *testing.T) {
			g := sharedModel(t, m)
			r := rand.New(rand.NewPCG(42, 1))
			in := randomInputs(g, r)
			checkSecure(t, g, in, "rep3")
		})
	}
}

// TestArgmax: the client learns only the index of the largest logit.
func TestArgmax(t *testing.T) {
	g := tflitetest.AllOps(model.Uint8, 5)
	in := randomInputs(g, rand.New(rand.NewPCG(5, 5)))
	trace, err := qnn.RunTrace(g, in)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := makePlan(g)
	if err != nil {
		t.Fatal(err)
	}
	logits := trace[pl.reveal[0]]
	best, bestI := -1, 0
	for i, b := range logits.Data {
		if int(b) > best {
			best, bestI = int(b), i
		}
	}
	for _, p := range protocols {
		res, err := RunLocal(p, g, in, Options{Owner: 0, Client: 1, Reveal: RevealArgmax})
		if err != nil {
			t.Fatal(err)
		}
		got := int32(binary.LittleEndian.Uint32(res.Outputs[0].Data))
		if len(res.Outputs) != 1 || got != int32(bestI) {
			t.Fatalf("%s argmax = %d, want %d (logits %v)", p, got, bestI, logits.Data)
		}
	}
}

// recordConn keeps every message a party receives.
type recordConn struct {
	net.Conn
	mu   sync.Mutex
	recv [][]byte
}

func (c *recordConn) Recv(from int) ([]byte, error) {
	b, err := c.Conn.Recv(from)
	c.mu.Lock()
	c.recv = append(c.recv, append([]byte(nil), b...))
	c.mu.Unlock()
	return b, err
}

// TestMobileNetV1Chain: the full MobileNetV1 1.0_224 (the embedding extractor followed by
// the head layers, the shares of the seam never opened) equals the cleartext chain.
func TestMobileNetV1Chain(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	mobileNetV1Chain(t, "rep3")
}

// mobileNetV1Chain runs TestMobileNetV1Chain under proto and returns every party's
// traffic and the time of the secure run (input, layers, opening to the client).
func mobileNetV1Chain(t *testing.T, proto string) ([]net.Stats, time.Duration) {
	ext := sharedModel(t, "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite")
	head := sharedModel(t, "coral/mobilenet_quant_v1_224_head_layers.tflite")
	in := randomInputs(ext, rand.New(rand.NewPCG(8, 8)))
	mid, err := qnn.Run(ext, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := qnn.Run(head, mid)
	if err != nil {
		t.Fatal(err)
	}
	var got []model.Value
	stats := make([]net.Stats, 3)
	start := time.Now()
	err = local.Run(proto, 0, func(p mpc.Protocol) error {
		parties, err := chainParties(p, []*model.Graph{ext, head})
		if err != nil {
			return err
		}
		var vals []uint64
		if p.ID() == 1 {
			if vals, err = ToRing(in[0]); err != nil {
				return err
			}
		}
		x, err := p.Input(1, vals, ext.Tensors[ext.Inputs[0]].NumElements())
		if err != nil {
			return err
		}
		shares := []mpc.AShare{x}
		for _, e := range parties {
			if shares, err = e.InferShares(shares); err != nil {
				return err
			}
		}
		out, err := parties[1].reveal(shares)
		if p.ID() == 1 {
			got = out
		}
		stats[p.ID()] = p.Conn().Stats()
		return err
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].Data, want[0].Data) {
		t.Fatalf("secure MobileNetV1 1.0_224 chain under %s differs from the cleartext chain", proto)
	}
	return stats, elapsed
}

// TestCancel: a cancelled run stops every party with a cancelled error, not a hang.
func TestCancel(t *testing.T) {
	g := sharedModel(t, "coral/mobilenet_v1_0.25_128_quant.tflite")
	in := randomInputs(g, rand.New(rand.NewPCG(1, 2)))
	pr := &Progress{}
	go func() {
		for {
			if d, _ := pr.Get(); d >= 3 {
				pr.Cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err := RunLocal("rep3", g, in, Options{Owner: 0, Client: 1, Progress: pr})
	if errs.KindOf(err) != errs.Cancelled {
		t.Fatalf("got %v, want a cancelled error", err)
	}
}
