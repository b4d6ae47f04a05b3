package qnn

import (
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Requant is an output requantization: an int32 accumulator acc of channel c (of n
// channels) becomes
//
//	y = clamp(Sched.At(c, n).Mul(acc, Multiplier[c], Shift[c]) + OutZeroPoint, ActMin, ActMax)
//
// with RoundMode.Mul as documented there (x * M * 2^(Shift-31), rounded). Multiplier and
// Shift have one entry per channel; ops with a single output scale have one entry, used
// for every channel (Index gives the entry of channel c). ActMin/ActMax are the output
// type's range narrowed by the fused activation (RELU, RELU6, RELU_N1_TO_1), exactly as
// TFLite's CalculateActivationRangeQuantized.
type Requant struct {
	Multiplier   []int32
	Shift        []int
	Sched        Schedule
	OutZeroPoint int32
	ActMin       int32
	ActMax       int32
}

// Index returns the index into Multiplier/Shift for channel c.
func (q *Requant) Index(c int) int {
	if len(q.Multiplier) == 1 {
		return 0
	}
	return c
}

// Apply requantizes acc of channel c out of n channels.
func (q *Requant) Apply(acc int32, c, n int) int32 {
	k := q.Index(c)
	y := q.Sched.At(c, n).Mul(acc, q.Multiplier[k], q.Shift[k]) + q.OutZeroPoint
	return min(max(y, q.ActMin), q.ActMax)
}

// typeRange is the integer range of a quantized element type.
func typeRange(d model.DType) (lo, hi int32, err error) {
	switch d {
	case model.Uint8:
		return 0, 255, nil
	case model.Int8:
		return -128, 127, nil
	case model.Int16:
		return -32768, 32767, nil
	case model.Int32:
		return math.MinInt32, math.MaxInt32, nil
	}
	return 0, 0, errs.New(errs.DType, "%v is not a quantized integer type", d)
}

// quantizeF is TFLite's kernel_util Quantize: zp + (int32)round(f / scale), in float32.
func quantizeF(scale float32, zp int32, f float32) int32 {
	return zp + int32(roundAway32(f/scale))
}

// roundAway32 is C's roundf (half away from zero) on a float32.
func roundAway32(x float32) float32 {
	return float32(math.Round(float64(x)))
}

// activationRange is TFLite's CalculateActivationRangeQuantized for an output tensor.
func activationRange(act model.Activation, out *model.Tensor) (lo, hi int32, err error) {
	lo, hi, err = typeRange(out.DType)
	if err != nil {
		return 0, 0, err
	}
	s, zp, err := perTensor(out)
	if err != nil {
		return 0, 0, err
	}
	switch act {
	case model.ActNone:
	case model.ActRelu:
		lo = max(lo, quantizeF(s, zp, 0))
	case model.ActRelu6:
		lo = max(lo, quantizeF(s, zp, 0))
		hi = min(hi, quantizeF(s, zp, 6))
	case model.ActReluN1To1:
		lo = max(lo, quantizeF(s, zp, -1))
		hi = min(hi, quantizeF(s, zp, 1))
	default:
		return 0, 0, errs.New(errs.Model, "unknown fused activation %v", act)
	}
	return lo, hi, nil
}

// perTensor returns a tensor's (first) scale and zero point.
func perTensor(t *model.Tensor) (float32, int32, error) {
	if t.Quant == nil || len(t.Quant.Scale) == 0 || len(t.Quant.ZeroPoint) == 0 {
		return 0, 0, errs.New(errs.Model, "tensor %q has no quantization parameters", t.Name)
	}
	return t.Quant.Scale[0], int32(t.Quant.ZeroPoint[0]), nil
}
