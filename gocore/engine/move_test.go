package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
)

// moveGraph returns a graph whose input (int8, or float32 quantized after its transpose
// when floatIn) is NCHW [1,3,4,5]: TRANSPOSE to NHWC, CONV_2D, then every data-movement
// op on activations: STRIDED_SLICE (masks, negative stride), SPLIT, PACK, UNPACK
// (SPLIT with DropAxis), GATHER, EXPAND_DIMS, SLICE, SPACE_TO_DEPTH and DEPTH_TO_SPACE.
func moveGraph(floatIn bool, seed uint64) *model.Graph {
	b := tflitetest.NewBuilder(seed)
	const s, zp = float32(0.05), int64(-3)
	var x int
	if floatIn {
		in := b.Input("input", model.Float32, []int{1, 3, 4, 5}, 0, 0)
		tf := b.Act("nhwc_float", model.Float32, []int{1, 4, 5, 3}, 0, 0)
		b.Op(&model.Op{Kind: model.OpTranspose, Inputs: []int{in, b.Ints("perm", []int{4}, 0, 2, 3, 1)}, Outputs: []int{tf}})
		x = b.Act("nhwc", model.Int8, []int{1, 4, 5, 3}, s, zp)
		b.Op(&model.Op{Kind: model.OpQuantize, Inputs: []int{tf}, Outputs: []int{x}})
	} else {
		in := b.Input("input", model.Int8, []int{1, 3, 4, 5}, s, zp)
		x = b.Act("nhwc", model.Int8, []int{1, 4, 5, 3}, s, zp)
		b.Op(&model.Op{Kind: model.OpTranspose, Inputs: []int{in, b.Ints("perm", []int{4}, 0, 2, 3, 1)}, Outputs: []int{x}})
	}
	w := b.Weights("w", model.Int8, []int{6, 3, 3, 3}, 0)
	bias := b.Bias("b", 6, s, w)
	const sa, za = float32(0.1), int64(5)
	act := func(name string, shape ...int) int { return b.Act(name, model.Int8, shape, sa, za) }
	c := act("conv", 1, 4, 5, 6)
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{x, w, bias}, Outputs: []int{c},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1})
	// c[:, ::2, ::-2, :] -> [1, 2, 3, 6]
	ss := act("strided", 1, 2, 3, 6)
	b.Op(&model.Op{Kind: model.OpStridedSlice, BeginMask: 0b1111, EndMask: 0b1111, Outputs: []int{ss},
		Inputs: []int{c, b.Ints("begin", []int{4}, 0, 0, 0, 0), b.Ints("end", []int{4}, 0, 0, 0, 0), b.Ints("strides", []int{4}, 1, 2, -2, 1)}})
	sp := []int{act("split0", 1, 2, 3, 2), act("split1", 1, 2, 3, 4)}
	sizes := b.Ints("sizes", []int{2}, 2, -1)
	for k, o := range sp {
		b.Op(&model.Op{Kind: model.OpSplit, Axis: -1, NumPieces: 2, Piece: k, Inputs: []int{ss, sizes}, Outputs: []int{o}})
	}
	pk := act("pack", 1, 2, 2, 3, 2)
	half := act("half", 1, 2, 3, 2)
	b.Op(&model.Op{Kind: model.OpSlice, Inputs: []int{sp[1], b.Ints("sbegin", []int{4}, 0, 0, 0, 1), b.Ints("ssize", []int{4}, -1, -1, -1, 2)}, Outputs: []int{half}})
	b.Op(&model.Op{Kind: model.OpPack, Axis: 1, Inputs: []int{sp[0], half}, Outputs: []int{pk}})
	un := act("unpack1", 1, 2, 3, 2)
	b.Op(&model.Op{Kind: model.OpSplit, Axis: 1, NumPieces: 2, Piece: 1, DropAxis: true, Inputs: []int{pk}, Outputs: []int{un}})
	ga := act("gather", 1, 2, 4, 2)
	b.Op(&model.Op{Kind: model.OpGather, Axis: 2, Inputs: []int{un, b.Ints("indices", []int{4}, 2, 0, 0, 1)}, Outputs: []int{ga}})
	ex := act("expand", 1, 2, 4, 1, 2)
	b.Op(&model.Op{Kind: model.OpExpandDims, Inputs: []int{ga, b.Ints("axis", []int{1}, -2)}, Outputs: []int{ex}})
	s2d := act("space_to_depth", 1, 1, 2, 8)
	b.Op(&model.Op{Kind: model.OpSpaceToDepth, BlockSize: 2, Inputs: []int{ga}, Outputs: []int{s2d}})
	d2s := act("depth_to_space", 1, 2, 4, 2)
	b.Op(&model.Op{Kind: model.OpDepthToSpace, BlockSize: 2, Inputs: []int{s2d}, Outputs: []int{d2s}})
	b.Outputs(ex, ss, d2s)
	return b.G
}

// TestMoveOps: every data-movement op on shares (a public index map) equals the cleartext
// evaluator, with int8 inputs and with a float input whose TRANSPOSE and QUANTIZE the
// client runs before sharing.
func TestMoveOps(t *testing.T) {
	for _, floatIn := range []bool{false, true} {
		g := moveGraph(floatIn, 3)
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		pl, err := makePlan(g)
		if err != nil {
			t.Fatal(err)
		}
		if wantHead := map[bool]int{false: 0, true: 2}[floatIn]; len(pl.head) != wantHead {
			t.Errorf("float input %v: head %v, want %d ops", floatIn, pl.head, wantHead)
		}
		r := rand.New(rand.NewPCG(5, 6))
		for _, p := range protocols {
			name := p
			if floatIn {
				name += "/float-input"
			}
			t.Run(name, func(t *testing.T) {
				res := checkSecure(t, g, randomInputs(g, r), p)
				moves := 0
				for _, l := range res.Layers {
					if l.Op < 0 { // input sharing, output opening
						continue
					}
					op := g.Ops[l.Op]
					if !model.IsMove(op.Kind) {
						continue
					}
					moves++
					for party, n := range l.BytesSent {
						if n != 0 || l.Rounds != 0 {
							t.Errorf("%v: party %d sent %d bytes in %d rounds, want none", op.Kind, party, n, l.Rounds)
						}
					}
				}
				if want := 11 - map[bool]int{false: 0, true: 1}[floatIn]; moves != want {
					t.Errorf("%d data-movement layers on shares, want %d", moves, want)
				}
			})
		}
	}
}
