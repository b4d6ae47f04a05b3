package engine

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// Ops imported from ONNX Runtime or PyTorch models (op.Rounding == model.RoundHalfEven)
// requantize by round-half-even of an exact integer product; qnn.HalfEvenParams documents
// each formula. Here every one becomes affine local operations followed by one
// mpc.RequantizeRound with RoundHalfEven, so the secure output equals qnn's bit for bit.

func (p *prepared) prepHalfEven(g *model.Graph, op *model.Op) error {
	he, err := qnn.PrepareHalfEven(g, op)
	if err != nil {
		return err
	}
	p.he = he
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		p.conv = he.Conv
		p.convIndex(op)
	case model.OpAdd, model.OpMul:
		out := g.Tensors[op.Outputs[0]].Shape
		p.xIdx = broadcast(g.Tensors[op.Inputs[0]].Shape, out)
		p.idx2 = broadcast(g.Tensors[op.Inputs[1]].Shape, out)
	case model.OpAveragePool2D:
		c := he.Pool
		geo := geom2D{N: c.Batch, H: c.InH, W: c.InW, C: c.C, OH: c.OutH, OW: c.OutW, KH: c.FilterH, KW: c.FilterW,
			SH: c.StrideH, SW: c.StrideW, DH: 1, DW: 1, PadT: c.PadTop, PadL: c.PadLeft}
		idx, counts := geo.pool()
		p.xIdx = idx
		p.counts = make([]int64, len(counts))
		for i, n := range counts {
			p.counts[i] = int64(n)
		}
	case model.OpMean:
		p.xIdx = reduceIndex(g.Tensors[op.Inputs[0]].Shape, []int{1, 2})
	case model.OpConcatenation:
		p.xIdx = concatOpIndex(g, op)
	case model.OpQuantize:
		if he.FloatIn {
			return errs.New(errs.UnsupportedOp, "QUANTIZE of a float tensor inside the graph")
		}
	default:
		return errs.New(errs.UnsupportedOp, "%s with round-half-even requantization has no secure implementation", op.Kind)
	}
	return nil
}

// requantHalfEven is clamp(zp + RNE(x * m_c * 2^(sh_c - 31))) for x of at most bound bits,
// channel c = channel[i] (nil: one multiplier for all).
func (e *Party) requantHalfEven(x mpc.AShare, rq qnn.HalfEvenRequant, channel []int32, bound int) (mpc.AShare, error) {
	round := make([]mpc.RoundMode, len(rq.Multiplier))
	for i := range round {
		round[i] = mpc.RoundHalfEven
	}
	return mpc.RequantizeRound(e.p, x, mpc.Requant{Mult: rq.Multiplier, Shift: rq.Shift, Round: round,
		OutZP: rq.OutZeroPoint, ActMin: rq.ActMin, ActMax: rq.ActMax}, channel, bound)
}

func (e *Party) evalHalfEven(op *model.Op, p *prepared, env map[int]mpc.AShare) (mpc.AShare, error) {
	he := p.he
	in := func(k int) mpc.AShare { return env[op.Inputs[k]] }
	minus := func(x mpc.AShare, zp int64) mpc.AShare { return e.p.AddPublic(x, []uint64{mpc.Int(-zp)}) }
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		acc, err := e.convAcc(op, p, env)
		if err != nil {
			return nil, err
		}
		var channel []int32
		if len(he.Out.Multiplier) > 1 {
			channel = make([]int32, acc.Len())
			for i := range channel {
				channel[i] = int32(i % he.Conv.OutC)
			}
		}
		return e.requantHalfEven(acc, he.Out, channel, accBound)
	case model.OpMul:
		a := minus(e.p.Gather(in(0), p.xIdx), he.ZeroPointA)
		b := minus(e.p.Gather(in(1), p.idx2), he.ZeroPointB)
		prod, err := e.p.Mul(a, b)
		if err != nil {
			return nil, err
		}
		return e.requantHalfEven(prod, he.Out, nil, 18)
	case model.OpAdd:
		// y = clamp(z_y + RNE((A*(a - z_a) + B*(b - z_b)) / 2^R)): the weighted sum is
		// local; RNE(w / 2^R) is the half-even requantization of w with multiplier 1 and
		// shift 31 - R (|w| < 2^(bits(max(A,B)) + 10)).
		a := e.p.MulPublic(minus(e.p.Gather(in(0), p.xIdx), he.ZeroPointA), []uint64{uint64(he.MulA)})
		b := e.p.MulPublic(minus(e.p.Gather(in(1), p.idx2), he.ZeroPointB), []uint64{uint64(he.MulB)})
		w := e.p.Add(a, b)
		bound := bitsFor(int(max(abs64(he.MulA), abs64(he.MulB)))+1) + 10 + 1
		rq := qnn.HalfEvenRequant{Multiplier: []int32{1}, Shift: []int{31 - he.ShiftR},
			OutZeroPoint: he.Out.OutZeroPoint, ActMin: he.Out.ActMin, ActMax: he.Out.ActMax}
		return e.requantHalfEven(w, rq, nil, bound)
	case model.OpAveragePool2D:
		c := he.Pool
		taps := c.FilterH * c.FilterW
		sum := e.p.SumGroups(e.p.Gather(in(0), p.xIdx), taps)
		zoff := make([]uint64, len(p.counts))
		channel := make([]int32, len(p.counts))
		for i, n := range p.counts {
			zoff[i] = mpc.Int(-n * int64(he.InZeroPoint))
			channel[i] = int32(n)
		}
		rq := he.Out
		rq.Multiplier = append([]int32{he.CountMul[1]}, he.CountMul[1:]...) // count 0 never occurs
		rq.Shift = append([]int{he.CountShift[1]}, he.CountShift[1:]...)
		return e.requantHalfEven(e.p.AddPublic(sum, zoff), rq, channel, 9+bitsFor(taps)+1)
	case model.OpMean:
		sum := e.p.SumGroups(e.p.Gather(in(0), p.xIdx), he.MeanN)
		sum = minus(sum, int64(he.MeanN)*int64(he.InZeroPoint))
		return e.requantHalfEven(sum, he.Out, nil, 9+bitsFor(he.MeanN)+1)
	case model.OpConcatenation:
		parts := make([]mpc.AShare, len(op.Inputs))
		for k := range op.Inputs {
			x := in(k)
			if he.Inputs[k].Multiplier != nil {
				var err error
				if x, err = e.requantHalfEven(minus(x, int64(he.InZPs[k])), he.Inputs[k], nil, 10); err != nil {
					return nil, err
				}
			}
			parts[k] = x
		}
		return e.p.Gather(e.p.Concat(parts...), p.xIdx), nil
	case model.OpQuantize:
		return e.requantHalfEven(minus(in(0), int64(he.InZeroPoint)), he.Out, nil, 10)
	}
	return nil, errs.New(errs.UnsupportedOp, "%s with round-half-even requantization has no secure implementation", op.Kind)
}
