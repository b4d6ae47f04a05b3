package inference

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	stdnet "net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/net/freeport"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestInferEqualsLocalRun: in-process parties over TLS on loopback, the digits model, every
// protocol of the registry that can serve an outside client (with -tags qmpctest, the
// registry's test-only toy too: nothing here names it); the client's output equals
// engine.RunLocal's (oracle: the local secure run, itself tested against the cleartext
// evaluator), and so do the per-layer bytes.
func TestInferEqualsLocalRun(t *testing.T) {
	g := digitsGraph(t)
	for _, spec := range registrytest.Protocols() {
		if !spec.OutsideClient() {
			continue
		}
		protocol, n := spec.Name, max(2, spec.DefaultParties)
		t.Run(protocol, func(t *testing.T) {
			c := startCluster(t, g, protocol, n)
			in := g.Tensors[g.Inputs[0]]
			for k := range 2 {
				x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
				for i := range x.Data {
					x.Data[i] = byte(i*7 + k*13)
				}
				res, err := Infer(context.Background(), c, []model.Value{x})
				if err != nil {
					t.Fatal(err)
				}
				local, err := engine.RunLocal(protocol, g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.Outputs[0].Data, local.Outputs[0].Data) {
					t.Fatalf("request %d: cluster %v, local %v", k, res.Outputs[0].Data, local.Outputs[0].Data)
				}
				sum := res.Summary()
				if len(sum.Layers) != len(local.Layers) {
					t.Fatalf("%d layers, local %d", len(sum.Layers), len(local.Layers))
				}
				for i, l := range sum.Layers {
					if l.Kind != "OUTPUT" && (l.Name != local.Layers[i].Name || l.Rounds != local.Layers[i].Rounds ||
						!equalInts(l.BytesSent, local.Layers[i].BytesSent)) {
						t.Errorf("layer %d: cluster %+v, local %+v", i, l, local.Layers[i])
					}
				}
			}
			// Batches of 3 and 5 in the same session (the weights shared once), then one
			// image again: every row equals the image alone.
			for _, bn := range []int{3, 5, 1} {
				var imgs []model.Value
				for k := range bn {
					x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
					for i := range x.Data {
						x.Data[i] = byte(i*5 + k*29 + bn)
					}
					imgs = append(imgs, x)
				}
				xb, err := model.Stack(imgs, in.Shape)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Infer(context.Background(), c, []model.Value{xb})
				if err != nil {
					t.Fatalf("batch of %d: %v", bn, err)
				}
				checkRows(t, g, res, imgs, fmt.Sprintf("batch of %d", bn))
				if sum := res.Summary(); sum.Batch != bn {
					t.Errorf("batch of %d: summary says %d", bn, sum.Batch)
				}
			}
		})
	}
}

// TestSpdz2kOTCluster: spdz2k with its own OT offline phase (registry-wide tests run its
// online phase as spdz2k-dealer) serves one request of the digits model over TLS,
// bit-exact with the cleartext evaluator.
func TestSpdz2kOTCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("spdz2k's OT offline phase takes about a minute on the digits model")
	}
	g := digitsGraph(t)
	c := startCluster(t, g, "spdz2k", 2)
	in := g.Tensors[g.Inputs[0]]
	x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
	for i := range x.Data {
		x.Data[i] = byte(i*11 + 3)
	}
	res, err := Infer(context.Background(), c, []model.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	want, err := qnn.Run(g, []model.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Outputs[0].Data, want[0].Data) {
		t.Fatalf("cluster %v, cleartext %v", res.Outputs[0].Data, want[0].Data)
	}
}

