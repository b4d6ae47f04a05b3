package inference

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	stdnet "net"
	"os"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// TestInferEqualsLocalRun: in-process parties over TLS on loopback, the digits model, every
// protocol of the registry that can serve an outside client (with -tags qmpctest, the
// registry's test-only toy too: nothing here names it); the client's output equals
// engine.RunLocal's (oracle: the local secure run, itself tested against the cleartext
// evaluator), and so do the per-layer bytes.
func TestInferEqualsLocalRun(t *testing.T) {
	data, err := os.ReadFile("../../../examples/digits/digits_cnn_int8.tflite")
	if err != nil {
		t.Skip("example model absent:", err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range registry.Available() {
		if spec.NewDealer == nil {
			continue
		}
		protocol, n := spec.Name, max(2, spec.DefaultParties)
		t.Run(protocol, func(t *testing.T) {
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
				p, err := cluster.NewParty(cluster.PartyOptions{Config: cfg, ID: i, Listener: lns[i], ModelDigest: digest,
					Computation: EngineComputation(cfg, mine), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatal(err)
				}
				go func() { done <- p.Run(ctx) }()
			}
			defer func() {
				cancel()
				for range n {
					<-done
				}
			}()
			c, err := cluster.NewClient(cfg, "")
			if err != nil {
				t.Fatal(err)
			}
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
