package model

import (
	"errors"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
)

// graphBuilder builds small graphs by hand for the folding tests.
type graphBuilder struct{ g *Graph }

func (b *graphBuilder) add(t *Tensor) int {
	b.g.Tensors = append(b.g.Tensors, t)
	return len(b.g.Tensors) - 1
}

func (b *graphBuilder) act(shape ...int) int {
	return b.add(&Tensor{Name: "a", Shape: shape, DType: Int8, Quant: &Quant{Scale: []float32{0.1}, ZeroPoint: []int64{-3}}})
}

func (b *graphBuilder) ints(dt DType, shape []int, vals ...int64) int {
	t, _ := intTensor(dt, shape, vals)
	t.Name, t.DType = "c", dt
	return b.add(t)
}

func (b *graphBuilder) tmp(dt DType) int { return b.add(&Tensor{Name: "t", DType: dt, Shape: []int{}}) }

func (b *graphBuilder) op(op *Op) { b.g.Ops = append(b.g.Ops, op) }

func mustInts(t *testing.T, x *Tensor) []int {
	t.Helper()
	v, err := IntData(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFoldKerasFlatten folds the subgraph Keras' Flatten converts to with a dynamic batch:
// RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x), [0], [1], [1], shrink), -1)), plus a computed
// width (REDUCE_PROD of the non-batch dimensions, CAST to int64 and back, FLOOR_DIV).
func TestFoldKerasFlatten(t *testing.T) {
	b := &graphBuilder{g: &Graph{}}
	x := b.act(1, 4, 3, 2)
	b.g.Inputs = []int{x}
	shape := b.tmp(Int32)
	b.op(&Op{Kind: OpShape, Inputs: []int{x}, Outputs: []int{shape}})
	batch := b.tmp(Int32)
	b.op(&Op{Kind: OpStridedSlice, ShrinkAxisMask: 1,
		Inputs:  []int{shape, b.ints(Int32, []int{1}, 0), b.ints(Int32, []int{1}, 1), b.ints(Int32, []int{1}, 1)},
		Outputs: []int{batch}})
	rest := b.tmp(Int32) // shape[3:0:-1] = [2 3 4]
	b.op(&Op{Kind: OpStridedSlice,
		Inputs:  []int{shape, b.ints(Int32, []int{1}, -1), b.ints(Int32, []int{1}, 0), b.ints(Int32, []int{1}, -1)},
		Outputs: []int{rest}})
	prod := b.tmp(Int32)
	b.op(&Op{Kind: OpReduceProd, Inputs: []int{rest, b.ints(Int32, []int{1}, 0)}, Outputs: []int{prod}})
	wide := b.tmp(Int64)
	b.op(&Op{Kind: OpCast, Inputs: []int{prod}, Outputs: []int{wide}})
	halfW := b.tmp(Int64)
	b.op(&Op{Kind: OpFloorDiv, Inputs: []int{wide, b.ints(Int64, []int{}, 2)}, Outputs: []int{halfW}})
	back := b.tmp(Int32)
	b.op(&Op{Kind: OpCast, Inputs: []int{halfW}, Outputs: []int{back}})
	two := b.tmp(Int32)
	b.op(&Op{Kind: OpMul, Inputs: []int{back, b.ints(Int32, []int{}, 2)}, Outputs: []int{two}})
	width := b.tmp(Int32)
	b.op(&Op{Kind: OpSub, Inputs: []int{two, b.ints(Int32, []int{}, 0)}, Outputs: []int{width}})
	packed := b.tmp(Int32)
	b.op(&Op{Kind: OpPack, Inputs: []int{batch, width}, Outputs: []int{packed}})
	y := b.act(1, 24)
	b.op(&Op{Kind: OpReshape, Name: "flatten", Inputs: []int{x, packed}, Outputs: []int{y}})
	b.g.Outputs = []int{y}

	unfolded, err := FoldConstants(b.g)
	if err != nil {
		t.Fatal(err)
	}
	if len(unfolded) != 0 {
		t.Fatalf("unfolded ops %v", unfolded)
	}
	if len(b.g.Ops) != 1 || b.g.Ops[0].Name != "flatten" {
		t.Fatalf("ops after folding: %d, want only the RESHAPE", len(b.g.Ops))
	}
	if got := mustInts(t, b.g.Tensors[rest]); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("reversed slice = %v, want [2 3 4]", got)
	}
	if got := mustInts(t, b.g.Tensors[packed]); !slices.Equal(got, []int{1, 24}) {
		t.Errorf("folded shape = %v, want [1 24]", got)
	}
	if err := b.g.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestFoldLeavesActivations: ops on graph inputs stay; a fold-only op on an activation is
// reported; an op producing a graph output is kept.
func TestFoldLeavesActivations(t *testing.T) {
	b := &graphBuilder{g: &Graph{}}
	x := b.act(1, 2, 3, 4)
	b.g.Inputs = []int{x}
	tr := b.act(1, 4, 2, 3)
	b.op(&Op{Kind: OpTranspose, Inputs: []int{x, b.ints(Int32, []int{4}, 0, 3, 1, 2)}, Outputs: []int{tr}})
	c := b.add(&Tensor{Name: "cast", Shape: []int{1, 2, 3, 4}, DType: Int32})
	b.op(&Op{Kind: OpCast, Inputs: []int{x}, Outputs: []int{c}})
	s := b.add(&Tensor{Name: "shape", Shape: []int{4}, DType: Int32})
	b.op(&Op{Kind: OpShape, Inputs: []int{x}, Outputs: []int{s}})
	b.g.Outputs = []int{tr, s}
	unfolded, err := FoldConstants(b.g)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unfolded, []int{1, 2}) {
		t.Errorf("unfolded = %v, want [1 2] (CAST of an activation, SHAPE as a graph output)", unfolded)
	}
	if len(b.g.Ops) != 3 {
		t.Errorf("%d ops left, want 3", len(b.g.Ops))
	}
	err = b.g.Validate()
	if errs.KindOf(err) != errs.UnsupportedOp {
		t.Errorf("Validate with a CAST left: %v, want an UnsupportedOp error", err)
	}
}

// iota8 is an int8 constant 0, 1, ..., n-1 of the given shape.
func iota8(b *graphBuilder, shape ...int) int {
	n := NumElements(shape)
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i)
	}
	return b.add(&Tensor{Name: "k", Shape: shape, DType: Int8, Quant: &Quant{Scale: []float32{0.1}, ZeroPoint: []int64{-3}}, Data: d})
}

