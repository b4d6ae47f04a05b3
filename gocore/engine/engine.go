// Package engine evaluates a quantized graph on secret shares: each layer becomes calls to
// an mpc.Protocol and to the protocol-generic building blocks of package mpc, with the
// integer parameters prepared by package qnn (the cleartext oracle), so that the secure
// output equals qnn.Run's bit for bit.
//
// Roles: the model owner (Options.Owner) inputs the secret parameters once (Setup); the
// client (Options.Client) inputs the tensor and alone receives the output (Infer). Graph
// structure and quantization parameters are public (see plan.go). Every computing party
// runs the same code; the engine never knows whether its Conn is a pipe or a TLS socket.
package engine

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
)

// Reveal selects what the client learns.
type Reveal int

const (
	// RevealOutput opens the graph outputs (for a final SOFTMAX/LOGISTIC/DEQUANTIZE, its
	// input is opened to the client, who applies it in the clear with the same kernel).
	RevealOutput Reveal = iota
	// RevealArgmax opens only the index of the largest logit (last axis, first index on
	// ties) of the tensor that feeds the final softmax, or of the output itself.
	RevealArgmax
)

// ParseReveal maps "output" / "argmax" to a Reveal.
func ParseReveal(s string) (Reveal, error) {
	switch s {
	case "", "output", "logits":
		return RevealOutput, nil
	case "argmax", "top1":
		return RevealArgmax, nil
	}
	return 0, errs.New(errs.Config, "reveal %q: want \"output\" or \"argmax\"", s)
}

// Options configures a party's engine. The same options must be given to every party.
type Options struct {
	Owner    int       // party that inputs the model parameters
	Client   int       // party that inputs the tensor and receives the output
	Reveal   Reveal    // what the client learns
	Progress *Progress // optional: layer counter and cancellation, shared by local parties
}

// Progress counts finished layers and carries a cancellation flag. Safe for concurrent use.
type Progress struct {
	done, total atomic.Int64
	cancelled   atomic.Bool
}

// Get returns (layers done, layers in total) of the current inference.
func (p *Progress) Get() (done, total int) { return int(p.done.Load()), int(p.total.Load()) }

// Cancel asks every party to stop at the next layer boundary.
func (p *Progress) Cancel() { p.cancelled.Store(true) }

// Cancelled reports whether Cancel was called.
func (p *Progress) Cancelled() bool { return p != nil && p.cancelled.Load() }

// LayerStats is one party's cost of one layer: Seconds and Net are the whole cost,
// Offline the part of it spent on correlated randomness (mpc.OfflineReporter; zero for
// protocols without an offline phase). Online = whole - Offline.
type LayerStats struct {
	Op       int     `json:"op"`
	Kind     string  `json:"kind"`
	Name     string  `json:"name"`
	Shape    []int   `json:"shape"`
	Seconds  float64 `json:"seconds"`
	Net      net.Stats
	Elements int            `json:"elements"`
	Offline  mpc.PhaseStats `json:"offline"`
}

// meter measures one layer: the wall time, the traffic and the offline part.
type meter struct {
	p   mpc.Protocol
	t   mpc.Timer
	off mpc.PhaseStats
}

func (e *Party) meter() meter {
	return meter{p: e.p, t: mpc.StartTimer(e.p.Conn()), off: mpc.Offline(e.p)}
}

// stats returns the layer's statistics so far.
func (m meter) stats(op int, kind, name string, shape []int, elements int) LayerStats {
	all := m.t.Stop()
	return LayerStats{Op: op, Kind: kind, Name: name, Shape: shape, Seconds: all.Seconds, Net: all.Net,
		Elements: elements, Offline: mpc.Offline(m.p).Sub(m.off)}
}

// Party is one computing party's engine for one model.
type Party struct {
	p     mpc.Protocol
	g     *model.Graph
	opt   Options
	plan  *plan
	c     *Compiled
	ready bool

	consts  map[int]mpc.AShare    // shared secret constants (raw integer values)
	derived map[string]mpc.AShare // shares derived from constants once (layouts, zero points)

	setup   LayerStats
	input   LayerStats // the client's input sharing in the last Infer (not one of layers)
	layers  []LayerStats
	pending []LayerStats // preprocessing done since the last inference, reported with the next
}

