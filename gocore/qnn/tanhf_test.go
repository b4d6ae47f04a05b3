package qnn

import (
	"math"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
)

// tanhfGlibc holds (x, tanhf(x)) bit patterns computed by glibc 2.36's libm on x86-64:
// inputs of a random sweep over exponents 2^-30..2^4 where glibc's result differs from the
// correctly rounded float32(tanh(float64(x))), then one input per branch of tanhf and
// expm1f (0, tiny, k = 0, +-1, 2..56, > 56, |x| >= 22, infinities). The full check (all
// 2^32 inputs, Go against the C library through cgo) was run once; see
// docs/design-notes.md.
var tanhfGlibc = [][2]uint32{
	{0xb30e1707, 0xb30e1708},
	{0x332e0e7f, 0x332e0e80},
	{0xb3d1804d, 0xb3d1804e},
	{0xb3d3e828, 0xb3d3e829},
	{0xb4530435, 0xb4530434},
	{0xb46d870e, 0xb46d870f},
	{0x34e72f3a, 0x34e72f39},
	{0xb4aa370f, 0xb4aa370e},
	{0x353845d3, 0x353845d4},
	{0xb56a2a2f, 0xb56a2a30},
	{0xb5b3c383, 0xb5b3c382},
	{0x35fb46a9, 0x35fb46a8},
	{0x3617c79e, 0x3617c79f},
	{0x3670ce86, 0x3670ce85},
	{0x36d12691, 0x36d12692},
	{0xb6ece210, 0xb6ece20f},
	{0xb7794b24, 0xb7794b23},
	{0x375d780f, 0x375d780e},
	{0x37c74263, 0x37c74264},
	{0x37fcaaf1, 0x37fcaaf0},
	{0x385ab338, 0x385ab339},
	{0xb82fba2f, 0xb82fba30},
	{0xb8d27cbd, 0xb8d27cbe},
	{0xb88d26ac, 0xb88d26ab},
	{0x393f5f90, 0x393f5f8f},
	{0xb94c3b71, 0xb94c3b70},
	{0xb9f20f6c, 0xb9f20f6a},
	{0xb9c2940a, 0xb9c2940a},
	{0xba235b6e, 0xba235b6c},
	{0xba5c546d, 0xba5c5469},
	{0xbad90e56, 0xbad90e48},
	{0x3a835548, 0x3a835546},
	{0xbb264a4a, 0xbb264a32},
	{0x3b541be0, 0x3b541bb0},
	{0x3b9eb430, 0x3b9eb3de},
	{0x3bd3f2c8, 0x3bd3f207},
	{0x3c2d5792, 0x3c2d55e9},
	{0x3c6a92e5, 0x3c6a8eca},
	{0x3ce2bd34, 0x3ce2ae62},
	{0x3c96528e, 0x3c964e3d},
	{0x3d78d8b6, 0x3d788a72},
	{0x3d36571d, 0x3d36384e},
	{0xbd937957, 0xbd933838},
	{0xbdc4cb88, 0xbdc4310a},
	{0x3e524fd6, 0x3e4f6760},
	{0x3e44ed85, 0x3e428916},
	{0xbed109e2, 0xbec6262c},
	{0x3ef133d8, 0x3ee0cff4},
	{0x3f3ff763, 0x3f2293fb},
	{0xbf6c14e9, 0xbf3a1853},
	{0xbfc24104, 0xbf68850c},
	{0x3fae8c1e, 0x3f60929e},
	{0x400c1ef8, 0x3f79a8a2},
	{0x400a6f24, 0x3f7951e8},
	{0x409b2aa8, 0x3f7ff7f4},
	{0xc088751f, 0xbf7fe616},
	{0x00000000, 0x00000000},
	{0x1e3ce508, 0x1e3ce508},
	{0xb300d959, 0xb300d95a},
	{0x3eb16873, 0x3eaaa218},
	{0x3f000000, 0x3eec9a9f},
	{0x3f800000, 0x3f42f7d6},
	{0x3f8514e4, 0x3f471be8},
	{0x40000000, 0x3f76ca83},
	{0x410e6666, 0x3f7fffff},
	{0x41300000, 0x3f800000},
	{0x41afeb85, 0x3f800000},
	{0x41b00000, 0x3f800000},
	{0x41f00000, 0x3f800000},
	{0x7f800000, 0x3f800000},
	{0xff800000, 0xbf800000},
}

func TestTanhfMatchesGlibc(t *testing.T) {
	for _, c := range tanhfGlibc {
		x := math.Float32frombits(c[0])
		if got := math.Float32bits(Tanhf(x)); got != c[1] {
			t.Errorf("Tanhf(%g = %#08x) = %#08x, glibc %#08x", x, c[0], got, c[1])
		}
	}
	if nan := Tanhf(float32(math.NaN())); nan == nan {
		t.Errorf("Tanhf(NaN) = %v", nan)
	}
}

// TestTanhTable: the TANH table is within 1 LSB of the rounded float function for every
// input value, int8 and uint8.
// Bit-exactness with LiteRT (every input value, several scales) is tested in
// tests/test_lookup_ops.py.
func TestTanhTable(t *testing.T) {
	for _, dt := range []model.DType{model.Int8, model.Uint8} {
		for _, sc := range [][2]float32{{0.05, 1.0 / 128}, {0.02, 1.0 / 128}, {0.1, 0.009}, {0.3, 1.0 / 128}} {
			zx, zy := int64(0), int64(0)
			if dt == model.Uint8 {
				zx, zy = 128, 128
			}
			g := &model.Graph{Tensors: []*model.Tensor{
				{Name: "x", DType: dt, Shape: []int{256}, Quant: &model.Quant{Scale: []float32{sc[0]}, ZeroPoint: []int64{zx}}},
				{Name: "y", DType: dt, Shape: []int{256}, Quant: &model.Quant{Scale: []float32{sc[1]}, ZeroPoint: []int64{zy}}},
			}, Inputs: []int{0}, Outputs: []int{1}}
			op := &model.Op{Kind: model.OpTanh, Name: "tanh", Inputs: []int{0}, Outputs: []int{1}}
			p, err := PrepareTanh(g, op)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi, _ := typeRange(dt)
			for v := lo; v <= hi; v++ {
				x := float64(sc[0]) * float64(v-int32(zx))
				want := math.Min(math.Max(math.Round(math.Tanh(x)/float64(sc[1]))+float64(zy), float64(lo)), float64(hi))
				if got := p.Value(v); math.Abs(float64(got)-want) > 1 {
					t.Errorf("%v %v: x=%d (%.4f): got %d, float %v", dt, sc, v, x, got, want)
				}
			}
		}
	}
}
