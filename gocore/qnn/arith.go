package qnn

// gemmlowp fixed-point arithmetic (see doc.go for the package documentation).

import "math"

// QuantizeMultiplier splits a positive real multiplier into a Q31 fixed-point multiplier
// m in [2^30, 2^31) and a power-of-two exponent, real ~= m * 2^(shift-31), exactly as
// TFLite's QuantizeMultiplier (frexp, then round half away from zero).
func QuantizeMultiplier(real float64) (m int32, shift int) {
	if real == 0 {
		return 0, 0
	}
	q, exp := math.Frexp(real)
	qFixed := int64(math.Round(q * (1 << 31)))
	if qFixed == 1<<31 {
		qFixed /= 2
		exp++
	}
	if exp < -31 {
		return 0, 0
	}
	if exp > 30 {
		return math.MaxInt32, 30
	}
	return int32(qFixed), exp
}

// SaturatingRoundingDoublingHighMul is gemmlowp's (a*b*2 + 2^31) >> 32 with rounding half
// up, saturating the single overflow case a == b == MinInt32. For all other inputs it equals
// floor((a*b + 2^30) / 2^31).
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT is gemmlowp's x / 2^exponent rounded half away from zero.
func RoundingDivideByPOT(x int32, exponent int) int32 {
	mask := int32(1)<<exponent - 1
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exponent
	if remainder > threshold {
		r++
	}
	return r
}

// MultiplyByQuantizedMultiplier is TFLite's requantization x * m * 2^(shift-31) with
// gemmlowp's double rounding (the default TFLite build, not TFLITE_SINGLE_ROUNDING).
func MultiplyByQuantizedMultiplier(x, m int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x*(1<<left), m), right)
}
