package qnn

// RoundMode is one of the three ways LiteRT's kernels apply a quantized multiplier
// (m, shift) to an int32 accumulator x, i.e. compute x * m * 2^(shift-31) rounded to an
// integer. They differ only on exact ties. With l = max(shift, 0) and r = max(-shift, 0)
// and every division below a floor division (an arithmetic right shift):
//
//	RoundAway:   t = (x*2^l*m + 2^30) / 2^31           (gemmlowp SaturatingRoundingDoublingHighMul)
//	             y = (t + 2^(r-1) - [t < 0]) / 2^r       (RoundingDivideByPOT: ties away from zero)
//	RoundUp:     t as above
//	             y = (t + 2^(r-1)) / 2^r                 (rounding right shift: ties toward +inf)
//	RoundSingle: y = (x*2^l*m + 2^(30+r)) / 2^(31+r)     (one rounding, ties toward +inf)
//	RoundFloor:  t as above
//	             y = t / 2^r                             (plain arithmetic shift, no rounding)
//
// (for r = 0 the second step is the identity). x*2^l wraps around in int32 as in C; in
// practice l > 0 only for multipliers >= 1, which convolutions never have.
//
// RoundAway is TFLite's reference MultiplyByQuantizedMultiplier (the BUILTIN_REF kernels
// and the scalar tails of the optimized kernels). RoundUp is what ruy's AVX2 kernels
// (CONV_2D, FULLY_CONNECTED) and the NEON-on-SSE vector paths (vqrdmulh + vrshl) compute.
// RoundSingle is XNNPACK's and TFLITE_SINGLE_ROUNDING's arithmetic. RoundFloor is the
// input rescaling of the uint8 ADD vector path (vqrdmulh then vshl by a negative amount).
type RoundMode uint8

// Rounding modes; see RoundMode.
const (
	RoundAway RoundMode = iota
	RoundUp
	RoundSingle
	RoundFloor
)

var roundNames = [...]string{"away", "up", "single", "floor"}

func (r RoundMode) String() string {
	if int(r) < len(roundNames) {
		return roundNames[r]
	}
	return "round(?)"
}

// Mul returns x * m * 2^(shift-31) rounded as r says (see RoundMode).
func (r RoundMode) Mul(x, m int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	xl := int64(x * (1 << left)) // wraps in int32 as C does
	switch r {
	case RoundSingle:
		return int32((xl*int64(m) + 1<<(30+right)) >> (31 + right))
	case RoundFloor:
		return int32(((xl*int64(m) + 1<<30) >> 31) >> right)
	case RoundUp:
		t := (xl*int64(m) + 1<<30) >> 31
		if right == 0 {
			return int32(t)
		}
		return int32((t + 1<<(right-1)) >> right)
	default:
		t := (xl*int64(m) + 1<<30) >> 31
		if right == 0 {
			return int32(t)
		}
		if t < 0 {
			return int32((t + 1<<(right-1) - 1) >> right)
		}
		return int32((t + 1<<(right-1)) >> right)
	}
}
