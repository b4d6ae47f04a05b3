package engine

import (
	"slices"
	"sync"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// Batches: one secure pass for N inputs. model.WithBatch turns a batch-1 graph into one
// whose every layer works on N images at once; the engine evaluates it like any graph, so
// a batch costs one image's rounds and about N times its bytes. The secret parameters
// keep their tensor indices in the batched graph, so the weights shared once (Setup)
// serve every batch size (Party.ForGraph).

// MaxBatch bounds the batch size a party accepts (memory: every activation is N times
// larger, and the index maps too).
const MaxBatch = 4096

// BatchGraph is model.WithBatch for the engine's graphs: g may be the owner's graph or a
// PublicGraph (whose secret constants have no data; they have none in the result either).
// For n == 1 it returns g.
func BatchGraph(g *model.Graph, n int) (*model.Graph, error) {
	if n == 1 {
		return g, nil
	}
	if n < 1 || n > MaxBatch {
		return nil, errs.New(errs.Shape, "batch size %d: want 1 to %d", n, MaxBatch)
	}
	pv := publicView(g) // stripped constants get zeros, so that the graph validates
	bg, err := model.WithBatch(pv, n)
	if err != nil {
		return nil, err
	}
	for i, t := range g.Tensors {
		if t.Data == nil && pv.Tensors[i].Data != nil {
			bg.Tensors[i].Data = nil
		}
	}
	return bg, nil
}

// Batches compiles a graph's batched versions on demand and keeps the last few, per batch
// size. Safe for concurrent use.
type Batches struct {
	g  *model.Graph
	c1 *Compiled

	mu    sync.Mutex
	m     map[int]*batchEntry
	order []int // batch sizes, least recently used first
}

type batchEntry struct {
	once sync.Once
	g    *model.Graph
	c    *Compiled
	err  error
}

// batchesKept is how many batch sizes besides 1 a Batches keeps compiled.
const batchesKept = 4

// NewBatches returns a cache for g's batches; c, if not nil, is g's compiled plan (the
// batch of 1).
func NewBatches(g *model.Graph, c *Compiled) *Batches {
	return &Batches{g: g, c1: c, m: map[int]*batchEntry{}}
}

// Graph returns the batch-1 graph.
func (b *Batches) Graph() *model.Graph { return b.g }

// Get returns the graph for a batch of n (BatchGraph) and its compiled plan.
func (b *Batches) Get(n int) (*model.Graph, *Compiled, error) {
	if n == 1 && b.c1 != nil {
		return b.g, b.c1, nil
	}
	b.mu.Lock()
	e, ok := b.m[n]
	if !ok {
		e = &batchEntry{}
		b.m[n] = e
	}
	b.order = append(slices.DeleteFunc(b.order, func(k int) bool { return k == n }), n)
	for len(b.order) > batchesKept {
		delete(b.m, b.order[0])
		b.order = b.order[1:]
	}
	b.mu.Unlock()
	e.once.Do(func() {
		e.g, e.err = BatchGraph(b.g, n)
		if e.err == nil {
			e.c, e.err = Compile(e.g)
		}
	})
	return e.g, e.c, e.err
}

// Protocol returns the party's protocol instance.
func (e *Party) Protocol() mpc.Protocol { return e.p }

// Options returns the party's roles and settings.
func (e *Party) Options() Options { return e.opt }

// WithProtocol returns a party that evaluates e's graph on another instance p of the same
// protocol, with the same party id, parties and roles, and the model parameters e shared
// (Setup, which must have run): one protocol instance per concurrent client session, each
// with its own correlated randomness (its own keys, its own offline phase), all using the
// weights shared once. This needs shares that are plain values of the protocol's sharing,
// independent of an instance's keys: true of every protocol of the registry (replicated
// and additive shares without MACs; rep3-mal checks the weights' sharing once, in Setup,
// and each instance checks its own products, in which the weights are factors). e and the
// returned party may run concurrently: the shared parameters are only read.
func (e *Party) WithProtocol(p mpc.Protocol) (*Party, error) {
	if !e.ready {
		return nil, errs.New(errs.Internal, "the parameters are not shared yet (Setup)")
	}
	if p.Name() != e.p.Name() || p.ID() != e.p.ID() || p.N() != e.p.N() {
		return nil, errs.New(errs.Internal, "protocol instance %s party %d of %d, the parameters are shared under %s party %d of %d",
			p.Name(), p.ID(), p.N(), e.p.Name(), e.p.ID(), e.p.N())
	}
	if k, ok := mpc.Ext[mpc.KeyedShares](p); ok && !k.SameKeys(e.p) {
		return nil, errs.New(errs.Config, "protocol %s binds shares to its instance's MAC keys, and this instance's keys are not those the parameters were shared under: share them again (Setup) under it", p.Name())
	}
	return e.with(p, e.opt), nil
}

func (e *Party) with(p mpc.Protocol, opt Options) *Party {
	return &Party{p: p, g: e.g, opt: opt, plan: e.plan, c: e.c, ready: true, consts: e.consts,
		derived: map[string]mpc.AShare{}, setup: e.setup}
}

// Rotated is WithProtocol for an instance p that plays the role of party (e's id - r)
// mod n (p runs on net.Rotate(conn, r)): the roles Owner and Client move with the
// labels. Only a protocol whose sharings are invariant under the relabelling
// (mpc.Spec.Rotatable) allows it: e's shares, read as the rotated party's, are then a
// sharing of the same parameters. r = 0 is WithProtocol.
func (e *Party) Rotated(p mpc.Protocol, r int) (*Party, error) {
	n := e.p.N()
	r = ((r % n) + n) % n
	if r == 0 {
		return e.WithProtocol(p)
	}
	if !e.ready {
		return nil, errs.New(errs.Internal, "the parameters are not shared yet (Setup)")
	}
	spec, err := registry.Lookup(e.p.Name())
	if err != nil {
		return nil, err
	}
	if !spec.Rotatable {
		return nil, errs.New(errs.Config, "protocol %s does not allow rotated roles (its sharings depend on the party labels)", spec.Name)
	}
	rot := func(i int) int { return (i - r + n) % n }
	if p.Name() != e.p.Name() || p.N() != n || p.ID() != rot(e.p.ID()) {
		return nil, errs.New(errs.Internal, "protocol instance %s party %d of %d, want %s party %d of %d (party %d rotated by %d)",
			p.Name(), p.ID(), p.N(), e.p.Name(), rot(e.p.ID()), n, e.p.ID(), r)
	}
	opt := e.opt
	opt.Owner, opt.Client = rot(opt.Owner), rot(opt.Client)
	return e.with(p, opt), nil
}

// ForGraph returns a party of the same protocol session, roles and shared parameters that
// evaluates g instead: a graph with the same secret constants (the same tensor indices,
// types and shapes), such as BatchGraph(e's graph, n); c is g's compiled plan. The
// parameters are shared first if they were not (Setup), so every party must call it at
// the same point. The two parties share the protocol: use one at a time.
func (e *Party) ForGraph(g *model.Graph, c *Compiled) (*Party, error) {
	if err := e.Setup(); err != nil {
		return nil, err
	}
	mine, theirs := SecretConstants(e.g), SecretConstants(g)
	if !slices.Equal(mine, theirs) {
		return nil, errs.New(errs.Model, "the graph's secret parameters (%d tensors) are not the shared ones (%d tensors)", len(theirs), len(mine))
	}
	for _, t := range mine {
		a, b := e.g.Tensors[t], g.Tensors[t]
		if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) {
			return nil, errs.New(errs.Model, "secret parameter %q: %v%v, shared %v%v", b.Name, b.DType, b.Shape, a.DType, a.Shape)
		}
	}
	return &Party{p: e.p, g: g, opt: e.opt, plan: c.plan, c: c, ready: true, consts: e.consts,
		derived: map[string]mpc.AShare{}, setup: e.setup}, nil
}
