package qnn

import (
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// QuantizeParams are the parameters of QUANTIZE and DEQUANTIZE. Three cases:
//
// Float (QUANTIZE float32 -> int8/uint8), element i of n (TFLite's optimized
// AffineQuantize; vector blocks of 8):
//
//	i <  n - n%8: q = roundHalfEven(float32(x * InvScale)) + OutZeroPoint   (InvScale = float32(1/double(s)))
//	i >= n - n%8: q = roundHalfAway(double(x) / double(s)) + OutZeroPoint
//	out = clamp(q, type range)
//
// Requantize (QUANTIZE int8/uint8 -> int8/uint8), element i of n:
//
//	out = Requant.Apply(x - InZeroPoint, i, n)
//
// with QuantizeMultiplier(double(s_in)/double(s_out)), Sched vector blocks of 16 RoundUp,
// tail RoundAway, ActMin/ActMax the output type's range.
//
// Dequantize (DEQUANTIZE int8/uint8 -> float32), element i of n (vector blocks of 8):
//
//	i <  n - n%8: out = float32(float32(x) * Scale) + float32(-double(InZeroPoint) * double(Scale))
//	i >= n - n%8: out = float32(double(Scale) * double(x - InZeroPoint))
type QuantizeParams struct {
	Kind        model.OpKind
	InDType     model.DType
	OutDType    model.DType
	Scale       float32 // float side's scale: QUANTIZE float input -> output scale; DEQUANTIZE -> input scale
	InvScale    float32
	InZeroPoint int32
	Requant     Requant // OutZeroPoint, ActMin and ActMax are used by every QUANTIZE case
}

// PrepareQuantize prepares a QUANTIZE or DEQUANTIZE op.
func PrepareQuantize(g *model.Graph, op *model.Op) (*QuantizeParams, error) {
	p, err := prepareQuantize(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareQuantize(g *model.Graph, op *model.Op) (*QuantizeParams, error) {
	if len(op.Inputs) != 1 || len(op.Outputs) != 1 {
		return nil, errs.New(errs.Model, "want 1 input and 1 output")
	}
	x, err := opTensor(g, op.Inputs[0])
	if err != nil {
		return nil, err
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	p := &QuantizeParams{Kind: op.Kind, InDType: x.DType, OutDType: y.DType}
	if op.Kind == model.OpDequantize {
		s, z, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		if y.DType != model.Float32 {
			return nil, errs.New(errs.DType, "DEQUANTIZE output is %v, want float32", y.DType)
		}
		p.Scale, p.InZeroPoint = s, z
		return p, nil
	}
	so, zo, err := perTensor(y)
	if err != nil {
		return nil, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return nil, err
	}
	p.Requant = Requant{OutZeroPoint: zo, ActMin: lo, ActMax: hi}
	if x.DType == model.Float32 {
		p.Scale = so
		p.InvScale = float32(1 / float64(so))
		return p, nil
	}
	si, zi, err := perTensor(x)
	if err != nil {
		return nil, err
	}
	p.InZeroPoint = zi
	m, sh := QuantizeMultiplier(float64(si) / float64(so))
	p.Requant.Multiplier, p.Requant.Shift = []int32{m}, []int{sh}
	p.Requant.Sched = Schedule{Block: 16, Vector: RoundUp, Tail: RoundAway}
	return p, nil
}

// QuantizeFloat quantizes element i (of n) of a float32 input.
func (p *QuantizeParams) QuantizeFloat(x float32, i, n int) int32 {
	var q int32
	if i < n-n%8 {
		q = roundEvenToInt32(float64(float32(x * p.InvScale)))
	} else {
		q = roundAwayToInt32(float64(x) / float64(p.Scale))
	}
	q += p.Requant.OutZeroPoint
	return min(max(q, p.Requant.ActMin), p.Requant.ActMax)
}

// Dequantize converts element i (of n) of a DEQUANTIZE input.
func (p *QuantizeParams) Dequantize(x int32, i, n int) float32 {
	if i < n-n%8 {
		bias := float32(-float64(p.InZeroPoint) * float64(p.Scale))
		return float32(float32(x)*p.Scale) + bias
	}
	return float32(float64(p.Scale) * float64(x-p.InZeroPoint))
}

// roundEvenToInt32 is x86 cvtps2dq: round half to even, out-of-range values become MinInt32.
func roundEvenToInt32(v float64) int32 {
	r := math.RoundToEven(v)
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return math.MinInt32
	}
	return int32(r)
}

// roundAwayToInt32 is static_cast<int32_t>(round(v)) on x86 (out of range -> MinInt32).
func roundAwayToInt32(v float64) int32 {
	r := math.Round(v)
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return math.MinInt32
	}
	return int32(r)
}