// Compiled is a graph's public evaluation plan: the split into the client's cleartext head,
// the secure part and the client's cleartext tail, and every secure op's integer
// parameters and gather maps. It depends only on the public graph, so all parties and any
// number of runs may share one; it is read-only after Compile (safe for concurrent use).
type Compiled struct {
	plan    *plan
	ops     map[int]*prepared
	demands demandCache
	lastUse map[int]int // per tensor read by a secure op: the last such op (absent: revealed or not read)
}

// Compile prepares g for secure evaluation. Only g's public part is read: the secret
// parameters are replaced by zeros first (the integer parameters and index maps do not
// depend on them).
func Compile(g *model.Graph) (*Compiled, error) {
	pl, err := makePlan(g)
	if err != nil {
		return nil, err
	}
	pub := publicView(PublicGraph(g))
	c := &Compiled{plan: pl, ops: make(map[int]*prepared, len(pl.secure))}
	for _, oi := range pl.secure {
		p, err := prepOp(pub, oi)
		if err != nil {
			return nil, fmt.Errorf("op %d %s %q: %w", oi, g.Ops[oi].Kind, g.Ops[oi].Name, err)
		}
		c.ops[oi] = p
	}
	c.lastUse = map[int]int{}
	for _, oi := range pl.secure {
		for _, t := range g.Ops[oi].Inputs {
			if t >= 0 {
				c.lastUse[t] = oi
			}
		}
	}
	for _, t := range pl.reveal {
		delete(c.lastUse, t) // kept until revealed
	}
	return c, nil
}

// NewParty prepares party p's engine for graph g. The owner's g holds the parameters; the
// other parties may hold PublicGraph(g).
func NewParty(p mpc.Protocol, g *model.Graph, opt Options) (*Party, error) {
	c, err := Compile(g)
	if err != nil {
		return nil, err
	}
	return NewPartyCompiled(p, g, c, opt)
}

// NewPartyCompiled is NewParty with a plan compiled once (Compile(g) or of any graph with
// the same public part).
func NewPartyCompiled(p mpc.Protocol, g *model.Graph, c *Compiled, opt Options) (*Party, error) {
	if opt.Owner < 0 || opt.Owner >= p.N() || opt.Client < 0 || opt.Client >= p.N() {
		return nil, errs.New(errs.Config, "owner %d / client %d: want parties in [0,%d)", opt.Owner, opt.Client, p.N())
	}
	if p.ID() == opt.Owner {
		for _, t := range SecretConstants(g) {
			if g.Tensors[t].Data == nil {
				return nil, errs.New(errs.Model, "model owner's graph lacks the data of tensor %q", g.Tensors[t].Name)
			}
		}
	}
	return &Party{p: p, g: g, opt: opt, plan: c.plan, c: c,
		consts: map[int]mpc.AShare{}, derived: map[string]mpc.AShare{}}, nil
}

// Setup secret-shares the model parameters: the owner inputs each secret constant, in the
// order of SecretConstants. Call once; Infer may then run many times.
func (e *Party) Setup() error {
	if e.ready {
		return nil
	}
	m := e.meter()
	for _, t := range SecretConstants(e.g) {
		tt := e.g.Tensors[t]
		var vals []uint64
		if e.p.ID() == e.opt.Owner {
			v, err := ToRing(model.Value{Shape: tt.Shape, DType: tt.DType, Data: tt.Data})
			if err != nil {
				return fmt.Errorf("setup: tensor %q: %w", tt.Name, err)
			}
			vals = v
		}
		lo, hi, ok := tt.DType.IntRange() // public: the tensor's type
		if !ok {
			lo, hi = 1, 0 // unknown
		}
		s, err := mpc.InputRange(e.p, e.opt.Owner, vals, tt.NumElements(), lo, hi)
		if err != nil {
			return fmt.Errorf("setup: sharing tensor %q: %w", tt.Name, err)
		}
		e.consts[t] = s
	}
	if err := e.p.Conn().Flush(); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	// Verify before anything leaves: the weight sharing is checked once, here.
	if err := mpc.Verify(e.p); err != nil {
		return fmt.Errorf("setup: verifying the model owner's parameters: %w", err)
	}
	e.setup = m.stats(-1, "SETUP", "model parameters", nil, 0)
	e.ready = true
	return nil
}

