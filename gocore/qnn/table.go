package qnn

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// TableKinds reports whether ops of kind are elementwise functions of one 8-bit input
// that ElementwiseTable tabulates (LOGISTIC, HARD_SWISH, TANH, LOOKUP).
func TableKinds(kind model.OpKind) bool {
	return kind == model.OpLogistic || kind == model.OpHardSwish || kind == model.OpTanh ||
		kind == model.OpLookup
}

// LookupParams are the parameters of LOOKUP: out = Table[x - InLo].
type LookupParams struct {
	InLo  int32
	Table []int32
}

// PrepareLookup prepares a LOOKUP op (its table is the op's constant input).
func PrepareLookup(g *model.Graph, op *model.Op) (*LookupParams, error) {
	lo, t, err := ElementwiseTable(g, op)
	if err != nil {
		return nil, err
	}
	return &LookupParams{InLo: lo, Table: t}, nil
}

// Run evaluates the LOOKUP on x into y.
func (p *LookupParams) Run(x, y []int32) {
	for i, v := range x {
		y[i] = p.Table[uint8(v-p.InLo)]
	}
}

// ElementwiseTable tabulates an elementwise op of one int8 or uint8 input (TableKinds):
// it runs the op's own cleartext kernel on every value of the input type, so that
// table[v - inLo] is the kernel's output for input v, bit for bit. A secure engine
// evaluates the op as a lookup of this public table.
func ElementwiseTable(g *model.Graph, op *model.Op) (inLo int32, table []int32, err error) {
	x, _, err := unaryTensors(g, op)
	if err != nil {
		return 0, nil, err
	}
	lo, hi, err := typeRange(x.DType)
	if err != nil {
		return 0, nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	if hi-lo != 255 {
		return 0, nil, errs.New(errs.DType, "%v %q: input is %v, want an 8-bit type for a lookup table", op.Kind, op.Name, x.DType)
	}
	var run func(x, y []int32)
	switch op.Kind {
	case model.OpLogistic:
		p, err := PrepareLogistic(g, op)
		if err != nil {
			return 0, nil, err
		}
		run = p.Run
	case model.OpHardSwish:
		p, err := PrepareHardSwish(g, op)
		if err != nil {
			return 0, nil, err
		}
		run = p.Run
	case model.OpTanh:
		p, err := PrepareTanh(g, op)
		if err != nil {
			return 0, nil, err
		}
		run = p.Run
	case model.OpLookup:
		t := g.Tensors[op.Inputs[1]]
		if !t.IsConst() || t.NumElements() != 256 || t.DType.Size() != 1 {
			return 0, nil, errs.New(errs.Model, "%v %q: table %q is not 256 constant 8-bit values", op.Kind, op.Name, t.Name)
		}
		table = make([]int32, 256)
		for i, b := range t.Data {
			if t.DType == model.Int8 {
				table[i] = int32(int8(b))
			} else {
				table[i] = int32(b)
			}
		}
		return lo, table, nil
	default:
		return 0, nil, errs.New(errs.UnsupportedOp, "%v %q: no lookup table for this op", op.Kind, op.Name)
	}
	in := make([]int32, 256)
	for i := range in {
		in[i] = lo + int32(i)
	}
	table = make([]int32, 256)
	run(in, table)
	return lo, table, nil
}
