package inference

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net"
)

// Result is one inference's outcome on the client.
type Result struct {
	Outputs []model.Value
	Parties []PartyStats // index = party id
	Seconds float64      // client wall time, connect to output
	Info    *Info        // the cluster's public model and settings
	Batch   int          // inputs evaluated in one pass (1 unless the inputs were a batch)
}

// Infer connects to the cluster, secret-shares in (one value per graph input, of the
// input's integer type) to the parties, and reconstructs the outputs. Errors name the
// party and the step; a party whose shares disagree with another's is a qmpc:party error.
func Infer(ctx context.Context, c *cluster.Client, in []model.Value) (*Result, error) {
	return InferWith(ctx, c, in, nil)
}

// InferWith is Infer with a hook that prepares the inputs once the public graph is known
// (e.g. quantizes float inputs, converts layouts); prepare may be nil.
func InferWith(ctx context.Context, c *cluster.Client, in []model.Value, prepare func(g *model.Graph, in []model.Value) ([]model.Value, error)) (*Result, error) {
	return InferPasses(ctx, c, in, prepare, 1)
}

// InferPasses is InferWith that evaluates a batch of N inputs as min(passes, N) secure
// passes at once, each over a consecutive part of the batch (sizes differ by at most
// one) in a client session of its own (its own connections, so its own lane and protocol
// instance on every party: the cluster's max_sessions must allow passes sessions). The
// passes share the links: while one pass computes, another's messages are on the wire,
// so on a link of limited bandwidth the batch ends sooner than in one pass; each pass
// has the rounds of one image, and the bytes add up to those of one pass over the whole
// batch. The outputs are those of one pass, bit for bit; the parties' statistics are
// merged (bytes and messages summed, rounds, hops and seconds the most of any pass).
func InferPasses(ctx context.Context, c *cluster.Client, in []model.Value, prepare func(g *model.Graph, in []model.Value) ([]model.Value, error), passes int) (*Result, error) {
	start := time.Now()
	cfg := c.Config()
	// Every session is opened at once (the connections' round trips overlap); the first
	// asks for the cluster's description as it connects.
	sessions := make([]*cluster.Session, max(passes, 1))
	cerrs := make([]error, len(sessions))
	var ib []byte
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				sessions[i], ib, cerrs[i] = c.ConnectInfo(ctx)
			} else {
				sessions[i], cerrs[i] = c.Connect(ctx)
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.Close()
			}
		}
	}()
	for i, err := range cerrs {
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("session %d of %d: %w", i+1, len(sessions), err)
			}
			return nil, err
		}
	}
	s := sessions[0]
	var err error
	var info Info
	if err := json.Unmarshal(ib, &info); err != nil || info.Graph == nil {
		return nil, errs.New(errs.Party, "party 0 sent a malformed model description: %v", err)
	}
	if info.Protocol != cfg.Protocol {
		return nil, errs.New(errs.Config, "the cluster runs %s, the config says %s", info.Protocol, cfg.Protocol)
	}
	if d := cfg.ModelDigest; d != "" && d != info.ModelDigest {
		return nil, errs.New(errs.Config, "the cluster serves model %s, the config pins %s", info.ModelDigest, d)
	}
	g := info.Graph
	if prepare != nil {
		if in, err = prepare(g, in); err != nil {
			return nil, err
		}
	}
	// A batch: every input holds N per-image values (model.BatchShape or the batched
	// graph's shape); the parties evaluate the batched graph in one pass (or in several,
	// each over a part of the batch).
	n, err := batchOf(g, in)
	if err != nil {
		return nil, err
	}
	var res *Result
	if p := min(len(sessions), n); p > 1 {
		res, err = runPasses(ctx, cfg, sessions[:p], &info, in, n)
	} else {
		res, err = runPass(ctx, cfg, s, &info, in, n, 0)
	}
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// runPasses evaluates the batch in (n inputs) as len(sessions) passes at once, one per
// session, and joins their results.
func runPasses(ctx context.Context, cfg *cluster.Config, sessions []*cluster.Session, info *Info, in []model.Value, n int) (*Result, error) {
	p := len(sessions)
	parts := make([]*Result, p)
	errl := make([]error, p)
	var wg sync.WaitGroup
	lo := 0
	for i := range p {
		m := n / p
		if i < n%p {
			m++
		}
		sub := make([]model.Value, len(in))
		for k, v := range in {
			per := len(v.Data) / n
			shape := info.Graph.Tensors[info.Graph.Inputs[k]].Shape
			if m > 1 {
				shape = model.BatchShape(shape, m)
			}
			sub[k] = model.Value{Shape: shape, DType: v.DType, Data: v.Data[lo*per : (lo+m)*per]}
		}
		lo += m
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], errl[i] = runPass(ctx, cfg, sessions[i], info, sub, m, i)
		}()
	}
	wg.Wait()
	for i, err := range errl {
		if err != nil {
			return nil, fmt.Errorf("pass %d of %d: %w", i+1, p, err)
		}
	}
	return joinPasses(info, parts, n)
}