func TestMoveIndex(t *testing.T) {
	type tc struct {
		name  string
		build func(b *graphBuilder) *Op
		shape []int
		idx   []int32
	}
	i32 := func(b *graphBuilder, v ...int64) int { return b.ints(Int32, []int{len(v)}, v...) }
	cases := []tc{
		{"transpose", func(b *graphBuilder) *Op {
			return &Op{Kind: OpTranspose, Inputs: []int{iota8(b, 2, 3), i32(b, 1, 0)}}
		}, []int{3, 2}, []int32{0, 3, 1, 4, 2, 5}},
		{"transpose nchw->nhwc", func(b *graphBuilder) *Op {
			return &Op{Kind: OpTranspose, Inputs: []int{iota8(b, 1, 2, 2, 2), i32(b, 0, 2, 3, 1)}}
		}, []int{1, 2, 2, 2}, []int32{0, 4, 1, 5, 2, 6, 3, 7}},
		{"slice", func(b *graphBuilder) *Op {
			return &Op{Kind: OpSlice, Inputs: []int{iota8(b, 3, 4), i32(b, 1, 1), i32(b, -1, 2)}}
		}, []int{2, 2}, []int32{5, 6, 9, 10}},
		{"strided slice masks and negative stride", func(b *graphBuilder) *Op {
			return &Op{Kind: OpStridedSlice, BeginMask: 1, EndMask: 2,
				Inputs: []int{iota8(b, 3, 4), i32(b, 9, -1), i32(b, 2, 0), i32(b, 2, -2)}}
		}, []int{1, 2}, []int32{3, 1}},
		{"strided slice shrink and offset", func(b *graphBuilder) *Op {
			return &Op{Kind: OpStridedSlice, ShrinkAxisMask: 2, Offset: true,
				Inputs: []int{iota8(b, 3, 4), i32(b, 1, -1), i32(b, 2, 0), i32(b, 1, 1)}}
		}, []int{2}, []int32{7, 11}},
		{"pack axis 1", func(b *graphBuilder) *Op {
			return &Op{Kind: OpPack, Axis: 1, Inputs: []int{iota8(b, 2, 2), iota8(b, 2, 2)}}
		}, []int{2, 2, 2}, []int32{0, 1, 4, 5, 2, 3, 6, 7}},
		{"gather axis 1", func(b *graphBuilder) *Op {
			return &Op{Kind: OpGather, Axis: 1, Inputs: []int{iota8(b, 2, 3), b.ints(Int64, []int{2, 1}, 2, -3)}}
		}, []int{2, 2, 1}, []int32{2, 0, 5, 3}},
		{"split_v piece 1", func(b *graphBuilder) *Op {
			return &Op{Kind: OpSplit, Axis: -1, NumPieces: 3, Piece: 1, Inputs: []int{iota8(b, 2, 5), i32(b, 1, -1, 2)}}
		}, []int{2, 2}, []int32{1, 2, 6, 7}},
		{"unpack piece 2", func(b *graphBuilder) *Op {
			return &Op{Kind: OpSplit, Axis: 0, NumPieces: 3, Piece: 2, DropAxis: true, Inputs: []int{iota8(b, 3, 2)}}
		}, []int{2}, []int32{4, 5}},
		{"expand dims", func(b *graphBuilder) *Op {
			return &Op{Kind: OpExpandDims, Inputs: []int{iota8(b, 2, 2), i32(b, -1)}}
		}, []int{2, 2, 1}, []int32{0, 1, 2, 3}},
		{"depth to space", func(b *graphBuilder) *Op {
			return &Op{Kind: OpDepthToSpace, BlockSize: 2, Inputs: []int{iota8(b, 1, 1, 2, 8)}}
		}, []int{1, 2, 4, 2}, []int32{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}},
		{"space to depth", func(b *graphBuilder) *Op {
			return &Op{Kind: OpSpaceToDepth, BlockSize: 2, Inputs: []int{iota8(b, 1, 2, 4, 2)}}
		}, []int{1, 1, 2, 8}, []int32{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}},
		{"concatenation", func(b *graphBuilder) *Op {
			return &Op{Kind: OpConcatenation, Axis: 1, Inputs: []int{iota8(b, 2, 1), iota8(b, 2, 2)}}
		}, []int{2, 3}, []int32{0, 2, 3, 1, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &graphBuilder{g: &Graph{}}
			op := c.build(b)
			shape, idx, err := b.g.MoveIndex(op)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(shape, c.shape) || !slices.Equal(idx, c.idx) {
				t.Errorf("got shape %v index %v, want %v %v", shape, idx, c.shape, c.idx)
			}
		})
	}
}