// NeedsPreprocess reports whether the protocol has an offline phase (mpc.Preprocessor)
// and Preprocess has not run since the last inference.
func (e *Party) NeedsPreprocess() bool {
	if _, ok := mpc.Ext[mpc.Preprocessor](e.p); !ok {
		return false
	}
	for _, l := range e.pending {
		if l.Kind == "PREPROCESS" {
			return false
		}
	}
	return true
}

// Preprocess runs the protocol's offline phase for the next inference (mpc.Preprocessor),
// with the demand counted on the public graph (Demand). It does nothing for protocols
// without an offline phase. All parties call it at the same point; its cost is reported
// as a PREPROCESS layer of the next inference.
func (e *Party) Preprocess() error {
	if _, ok := mpc.Ext[mpc.Preprocessor](e.p); !ok {
		return nil
	}
	d, err := e.c.Demand(e.g, e.p.N(), e.opt)
	if err != nil {
		return err
	}
	m := e.meter()
	if err := mpc.Preprocess(e.p, d.Infer); err != nil {
		return fmt.Errorf("preprocessing: %w", err)
	}
	st := m.stats(-1, "PREPROCESS", "offline phase", nil, 0)
	st.Offline = mpc.PhaseStats{Seconds: st.Seconds, Net: st.Net}
	e.pending = append(e.pending, st)
	return nil
}

// SetupStats returns this party's cost of Setup.
func (e *Party) SetupStats() LayerStats { return e.setup }

// InputStats returns this party's cost of sharing the client's inputs in the last Infer
// (it runs after the PREPROCESS layer and before the first secure layer; InferShares,
// whose inputs are shared by other means, has none).
func (e *Party) InputStats() LayerStats { return e.input }

// Layers returns this party's per-layer costs of the last Infer.
func (e *Party) Layers() []LayerStats { return e.layers }

// Infer runs one secure inference. The client passes the graph inputs (others pass nil)
// and receives the outputs; the other parties get nil.
func (e *Party) Infer(in []model.Value) ([]model.Value, error) {
	if err := e.Setup(); err != nil {
		return nil, err
	}
	isClient := e.p.ID() == e.opt.Client
	var vals []model.Value
	if isClient {
		v, err := ClientInputs(e.g, in)
		if err != nil {
			return nil, err
		}
		vals = v
	}
	m := e.meter()
	shares := make([]mpc.AShare, len(e.plan.inputs))
	elements := 0
	for i, t := range e.plan.inputs {
		elements += e.g.Tensors[t].NumElements()
		var ring []uint64
		if isClient {
			r, err := ToRing(vals[i])
			if err != nil {
				return nil, err
			}
			ring = r
		}
		s, err := e.p.Input(e.opt.Client, ring, e.g.Tensors[t].NumElements())
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", e.g.Tensors[t].Name, err)
		}
		shares[i] = s
	}
	e.input = m.stats(-1, "INPUT", "client input", nil, elements)
	outShares, err := e.InferShares(shares)
	if err != nil {
		return nil, err
	}
	return e.reveal(outShares)
}

// SharedInputs lists the tensors the client secret-shares, in order (see ClientInputs).
func (e *Party) SharedInputs() []int { return e.plan.inputs }

