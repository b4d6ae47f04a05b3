package qnn

import (
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Tanhf is tanh(x) in float32 computed with the algorithm of glibc's tanhf before 2.41
// (sysdeps/ieee754/flt-32/s_tanhf.c and s_expm1f.c, the fdlibm float code: every
// operation in float32, none fused). LiteRT's int8/uint8 TANH fills its lookup table with
// std::tanh(float), the system tanhf; matching it bit for bit keeps the tables identical
// on glibc 2.27-2.40 (x86-64 glibc has no FMA variant of these two functions). glibc
// 2.41 replaced tanhf with a correctly rounded one (CORE-MATH); the results differ by at
// most an ulp or two, which changes a table entry only when tanh(x)/s_out falls within
// that distance of a rounding boundary.
func Tanhf(x float32) float32 {
	const (
		one  = float32(1)
		two  = float32(2)
		tiny = float32(1e-30)
	)
	jx := int32(math.Float32bits(x))
	ix := jx & 0x7fffffff
	if ix >= 0x7f800000 { // Inf or NaN
		if jx >= 0 {
			return one/x + one
		}
		return one/x - one
	}
	var z float32
	switch {
	case ix >= 0x41b00000: // |x| >= 22
		z = one - tiny
	case ix == 0:
		return x
	case ix < 0x24000000: // |x| < 2^-55
		return x * (one + x)
	case ix >= 0x3f800000: // |x| >= 1
		t := expm1f(two * abs32(x))
		z = one - two/(t+two)
	default:
		t := expm1f(-two * abs32(x))
		z = -t / (t + two)
	}
	if jx >= 0 {
		return z
	}
	return -z
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// expm1f is glibc's __expm1f (fdlibm, float32). The explicit float32 conversions round
// every product so that the compiler cannot fuse it into a multiply-add.
func expm1f(x float32) float32 {
	const (
		one         = float32(1)
		huge        = float32(1e30)
		tiny        = float32(1e-30)
		oThreshold  = float32(8.8721679688e+01)
		ln2Hi       = float32(6.9313812256e-01)
		ln2Lo       = float32(9.0580006145e-06)
		invln2      = float32(1.4426950216e+00)
		q1          = float32(-3.3333335072e-02)
		q2          = float32(1.5873016091e-03)
		q3          = float32(-7.9365076090e-05)
		q4          = float32(4.0082177293e-06)
		q5          = float32(-2.0109921195e-07)
		signBit     = uint32(0x80000000)
		expShiftLen = 23
	)
	hx := math.Float32bits(x)
	xsb := hx & signBit
	hx &= 0x7fffffff
	if hx >= 0x4195b844 { // |x| >= 27 ln2
		if hx >= 0x42b17218 { // |x| >= 88.72...
			if hx > 0x7f800000 {
				return x + x
			}
			if hx == 0x7f800000 {
				if xsb == 0 {
					return x
				}
				return -1
			}
			if x > oThreshold {
				return float32(math.Inf(1))
			}
		}
		if xsb != 0 {
			return tiny - one
		}
	}
	var hi, lo, c float32
	var k int32
	switch {
	case hx > 0x3eb17218: // |x| > 0.5 ln2
		if hx < 0x3f851592 { // and |x| < 1.5 ln2
			if xsb == 0 {
				hi, lo, k = x-ln2Hi, ln2Lo, 1
			} else {
				hi, lo, k = x+ln2Hi, -ln2Lo, -1
			}
		} else {
			h := float32(0.5)
			if xsb != 0 {
				h = -0.5
			}
			k = int32(float32(float32(invln2*x) + h))
			t := float32(k)
			hi = x - float32(t*ln2Hi)
			lo = float32(t * ln2Lo)
		}
		x = hi - lo
		c = (hi - x) - lo
	case hx < 0x33000000: // |x| < 2^-25
		t := huge + x
		return x - (t - (huge + x))
	default:
		k = 0
	}
	hfx := float32(0.5 * x)
	hxs := float32(x * hfx)
	p := float32(q4 + float32(hxs*q5))
	p = float32(q3 + float32(hxs*p))
	p = float32(q2 + float32(hxs*p))
	p = float32(q1 + float32(hxs*p))
	r1 := float32(one + float32(hxs*p))
	t := float32(3 - float32(r1*hfx))
	e := float32(hxs * float32(float32(r1-t)/float32(6-float32(x*t))))
	if k == 0 {
		return x - float32(float32(x*e)-hxs)
	}
	e = float32(float32(x*float32(e-c)) - c)
	e -= hxs
	if k == -1 {
		return float32(0.5*float32(x-e)) - 0.5
	}
	if k == 1 {
		if x < -0.25 {
			return float32(-2 * float32(e-float32(x+0.5)))
		}
		return one + float32(2*float32(x-e))
	}
	if k <= -2 || k > 56 {
		y := one - (e - x)
		y = math.Float32frombits(uint32(int32(math.Float32bits(y)) + k<<expShiftLen))
		return y - one
	}
	var y float32
	if k < 23 {
		t := math.Float32frombits(uint32(0x3f800000 - (0x1000000 >> k))) // 1 - 2^-k
		y = t - (e - x)
	} else {
		t := math.Float32frombits(uint32((0x7f - k) << expShiftLen)) // 2^-k
		y = x - (e + t)
		y += one
	}
	return math.Float32frombits(uint32(int32(math.Float32bits(y)) + k<<expShiftLen))
}

// TanhParams are the parameters of a quantized TANH with int8 or uint8 tensors: the
// 256-entry lookup table of LiteRT's builtin kernel (LUTPopulate in float32, the default
// and reference kernels alike): for each input value v,
//
//	d = s_in * float32(v - z_in); t = tanhf(d)
//	Table = clamp(int32(roundf(t * (1 / s_out)) + z_out), type range)
//
// with glibc's tanhf (see Tanhf).
type TanhParams struct {
	Table [256]int32
}

// PrepareTanh prepares a TANH op.
func PrepareTanh(g *model.Graph, op *model.Op) (*TanhParams, error) {
	x, y, sx, zx, sy, zy, err := unaryQuant(g, op)
	if err != nil {
		return nil, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	if x.DType != y.DType || hi-lo != 255 {
		return nil, errs.New(errs.DType, "%v %q: %v -> %v, want int8 or uint8 in and out", op.Kind, op.Name, x.DType, y.DType)
	}
	p := &TanhParams{}
	inv := 1 / sy
	for v := lo; v <= hi; v++ {
		d := sx * float32(v-zx)
		r := roundAway32(float32(Tanhf(d) * inv))
		q := int32(float32(r + float32(zy)))
		p.Table[uint8(v)] = min(max(q, lo), hi)
	}
	return p, nil
}

// Value returns the quantized TANH of one input value.
func (p *TanhParams) Value(v int32) int32 { return p.Table[uint8(v)] }

// Run evaluates TANH on x into y.
func (p *TanhParams) Run(x, y []int32) {
	for i, v := range x {
		y[i] = p.Table[uint8(v)]
	}
}