func TestMoveIndexErrors(t *testing.T) {
	b := &graphBuilder{g: &Graph{}}
	x := iota8(b, 2, 3)
	i32 := func(v ...int64) int { return b.ints(Int32, []int{len(v)}, v...) }
	for name, op := range map[string]*Op{
		"perm not a permutation": {Kind: OpTranspose, Inputs: []int{x, i32(1, 1)}},
		"perm not constant":      {Kind: OpTranspose, Inputs: []int{x, b.act(2)}},
		"slice past the end":     {Kind: OpSlice, Inputs: []int{x, i32(1, 0), i32(2, 1)}},
		"stride 0":               {Kind: OpStridedSlice, Inputs: []int{x, i32(0), i32(1), i32(0)}},
		"gather out of range":    {Kind: OpGather, Inputs: []int{x, i32(3)}},
		"uneven split":           {Kind: OpSplit, Axis: 1, NumPieces: 2, Inputs: []int{x}},
		"pack shape mismatch":    {Kind: OpPack, Inputs: []int{x, iota8(b, 3, 2)}},
	} {
		if _, _, err := b.g.MoveIndex(op); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Errorf("%s: %v is not an errs.Error", name, err)
			}
		}
	}
}

// TestFoldMoveConstant folds a TRANSPOSE of a constant weight (bytes moved, quantization kept).
func TestFoldMoveConstant(t *testing.T) {
	b := &graphBuilder{g: &Graph{}}
	x := b.act(1, 3)
	b.g.Inputs = []int{x}
	k := iota8(b, 3, 2)
	kt := b.add(&Tensor{Name: "kt", Shape: []int{2, 3}, DType: Int8, Quant: &Quant{Scale: []float32{0.1}, ZeroPoint: []int64{-3}}})
	b.op(&Op{Kind: OpTranspose, Inputs: []int{k, b.ints(Int32, []int{2}, 1, 0)}, Outputs: []int{kt}})
	b.g.Outputs = []int{x}
	if _, err := FoldConstants(b.g); err != nil {
		t.Fatal(err)
	}
	if len(b.g.Ops) != 0 || !slices.Equal(b.g.Tensors[kt].Data, []byte{0, 2, 4, 1, 3, 5}) {
		t.Errorf("folded transpose: %d ops, data %v", len(b.g.Ops), b.g.Tensors[kt].Data)
	}
}
