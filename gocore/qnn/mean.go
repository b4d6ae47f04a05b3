package qnn

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// MeanParams are the parameters of a quantized MEAN. Let S be the sum of the raw
// quantized inputs over the reduced axes (N elements per output) for output element j
// (output channel c of C for the fast path). TFLite has two integer paths:
//
// Fast (4-D input, keep_dims, axes exactly {1, 2}; TFLite's optimized Mean):
//
//	out = clamp(Out.Sched.At(c, C).Mul(S, M, Sh) + Out.OutZeroPoint, type range)
//
// where, in float32 arithmetic, real = s_in / (float(N) * s_out), (M, Sh) =
// QuantizeMultiplier(real), and Out.OutZeroPoint = z_out - trunc(t ± 0.5) with
// t = z_in * s_in / s_out (the input zero point folded into a bias). Schedule: vector
// blocks of 16 channels use RoundUp, the remaining channels RoundAway.
//
// General (TFLite's reference QuantizedMeanOrSum):
//
//	out = clamp(RoundAway.Mul(S - z_in*N, M, Sh) + z_out, type range)
//
// with (m, e) = QuantizeMultiplier(double(s_in)/double(s_out)), k = min(floor(log2 N), 32,
// 31+e), M = (m << k) / N (integer division), Sh = e - k.
//
// Out.Multiplier and Out.Shift hold the single (M, Sh); Out.ActMin/ActMax are the output
// type's range.
type MeanParams struct {
	Fast        bool
	InShape     []int
	Axes        []int // sorted, non-negative
	OutShape    []int
	N           int // input elements per output element
	InZeroPoint int32
	Out         Requant
}

// PrepareMean prepares a MEAN op.
func PrepareMean(g *model.Graph, op *model.Op) (*MeanParams, error) {
	p, err := prepareMean(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareMean(g *model.Graph, op *model.Op) (*MeanParams, error) {
	if len(op.Inputs) != 2 || len(op.Outputs) != 1 {
		return nil, errs.New(errs.Model, "want 2 inputs and 1 output")
	}
	x, err := opTensor(g, op.Inputs[0])
	if err != nil {
		return nil, err
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	axes, err := g.MeanAxes(op)
	if err != nil {
		return nil, err
	}
	sx, zx, err := perTensor(x)
	if err != nil {
		return nil, err
	}
	sy, zy, err := perTensor(y)
	if err != nil {
		return nil, err
	}
	p := &MeanParams{InShape: x.Shape, Axes: axes, OutShape: y.Shape, InZeroPoint: zx, N: 1}
	for _, a := range axes {
		p.N *= x.Shape[a]
	}
	if p.N == 0 {
		return nil, errs.New(errs.Shape, "MEAN over an empty axis of %v", x.Shape)
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return nil, err
	}
	p.Out = Requant{ActMin: lo, ActMax: hi}
	p.Fast = op.KeepDims && len(x.Shape) == 4 && slices.Equal(axes, []int{1, 2}) &&
		(x.DType == model.Int8 || x.DType == model.Uint8)
	if p.Fast {
		n := float32(p.N)
		t := float32(zx) * sx / sy
		if t > 0 {
			t += 0.5
		} else {
			t -= 0.5
		}
		p.Out.OutZeroPoint = zy - int32(t)
		real := sx / (n * sy)
		m, sh := QuantizeMultiplier(float64(real))
		p.Out.Multiplier, p.Out.Shift = []int32{m}, []int{sh}
		p.Out.Sched = Schedule{Block: 16, Vector: RoundUp, Tail: RoundAway}
		return p, nil
	}
	m, e := QuantizeMultiplier(float64(sx) / float64(sy))
	k := 63 - bits.LeadingZeros64(uint64(p.N))
	k = min(k, 32, 31+e)
	p.Out.Multiplier = []int32{int32((int64(m) << k) / int64(p.N))}
	p.Out.Shift = []int{e - k}
	p.Out.OutZeroPoint = zy
	p.Out.Sched = Uniform(RoundAway)
	return p, nil
}

// Run evaluates the MEAN on x into y.
func (p *MeanParams) Run(x, y []int32) {
	// Sum over the reduced axes: iterate over input elements, map to output index.
	rank := len(p.InShape)
	reduced := make([]bool, rank)
	for _, a := range p.Axes {
		reduced[a] = true
	}
	// Output strides over the non-reduced input dims.
	ostride := make([]int, rank)
	acc := 1
	for d := rank - 1; d >= 0; d-- {
		if !reduced[d] {
			ostride[d] = acc
			acc *= p.InShape[d]
		}
	}
	sums := make([]int32, acc)
	idx := make([]int, rank)
	for _, v := range x {
		o := 0
		for d := range rank {
			o += idx[d] * ostride[d]
		}
		sums[o] += v
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < p.InShape[d] {
				break
			}
			idx[d] = 0
		}
	}
	C := 1
	if p.Fast {
		C = p.InShape[3]
	}
	for j, s := range sums {
		if p.Fast {
			y[j] = p.Out.Apply(s, j%C, C)
		} else {
			y[j] = p.Out.Apply(s-p.InZeroPoint*int32(p.N), 0, 1)
		}
	}
}
