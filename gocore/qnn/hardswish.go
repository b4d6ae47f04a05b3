package qnn

import (
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// HardSwishParams are the fixed-point parameters of a quantized HARD_SWISH, x *
// relu6(x + 3) / 6, as LiteRT's int8/uint8 kernel (reference_ops::HardSwish, prepared by
// activations.cc HardSwishPrepare) computes it: int16 fixed point, the input moved to a
// "high-res" scale (times 2^7), a "relu-ish" factor in [0, 1] (the input rescaled so that
// 3.0 is 2^15, saturated, mapped to [0, 1]), multiplied in with a truncating doubling
// high product, then the output shift and zero point.
type HardSwishParams struct {
	InZeroPoint, OutZeroPoint int32
	OutMult16, ReluishMult16  int16 // 16-bit fixed-point multipliers
	OutExp, ReluishExp        int   // their power-of-two exponents (OutExp <= 0)
	OutMin, OutMax            int32 // the output type's range
}

// downScaleInt32ToInt16Multiplier is LiteRT's DownScaleInt32ToInt16Multiplier: the high
// 16 bits of a Q31 multiplier, rounded, saturating.
func downScaleInt32ToInt16Multiplier(m int32) int16 {
	const off = 1 << 15
	if m >= math.MaxInt32-off {
		return math.MaxInt16
	}
	return int16((m + off) >> 16)
}

// PrepareHardSwish prepares a HARD_SWISH op with int8 or uint8 tensors.
func PrepareHardSwish(g *model.Graph, op *model.Op) (*HardSwishParams, error) {
	_, y, sx, zx, sy, zy, err := unaryQuant(g, op)
	if err != nil {
		return nil, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil || hi-lo != 255 {
		return nil, errs.New(errs.DType, "%v %q: output is %v, want int8 or uint8", op.Kind, op.Name, y.DType)
	}
	p := &HardSwishParams{InZeroPoint: zx, OutZeroPoint: zy, OutMin: lo, OutMax: hi}
	// The scales are float32 in LiteRT's Prepare, the multipliers quantized in double.
	hires := (1.0 / 128.0) * sx
	reluishScale := float32(3.0 / 32768.0)
	m, e := QuantizeMultiplier(float64(hires / sy))
	p.OutMult16, p.OutExp = downScaleInt32ToInt16Multiplier(m), e
	if p.OutExp > 0 {
		return nil, errs.New(errs.Model, "%v %q: input scale %g / output scale %g too large (LiteRT requires the output multiplier's exponent <= 0)", op.Kind, op.Name, sx, sy)
	}
	m, e = QuantizeMultiplier(float64(hires / reluishScale))
	p.ReluishMult16, p.ReluishExp = downScaleInt32ToInt16Multiplier(m), e
	return p, nil
}

// satRoundDoublingHighMul16 is gemmlowp's SaturatingRoundingDoublingHighMul on int16.
func satRoundDoublingHighMul16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - (1 << 14)
	}
	return int16((ab + nudge) / (1 << 15))
}

// satDoublingHighMul16 is LiteRT's SaturatingDoublingHighMul: the doubling high product
// truncated toward zero.
func satDoublingHighMul16(a, b int16) int16 {
	if a == b && a == math.MinInt16 {
		return math.MaxInt16
	}
	return int16(int32(a) * int32(b) / (1 << 15))
}

// satLeftShift16 is LiteRT's SaturatingLeftShift on int16.
func satLeftShift16(v int16, amount int) int16 {
	r := int64(v) << amount
	return int16(min(max(r, math.MinInt16), math.MaxInt16))
}

// Value returns the quantized HARD_SWISH of one input value.
func (p *HardSwishParams) Value(v int32) int32 {
	in := int16(v - p.InZeroPoint)
	hiresIn := in * (1 << 7)
	preshiftOut := satRoundDoublingHighMul16(hiresIn, p.OutMult16)
	r := hiresIn
	if p.ReluishExp > 0 {
		r = satLeftShift16(r, p.ReluishExp-1)
	}
	r = satRoundDoublingHighMul16(r, p.ReluishMult16)
	if p.ReluishExp > 0 {
		r = satLeftShift16(r, 1)
	}
	if p.ReluishExp < 0 {
		r = int16(RoundingDivideByPOT(int32(r), -p.ReluishExp))
	}
	r = int16((int32(r) + 1<<15) >> 1)
	out := int32(satDoublingHighMul16(r, preshiftOut))
	out = RoundingDivideByPOT(out, -p.OutExp) + p.OutZeroPoint
	return min(max(out, p.OutMin), p.OutMax)
}

// Run evaluates HARD_SWISH on x into y.
func (p *HardSwishParams) Run(x, y []int32) {
	for i, v := range x {
		y[i] = p.Value(v)
	}
}
