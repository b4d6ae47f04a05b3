package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
	"github.com/qmpc/qmpc/gocore/net/freeport"
)

// TestProcessesEveryProtocol: for every protocol of the registry that can serve an outside
// client (rep3 has its own tests above), `qmpc certs --protocol P` with the protocol's
// default number of parties, one `qmpc party` process per party and `qmpc infer` give the
// local secure run's output. Nothing here names a protocol: built with -tags qmpctest the
// registry's test-only toy protocol runs through the CLI too.
func TestProcessesEveryProtocol(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	bin := qmpcBinary(t)
	for _, spec := range registrytest.Protocols() {
		if !spec.OutsideClient() || spec.Name == "rep3" {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := exec.Command(bin, "certs", "--protocol", spec.Name, "--out", dir, "--step-timeout", "5s").CombinedOutput()
			if err != nil {
				t.Fatalf("qmpc certs: %v\n%s", err, out)
			}
			path := filepath.Join(dir, "cluster.json")
			cfg, err := cluster.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			n := cfg.N()
			if want := max(2, spec.DefaultParties); n != want {
				t.Fatalf("qmpc certs made %d parties, the protocol's default is %d", n, want)
			}
			for i := range cfg.Parties {
				cfg.Parties[i].Address = freeport.Must(t)
			}
			if err := cfg.Save(path); err != nil {
				t.Fatal(err)
			}
			pc := &procCluster{t: t, bin: bin, dir: dir, cfgPath: path, model: digitsModel, parties: make([]*proc, n)}
			t.Cleanup(func() {
				for i, p := range pc.parties {
					if p != nil {
						pc.kill(i, syscall.SIGKILL)
					}
				}
			})
			for i := range n {
				pc.start(i)
			}
			x := inputFor(g, 5)
			local, err := engine.RunLocal(spec.Name, g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
			if err != nil {
				t.Fatal(err)
			}
			y := pc.inferUntil(x, 30*time.Second)
			if !bytes.Equal(y.Data, local.Outputs[0].Data) {
				t.Fatalf("%s over %s processes: %v, local run %v", spec.Name, strconv.Itoa(n), y.Data, local.Outputs[0].Data)
			}
		})
	}
}