// InferShares runs the secure part of the graph on already shared inputs (one per
// SharedInputs tensor) and returns the shares of the tensors to reveal: RevealTensors() in order, or one
// share of the argmax indices under RevealArgmax. A deployment whose client is not a
// computing party uses it with the protocol's external sharing.
func (e *Party) InferShares(in []mpc.AShare) ([]mpc.AShare, error) {
	if err := e.Setup(); err != nil {
		return nil, err
	}
	env := make(map[int]mpc.AShare, len(e.g.Tensors))
	if len(in) != len(e.plan.inputs) {
		return nil, errs.New(errs.Shape, "got %d shared inputs, want %d", len(in), len(e.plan.inputs))
	}
	for i, t := range e.plan.inputs {
		env[t] = in[i]
	}
	for t, s := range e.consts {
		env[t] = s
	}
	e.layers = append(e.layers[:0], e.pending...)
	e.pending = e.pending[:0]
	if pr := e.opt.Progress; pr != nil && e.p.ID() == 0 {
		pr.total.Store(int64(len(e.plan.secure)))
		pr.done.Store(0)
	}
	for _, oi := range e.plan.secure {
		if e.opt.Progress.Cancelled() {
			return nil, errs.New(errs.Cancelled, "inference cancelled before op %d", oi)
		}
		op := e.g.Ops[oi]
		m := e.meter()
		out, err := e.evalOp(oi, op, env)
		if err != nil {
			return nil, fmt.Errorf("op %d %s %q: %w", oi, op.Kind, op.Name, err)
		}
		env[op.Outputs[0]] = out
		// Drop the shares no later secure op reads (a batch's activations are N times
		// larger): everything but the constants and the tensors to reveal.
		for _, t := range op.Inputs {
			if last, ok := e.c.lastUse[t]; ok && last == oi {
				if _, isConst := e.consts[t]; !isConst {
					delete(env, t)
				}
			}
		}
		ot := e.g.Tensors[op.Outputs[0]]
		e.layers = append(e.layers, m.stats(oi, op.Kind.String(), op.Name, ot.Shape, ot.NumElements()))
		if pr := e.opt.Progress; pr != nil && e.p.ID() == 0 {
			pr.done.Add(1)
		}
	}
	var outs []mpc.AShare
	for _, t := range e.plan.reveal {
		s, ok := env[t]
		if !ok {
			return nil, errs.New(errs.Internal, "tensor %q to reveal was not computed", e.g.Tensors[t].Name)
		}
		outs = append(outs, s)
	}
	if e.opt.Reveal == RevealArgmax {
		m := e.meter()
		t := e.plan.reveal[0]
		shape := e.g.Tensors[t].Shape
		classes := shape[len(shape)-1]
		idx, err := mpc.Argmax(e.p, outs[0], classes, signedBound(e.g.Tensors[t].DType))
		if err != nil {
			return nil, fmt.Errorf("argmax: %w", err)
		}
		e.layers = append(e.layers, m.stats(-1, "ARGMAX", "argmax", shape[:len(shape)-1], idx.Len()))
		outs = []mpc.AShare{idx}
	}
	// Verify before anything leaves: the shares returned here are opened to the client
	// (Infer) or exported to an outside client (package cluster/inference).
	if _, ok := mpc.Ext[mpc.Verifier](e.p); ok {
		m := e.meter()
		if err := mpc.Verify(e.p); err != nil {
			return nil, fmt.Errorf("verifying the inference before the output leaves: %w", err)
		}
		e.layers = append(e.layers, m.stats(-1, "VERIFY", "integrity check", nil, 0))
	}
	return outs, nil
}

// RevealTensors lists the tensors whose shares InferShares returns under RevealOutput.
func (e *Party) RevealTensors() []int { return e.plan.reveal }

// reveal opens the shares to the client, which finishes the graph in the clear.
func (e *Party) reveal(outs []mpc.AShare) ([]model.Value, error) {
	m := e.meter()
	opened := make([][]uint64, len(outs))
	for i, s := range outs {
		v, err := e.p.Open(s, e.opt.Client)
		if err != nil {
			return nil, fmt.Errorf("opening the output to the client: %w", err)
		}
		opened[i] = v
	}
	if err := e.p.Conn().Flush(); err != nil {
		return nil, err
	}
	e.layers = append(e.layers, m.stats(-1, "OUTPUT", "open to client", nil, 0))
	if e.p.ID() != e.opt.Client {
		return nil, nil
	}
	return Finish(e.g, e.opt.Reveal, opened)
}

