package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Protocol      string // a registry name
	Batch         int    // inputs in one secure pass (0: 1)
	Reveal        Reveal
	Preprocessing string // "" or mpc.PreprocessingDealer
}

// Bench measures one secure pass of g over a batch of zero-valued inputs, all parties of
// the protocol in this process (RunLocalWith over in-memory pipes), with the protocol's
// default roles and g's own parameters. The communication of the protocols does not
// depend on the values: bytes and rounds are those of any input; seconds are this run's.
func Bench(g *model.Graph, o BenchOptions) (*Result, error) {
	spec, err := registry.Lookup(o.Protocol)
	if err != nil {
		return nil, err
	}
	if err := spec.CheckPreprocessing(o.Preprocessing); err != nil {
		return nil, err
	}
	n := max(o.Batch, 1)
	bg, c, err := NewBatches(g, nil).Get(n)
	if err != nil {
		return nil, err
	}
	in := make([]model.Value, len(bg.Inputs))
	for i, t := range bg.Inputs {
		tt := bg.Tensors[t]
		if tt.DType.Size() == 0 {
			return nil, errs.New(errs.DType, "input %q has type %v", tt.Name, tt.DType)
		}
		in[i] = model.Value{Shape: tt.Shape, DType: tt.DType, Data: make([]byte, tt.NumElements()*tt.DType.Size())}
	}
	owner, client := mpc.Roles(spec.DefaultParties)
	r, err := RunLocalWith(o.Protocol, bg, c, in, Options{Owner: owner, Client: client, Reveal: o.Reveal},
		LocalOptions{Preprocessing: o.Preprocessing, Batch: n, Events: true})
	if err != nil {
		return nil, err
	}
	if t, err := net.LinkTime(r.Events, WANDelay, WANMbit); err == nil {
		r.WANModel = t.Seconds()
	}
	r.Events = nil
	return r, nil
}

// The WAN of Result.WANModel: tests/bench/netem.sh's (40 ms RTT, 100 Mbit/s).
const (
	WANDelay = 20 * time.Millisecond
	WANMbit  = 100.0
)

// Table formats r as the paper's tables do: one line per layer (op, kind, output shape,
// seconds, MB sent per party, rounds, and the offline/online split of seconds and MB),
// then the total, the per-image cost of a batch and the one-time parameter sharing.
func (r *Result) Table() string {
	var b strings.Builder
	batch := max(r.Batch, 1)
	pre := ""
	if r.Preprocessing != "" {
		pre = ", preprocessing " + r.Preprocessing
	}
	fmt.Fprintf(&b, "protocol %s, %d parties, batch %d%s\n", r.Protocol, r.Parties, batch, pre)
	head := fmt.Sprintf("%4s %-18s %-16s %9s %9s %7s %9s %9s %9s %9s", "op", "layer", "shape", "seconds", "MB/party", "rounds",
		"off s", "off MB", "on s", "on MB")
	rule := strings.Repeat("-", len(head))
	fmt.Fprintln(&b, head)
	fmt.Fprintln(&b, rule)
	mb := func(bs []int64) float64 { // the most any party sent
		m := int64(0)
		for _, x := range bs {
			m = max(m, x)
		}
		return float64(m) / 1e6
	}
	row := func(label string, l LayerCost) {
		on := l.Online()
		shape := make([]string, len(l.Shape))
		for i, d := range l.Shape {
			shape[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(&b, "%4s %-18.18s %-16.16s %9.4f %9.3f %7d %9.4f %9.3f %9.4f %9.3f\n", label, l.Kind, strings.Join(shape, "x"),
			l.Seconds, mb(l.BytesSent), l.Rounds, l.Offline.Seconds, mb(l.Offline.BytesSent), on.Seconds, mb(on.BytesSent))
	}
	for _, l := range r.Layers {
		label := ""
		if l.Op >= 0 {
			label = fmt.Sprint(l.Op)
		}
		row(label, l)
	}
	fmt.Fprintln(&b, rule)
	row("", r.Total)
	if batch > 1 {
		per := r.Total
		per.Kind = "PER IMAGE"
		per.Seconds /= float64(batch)
		per.BytesSent = make([]int64, len(r.Total.BytesSent))
		for i, x := range r.Total.BytesSent {
			per.BytesSent[i] = x / int64(batch)
		}
		per.Offline.Seconds /= float64(batch)
		per.Offline.BytesSent = make([]int64, len(r.Total.Offline.BytesSent))
		for i, x := range r.Total.Offline.BytesSent {
			per.Offline.BytesSent[i] = x / int64(batch)
		}
		row("", per)
	}
	row("", r.Setup)
	fmt.Fprintf(&b, "MB/party: the most any party sent. %d images in %.3f s: %.2f images/s (secure layers; whole run %.3f s).\n",
		batch, r.Total.Seconds, float64(batch)/max(r.Total.Seconds, 1e-9), r.Seconds)
	if r.Total.Hops > 0 {
		fmt.Fprintf(&b, "Latency: %d one-way hops on the longest chain of messages (rounds count send-then-receive turns).\n", r.Total.Hops)
	}
	if r.WANModel > 0 {
		fmt.Fprintf(&b, "WAN model: %.2f s per pass (%.2f s per image) on links of 40 ms RTT and 100 Mbit/s per direction, without computation.\n",
			r.WANModel, r.WANModel/float64(batch))
	}
	return b.String()
}
