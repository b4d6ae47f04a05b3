package engine

import (
	"fmt"
	"sync"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/count"
)

// Demands is what a model asks of a protocol: the model owner's parameter sharing (Setup,
// once per model) and one inference (Infer), counted call by call.
type Demands struct {
	Setup *mpc.Demand `json:"setup"`
	Infer *mpc.Demand `json:"infer"`
}

// demandKey identifies a counted demand: it depends on the number of parties and the
// roles, not on the protocol.
type demandKey struct {
	n, owner, client int
	reveal           Reveal
	split            bool // counted with mpc.A2BSplitter
	leaves           bool // and with mpc.LeafSplitter
}

type demandCache struct {
	mu sync.Mutex
	m  map[demandKey]*Demands
}

// Demand counts, exactly and without data, the protocol calls of the parameter sharing
// and of one inference of g (whose public part c was compiled from) with n parties and
// the roles of opt: it runs the engine on the public graph with zero parameters over the
// counting protocol (package mpc/count). The result is cached in c.
func (c *Compiled) Demand(g *model.Graph, n int, opt Options) (*Demands, error) {
	return c.demand(g, n, opt, false, false)
}

// DemandOf is Demand for protocol p: counted with the optional extensions that change
// which calls the blocks make (mpc.A2BSplitter, mpc.LeafSplitter), as p has them.
func (c *Compiled) DemandOf(p mpc.Protocol, g *model.Graph, opt Options) (*Demands, error) {
	_, split := mpc.Ext[mpc.A2BSplitter](p)
	return c.demand(g, p.N(), opt, split, split && mpc.HasLeafSplits(p))
}

func (c *Compiled) demand(g *model.Graph, n int, opt Options, split, leaves bool) (*Demands, error) {
	key := demandKey{n, opt.Owner, opt.Client, opt.Reveal, split, leaves}
	c.demands.mu.Lock()
	defer c.demands.mu.Unlock()
	if d, ok := c.demands.m[key]; ok {
		return d, nil
	}
	// The counting party plays the model owner (so that Setup inputs the parameters) and
	// passes no client input unless it is the client too.
	p := count.New(opt.Owner, n)
	var pp mpc.Protocol = p
	switch {
	case leaves:
		pp = &count.LeafSplitter{Splitter: &count.Splitter{Protocol: p}}
	case split:
		pp = &count.Splitter{Protocol: p}
	}
	cp, err := NewPartyCompiled(pp, PublicGraphWithZeros(g), c, Options{Owner: opt.Owner, Client: opt.Client, Reveal: opt.Reveal})
	if err != nil {
		return nil, fmt.Errorf("counting the protocol demand: %w", err)
	}
	if err := cp.Setup(); err != nil {
		return nil, fmt.Errorf("counting the protocol demand: %w", err)
	}
	d := &Demands{Setup: p.Take()}
	var in []model.Value
	if opt.Client == opt.Owner {
		in = zeroInputs(g)
	}
	if _, err := cp.Infer(in); err != nil {
		return nil, fmt.Errorf("counting the protocol demand: %w", err)
	}
	d.Infer = p.Take()
	if c.demands.m == nil {
		c.demands.m = map[demandKey]*Demands{}
	}
	c.demands.m[key] = d
	return d, nil
}

// PublicGraphWithZeros is PublicGraph(g) with every secret parameter present as zeros
// (of the right size), for runs that must not see the owner's data.
func PublicGraphWithZeros(g *model.Graph) *model.Graph {
	pg := PublicGraph(g)
	for _, i := range SecretConstants(pg) {
		t := *pg.Tensors[i]
		t.Data = make([]byte, t.NumElements()*t.DType.Size())
		pg.Tensors[i] = &t
	}
	return pg
}

// zeroInputs returns all-zero values for g's inputs.
func zeroInputs(g *model.Graph) []model.Value {
	in := make([]model.Value, len(g.Inputs))
	for i, t := range g.Inputs {
		tt := g.Tensors[t]
		in[i] = model.Value{Shape: tt.Shape, DType: tt.DType, Data: make([]byte, tt.NumElements()*tt.DType.Size())}
	}
	return in
}
