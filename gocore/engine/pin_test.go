package engine

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/net"
)

var updatePins = flag.Bool("update-pins", false, "rewrite testdata/rep3_costs_*.json from this run (TestRep3CostsPinned)")

// TestRep3CostsPinned: rep3's bytes per party and rounds, layer by layer and for the
// parameter sharing, on MobileNetV1 0.25_128 equal the pinned ones
// (testdata/rep3_costs_mobilenet_v1_0.25_128.json, first recorded with engine.RunLocal
// at commit 1e06781). Infrastructure (the registry, Verify, the offline/online split)
// must not change what rep3 sends; a change of the circuits that does rewrites the file
// with -update-pins, in a commit that states the costs before and after. The totals must
// also meet issue 11's round, hop and byte targets.
func TestRep3CostsPinned(t *testing.T) {
	g := sharedModel(t, "coral/mobilenet_v1_0.25_128_quant.tflite")
	b, err := os.ReadFile("testdata/rep3_costs_mobilenet_v1_0.25_128.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		Op     int     `json:"op"`
		Kind   string  `json:"kind"`
		Bytes  []int64 `json:"bytes"`
		Rounds int64   `json:"rounds"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	in := g.Tensors[g.Inputs[0]]
	x := model.Value{Shape: in.Shape, DType: in.DType, Data: make([]byte, in.NumElements())}
	for i := range x.Data {
		x.Data[i] = byte(i * 7)
	}
	c, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	r, err := RunLocalWith("rep3", g, c, []model.Value{x}, Options{Owner: 0, Client: 1}, LocalOptions{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	got := append(r.Layers, r.Setup)
	if *updatePins {
		var lines []string
		for _, l := range got {
			b, err := json.Marshal(struct {
				Op     int     `json:"op"`
				Kind   string  `json:"kind"`
				Bytes  []int64 `json:"bytes"`
				Rounds int64   `json:"rounds"`
			}{l.Op, l.Kind, l.BytesSent, l.Rounds})
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(b))
		}
		out := fmt.Sprintf("[%s]\n", strings.Join(lines, ",\n"))
		if err := os.WriteFile("testdata/rep3_costs_mobilenet_v1_0.25_128.json", []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("pinned costs rewritten")
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%d layers, pinned %d", len(got), len(want))
	}
	for i, w := range want {
		l := got[i]
		if l.Op != w.Op || l.Kind != w.Kind || l.Rounds != w.Rounds || !slices.Equal(l.BytesSent, w.Bytes) {
			t.Errorf("layer %d %s: %v bytes, %d rounds; pinned %s %v bytes, %d rounds", l.Op, l.Kind, l.BytesSent, l.Rounds, w.Kind, w.Bytes, w.Rounds)
		}
	}
	// Issue 11's targets, independent of the pins: at most 200 rounds, and at most 200
	// one-way hops (the honest latency: a message that depends on one received in the
	// same turn counts); bytes: issue 11 allowed 1.2 times those of before the issue
	// (34.97 MB, the most of any party); since the chunk B2A (rep3.ChunkB2A, 23.12 MB)
	// the bound is 24 MB, so that a change that gives the saving back fails here.
	if r.Total.Rounds > 200 || r.Total.Hops > 200 {
		t.Errorf("%d rounds, %d hops; issue 11 wants at most 200", r.Total.Rounds, r.Total.Hops)
	}
	if m := slices.Max(r.Total.BytesSent); m > 24_000_000 {
		t.Errorf("%d bytes sent by one party, more than 24 MB (0.69 x 34.97 MB)", m)
	}
	// The message pattern's latency on tests/bench/netem.sh's WAN (20 ms one way, 100
	// Mbit/s per direction of each link, no computation; net.LinkTime): propagation (199
	// hops, 3.98 s) and the bytes on the critical path. 5.86 s at 24c3004; 5.14 s since
	// the resharing, the one-hot input and ChunkB2A's words use both directions and both
	// links of a party (branch rounds5); 5.126 s since the average pool's arithmetic
	// one-hot goes half to each a-holder (branch wan8).
	wan, err := net.LinkTime(r.Events, 20*time.Millisecond, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WAN model (20 ms, 100 Mbit/s, no computation): %.3f s", wan.Seconds())
	if wan > 5150*time.Millisecond {
		t.Errorf("WAN model: %v, more than 5.15 s", wan)
	}
	if r.Offline.Rounds != 0 || slices.Max(r.Offline.BytesSent) != 0 {
		t.Errorf("rep3 has no offline phase, got %+v", r.Offline)
	}
}
