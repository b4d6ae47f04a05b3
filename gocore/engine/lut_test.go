package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
)

// lutGraph is a squeeze-excitation-like block with a LOGISTIC in the middle of the graph
// (so not in the client's tail): input [1,4,4,6] -> CONV_2D 1x1 -> HARD_SWISH -> LOGISTIC
// -> MUL of the hard swish and its logistic (two activations, a gate) -> TANH -> CONV_2D
// 1x1 -> output.
func lutGraph(dt model.DType, seed uint64) *model.Graph {
	b := tflitetest.NewBuilder(seed)
	zp := func(z int64) int64 { // given for uint8; int8 is shifted by -128
		if dt == model.Int8 {
			return z - 128
		}
		return z
	}
	axis := -1
	if dt == model.Int8 {
		axis = 0
	}
	x := b.Input("input", dt, []int{1, 4, 4, 6}, 1.0/32, zp(128))
	w1 := b.Weights("conv1/weights", dt, []int{8, 1, 1, 6}, axis)
	b1 := b.Bias("conv1/bias", 8, 1.0/32, w1)
	t1 := b.Act("conv1", dt, []int{1, 4, 4, 8}, 0.04, zp(120))
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{x, w1, b1}, Outputs: []int{t1},
		Padding: model.PadSame, StrideH: 1, StrideW: 1})
	hs := b.Act("hard_swish", dt, []int{1, 4, 4, 8}, 0.025, zp(110))
	b.Op(&model.Op{Kind: model.OpHardSwish, Inputs: []int{t1}, Outputs: []int{hs}})
	t2 := b.Act("logistic", dt, []int{1, 4, 4, 8}, 1.0/256, zp(0))
	b.Op(&model.Op{Kind: model.OpLogistic, Inputs: []int{hs}, Outputs: []int{t2}})
	t3 := b.Act("gated", dt, []int{1, 4, 4, 8}, 0.03, zp(100))
	b.Op(&model.Op{Kind: model.OpMul, Inputs: []int{hs, t2}, Outputs: []int{t3}})
	th := b.Act("tanh", dt, []int{1, 4, 4, 8}, 1.0/128, zp(128))
	b.Op(&model.Op{Kind: model.OpTanh, Inputs: []int{t3}, Outputs: []int{th}})
	w2 := b.Weights("conv2/weights", dt, []int{5, 1, 1, 8}, axis)
	b2 := b.Bias("conv2/bias", 5, 0.03, w2)
	t4 := b.Act("output", dt, []int{1, 4, 4, 5}, 0.05, zp(128))
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{th, w2, b2}, Outputs: []int{t4},
		Padding: model.PadSame, StrideH: 1, StrideW: 1})
	b.Outputs(t4)
	b.G.Description = fmt.Sprintf("engine.lutGraph(%v, %d)", dt, seed)
	return b.G
}

// TestLookupOps: a HARD_SWISH, a LOGISTIC and a TANH in the middle of the graph run on
// shares as a lookup of the table their cleartext kernels compute, and the result equals the cleartext evaluator bit
// for bit under every available protocol of the registry, int8 and uint8.
func TestLookupOps(t *testing.T) {
	for _, dt := range []model.DType{model.Int8, model.Uint8} {
		g := lutGraph(dt, 7)
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		pl, err := makePlan(g)
		if err != nil {
			t.Fatal(err)
		}
		if len(pl.tail) != 0 || len(pl.secure) != len(g.Ops) {
			t.Fatalf("%v: tail %v, secure %v: want every op on shares", dt, pl.tail, pl.secure)
		}
		r := rand.New(rand.NewPCG(8, 9))
		for _, spec := range registrytest.Protocols() {
			t.Run(dt.String()+"/"+spec.Name, func(t *testing.T) {
				for range 2 {
					checkSecure(t, g, randomInputs(g, r), spec.Name)
				}
			})
		}
	}
}

// padPoolLookupGraph: input [1,7,7,4] -> PAD with the type's minimum (PADV2's value; the
// importers' "-inf" padding of a max pool) -> MAX_POOL_2D 3x3/2 VALID -> LOOKUP (a random
// table) -> output.
func padPoolLookupGraph(dt model.DType, seed uint64) *model.Graph {
	b := tflitetest.NewBuilder(seed)
	lo, zp := int64(0), int64(100)
	if dt == model.Int8 {
		lo, zp = -128, -28
	}
	x := b.Input("input", dt, []int{1, 7, 7, 4}, 0.05, zp)
	p := b.Ints("pad/paddings", []int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)
	v := b.Tensor(&model.Tensor{Name: "pad/value", DType: dt, Shape: []int{}, Data: []byte{byte(lo)},
		Quant: &model.Quant{Scale: []float32{0.05}, ZeroPoint: []int64{zp}}})
	t1 := b.Act("pad", dt, []int{1, 9, 9, 4}, 0.05, zp)
	b.Op(&model.Op{Kind: model.OpPad, Inputs: []int{x, p, v}, Outputs: []int{t1}})
	t2 := b.Act("maxpool", dt, []int{1, 4, 4, 4}, 0.05, zp)
	b.Op(&model.Op{Kind: model.OpMaxPool2D, Inputs: []int{t1}, Outputs: []int{t2},
		Padding: model.PadValid, StrideH: 2, StrideW: 2, FilterH: 3, FilterW: 3})
	table := make([]byte, 256)
	for i := range table {
		table[i] = byte(b.Rand().IntN(256))
	}
	tt := b.Tensor(&model.Tensor{Name: "lookup/table", DType: dt, Shape: []int{256}, Data: table})
	t3 := b.Act("lookup", dt, []int{1, 4, 4, 4}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpLookup, Inputs: []int{t2, tt}, Outputs: []int{t3}})
	b.Outputs(t3)
	b.G.Description = fmt.Sprintf("engine.padPoolLookupGraph(%v, %d)", dt, seed)
	return b.G
}

// TestPadValuePoolLookup: a PAD with a constant value other than the zero point, a max pool
// over it and a LOOKUP op run on shares equal to the cleartext evaluator under every
// protocol, int8 and uint8; the table and the pad value are public structure.
func TestPadValuePoolLookup(t *testing.T) {
	for _, dt := range []model.DType{model.Int8, model.Uint8} {
		g := padPoolLookupGraph(dt, 3)
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, op := range g.Ops {
			for pos, in := range op.Inputs {
				if pos > 0 && !isStructural(g, in) {
					t.Errorf("%v: input %d of %v is not public structure", dt, pos, op.Kind)
				}
			}
		}
		r := rand.New(rand.NewPCG(4, 5))
		for _, spec := range registrytest.Protocols() {
			t.Run(dt.String()+"/"+spec.Name, func(t *testing.T) {
				checkSecure(t, g, randomInputs(g, r), spec.Name)
			})
		}
	}
}