// joinPasses joins the results of passes over consecutive parts of a batch of n: the
// outputs in order (each output's values are batch-major), the parties' statistics
// merged as the passes ran at once (bytes and messages summed; seconds, rounds and hops
// the most of any pass).
func joinPasses(info *Info, parts []*Result, n int) (*Result, error) {
	res := &Result{Info: info, Batch: n, Parties: slices.Clone(parts[0].Parties)}
	for k, o := range parts[0].Outputs {
		v := model.Value{Shape: o.Shape, DType: o.DType}
		for _, r := range parts {
			if len(r.Outputs) != len(parts[0].Outputs) {
				return nil, errs.New(errs.Party, "the passes returned %d and %d outputs", len(parts[0].Outputs), len(r.Outputs))
			}
			v.Data = append(v.Data, r.Outputs[k].Data...)
		}
		if k < len(info.Graph.Outputs) {
			v.Shape = model.BatchShape(info.Graph.Tensors[info.Graph.Outputs[k]].Shape, n)
		}
		res.Outputs = append(res.Outputs, v)
	}
	for _, r := range parts[1:] {
		if len(r.Parties) != len(res.Parties) {
			return nil, errs.New(errs.Party, "the passes' statistics name %d and %d parties", len(res.Parties), len(r.Parties))
		}
		for j := range res.Parties {
			res.Parties[j] = mergePartyStats(res.Parties[j], r.Parties[j])
		}
	}
	return res, nil
}

// mergeNet merges the traffic of two passes that ran at once.
func mergeNet(a, b net.Stats) net.Stats {
	return net.Stats{BytesSent: a.BytesSent + b.BytesSent, BytesReceived: a.BytesReceived + b.BytesReceived,
		Messages: a.Messages + b.Messages, Rounds: max(a.Rounds, b.Rounds), Hops: max(a.Hops, b.Hops), Clock: max(a.Clock, b.Clock)}
}

func mergeLayer(a, b engine.LayerStats) engine.LayerStats {
	a.Seconds = max(a.Seconds, b.Seconds)
	a.Net = mergeNet(a.Net, b.Net)
	a.Elements += b.Elements
	a.Offline = mpc.PhaseStats{Seconds: max(a.Offline.Seconds, b.Offline.Seconds), Net: mergeNet(a.Offline.Net, b.Offline.Net)}
	return a
}

// mergePartyStats merges one party's statistics of two passes that ran at once.
func mergePartyStats(a, b PartyStats) PartyStats {
	a.Seconds = max(a.Seconds, b.Seconds)
	a.Net = mergeNet(a.Net, b.Net)
	a.Peers = slices.Clone(a.Peers)
	for i := range min(len(a.Peers), len(b.Peers)) {
		p, q := &a.Peers[i], b.Peers[i]
		p.BytesSent += q.BytesSent
		p.BytesReceived += q.BytesReceived
		p.MessagesSent += q.MessagesSent
		p.MessagesRecv += q.MessagesRecv
		p.Rounds = max(p.Rounds, q.Rounds)
	}
	a.Layers = slices.Clone(a.Layers)
	for i := range min(len(a.Layers), len(b.Layers)) {
		a.Layers[i] = mergeLayer(a.Layers[i], b.Layers[i])
	}
	if a.Input != nil && b.Input != nil {
		in := mergeLayer(*a.Input, *b.Input)
		a.Input = &in
	}
	a.Batch += b.Batch
	if a.Role != b.Role {
		a.Role = -1 // the passes played different roles (rotated lanes)
	}
	return a
}

