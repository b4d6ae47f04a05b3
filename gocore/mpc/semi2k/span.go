package semi2k

import (
	"math"
	"math/bits"
	"slices"
)

// span is a public range [lo, hi] of the values of a held share, as signed integers
// (ok false: unknown, any 64-bit value). It is derived only from public information: the
// range an Input was declared with (mpc.RangedInput, e.g. the tensor type's range) and the
// public operations applied since. One-sided products size their Gilboa products by it
// (bitsFor), so the number and length of messages depend on public data only: a width
// computed from the values themselves would tell the other party how large the model
// owner's weights are.
type span struct {
	lo, hi int64
	ok     bool
}

// limit keeps spans far from int64 overflow: wider ones become unknown.
const limit = 1 << 62

func mkSpan(lo, hi int64) span {
	if lo < -limit || hi > limit || lo > hi {
		return span{}
	}
	return span{lo, hi, true}
}

// spanOf is the range of public values (two's complement words).
func spanOf(c []uint64) span {
	if len(c) == 0 {
		return mkSpan(0, 0)
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, x := range c {
		lo, hi = min(lo, int64(x)), max(hi, int64(x))
	}
	return mkSpan(lo, hi)
}

func (s span) add(t span) span {
	if !s.ok || !t.ok {
		return span{}
	}
	return mkSpan(s.lo+t.lo, s.hi+t.hi)
}

func (s span) neg() span {
	if !s.ok {
		return span{}
	}
	return mkSpan(-s.hi, -s.lo)
}

func (s span) mul(t span) span {
	if !s.ok || !t.ok {
		return span{}
	}
	// |factors| <= 2^62 but products may overflow: check the magnitudes first.
	if bitLen(s)+bitLen(t) > 62 {
		return span{}
	}
	ps := []int64{s.lo * t.lo, s.lo * t.hi, s.hi * t.lo, s.hi * t.hi}
	return mkSpan(slices.Min(ps), slices.Max(ps))
}

// scale is the range of sums of k values of s.
func (s span) scale(k int) span {
	return s.mul(mkSpan(int64(k), int64(k)))
}

// union is the smallest range holding s and t.
func (s span) union(t span) span {
	if !s.ok || !t.ok {
		return span{}
	}
	return mkSpan(min(s.lo, t.lo), max(s.hi, t.hi))
}

// bitLen is the number of bits of the largest magnitude in s.
func bitLen(s span) int {
	m := max(abs(s.lo), abs(s.hi))
	return bits.Len64(uint64(m))
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// bitsFor is the signed width class (9, 17, 33 or 64 bits) that holds every value of s:
// the number of correlated OTs per element of a one-sided product.
func bitsFor(s span) int {
	if !s.ok {
		return 64
	}
	for _, b := range []int{9, 17, 33} {
		if s.lo >= -(1<<(b-1)) && s.hi < 1<<(b-1) {
			return b
		}
	}
	return 64
}
