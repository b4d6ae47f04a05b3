package engine

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
)

// PhaseCost is the cost of one phase (offline or online) of a layer over all parties.
type PhaseCost struct {
	Seconds   float64 `json:"seconds"`    // slowest party
	BytesSent []int64 `json:"bytes_sent"` // per party
	Rounds    int64   `json:"rounds"`     // most rounds of any party
}

// LayerCost is the cost of one layer over all parties: Seconds, BytesSent and Rounds are
// the whole cost, Offline the part spent on correlated randomness (the offline phase;
// zero for protocols without one), and Online() the rest.
type LayerCost struct {
	Op        int     `json:"op"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Shape     []int   `json:"shape"`
	Elements  int     `json:"elements"`
	Seconds   float64 `json:"seconds"`    // slowest party
	BytesSent []int64 `json:"bytes_sent"` // per party
	Rounds    int64   `json:"rounds"`     // most rounds of any party
	// Hops is the layer's latency in one-way message delays: the growth of the parties'
	// largest hop count (net.Stats.Hops) over the layer (in-memory pipes, tlsnet.Mesh
	// and the cluster's lanes keep it). Rounds counts each party's send-then-receive turns and misses a
	// message that depends on one received in the same turn; Hops does not.
	Hops     int64     `json:"hops"`
	Offline  PhaseCost `json:"offline"`
	Messages []int64   `json:"messages"` // messages sent, per party
}

// Online is the layer's cost without its offline part.
func (l LayerCost) Online() PhaseCost {
	o := PhaseCost{Seconds: max(0, l.Seconds-l.Offline.Seconds), Rounds: max(0, l.Rounds-l.Offline.Rounds),
		BytesSent: make([]int64, len(l.BytesSent))}
	for i, b := range l.BytesSent {
		o.BytesSent[i] = b
		if i < len(l.Offline.BytesSent) {
			o.BytesSent[i] -= l.Offline.BytesSent[i]
		}
	}
	return o
}

// Result is the outcome of a local secure run.
type Result struct {
	Protocol      string           `json:"protocol"`
	Preprocessing string           `json:"preprocessing"` // "" (the protocol's own offline phase) or "dealer"
	Parties       int              `json:"parties"`
	Outputs       []model.Value    `json:"-"`
	Setup         LayerCost        `json:"setup"`                    // sharing the model parameters (once per model)
	Input         LayerCost        `json:"input"`                    // the client sharing its inputs (not in Layers or Total)
	Layers        []LayerCost      `json:"layers"`                   // one inference (with its PREPROCESS layer, if any)
	Total         LayerCost        `json:"total"`                    // sum over Layers (Setup excluded)
	Offline       PhaseCost        `json:"offline"`                  // the offline part of Total
	Online        PhaseCost        `json:"online"`                   // the online part of Total
	Demand        *mpc.Demand      `json:"demand,omitempty"`         // one inference's protocol calls
	DemandSummary map[string]int64 `json:"demand_summary,omitempty"` // Demand.Summary()
	Seconds       float64          `json:"seconds"`
	// Messages is the number of messages each party sent in the whole run (protocol
	// setup, parameter sharing, preprocessing, inference): the range of a Tamper's
	// Spec.Message for that party.
	Messages []int64 `json:"messages"`
	// Tampered is whether LocalOptions.Tamper altered a message.
	Tampered bool `json:"tampered"`
	// MessageSizes[p][k] is the length in bytes of party p's message k
	// (LocalOptions.MessageSizes; else nil).
	MessageSizes [][]int `json:"message_sizes,omitempty"`
	// Events[p] is party p's sends and receives in order, from the start of the
	// inference (after the setup and the offline phase; LocalOptions.Events; else nil):
	// net.LinkTime replays them over emulated links.
	Events [][]net.Event `json:"-"`
	// WANModel is the inference's latency on links of 20 ms one way and 100 Mbit/s per
	// direction with no computation (net.LinkTime over Events; Bench sets it): the
	// propagation and bytes on the critical path of tests/bench/netem.sh's WAN.
	WANModel float64 `json:"wan_model_seconds,omitempty"`
	// MessageRanges[p] splits party p's messages 0 .. Messages[p]-1 by phase, in the
	// order they were sent (for tamper tests that target a phase).
	MessageRanges [][]MessageRange `json:"message_ranges"`

	// Batch is the number of inputs evaluated in this one pass (LocalOptions.Batch; 1
	// unless a batched graph ran); SecondsPerImage and BytesPerImage (all parties' bytes,
	// Setup excluded) are Total divided by it.
	Batch           int     `json:"batch"`
	SecondsPerImage float64 `json:"seconds_per_image"`
	BytesPerImage   float64 `json:"bytes_per_image"`
}

// SetBatch records that the run evaluated n inputs at once and fills in the per-image
// costs.
func (r *Result) SetBatch(n int) {
	r.Batch = max(n, 1)
	var bytes int64
	for _, b := range r.Total.BytesSent {
		bytes += b
	}
	r.SecondsPerImage = r.Total.Seconds / float64(r.Batch)
	r.BytesPerImage = float64(bytes) / float64(r.Batch)
}

// LocalOptions configure a local run beyond the engine's Options.
type LocalOptions struct {
	// Preprocessing is every party's mpc.Options.Preprocessing: "" for the protocol's own
	// offline phase, mpc.PreprocessingDealer for a trusted dealer (labelled in Result).
	Preprocessing string
	// Rand, if set, gives party i's randomness source (tests); nil: crypto/rand.
	Rand func(id int) io.Reader
	// Batch labels the result: the number of inputs the graph evaluates at once (a
	// BatchGraph); 0 means 1.
	Batch int
	// Tamper, if set, alters one message that one party sends (a testing aid that
	// simulates a cheating party; see net.Tamper). Result.Tampered, and Tamper.Fired also
	// after a failed run, tell whether the message existed and was altered.
	Tamper *Tamper
	// MessageSizes records the length of every message each party sends in
	// Result.MessageSizes (a testing aid for tamper sweeps).
	MessageSizes bool
	// Events records every party's sends and receives in Result.Events.
	Events bool
	// Spec, if set, is the protocol's registry entry, used instead of looking protocol up
	// in the registry (tests of a protocol that is built but not listed yet).
	Spec *mpc.Spec
}

// Tamper makes party Party's connection a net.Tamperer for Spec, counting messages from
// the protocol's setup on (the first message the protocol sends is message 0). It is a
// testing aid: it simulates a cheating party, for tests and demonstrations.
type Tamper struct {
	Party int
	Spec  net.Tamper
	// Fired is set by the run (also when it fails): whether the party sent message
	// Spec.Message and it was altered. Report is the Tamperer's full report.
	Fired  bool
	Report net.TamperReport
}

// RunLocal runs all computing parties of protocol as goroutines of this process, over
// in-memory pipes, on graph g (the owner, party opt.Owner, holds the parameters; the other
// parties get PublicGraph(g)), with the client's inputs in. The protocol code is the one
// that runs over TLS between hosts; only the Conn differs.
func RunLocal(protocol string, g *model.Graph, in []model.Value, opt Options) (*Result, error) {
	c, err := Compile(g)
	if err != nil {
		return nil, err
	}
	return RunLocalCompiled(protocol, g, c, in, opt)
}

// RunLocalCompiled is RunLocal with a plan compiled once (Compile), for repeated runs.
func RunLocalCompiled(protocol string, g *model.Graph, c *Compiled, in []model.Value, opt Options) (*Result, error) {
	return RunLocalWith(protocol, g, c, in, opt, LocalOptions{})
}

// RunLocalWith is RunLocalCompiled with local options. Every party runs the protocol's
// offline phase for the inference (Party.Preprocess) before the inference.
func RunLocalWith(protocol string, g *model.Graph, c *Compiled, in []model.Value, opt Options, lo LocalOptions) (*Result, error) {
	start := time.Now()
	var n int
	var err error
	if lo.Spec != nil {
		n, err = lo.Spec.Parties(0)
	} else {
		n, err = local.Parties(protocol, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol %q: %w", protocol, err)
	}
	conns := net.NewPipes(n)
	var tamperer *net.Tamperer
	if t := lo.Tamper; t != nil {
		t.Fired, t.Report = false, net.TamperReport{}
		if t.Party < 0 || t.Party >= n {
			return nil, errs.New(errs.Config, "tamper: protocol %s has %d parties, not party %d", protocol, n, t.Party)
		}
		if tamperer, err = net.NewTamperer(conns[t.Party], t.Spec); err != nil {
			return nil, err
		}
		conns[t.Party] = tamperer
		defer func() {
			t.Report = tamperer.Report()
			t.Fired = t.Report.Altered
		}()
	}
	var evs []*net.EventLog
	marks := make([]int, n) // each party's events before the inference (setup, offline)
	if lo.Events || lo.MessageSizes {
		for i, c := range conns {
			l := net.NewEventLog(c)
			conns[i], evs = l, append(evs, l)
		}
	}
	opts := func(id int) mpc.Options {
		o := mpc.Options{Preprocessing: lo.Preprocessing}
		if lo.Rand != nil {
			o.Rand = lo.Rand(id)
		}
		return o
	}
	var ps []mpc.Protocol
	if lo.Spec != nil {
		ps, err = local.NewOverSpec(*lo.Spec, conns, opts)
	} else {
		ps, err = local.NewOver(protocol, conns, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol %q: %w", protocol, err)
	}
	if opt.Client >= n || opt.Owner >= n {
		return nil, errs.New(errs.Config, "protocol %s has %d parties: owner %d / client %d out of range", protocol, n, opt.Owner, opt.Client)
	}
	pub := PublicGraph(g)
	parties := make([]*Party, n)
	var outs []model.Value
	var mu sync.Mutex
	err = local.RunParties(ps, func(p mpc.Protocol) error {
		gp := pub
		if p.ID() == opt.Owner {
			gp = g
		}
		e, err := NewPartyCompiled(p, gp, c, opt)
		if err != nil {
			return err
		}
		mu.Lock()
		parties[p.ID()] = e
		mu.Unlock()
		var mine []model.Value
		if p.ID() == opt.Client {
			mine = in
		}
		if err := e.Setup(); err != nil {
			return err
		}
		if err := e.Preprocess(); err != nil {
			return err
		}
		if evs != nil {
			marks[p.ID()] = evs[p.ID()].Len()
		}
		o, err := e.Infer(mine)
		if err != nil {
			return err
		}
		if p.ID() == opt.Client {
			mu.Lock()
			outs = o
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := &Result{Protocol: protocol, Preprocessing: lo.Preprocessing, Parties: n, Outputs: outs, Seconds: time.Since(start).Seconds()}
	// A protocol that names its preprocessing (e.g. spdz2k-dealer, which always uses the
	// trusted dealer) labels the result with it.
	if pp, ok := mpc.Ext[interface{ Preprocessing() string }](ps[0]); ok && pp.Preprocessing() == mpc.PreprocessingDealer {
		r.Preprocessing = mpc.PreprocessingDealer
	}
	r.Messages = make([]int64, n)
	for i, p := range ps {
		r.Messages[i] = p.Conn().Stats().Messages
	}
	r.Tampered = tamperer != nil && tamperer.Tampered()
	for i, l := range evs {
		if lo.Events {
			r.Events = append(r.Events, l.Events()[marks[i]:])
		}
		if lo.MessageSizes {
			r.MessageSizes = append(r.MessageSizes, l.Sizes())
		}
	}
	r.Setup = merge([]LayerStats{parties[0].SetupStats()}, parties, func(e *Party) []LayerStats { return []LayerStats{e.SetupStats()} })[0]
	r.Input = merge([]LayerStats{parties[0].InputStats()}, parties, func(e *Party) []LayerStats { return []LayerStats{e.InputStats()} })[0]
	r.Layers = merge(parties[0].Layers(), parties, (*Party).Layers)
	r.Total = Sum(r.Layers, n)
	r.Offline, r.Online = r.Total.Offline, r.Total.Online()
	if d, err := c.DemandOf(ps[0], g, opt); err == nil {
		r.Demand, r.DemandSummary = d.Infer, d.Infer.Summary()
	}
	r.SetBatch(lo.Batch)
	r.MessageRanges = r.messageRanges()
	return r, nil
}

// MessageRange is the messages From .. To-1 that a party sent in one phase of a local
// run: "protocol" (the protocol's own set-up, e.g. key exchange), "parameters" (Setup),
// "input" (the client's input sharing), or a layer of Result.Layers (Phase its Kind,
// Layer its index; Layer is -1 for the others).
type MessageRange struct {
	Phase string `json:"phase"`
	Layer int    `json:"layer"`
	From  int64  `json:"from"`
	To    int64  `json:"to"`
}

// messageRanges splits each party's messages by phase in the order a local run sends
// them: protocol set-up, parameters, PREPROCESS layer(s), input, the other layers. The
// protocol's set-up is what the metered phases leave of Messages.
func (r *Result) messageRanges() [][]MessageRange {
	out := make([][]MessageRange, len(r.Messages))
	for p, total := range r.Messages {
		at := func(l LayerCost) int64 {
			if p < len(l.Messages) {
				return l.Messages[p]
			}
			return 0
		}
		metered := at(r.Setup) + at(r.Input)
		for _, l := range r.Layers {
			metered += at(l)
		}
		var rs []MessageRange
		next := int64(0)
		add := func(phase string, layer int, n int64) {
			rs = append(rs, MessageRange{Phase: phase, Layer: layer, From: next, To: next + n})
			next += n
		}
		add("protocol", -1, total-metered)
		add("parameters", -1, at(r.Setup))
		i := 0
		for ; i < len(r.Layers) && r.Layers[i].Kind == "PREPROCESS"; i++ {
			add(r.Layers[i].Kind, i, at(r.Layers[i]))
		}
		add("input", -1, at(r.Input))
		for ; i < len(r.Layers); i++ {
			add(r.Layers[i].Kind, i, at(r.Layers[i]))
		}
		out[p] = rs
	}
	return out
}

// Sum adds up layer costs (seconds and rounds add: layers run one after another).
func Sum(layers []LayerCost, n int) LayerCost {
	t := LayerCost{Op: -1, Kind: "TOTAL", Name: "inference", BytesSent: make([]int64, n),
		Offline: PhaseCost{BytesSent: make([]int64, n)}, Messages: make([]int64, n)}
	for _, l := range layers {
		t.Seconds += l.Seconds
		t.Rounds += l.Rounds
		t.Hops += l.Hops
		t.Offline.Seconds += l.Offline.Seconds
		t.Offline.Rounds += l.Offline.Rounds
		for i, b := range l.BytesSent {
			t.BytesSent[i] += b
		}
		for i, b := range l.Offline.BytesSent {
			t.Offline.BytesSent[i] += b
		}
		for i, m := range l.Messages {
			if i < n {
				t.Messages[i] += m
			}
		}
	}
	return t
}

// merge combines the parties' per-layer statistics (same layer order on every party).
func merge(ref []LayerStats, parties []*Party, get func(*Party) []LayerStats) []LayerCost {
	out := make([]LayerCost, len(ref))
	for i, l := range ref {
		c := LayerCost{Op: l.Op, Kind: l.Kind, Name: l.Name, Shape: l.Shape, Elements: l.Elements, BytesSent: make([]int64, len(parties)),
			Offline: PhaseCost{BytesSent: make([]int64, len(parties))}, Messages: make([]int64, len(parties))}
		var start, end int64 // the parties' largest hop counts before and after the layer
		for j, e := range parties {
			ls := get(e)
			if i >= len(ls) {
				continue // cannot happen: every party runs the same layers
			}
			c.Seconds = max(c.Seconds, ls[i].Seconds)
			c.Rounds = max(c.Rounds, ls[i].Net.Rounds)
			start, end = max(start, ls[i].Net.Clock-ls[i].Net.Hops), max(end, ls[i].Net.Clock)
			c.BytesSent[j] = ls[i].Net.BytesSent
			c.Messages[j] = ls[i].Net.Messages
			c.Offline.Seconds = max(c.Offline.Seconds, ls[i].Offline.Seconds)
			c.Offline.Rounds = max(c.Offline.Rounds, ls[i].Offline.Net.Rounds)
			c.Offline.BytesSent[j] = ls[i].Offline.Net.BytesSent
		}
		c.Hops = end - start
		out[i] = c
	}
	return out
}
