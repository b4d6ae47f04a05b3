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
	if l, h, ok := d.IntRange(); ok && d != model.Int64 {
		return int32(l), int32(h), nil
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

// fastRequant is a Requant unrolled per channel into one branch-free formula covering
// every RoundMode:
//
//	t = (x*2^left*m + c1) >> s1
//	y = clamp(((t + c2 + (t<0 ? away : 0)) >> s2) + zp, lo, hi)
type fastRequant struct {
	m, c1, c2, away []int64
	left, s1, s2    []uint8
	zp, lo, hi      int32
	uniform         bool      // every channel has the same parameters (those of channel 0)
	blocks          []rqBlock // the same parameters by blocks of 8 channels, for applyVec
}

// rqBlock holds fastRequant's parameters for 8 consecutive channels in the layout of the
// AVX2 kernel (see dot_amd64.s): 64-bit values split into even and odd channels, the
// first addend biased by 2^62 and the matching correction 2^(62-s1).
type rqBlock struct {
	m, left    [8]int32
	c1e, c1o   [4]int64
	s1e, s1o   [4]int64
	sube, subo [4]int64
	c2, away   [8]int32
	s2         [8]int32
}

func newFastRequant(q *Requant, n int) *fastRequant {
	f := &fastRequant{m: make([]int64, n), c1: make([]int64, n), c2: make([]int64, n), away: make([]int64, n),
		left: make([]uint8, n), s1: make([]uint8, n), s2: make([]uint8, n), zp: q.OutZeroPoint, lo: q.ActMin, hi: q.ActMax}
	for c := range n {
		k := q.Index(c)
		shift := q.Shift[k]
		left, right := max(shift, 0), max(-shift, 0)
		f.m[c], f.left[c] = int64(q.Multiplier[k]), uint8(left)
		f.c1[c], f.s1[c], f.s2[c] = 1<<30, 31, uint8(right)
		if right > 0 {
			f.c2[c] = 1 << (right - 1)
		}
		switch q.Sched.At(c, n) {
		case RoundAway:
			if right > 0 {
				f.away[c] = -1
			}
		case RoundSingle:
			f.c1[c], f.s1[c], f.c2[c], f.s2[c] = 1<<(30+right), uint8(31+right), 0, 0
		case RoundFloor:
			f.c2[c] = 0
		}
	}
	f.uniform = true
	for c := 1; c < n; c++ {
		if f.m[c] != f.m[0] || f.c1[c] != f.c1[0] || f.c2[c] != f.c2[0] || f.away[c] != f.away[0] ||
			f.left[c] != f.left[0] || f.s1[c] != f.s1[0] || f.s2[c] != f.s2[0] {
			f.uniform = false
			break
		}
	}
	nb := n / 8
	if f.uniform && n > 0 {
		nb = 1
	}
	f.blocks = make([]rqBlock, nb)
	for k := range f.blocks {
		b := &f.blocks[k]
		for l := range 8 {
			c := 8*k + l
			if f.uniform {
				c = 0
			}
			b.m[l], b.left[l] = int32(f.m[c]), int32(f.left[c])
			b.c2[l], b.away[l], b.s2[l] = int32(f.c2[c]), int32(f.away[c]), int32(f.s2[c])
			c1, s1, sub := f.c1[c]+1<<62, int64(f.s1[c]), int64(1)<<(62-f.s1[c])
			if l%2 == 0 {
				b.c1e[l/2], b.s1e[l/2], b.sube[l/2] = c1, s1, sub
			} else {
				b.c1o[l/2], b.s1o[l/2], b.subo[l/2] = c1, s1, sub
			}
		}
	}
	return f
}

// apply requantizes one row of n channel values in place.
func (f *fastRequant) apply(row []int32) {
	if v := f.applyVec(row); v > 0 {
		f.applyGo(row[v:], v)
		return
	}
	f.applyGo(row, 0)
}

// applyGo requantizes row, whose first value is channel c0.
func (f *fastRequant) applyGo(row []int32, c0 int) {
	if f.uniform && len(f.m) > 0 {
		m, c1, c2, away := f.m[0], f.c1[0], f.c2[0], f.away[0]
		left, s1, s2 := f.left[0], f.s1[0], f.s2[0]
		for c, x := range row {
			xl := int64(x << left)
			t := (xl*m + c1) >> s1
			y := int32((t+c2+(t>>63)&away)>>s2) + f.zp
			row[c] = min(max(y, f.lo), f.hi)
		}
		return
	}
	n := len(row)
	m, c1, c2, away := f.m[c0:c0+n], f.c1[c0:c0+n], f.c2[c0:c0+n], f.away[c0:c0+n]
	left, s1, s2 := f.left[c0:c0+n], f.s1[c0:c0+n], f.s2[c0:c0+n]
	for c, x := range row {
		xl := int64(x << left[c])
		t := (xl*m[c] + c1[c]) >> s1[c]
		y := int32((t+c2[c]+(t>>63)&away[c])>>s2[c]) + f.zp
		row[c] = min(max(y, f.lo), f.hi)
	}
}