// runPass evaluates the batch in (n inputs, graph info.Graph) in one secure pass on the
// session s. The result's Seconds is left to the caller.
//
// shift moves the dealt payloads cyclically (party j gets the dealer's payload for j +
// shift) for a protocol whose sharings are invariant under a cyclic relabelling
// (mpc.Spec.Rotatable): rep3's dealer sends one party only keys, so passes with shifts
// 0, 1, 2 spread the input's bytes over the client's links.
func runPass(ctx context.Context, cfg *cluster.Config, s *cluster.Session, info *Info, in []model.Value, n, shift int) (*Result, error) {
	g := info.Graph
	var err error
	if n > 1 {
		if g, err = engine.BatchGraph(g, n); err != nil {
			return nil, err
		}
		in = slices.Clone(in)
		for k := range in {
			in[k].Shape = g.Tensors[g.Inputs[k]].Shape
		}
	}
	// The client computes the graph's cleartext head (if any) and shares its outputs.
	vals, err := engine.ClientInputs(g, in)
	if err != nil {
		return nil, err
	}
	cl, d, err := clientSide(cfg.Protocol, cfg.N())
	if err != nil {
		return nil, err
	}
	if spec, err := registry.Lookup(cfg.Protocol); err != nil || !spec.Rotatable {
		shift = 0
	}
	parts := make([][][]byte, cfg.N())
	for j := range parts {
		parts[j] = append(parts[j], binary.LittleEndian.AppendUint32(nil, uint32(n)))
	}
	rings := make([][]uint64, len(vals))
	for k, v := range vals {
		if rings[k], err = engine.ToRing(v); err != nil {
			return nil, err
		}
	}
	var rounds cluster.RoundFunc
	if cl != nil {
		// The input travels in the request's round (mpc.Client.Input).
		inputDone := false
		rounds = func(msgs [][]byte) ([][]byte, error) {
			if inputDone {
				return nil, errs.New(errs.Party, "the parties asked for a second client round")
			}
			inputDone = true
			return cl.Input(rings, msgs)
		}
	} else {
		for _, r := range rings {
			dealt, err := d.Deal(r)
			if err != nil {
				return nil, err
			}
			for j := range parts {
				parts[j] = append(parts[j], dealt[(j+shift)%len(dealt)])
			}
		}
	}
	payloads := make([][]byte, cfg.N())
	for j := range payloads {
		payloads[j] = joinPayload(parts[j])
	}
	outs, stats, err := s.RunRounds(ctx, payloads, rounds)
	if err != nil {
		return nil, err
	}
	res := &Result{Info: info, Parties: make([]PartyStats, len(outs))}
	var counts []int
	split := make([][][]byte, len(outs))
	for j, o := range outs {
		if err := json.Unmarshal(stats[j], &res.Parties[j]); err != nil {
			return nil, errs.New(errs.Party, "party %d sent malformed statistics: %v", j, err)
		}
		head, err := splitHead(o)
		if err != nil {
			return nil, errs.New(errs.Party, "party %d sent a malformed result: %v", j, err)
		}
		if j == 0 {
			counts = head
		} else if !slices.Equal(head, counts) {
			return nil, errs.New(errs.Party, "parties 0 and %d return outputs of different sizes (%v, %v)", j, counts, head)
		}
		nparts := len(counts) + 1
		if cl != nil {
			nparts = 2 // the counts and mpc.ClientIO's output message
		}
		if split[j], err = splitPayload(o, nparts); err != nil {
			return nil, errs.New(errs.Party, "party %d sent a malformed result: %v", j, err)
		}
	}
	opened := make([][]uint64, len(counts))
	if cl != nil {
		per := make([][]byte, len(outs))
		for j := range outs {
			per[j] = split[j][1]
		}
		if opened, err = cl.Output(per, counts); err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
	} else {
		for k, n := range counts {
			per := make([][]byte, len(outs))
			for j := range outs {
				per[j] = split[j][k+1]
			}
			if opened[k], err = d.Reconstruct(per, n); err != nil {
				return nil, fmt.Errorf("output %d: %w", k, err)
			}
		}
	}
	reveal, err := engine.ParseReveal(info.Reveal)
	if err != nil {
		return nil, err
	}
	if res.Outputs, err = engine.Finish(g, reveal, opened); err != nil {
		return nil, err
	}
	if n > 1 {
		for k, ti := range info.Graph.Outputs {
			if k < len(res.Outputs) {
				res.Outputs[k].Shape = model.BatchShape(info.Graph.Tensors[ti].Shape, n)
			}
		}
	}
	res.Batch = n
	return res, nil
}

// batchOf returns N when every input value is a batch of N per-image values for its
// graph input (shape model.BatchShape(input shape, N), or the shape the batched graph
// gives the input), 1 when the values are not batches (the input checks report wrong
// shapes).
func batchOf(g *model.Graph, in []model.Value) (int, error) {
	if len(in) != len(g.Inputs) {
		return 1, nil
	}
	n := 0
	for k, v := range in {
		s := g.Tensors[g.Inputs[k]].Shape
		b, ok := model.BatchOf(s, v.Shape)
		if !ok && len(s) > 0 && len(v.Shape) == len(s) && s[0] > 0 && v.Shape[0]%s[0] == 0 && slices.Equal(v.Shape[1:], s[1:]) {
			b, ok = v.Shape[0]/s[0], true // [N*S0, S[1:]...]
		}
		if !ok {
			return 1, nil
		}
		if n != 0 && b != n {
			return 0, errs.New(errs.Shape, "input %d holds a batch of %d, input 0 a batch of %d", k, b, n)
		}
		n = b
	}
	return max(n, 1), nil
}

