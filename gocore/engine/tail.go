package engine

import (
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// finishTail evaluates the cleartext tail of the plan on the client, starting from the
// revealed tensors, with the cleartext kernels.
func finishTail(g *model.Graph, pl *plan, known map[int]model.Value) ([]model.Value, error) {
	if len(pl.tail) == 0 {
		out := make([]model.Value, len(g.Outputs))
		for i, t := range g.Outputs {
			out[i] = known[t]
		}
		return out, nil
	}
	sub := *g
	sub.Ops = make([]*model.Op, len(pl.tail))
	for i, oi := range pl.tail {
		sub.Ops[i] = g.Ops[oi]
	}
	sub.Inputs = pl.reveal
	in := make([]model.Value, len(pl.reveal))
	for i, t := range pl.reveal {
		in[i] = known[t]
	}
	return qnn.Run(&sub, in)
}

// ClientInputs turns the client's graph inputs into the tensors it secret-shares (in the
// order of SharedInputs): integer inputs as they are, float inputs quantized by the
// graph's leading QUANTIZE ops, run in the clear with the cleartext kernels.
func ClientInputs(g *model.Graph, in []model.Value) ([]model.Value, error) {
	pl, err := makePlan(g)
	if err != nil {
		return nil, err
	}
	if err := checkInputs(g, in); err != nil {
		return nil, err
	}
	known := map[int]model.Value{}
	for i, t := range g.Inputs {
		known[t] = in[i]
	}
	if len(pl.head) > 0 {
		sub := *g
		sub.Ops = nil
		sub.Outputs = nil
		for _, oi := range pl.head {
			sub.Ops = append(sub.Ops, g.Ops[oi])
			sub.Outputs = append(sub.Outputs, g.Ops[oi].Outputs[0])
		}
		outs, err := qnn.Run(&sub, in)
		if err != nil {
			return nil, err
		}
		for i, t := range sub.Outputs {
			known[t] = outs[i]
		}
	}
	vals := make([]model.Value, len(pl.inputs))
	for i, t := range pl.inputs {
		vals[i] = known[t]
	}
	return vals, nil
}
