package engine

import (
	"math"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

// affineFit is an exact integer form y = floor((A*x + B) / 2^S) of a public monotone
// function of a small integer x (for example TFLite's float rescaling in CONCATENATION),
// valid for every x in [Lo, Hi]. It lets the parties evaluate a float formula of a secret
// 8-bit value exactly with one multiplication by a public constant and one exact
// truncation.
type affineFit struct {
	A, B   int64
	S      int
	Lo, Hi int64
	Bound  int // bits of |A*x + B| (two's complement) over [Lo, Hi]
}

// fitAffineFloor finds an affineFit for f over [lo, hi], trying shifts S = 0..40 and, for
// each, the multipliers A around the slope of f; it checks every x of the range, so a
// returned fit is exact by construction.
func fitAffineFloor(f func(int64) int64, lo, hi int64) (*affineFit, error) {
	ys := make([]int64, hi-lo+1)
	for x := lo; x <= hi; x++ {
		ys[x-lo] = f(x)
	}
	slope := float64(ys[len(ys)-1]-ys[0]) / float64(max(hi-lo, 1))
	for s := 0; s <= 40; s++ {
		p := int64(1) << s
		center := int64(math.Round(slope * float64(p)))
		width := int64(4) + p/max(hi-lo, 1)*2
		for d := int64(0); d <= width; d++ {
			for _, a := range []int64{center + d, center - d} {
				// B must satisfy y*p - a*x <= B <= (y+1)*p - 1 - a*x for every x.
				lower, upper := int64(math.MinInt64), int64(math.MaxInt64)
				for x := lo; x <= hi; x++ {
					y := ys[x-lo]
					lower = max(lower, y*p-a*x)
					upper = min(upper, (y+1)*p-1-a*x)
				}
				if lower <= upper {
					fit := &affineFit{A: a, B: lower, S: s, Lo: lo, Hi: hi}
					m := max(abs64(a*lo+lower), abs64(a*hi+lower))
					fit.Bound = 65 - bits.LeadingZeros64(uint64(m))
					return fit, nil
				}
				if d == 0 {
					break
				}
			}
		}
	}
	return nil, errs.New(errs.UnsupportedOp, "no exact integer form found for a rescaling over [%d, %d]", lo, hi)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// applyFit computes clamp(floor((A*x + B) / 2^S), lo, hi) on shares.
func (e *Party) applyFit(x mpc.AShare, f *affineFit, lo, hi int32) (mpc.AShare, error) {
	v := e.p.AddPublic(e.p.MulPublic(x, []uint64{uint64(f.A)}), []uint64{uint64(f.B)})
	return mpc.TruncClamp(e.p, v, f.S, int64(lo), int64(hi), f.Bound+1)
}

// reduceIndex returns gather indices grouping, for each output element of a reduction
// over axes (in row-major output order), the input elements it sums (row-major).
func reduceIndex(in []int, axes []int) []int32 {
	red := make([]bool, len(in))
	for _, a := range axes {
		red[a] = true
	}
	strides := make([]int, len(in))
	s := 1
	for d := len(in) - 1; d >= 0; d-- {
		strides[d] = s
		s *= in[d]
	}
	var keep, drop []int
	for d := range in {
		if red[d] {
			drop = append(drop, d)
		} else {
			keep = append(keep, d)
		}
	}
	offsets := func(dims []int) []int {
		out := []int{0}
		for _, d := range dims {
			var next []int
			for _, o := range out {
				for i := 0; i < in[d]; i++ {
					next = append(next, o+i*strides[d])
				}
			}
			out = next
		}
		return out
	}
	outer, inner := offsets(keep), offsets(drop)
	idx := make([]int32, 0, len(outer)*len(inner))
	for _, o := range outer {
		for _, i := range inner {
			idx = append(idx, int32(o+i))
		}
	}
	return idx
}