// digitsGraph reads the bundled digits model (skipped where the example is absent).
func digitsGraph(t *testing.T) *model.Graph {
	t.Helper()
	data, err := os.ReadFile("../../../examples/digits/digits_cnn_int8.tflite")
	if err != nil {
		t.Skip("example model absent:", err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// startCluster runs n in-process parties of protocol over TLS on loopback, the owner
// holding g, until the test ends, and returns a client of them.
func startCluster(t *testing.T, g *model.Graph, protocol string, n int) *cluster.Client {
	t.Helper()
	return startClusterWith(t, g, protocol, n, nil)
}

// startClusterWith is startCluster with hook applied to every party's computation of
// every session (e.g. to set a testing aid on one party), if not nil.
func startClusterWith(t *testing.T, g *model.Graph, protocol string, n int, hook func(id int, c *engineComp)) *cluster.Client {
	t.Helper()
	dir := t.TempDir()
	path, err := cluster.Generate(dir, cluster.CertOptions{Parties: n, Protocol: protocol,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(5 * time.Second), Connect: cluster.Duration(10 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := cluster.Load(path)
	lns := make([]stdnet.Listener, n)
	for i := range lns {
		if lns[i], err = stdnet.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		cfg.Parties[i].Address = lns[i].Addr().String()
	}
	cfg.Save(path)
	if cfg, err = cluster.Load(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, n)
	for i := range n {
		var mine *model.Graph
		digest := ""
		if i == cfg.Owner {
			mine, digest = g, ModelDigest(g)
		}
		comp := EngineComputation(cfg, mine)
		if hook != nil {
			base := comp
			comp = func(id int) (cluster.Computation, error) {
				c, err := base(id)
				if err == nil {
					hook(id, c.(*engineComp))
				}
				return c, err
			}
		}
		p, err := cluster.NewParty(cluster.PartyOptions{Config: cfg, ID: i, Listener: lns[i], ModelDigest: digest,
			Computation: comp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		go func() { done <- p.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
	})
	c, err := cluster.NewClient(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInferONNXIsNCHW: a cluster serving ONNX models (a 4-D NCHW output; Transposes and a
// channel shuffle on activations) takes the NCHW input Model.run and ONNX Runtime take and
// returns the output in the ONNX model's own shape, equal to the cleartext evaluator's
// (which tests/test_onnx.py checks against ONNX Runtime): the layout change is in the
// graph, so no front end converts.
func TestInferONNXIsNCHW(t *testing.T) {
	for _, tc := range []struct {
		file    string
		in, out []int
	}{
		{"conv_bn_relu-qoperator-u8u8-pertensor.onnx", []int{1, 3, 12, 12}, []int{1, 8, 6, 6}},
		{"movement-qdq-u8i8-perchannel.onnx", []int{1, 4, 6, 8}, []int{1, 8, 6, 6}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile("../../model/onnx/testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(data)
			if err != nil {
				t.Fatal(err)
			}
			if in, out := g.Tensors[g.Inputs[0]], g.Tensors[g.Outputs[0]]; !slices.Equal(in.Shape, tc.in) || !slices.Equal(out.Shape, tc.out) {
				t.Fatalf("graph input %v, output %v; want the ONNX model's %v, %v", in.Shape, out.Shape, tc.in, tc.out)
			}
			c := startCluster(t, g, "rep3", 3)
			r := rand.New(rand.NewPCG(5, 5))
			xf := make([]byte, 4*model.NumElements(tc.in))
			for i := 0; i < len(xf); i += 4 {
				binary.LittleEndian.PutUint32(xf[i:], math.Float32bits(float32(r.NormFloat64())))
			}
			x := model.Value{Shape: tc.in, DType: model.Float32, Data: xf}
			res, err := Infer(context.Background(), c, []model.Value{x})
			if err != nil {
				t.Fatal(err)
			}
			want, err := qnn.Run(g, []model.Value{x})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Outputs[0].Shape, tc.out) || !bytes.Equal(res.Outputs[0].Data, want[0].Data) {
				t.Fatalf("cluster output %v differs from the cleartext one %v", res.Outputs[0].Shape, want[0].Shape)
			}
		})
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConcurrentSessionsAndWeightsKept: three clients at once on the digits model, under
// rep3, semi2k and rep3-mal, each equal to the cleartext run; the weights are shared at the
// first session and not again when a party's server restarts in the same process (its
// shares kept); a party with no shares (a new process) makes them shared again.
func TestConcurrentSessionsAndWeightsKept(t *testing.T) {
	g := digitsGraph(t)
	for _, protocol := range []string{"rep3", "semi2k", "rep3-mal"} {
		t.Run(protocol, func(t *testing.T) {
			tc := startTestCluster(t, g, protocol, 0)
			in := g.Tensors[g.Inputs[0]]
			run := func(what string, clients int) ([]*Result, error) {
				t.Helper()
				res := make([]*Result, clients)
				errl := make([]error, clients)
				xs := make([]model.Value, clients)
				var wg sync.WaitGroup
				for k := range clients {
					xs[k] = model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
					for i := range xs[k].Data {
						xs[k].Data[i] = byte(i*3 + k*11)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						res[k], errl[k] = Infer(context.Background(), tc.client, []model.Value{xs[k]})
					}()
				}
				wg.Wait()
				for k := range clients {
					if errl[k] != nil {
						return nil, fmt.Errorf("%s, client %d: %w", what, k, errl[k])
					}
					want, err := qnn.Run(g, []model.Value{xs[k]})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(res[k].Outputs[0].Data, want[0].Data) {
						t.Fatalf("%s, client %d: differs from the cleartext run", what, k)
					}
				}
				return res, nil
			}
			for _, r := range retry(t, func() ([]*Result, error) { return run("first session", 3) }) {
				if r.Parties[0].SetupReused {
					t.Error("first session: weights reported as reused")
				}
			}
			tc.restart(1, false) // the same process: party 1 keeps its shares
			for k, r := range retry(t, func() ([]*Result, error) { return run("after a reconnect", 3) }) {
				for _, ps := range r.Parties {
					if !ps.SetupReused {
						t.Errorf("after a reconnect, client %d: party %d shared the weights again", k, ps.Party)
					}
				}
			}
			tc.restart(1, true) // a new process: no shares
			for _, r := range retry(t, func() ([]*Result, error) { return run("after a restart", 1) }) {
				if r.Parties[0].SetupReused {
					t.Error("after party 1 restarted without its shares: weights reported as reused")
				}
			}
		})
	}
}

// retry runs f until it succeeds, for at most 10 s (a restarted party's peers reconnect).
func retry(t *testing.T, f func() ([]*Result, error)) []*Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := f()
		if err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testCluster is in-process parties over TLS on loopback that a test can restart.
type testCluster struct {
	t       *testing.T
	cfg     *cluster.Config
	g       *model.Graph
	comps   []cluster.NewComputation
	cancels []context.CancelFunc
	done    []chan error
	client  *cluster.Client
}

// startTestCluster runs the parties of protocol (n 0: its default), the owner holding g.
func startTestCluster(t *testing.T, g *model.Graph, protocol string, n int) *testCluster {
	t.Helper()
	if n == 0 {
		n = max(2, must2(registry.Lookup(protocol)).DefaultParties)
	}
	dir := t.TempDir()
	path, err := cluster.Generate(dir, cluster.CertOptions{Parties: n, Protocol: protocol,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(5 * time.Second), Connect: cluster.Duration(10 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := cluster.Load(path)
	for i := range cfg.Parties {
		cfg.Parties[i].Address = freeport.Must(t) // the parties restart on these addresses
	}
	cfg.Save(path)
	if cfg, err = cluster.Load(path); err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{t: t, cfg: cfg, g: g, comps: make([]cluster.NewComputation, n), cancels: make([]context.CancelFunc, n), done: make([]chan error, n)}
	for i := range n {
		tc.start(i, true)
	}
	t.Cleanup(func() {
		for i := range n {
			tc.stop(i)
		}
	})
	if tc.client, err = cluster.NewClient(cfg, ""); err != nil {
		t.Fatal(err)
	}
	return tc
}

func must2(s mpc.Spec, err error) mpc.Spec {
	if err != nil {
		panic(err)
	}
	return s
}

// start runs party i; fresh makes a new computation (as a new process would), else the
// party keeps its previous one (and its shares of the weights).
func (tc *testCluster) start(i int, fresh bool) {
	var mine *model.Graph
	digest := ""
	if i == tc.cfg.Owner {
		mine, digest = tc.g, ModelDigest(tc.g)
	}
	if fresh || tc.comps[i] == nil {
		tc.comps[i] = EngineComputation(tc.cfg, mine)
	}
	var p *cluster.Party
	var err error
	for try := 0; try < 50; try++ { // a stopped party's port may take a moment to free
		if p, err = cluster.NewParty(cluster.PartyOptions{Config: tc.cfg, ID: i, ModelDigest: digest,
			Computation: tc.comps[i], Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tc.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tc.cancels[i], tc.done[i] = cancel, make(chan error, 1)
	go func() { tc.done[i] <- p.Run(ctx) }()
}

func (tc *testCluster) stop(i int) {
	if tc.cancels[i] != nil {
		tc.cancels[i]()
		<-tc.done[i]
		tc.cancels[i] = nil
	}
}

func (tc *testCluster) restart(i int, fresh bool) {
	tc.stop(i)
	tc.start(i, fresh)
}

// TestBenchOnCluster: Bench on a cluster reports, per layer, the rounds and bytes of the
// local benchmark of the same model, protocol and batch (engine.Bench), and refuses a model
// the cluster does not serve.
func TestBenchOnCluster(t *testing.T) {
	g := digitsGraph(t)
	tc := startTestCluster(t, g, "rep3", 0)
	for _, n := range []int{1, 4} {
		res, err := Bench(context.Background(), tc.client, n, ModelDigest(g))
		if err != nil {
			t.Fatal(err)
		}
		sum := res.Summary()
		local, err := engine.Bench(g, engine.BenchOptions{Protocol: "rep3", Batch: n})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Batch != n || len(sum.Layers) != len(local.Layers) {
			t.Fatalf("batch %d: cluster %d layers (batch %d), local %d", n, len(sum.Layers), sum.Batch, len(local.Layers))
		}
		for i, l := range sum.Layers {
			if l.Kind != "OUTPUT" && (l.Name != local.Layers[i].Name || l.Rounds != local.Layers[i].Rounds ||
				!equalInts(l.BytesSent, local.Layers[i].BytesSent)) {
				t.Errorf("batch %d, layer %d: cluster %+v, local %+v", n, i, l, local.Layers[i])
			}
		}
		// The lanes keep the Lamport clock over the TLS links (clock frames): a multi-round
		// computation reports its hops, at least one per counted round. (Not always the
		// local run's per layer: the first request's session setup can leave the parties'
		// clocks apart when layer 0 starts, which moves the longest chain by a hop.)
		if sum.Total.Hops < sum.Total.Rounds || sum.Total.Rounds < 2 || sum.Total.Hops > local.Total.Hops+2 {
			t.Errorf("batch %d: %d hops for %d rounds over TLS (local: %d hops)", n, sum.Total.Hops, sum.Total.Rounds, local.Total.Hops)
		}
		if !strings.Contains(sum.Table(), "TOTAL") {
			t.Errorf("table without a total:\n%s", sum.Table())
		}
	}
	if _, err := Bench(context.Background(), tc.client, 1, "00"); errs.KindOf(err) != errs.Config {
		t.Errorf("another model's digest: got %v, want a config error", err)
	}
}

// TestSpdz2kClusterCatchesCheating: a two-party spdz2k-dealer cluster over TLS whose party
// 1 alters one message to party 0 in the last layer (the TamperEnv aid), or whose party
// lies to the client in the input round or the output (the ClientTamperEnv aid): the
// client's request fails with errs.Cheating, and the next request is served correctly.
func TestSpdz2kClusterCatchesCheating(t *testing.T) {
	g := digitsGraph(t)
	const protocol = "spdz2k-dealer"
	if _, err := registry.Lookup(protocol); err != nil {
		t.Skip(err)
	}
	in := g.Tensors[g.Inputs[0]]
	x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
	for i := range x.Data {
		x.Data[i] = byte(i * 3)
	}
	want, err := qnn.Run(g, []model.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	local, err := engine.RunLocal(protocol, g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	rs := local.MessageRanges[1]
	last := rs[len(rs)-1]
	for _, r := range rs {
		if r.Layer >= 0 && r.Phase != "VERIFY" && r.Phase != "OUTPUT" && r.To > r.From {
			last = r
		}
	}
	cases := []struct {
		name string
		hook func(id int, c *engineComp)
	}{
		{"party 1 alters a message of " + last.Phase, func(id int, c *engineComp) {
			if id == 1 {
				c.tamper = &net.Tamper{Message: int(last.From), Xor: 1 << 20}
			}
		}},
		{"party 0 lies in the input round", func(id int, c *engineComp) {
			if id == 0 && c.clientHook == nil {
				c.clientHook = &clientTamper{t: net.Tamper{Message: 0, Word: 3, Add: 1}}
			}
		}},
		{"party 1 lies in the output", func(id int, c *engineComp) {
			if id == 1 && c.clientHook == nil {
				c.clientHook = &clientTamper{t: net.Tamper{Message: 1, Word: 0, Xor: 1 << 40}}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hooks sync.Map // one clientTamper per party process
			c := startClusterWith(t, g, protocol, 2, func(id int, comp *engineComp) {
				tc.hook(id, comp)
				if comp.clientHook != nil {
					h, _ := hooks.LoadOrStore(id, comp.clientHook)
					comp.clientHook = h.(*clientTamper)
				}
				comp.hookOut = io.Discard
			})
			_, err := Infer(context.Background(), c, []model.Value{x})
			if errs.KindOf(err) != errs.Cheating {
				t.Fatalf("got %v, want a cheating error", err)
			}
			t.Log(err)
			res, err := Infer(context.Background(), c, []model.Value{x})
			if err != nil {
				t.Fatalf("the next request: %v", err)
			}
			if !bytes.Equal(res.Outputs[0].Data, want[0].Data) {
				t.Fatalf("the next request: %v, want %v", res.Outputs[0].Data, want[0].Data)
			}
		})
	}
}

// TestInferPasses: a batch of 7 evaluated as 1, 2, 3 and 4 passes at once (each its own
// session and lane) gives the outputs of the images alone, bit for bit, in order; the
// merged statistics count the batch and, over all parties, at least the one pass's
// bytes, and no more rounds than one pass; rep3 is Rotatable, so the passes play
// different roles (lane L rotated by L - 1) and each party's bytes move with its roles.
// 7 passes on a cluster of 4 sessions are refused as busy.
func TestInferPasses(t *testing.T) {
	g := digitsGraph(t)
	c := startCluster(t, g, "rep3", 3)
	in := g.Tensors[g.Inputs[0]]
	const bn = 7
	var imgs []model.Value
	for k := range bn {
		x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
		for i := range x.Data {
			x.Data[i] = byte(i*3 + k*41)
		}
		imgs = append(imgs, x)
	}
	xb, err := model.Stack(imgs, in.Shape)
	if err != nil {
		t.Fatal(err)
	}
	var one *Result
	for _, passes := range []int{1, 2, 3, 4, 9, 1} {
		res, err := InferPasses(context.Background(), c, []model.Value{xb}, nil, passes)
		if passes == 9 {
			// 7 passes, more than the cluster's 4 sessions: refused, and the cluster
			// serves the next request.
			if errs.KindOf(err) != errs.Busy || !strings.Contains(err.Error(), "max_sessions") {
				t.Fatalf("7 passes on a cluster of 4 sessions: %v, want a busy error naming max_sessions", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d passes: %v", passes, err)
		}
		checkRows(t, g, res, imgs, fmt.Sprintf("%d passes", passes))
		if res.Batch != bn || res.Summary().Batch != bn {
			t.Errorf("%d passes: batch %d, summary %d, want %d", passes, res.Batch, res.Summary().Batch, bn)
		}
		if one == nil {
			one = res
			continue
		}
		var sent, oneSent int64
		for j, ps := range res.Parties {
			o := one.Parties[j]
			if ps.Batch != bn || ps.Net.Rounds > o.Net.Rounds {
				t.Errorf("%d passes, party %d: batch %d, %d rounds; one pass: %d rounds", passes, j, ps.Batch, ps.Net.Rounds, o.Net.Rounds)
			}
			// Two to four passes run on lanes 1..passes (each a different lane at
			// once), roles rotated by 0, 1, 2, 0: merged, the role is -1.
			if passes > 1 && ps.Role != -1 || passes == 1 && (ps.Role < 0 || ps.Role > 2) {
				t.Errorf("%d passes, party %d: role %d", passes, j, ps.Role)
			}
			sent, oneSent = sent+ps.Net.BytesSent, oneSent+o.Net.BytesSent
		}
		// Every pass sends at least its share of the one pass's bytes.
		if sent < oneSent {
			t.Errorf("%d passes: %d bytes sent by all parties, one pass %d", passes, sent, oneSent)
		}
	}
}

// checkRows requires res's first output to be the batch of imgs' outputs: its shape the
// model's with batch len(imgs), and each row equal to the cleartext run of its image
// alone (what names the case in failures).
func checkRows(t *testing.T, g *model.Graph, res *Result, imgs []model.Value, what string) {
	t.Helper()
	out, bn := g.Tensors[g.Outputs[0]], len(imgs)
	if want := model.BatchShape(out.Shape, bn); !slices.Equal(res.Outputs[0].Shape, want) {
		t.Fatalf("%s: output shape %v, want %v", what, res.Outputs[0].Shape, want)
	}
	rows, err := model.Unstack(res.Outputs[0], out.Shape, bn)
	if err != nil {
		t.Fatal(err)
	}
	for k, x := range imgs {
		want, err := qnn.Run(g, []model.Value{x})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rows[k].Data, want[0].Data) {
			t.Errorf("%s: row %d differs from the image alone", what, k)
		}
	}
}
