package qnn

import (
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// SoftmaxParams are the parameters of a quantized SOFTMAX along the last axis, as LiteRT's
// builtin x86 kernel computes it (float lookup table, optimized_ops::Softmax). All
// arithmetic below is IEEE float32, each operation rounded:
//
//	Table[255 - v] = expf(-s_in * beta * v)            for v in 0..255
//	for each row x[0..n): mx = max x[j]; off = 255 - mx
//	    sum = Table[off + x[0]] + Table[off + x[1]] + ... (left to right)
//	    inv = 1 / (sum * OutScale)
//	    p_j = Table[off + x[j]] * inv
//	    uint8 output: out_j = clamp(trunc(p_j + 0.5), 0, 255)
//	    int8 output:  out_j = clamp(roundf(p_j) + OutZeroPoint, -128, 127)
//
// (x are raw quantized values; for int8 inputs x[j] - mx is still in [-255, 0]). expf is
// glibc's (see Expf). The engine does not need this op: secure inference reveals logits
// or an argmax instead.
type SoftmaxParams struct {
	OutDType     model.DType
	Table        [256]float32
	OutScale     float32
	OutZeroPoint int32
	Depth        int // size of the last axis
}

// LogisticParams are the parameters of a quantized LOGISTIC: a 256-entry lookup table
// indexed by the input byte (uint8 value, or int8 value + 128), filled as TFLite's
// LUTPopulate in float32: for each input value v,
//
//	d = s_in * float32(v - z_in); t = 1 / (1 + expf(-d))
//	Table = clamp(trunc(roundf(t * (1 / s_out)) + z_out), type range)
type LogisticParams struct {
	InDType model.DType
	Table   [256]int32
}

// PrepareSoftmax prepares a SOFTMAX op.
func PrepareSoftmax(g *model.Graph, op *model.Op) (*SoftmaxParams, error) {
	x, y, err := unaryTensors(g, op)
	if err != nil {
		return nil, err
	}
	sx, _, err := perTensor(x)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	sy, zy, err := perTensor(y)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	if len(x.Shape) < 1 {
		return nil, errs.New(errs.Shape, "%v %q: scalar input", op.Kind, op.Name)
	}
	p := &SoftmaxParams{OutDType: y.DType, OutScale: sy, OutZeroPoint: zy, Depth: x.Shape[len(x.Shape)-1]}
	scale := -sx * op.Beta
	for v := range 256 {
		p.Table[255-v] = Expf(float32(scale * float32(v)))
	}
	return p, nil
}

// Run evaluates the softmax on x into y.
func (p *SoftmaxParams) Run(x, y []int32) {
	n := p.Depth
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], y[r:r+n]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		off := 255 - mx
		var sum float32
		for _, v := range row {
			sum += p.Table[off+v]
		}
		inv := 1 / float32(sum*p.OutScale)
		for j, v := range row {
			pr := float32(p.Table[off+v] * inv)
			var q int32
			if p.OutDType == model.Uint8 {
				q = int32(float32(pr + 0.5))
				q = min(max(q, 0), 255)
			} else {
				q = int32(math.Round(float64(pr))) + p.OutZeroPoint
				q = min(max(q, -128), 127)
			}
			out[j] = q
		}
	}
}

// PrepareLogistic prepares a LOGISTIC op.
func PrepareLogistic(g *model.Graph, op *model.Op) (*LogisticParams, error) {
	x, y, sx, zx, sy, zy, err := unaryQuant(g, op)
	if err != nil {
		return nil, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	p := &LogisticParams{InDType: x.DType}
	inv := 1 / sy
	for v := lo; v <= hi; v++ {
		d := sx * float32(v-zx)
		t := 1 / float32(1+Expf(-d))
		r := roundAway32(float32(t * inv))
		q := int32(float32(r + float32(zy)))
		p.Table[uint8(v)] = min(max(q, lo), hi)
	}
	return p, nil
}

// Run evaluates the logistic on x into y.
func (p *LogisticParams) Run(x, y []int32) {
	for i, v := range x {
		y[i] = p.Table[uint8(v)]
	}
}

// unaryQuant looks up a unary op's tensors and their per-tensor quantization (errors name
// the op).
func unaryQuant(g *model.Graph, op *model.Op) (x, y *model.Tensor, sx float32, zx int32, sy float32, zy int32, err error) {
	if x, y, err = unaryTensors(g, op); err != nil {
		return
	}
	if sx, zx, err = perTensor(x); err != nil {
		err = fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
		return
	}
	if sy, zy, err = perTensor(y); err != nil {
		err = fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return
}

func unaryTensors(g *model.Graph, op *model.Op) (x, y *model.Tensor, err error) {
	if len(op.Inputs) < 1 || len(op.Outputs) != 1 {
		return nil, nil, errs.New(errs.Model, "%v %q: want 1 input and 1 output", op.Kind, op.Name)
	}
	if x, err = opTensor(g, op.Inputs[0]); err != nil {
		return nil, nil, err
	}
	y, err = opTensor(g, op.Outputs[0])
	return x, y, err
}