// splitHead reads the element counts (first part) of a party's result.
func splitHead(b []byte) ([]int, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n%4 != 0 || 8+n > len(b) {
		return nil, fmt.Errorf("bad header")
	}
	var out []int
	for i := 0; i < n; i += 4 {
		out = append(out, int(binary.LittleEndian.Uint32(b[8+i:])))
	}
	return out, nil
}

// Summary merges the parties' statistics into the result type of a local run
// (engine.RunLocal), so that a cluster inference reports like a local one: per layer the
// slowest party's time, every party's bytes sent and the most rounds.
func (r *Result) Summary() *engine.Result {
	n := len(r.Parties)
	out := &engine.Result{Protocol: r.Info.Protocol, Parties: n, Outputs: r.Outputs, Seconds: r.Seconds, Batch: max(r.Batch, 1)}
	cost := func(get func(ps *PartyStats) []engine.LayerStats) []engine.LayerCost {
		ref := get(&r.Parties[0])
		costs := make([]engine.LayerCost, len(ref))
		for i, l := range ref {
			c := engine.LayerCost{Op: l.Op, Kind: l.Kind, Name: l.Name, Shape: l.Shape, Elements: l.Elements, BytesSent: make([]int64, n),
				Messages: make([]int64, n)}
			var start, end int64 // the parties' largest lane clocks before and after the layer
			for j := range r.Parties {
				ls := get(&r.Parties[j])
				if i < len(ls) {
					c.Seconds = max(c.Seconds, ls[i].Seconds)
					c.Rounds = max(c.Rounds, ls[i].Net.Rounds)
					c.BytesSent[j] = ls[i].Net.BytesSent
					c.Messages[j] = ls[i].Net.Messages
					start, end = max(start, ls[i].Net.Clock-ls[i].Net.Hops), max(end, ls[i].Net.Clock)
				}
			}
			c.Hops = end - start
			costs[i] = c
		}
		return costs
	}
	if n == 0 {
		return out
	}
	out.Setup = cost(func(ps *PartyStats) []engine.LayerStats { return []engine.LayerStats{ps.Setup} })[0]
	if r.Parties[0].Input != nil {
		out.Input = cost(func(ps *PartyStats) []engine.LayerStats {
			if ps.Input == nil {
				return nil
			}
			return []engine.LayerStats{*ps.Input}
		})[0]
	}
	out.Layers = cost(func(ps *PartyStats) []engine.LayerStats { return ps.Layers })
	out.Total = engine.LayerCost{Op: -1, Kind: "TOTAL", Name: "inference", BytesSent: make([]int64, n), Messages: make([]int64, n)}
	for _, l := range out.Layers {
		out.Total.Seconds += l.Seconds
		out.Total.Rounds += l.Rounds
		out.Total.Hops += l.Hops
		for i, b := range l.BytesSent {
			out.Total.BytesSent[i] += b
		}
		for i, m := range l.Messages {
			out.Total.Messages[i] += m
		}
	}
	out.SetBatch(r.Batch)
	return out
}

// Bench runs one inference on the cluster over a batch of batch zero-valued inputs (the
// protocols' communication does not depend on the values) and returns the result, whose
// Summary is the per-layer table of a local run (engine.Bench) measured on the cluster's
// links. If digest is not "", the cluster must serve that model.
func Bench(ctx context.Context, c *cluster.Client, batch int, digest string) (*Result, error) {
	n := max(batch, 1)
	if n > engine.MaxBatch {
		return nil, errs.New(errs.Shape, "batch %d: at most %d", n, engine.MaxBatch)
	}
	res, err := InferWith(ctx, c, nil, func(g *model.Graph, _ []model.Value) ([]model.Value, error) {
		in := make([]model.Value, len(g.Inputs))
		for i, t := range g.Inputs {
			tt := g.Tensors[t]
			if tt.DType.Size() == 0 {
				return nil, errs.New(errs.DType, "input %q has type %v", tt.Name, tt.DType)
			}
			shape := tt.Shape
			if n > 1 {
				shape = model.BatchShape(tt.Shape, n)
			}
			in[i] = model.Value{Shape: shape, DType: tt.DType, Data: make([]byte, n*tt.NumElements()*tt.DType.Size())}
		}
		return in, nil
	})
	if err != nil {
		return nil, err
	}
	if digest != "" && res.Info.ModelDigest != digest {
		return nil, errs.New(errs.Config, "the cluster serves model %s, not the given one (%s)", res.Info.ModelDigest, digest)
	}
	return res, nil
}
