package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
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
		for _, spec := range registry.Available() {
			t.Run(dt.String()+"/"+spec.Name, func(t *testing.T) {
				for range 2 {
					checkSecure(t, g, randomInputs(g, r), spec.Name)
				}
			})
		}
	}
}
