package engine

import (
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// LayerCost is the cost of one layer over all parties.
type LayerCost struct {
	Op        int     `json:"op"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Shape     []int   `json:"shape"`
	Elements  int     `json:"elements"`
	Seconds   float64 `json:"seconds"`    // slowest party
	BytesSent []int64 `json:"bytes_sent"` // per party
	Rounds    int64   `json:"rounds"`     // most rounds of any party
}

// Result is the outcome of a local secure run.
type Result struct {
	Protocol string        `json:"protocol"`
	Parties  int           `json:"parties"`
	Outputs  []model.Value `json:"-"`
	Setup    LayerCost     `json:"setup"`  // sharing the model parameters (once per model)
	Layers   []LayerCost   `json:"layers"` // one inference
	Total    LayerCost     `json:"total"`  // sum over Layers (Setup excluded)
	Seconds  float64       `json:"seconds"`
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
	start := time.Now()
	ps, err := local.New(protocol, 0)
	if err != nil {
		return nil, errs.New(errs.Config, "protocol %q: %w", protocol, err)
	}
	n := len(ps)
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
	r := &Result{Protocol: protocol, Parties: n, Outputs: outs, Seconds: time.Since(start).Seconds()}
	r.Setup = merge([]LayerStats{parties[0].SetupStats()}, parties, func(e *Party) []LayerStats { return []LayerStats{e.SetupStats()} })[0]
	r.Layers = merge(parties[0].Layers(), parties, (*Party).Layers)
	r.Total = LayerCost{Op: -1, Kind: "TOTAL", Name: "inference", BytesSent: make([]int64, n)}
	for _, l := range r.Layers {
		r.Total.Seconds += l.Seconds
		r.Total.Rounds += l.Rounds
		for i, b := range l.BytesSent {
			r.Total.BytesSent[i] += b
		}
	}
	return r, nil
}

// merge combines the parties' per-layer statistics (same layer order on every party).
func merge(ref []LayerStats, parties []*Party, get func(*Party) []LayerStats) []LayerCost {
	out := make([]LayerCost, len(ref))
	for i, l := range ref {
		c := LayerCost{Op: l.Op, Kind: l.Kind, Name: l.Name, Shape: l.Shape, Elements: l.Elements, BytesSent: make([]int64, len(parties))}
		for j, e := range parties {
			ls := get(e)
			if i >= len(ls) {
				continue // cannot happen: every party runs the same layers
			}
			c.Seconds = max(c.Seconds, ls[i].Seconds)
			c.Rounds = max(c.Rounds, ls[i].Net.Rounds)
			c.BytesSent[j] = ls[i].Net.BytesSent
		}
		out[i] = c
	}
	return out
}
