package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
)

// poolGraph is input -> AVERAGE_POOL_2D -> MAX_POOL_2D with the given fused activation
// on both pools (ActNone: the clamp after them is the identity and is skipped; RELU6 with
// a zero point inside the type's range: it clamps).
func poolGraph(dt model.DType, act model.Activation, seed uint64) *model.Graph {
	b := tflitetest.NewBuilder(seed)
	zp := int64(3)
	if dt == model.Uint8 {
		zp = 130
	}
	in := b.Input("in", dt, []int{1, 5, 5, 4}, 0.05, zp)
	avg := b.Act("avg", dt, []int{1, 5, 5, 4}, 0.05, zp)
	b.Op(&model.Op{Kind: model.OpAveragePool2D, Inputs: []int{in}, Outputs: []int{avg},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, FilterH: 3, FilterW: 2, Activation: act})
	mx := b.Act("max", dt, []int{1, 2, 2, 4}, 0.05, zp)
	b.Op(&model.Op{Kind: model.OpMaxPool2D, Inputs: []int{avg}, Outputs: []int{mx},
		Padding: model.PadValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2, Activation: act})
	b.Outputs(mx, avg)
	return b.G
}

// TestPoolClamp: pools equal the cleartext evaluator with and without a clamping
// activation (the engine skips the clamp when the input type lies inside the range).
func TestPoolClamp(t *testing.T) {
	for _, dt := range []model.DType{model.Uint8, model.Int8} {
		for _, act := range []model.Activation{model.ActNone, model.ActRelu6, model.ActRelu} {
			g := poolGraph(dt, act, 5)
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(act), 3))
			for _, p := range []string{"plain", "rep3"} {
				t.Run(dt.String()+"/"+p, func(t *testing.T) {
					checkSecure(t, g, randomInputs(g, r), p)
				})
			}
		}
	}
}
