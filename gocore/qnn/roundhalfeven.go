package qnn

import (
	"math"
	"math/bits"
)

// Round-half-even requantization (model.RoundHalfEven): the arithmetic qmpc uses for ops
// imported from ONNX Runtime and PyTorch (fbgemm, qnnpack) models.
//
// Those runtimes requantize an int32 accumulator with a float32 multiplier and round the
// float32 product to the nearest integer, ties to even (nearbyintf, cvtps2dq, or the
// "magic number" addition). qmpc keeps the multiplier but makes the product exact:
//
//	y = clamp(zp + RNE(acc * m * 2^(shift-31)), lo, hi)
//
// with m in [2^30, 2^31) a public integer and RNE rounding half to even. For a float32
// multiplier (24 significant bits) m holds it exactly, so y differs from the runtime only
// where the runtime's own float32 product was inexact (|acc| >= 2^24, or the product's
// rounding to 24 bits crosses a half-integer): at most one LSB, on a fraction measured by
// the importer tests (tests/test_onnx.py).
//
// In secure evaluation, with p = acc * m (exact in the ring) and r = 31 - shift > 0:
//
//	RNE(p / 2^r) = floor((p + 2^(r-1)) / 2^r) - [p mod 2^r == 2^(r-1)] * [floor(p / 2^r) is even]
//
// which an exact truncation (floor) and one equality test on the low r bits implement;
// MulHalfEven computes exactly that formula on cleartext integers, so the cleartext
// evaluator and the secure engine agree bit for bit.

// HalfEvenMultiplier splits a positive real multiplier into m in [2^30, 2^31) and shift
// with real = m * 2^(shift-31), m rounded half to even from real's binary expansion (exact
// for every real with at most 31 significant bits, in particular every float32). A real
// of 0 gives (0, 0); non-finite or negative reals give (0, 0) too, which
// the caller must reject beforehand. Reals of 2^31 and above saturate to (2^31-1, 31).
func HalfEvenMultiplier(real float64) (m int32, shift int) {
	if !(real > 0) || math.IsInf(real, 0) {
		return 0, 0
	}
	frac, exp := math.Frexp(real) // real = frac * 2^exp, frac in [0.5, 1)
	q := math.RoundToEven(frac * (1 << 31))
	if q == 1<<31 {
		q /= 2
		exp++
	}
	if exp > 31 {
		return math.MaxInt32, 31
	}
	return int32(q), exp
}

// HalfEvenConvScale is the float32 multiplier ONNX Runtime (QLinearConv, QLinearMatMul,
// QGemm) and PyTorch (fbgemm and qnnpack conv and linear) compute for an output channel:
// (s_in * s_w) / s_out, each operation rounded to float32, in that order.
func HalfEvenConvScale(sIn, sW, sOut float32) float32 {
	p := sIn * sW
	return p / sOut
}

// RoundHalfEvenShift returns p / 2^r rounded to the nearest integer, ties to even, for
// r >= 0. Results are exact for every int64 p and r (r >= 64 gives 0).
func RoundHalfEvenShift(p int64, r int) int64 {
	if r <= 0 {
		return p
	}
	if r >= 64 {
		return 0 // |p| < 2^63 <= 2^(r-1): rounds to 0 (a tie only at p = -2^63, r = 64, rounding to even 0)
	}
	q := p >> r // floor
	rem := uint64(p) & (1<<r - 1)
	half := uint64(1) << (r - 1)
	if rem > half || (rem == half && q&1 != 0) {
		q++
	}
	return q
}

// MulHalfEven returns x * m * 2^(shift-31) rounded to the nearest integer, ties to even,
// saturated to int32: the requantization of model.RoundHalfEven ops. m is a multiplier
// from HalfEvenMultiplier (non-negative); shift may be any int. The arithmetic is exact.
func MulHalfEven(x, m int32, shift int) int32 {
	p := int64(x) * int64(m) // |p| < 2^62
	r := 31 - shift
	var y int64
	if r >= 0 {
		y = RoundHalfEvenShift(p, r)
	} else {
		l := -r
		if p != 0 && (l >= 63 || bits.Len64(absU64(p)) > 62-l) {
			if p > 0 {
				return math.MaxInt32
			}
			return math.MinInt32
		}
		y = p << l
	}
	return saturate32(y)
}

// MulHalfEven64 is MulHalfEven for a 64-bit accumulator x, |x| < 2^32 (sums of several
// int32-scaled terms, as a quantized ADD forms). It returns the rounded value unsaturated.
func MulHalfEven64(x int64, m int32, shift int) int64 {
	// |x| < 2^32 and m < 2^31 keep the product below 2^63.
	p := x * int64(m)
	r := 31 - shift
	if r >= 0 {
		return RoundHalfEvenShift(p, r)
	}
	l := min(-r, 62)
	return p << l
}

// HalfEvenRequant is a model.RoundHalfEven output requantization of channel c:
//
//	y = clamp(OutZeroPoint + MulHalfEven(acc, Multiplier[c], Shift[c]), ActMin, ActMax)
//
// with one (Multiplier, Shift) pair per output channel, or a single pair for all.
type HalfEvenRequant struct {
	Multiplier   []int32
	Shift        []int
	OutZeroPoint int32
	ActMin       int32
	ActMax       int32
}

// NewHalfEvenConvRequant prepares the requantization of a RoundHalfEven CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED: one multiplier per weight scale,
// HalfEvenConvScale(sIn, sW[c], sOut), and the output range [lo, hi] (the output type's
// range narrowed by the fused activation, as for TFLite).
func NewHalfEvenConvRequant(sIn float32, sW []float32, sOut float32, outZeroPoint, lo, hi int32) *HalfEvenRequant {
	q := &HalfEvenRequant{Multiplier: make([]int32, len(sW)), Shift: make([]int, len(sW)),
		OutZeroPoint: outZeroPoint, ActMin: lo, ActMax: hi}
	for c, s := range sW {
		q.Multiplier[c], q.Shift[c] = HalfEvenMultiplier(float64(HalfEvenConvScale(sIn, s, sOut)))
	}
	return q
}

// Apply requantizes the accumulator acc of output channel c.
func (q *HalfEvenRequant) Apply(acc int32, c int) int32 {
	k := 0
	if len(q.Multiplier) > 1 {
		k = c
	}
	y := int64(q.OutZeroPoint) + int64(MulHalfEven(acc, q.Multiplier[k], q.Shift[k]))
	return int32(min(max(y, int64(q.ActMin)), int64(q.ActMax)))
}

func absU64(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

func saturate32(y int64) int32 {
	if y > math.MaxInt32 {
		return math.MaxInt32
	}
	if y < math.MinInt32 {
		return math.MinInt32
	}
	return int32(y)
}