// Finish turns the opened values (RevealTensors order, or the argmax indices) into the
// graph outputs on the client: it applies the cleartext tail (softmax, logistic,
// dequantize, reshapes) with the same kernels as qnn.Run.
func Finish(g *model.Graph, reveal Reveal, opened [][]uint64) ([]model.Value, error) {
	pl, err := makePlan(g)
	if err != nil {
		return nil, err
	}
	if reveal == RevealArgmax {
		return []model.Value{FromRing(opened[0], model.Int32, argmaxShape(g, pl))}, nil
	}
	known := map[int]model.Value{}
	for i, t := range pl.reveal {
		tt := g.Tensors[t]
		known[t] = FromRing(opened[i], tt.DType, tt.Shape)
	}
	return finishTail(g, pl, known)
}

func checkInputs(g *model.Graph, in []model.Value) error {
	if len(in) != len(g.Inputs) {
		return errs.New(errs.Shape, "got %d input tensors, the model takes %d", len(in), len(g.Inputs))
	}
	for i, t := range g.Inputs {
		tt := g.Tensors[t]
		if in[i].DType != tt.DType {
			return errs.New(errs.DType, "input %q: got %s, want %s", tt.Name, in[i].DType, tt.DType)
		}
		if !sameShape(in[i].Shape, tt.Shape) {
			return errs.New(errs.Shape, "input %q: got shape %v, want %v", tt.Name, in[i].Shape, tt.Shape)
		}
		if len(in[i].Data) != tt.NumElements()*tt.DType.Size() {
			return errs.New(errs.Shape, "input %q: %d bytes for shape %v", tt.Name, len(in[i].Data), tt.Shape)
		}
	}
	return nil
}

func sameShape(a, b []int) bool {
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

// ToRing converts integer tensor data to ring elements (two's complement, sign-extended),
// as parties and outside clients share it.
func ToRing(v model.Value) ([]uint64, error) {
	n := model.NumElements(v.Shape)
	if len(v.Data) != n*v.DType.Size() {
		return nil, errs.New(errs.Shape, "%d bytes for %d %s elements", len(v.Data), n, v.DType)
	}
	out := make([]uint64, n)
	d := v.Data
	switch v.DType {
	case model.Uint8:
		for i := range out {
			out[i] = uint64(d[i])
		}
	case model.Int8:
		for i := range out {
			out[i] = mpc.Int(int64(int8(d[i])))
		}
	case model.Int16:
		for i := range out {
			out[i] = mpc.Int(int64(int16(binary.LittleEndian.Uint16(d[2*i:]))))
		}
	case model.Int32:
		for i := range out {
			out[i] = mpc.Int(int64(int32(binary.LittleEndian.Uint32(d[4*i:]))))
		}
	case model.Int64:
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(d[8*i:])
		}
	default:
		return nil, errs.New(errs.DType, "secure evaluation takes integer tensors, got %s", v.DType)
	}
	return out, nil
}

// FromRing converts ring elements back to tensor data of type dt (truncating).
func FromRing(vals []uint64, dt model.DType, shape []int) model.Value {
	sz := dt.Size()
	d := make([]byte, len(vals)*sz)
	for i, x := range vals {
		switch sz {
		case 1:
			d[i] = byte(x)
		case 2:
			binary.LittleEndian.PutUint16(d[2*i:], uint16(x))
		case 4:
			binary.LittleEndian.PutUint32(d[4*i:], uint32(x))
		case 8:
			binary.LittleEndian.PutUint64(d[8*i:], x)
		}
	}
	return model.Value{Shape: append([]int(nil), shape...), DType: dt, Data: d}
}

// signedBound is the number of bits of a two's-complement range that holds every value
// of type dt (for comparisons).
func signedBound(dt model.DType) int {
	switch dt {
	case model.Uint8, model.Int8:
		return 10
	case model.Int16:
		return 18
	}
	return 34
}

// argmaxShape is the shape of the argmax indices: the first graph output's shape without
// its last axis (a [1, 1001] output gives [1]), or the revealed logits' if their number
// of groups differs.
func argmaxShape(g *model.Graph, pl *plan) []int {
	t := g.Tensors[pl.reveal[0]].Shape
	groups := model.NumElements(t) / max(1, t[len(t)-1])
	o := g.Tensors[g.Outputs[0]].Shape
	if len(o) > 0 && model.NumElements(o[:len(o)-1]) == groups {
		return append([]int(nil), o[:len(o)-1]...)
	}
	return append([]int(nil), t[:len(t)-1]...)
}
