package qnn

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// PadParams are the parameters of PAD: the output is the input surrounded by
// Paddings[d] = (before, after) elements along each dimension d, filled with Value (the
// output zero point, i.e. a real 0, or PADV2's constant value: model.Graph.PadValue).
type PadParams struct {
	InShape  []int
	OutShape []int
	Paddings [][2]int
	Value    int32
}

// PreparePad prepares a PAD op.
func PreparePad(g *model.Graph, op *model.Op) (*PadParams, error) {
	x, y, err := unaryTensors(g, op)
	if err != nil {
		return nil, err
	}
	pads, err := g.Paddings(op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	if _, _, err := perTensor(y); err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	v, err := g.PadValue(op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return &PadParams{InShape: x.Shape, OutShape: y.Shape, Paddings: pads, Value: v}, nil
}

// Run evaluates the PAD on x into y.
func (p *PadParams) Run(x, y []int32) {
	for i := range y {
		y[i] = p.Value
	}
	rank := len(p.InShape)
	if len(x) == 0 {
		return
	}
	ostr := make([]int, rank)
	acc := 1
	for d := rank - 1; d >= 0; d-- {
		ostr[d] = acc
		acc *= p.OutShape[d]
	}
	inner := 1
	if rank > 0 {
		inner = p.InShape[rank-1]
	}
	idx := make([]int, rank)
	for start := 0; start < len(x); start += inner {
		o := 0
		for d := range rank {
			o += (idx[d] + p.Paddings[d][0]) * ostr[d]
		}
		copy(y[o:o+inner], x[start:start+inner])
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < p.InShape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// ConcatParams are the parameters of CONCATENATION along Axis. Input k is copied
// unchanged when its scale and zero point equal the output's (Rescale[k] false);
// otherwise (uint8 only; TFLite requires equal parameters for int8) each value x becomes
//
//	out = clamp(int32(roundf(float32(float32(x)*Scale[k]) + Bias[k])) + OutZeroPoint, 0, 255)
//
// in float32, with Scale[k] = s_k * (1 / s_out) and Bias[k] = -z_k * Scale[k] (TFLite's
// ConcatenationWithScaling). A fused activation is ignored, as TFLite does for quantized
// concatenation.
type ConcatParams struct {
	Axis         int
	Outer        int   // product of the dimensions before Axis
	InnerSizes   []int // per input: its Axis dimension times the dimensions after it
	Rescale      []bool
	Scale, Bias  []float32
	OutZeroPoint int32
	OutMin       int32
	OutMax       int32
}

// PrepareConcat prepares a CONCATENATION op.
func PrepareConcat(g *model.Graph, op *model.Op) (*ConcatParams, error) {
	p, err := prepareConcat(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareConcat(g *model.Graph, op *model.Op) (*ConcatParams, error) {
	if len(op.Inputs) < 1 || len(op.Outputs) != 1 {
		return nil, errs.New(errs.Model, "want inputs and 1 output")
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	rank := len(y.Shape)
	axis := op.Axis
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return nil, errs.New(errs.Shape, "axis %d out of range for rank %d", op.Axis, rank)
	}
	so, zo, err := perTensor(y)
	if err != nil {
		return nil, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return nil, err
	}
	p := &ConcatParams{Axis: axis, Outer: 1, OutZeroPoint: zo, OutMin: lo, OutMax: hi}
	for d := range axis {
		p.Outer *= y.Shape[d]
	}
	invOut := 1 / so
	for _, idx := range op.Inputs {
		x, err := opTensor(g, idx)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != rank {
			return nil, errs.New(errs.Shape, "input %q has rank %d, want %d", x.Name, len(x.Shape), rank)
		}
		inner := 1
		for d := axis; d < rank; d++ {
			inner *= x.Shape[d]
		}
		p.InnerSizes = append(p.InnerSizes, inner)
		s, z, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		same := s == so && z == zo
		if !same && y.DType != model.Uint8 {
			return nil, errs.New(errs.Model, "%v concatenation input %q has scale %v, zero point %d but the output has %v, %d; TFLite requires them equal", y.DType, x.Name, s, z, so, zo)
		}
		sc := s * invOut
		p.Rescale = append(p.Rescale, !same)
		p.Scale = append(p.Scale, sc)
		p.Bias = append(p.Bias, float32(-z)*sc)
	}
	return p, nil
}

// Run concatenates xs into y.
func (p *ConcatParams) Run(xs [][]int32, y []int32) {
	o := 0
	for b := range p.Outer {
		for k, x := range xs {
			n := p.InnerSizes[k]
			src := x[b*n : (b+1)*n]
			dst := y[o : o+n]
			o += n
			if !p.Rescale[k] {
				copy(dst, src)
				continue
			}
			for i, v := range src {
				q := roundAwayToInt32(float64(float32(float32(v)*p.Scale[k]) + p.Bias[k]))
				dst[i] = min(max(q+p.OutZeroPoint, p.OutMin), p.OutMax)
			}
		}
	}
}

// MoveParams are the parameters of a data-movement op (TRANSPOSE, SLICE, STRIDED_SLICE,
// PACK, GATHER, EXPAND_DIMS, SPLIT): output element i is element Index[i] of the op's data
// inputs laid end to end (model.MoveIndex). Quantization is unchanged, as in TFLite's
// kernels, which copy the quantized values.
type MoveParams struct {
	Index []int32
}

// PrepareMove prepares a data-movement op.
func PrepareMove(g *model.Graph, op *model.Op) (*MoveParams, error) {
	_, idx, err := g.MoveIndex(op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return &MoveParams{Index: idx}, nil
}

// Run gathers the output y from the data inputs xs.
func (p *MoveParams) Run(xs [][]int32, y []int32) {
	src := xs[0]
	if len(xs) > 1 {
		src = nil
		for _, x := range xs {
			src = append(src, x...)
		}
	}
	for i, j := range p.Index {
		y[i] = src[j]
	}
}
