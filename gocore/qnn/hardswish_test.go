package qnn

import (
	"fmt"
	"math"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
)

// TestHardSwishNearFloat: the fixed-point HARD_SWISH stays within 1 LSB of the float
// function x * relu6(x + 3) / 6 (rounded to the output scale) for every input value, over
// input/output scales whose multipliers shift right and left. Bit-exactness with LiteRT is
// tested in tests/test_lookup_ops.py.
func TestHardSwishNearFloat(t *testing.T) {
	for _, dt := range []model.DType{model.Int8, model.Uint8} {
		for _, sc := range [][2]float32{{0.05, 0.03}, {0.02, 0.02}, {0.1, 0.09}, {0.01, 0.004}, {0.3, 0.25}, {0.005, 0.0049}} {
			zx, zy := int64(3), int64(-100)
			if dt == model.Uint8 {
				zx, zy = 131, 28
			}
			g := &model.Graph{Tensors: []*model.Tensor{
				{Name: "x", DType: dt, Shape: []int{256}, Quant: &model.Quant{Scale: []float32{sc[0]}, ZeroPoint: []int64{zx}}},
				{Name: "y", DType: dt, Shape: []int{256}, Quant: &model.Quant{Scale: []float32{sc[1]}, ZeroPoint: []int64{zy}}},
			}, Inputs: []int{0}, Outputs: []int{1}}
			op := &model.Op{Kind: model.OpHardSwish, Name: "hs", Inputs: []int{0}, Outputs: []int{1}}
			g.Ops = []*model.Op{op}
			t.Run(fmt.Sprintf("%v/%v", dt, sc), func(t *testing.T) {
				p, err := PrepareHardSwish(g, op)
				if err != nil {
					t.Fatal(err)
				}
				lo, hi, _ := typeRange(dt)
				for v := lo; v <= hi; v++ {
					x := float64(sc[0]) * float64(v-int32(zx))
					f := x * math.Min(6, math.Max(0, x+3)) / 6
					want := math.Min(math.Max(math.Round(f/float64(sc[1]))+float64(zy), float64(lo)), float64(hi))
					if got := p.Value(v); math.Abs(float64(got)-want) > 1 {
						t.Errorf("x=%d (%.4f): got %d, float %v", v, x, got, want)
					}
				}
			})
		}
	}
}
