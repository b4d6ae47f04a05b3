package tflitetest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/qmpc/qmpc/gocore/model"
)

// Builder assembles a *model.Graph with random but reproducible weights.
type Builder struct {
	G   *model.Graph
	rng *rand.Rand
}

// NewBuilder returns a Builder whose random weights and scales come from seed.
func NewBuilder(seed uint64) *Builder {
	return &Builder{G: &model.Graph{}, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Rand is the builder's random source.
func (b *Builder) Rand() *rand.Rand { return b.rng }

// Tensor appends t and returns its index.
func (b *Builder) Tensor(t *model.Tensor) int {
	b.G.Tensors = append(b.G.Tensors, t)
	return len(b.G.Tensors) - 1
}

// Act appends an activation tensor with per-tensor quantization (scale 0: none).
func (b *Builder) Act(name string, dt model.DType, shape []int, scale float32, zp int64) int {
	t := &model.Tensor{Name: name, DType: dt, Shape: shape}
	if scale != 0 {
		t.Quant = &model.Quant{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	return b.Tensor(t)
}

// Input appends an activation tensor and makes it a graph input.
func (b *Builder) Input(name string, dt model.DType, shape []int, scale float32, zp int64) int {
	i := b.Act(name, dt, shape, scale, zp)
	b.G.Inputs = append(b.G.Inputs, i)
	return i
}

// Outputs sets the graph outputs.
func (b *Builder) Outputs(idx ...int) { b.G.Outputs = idx }

// Weights appends a constant 8-bit tensor with random contents. axis < 0 gives
// per-tensor quantization (uint8 zero point around 128, int8 zero point 0); axis >= 0
// gives symmetric per-channel scales along axis (int8 only in TFLite).
func (b *Builder) Weights(name string, dt model.DType, shape []int, axis int) int {
	n := model.NumElements(shape)
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(b.rng.IntN(256))
	}
	q := &model.Quant{}
	if axis < 0 {
		q.Scale = []float32{0.002 + 0.02*b.rng.Float32()}
		zp := int64(0)
		if dt == model.Uint8 {
			zp = int64(100 + b.rng.IntN(56))
		}
		q.ZeroPoint = []int64{zp}
	} else {
		q.Axis = axis
		for range shape[axis] {
			q.Scale = append(q.Scale, 0.002+0.02*b.rng.Float32())
			q.ZeroPoint = append(q.ZeroPoint, 0)
		}
		if dt == model.Int8 {
			for i := range data {
				if data[i] == 0x80 { // symmetric range [-127, 127], as TFLite's int8 weights
					data[i] = 0x81
				}
			}
		}
	}
	return b.Tensor(&model.Tensor{Name: name, DType: dt, Shape: shape, Quant: q, Data: data})
}

// Bias appends an int32 bias of n random values with scale inScale * weight scale
// (per channel when the weights are) and zero point 0.
func (b *Builder) Bias(name string, n int, inScale float32, weights int) int {
	wq := b.G.Tensors[weights].Quant
	q := &model.Quant{}
	for c := range n {
		s := wq.Scale[0]
		if len(wq.Scale) > 1 {
			s = wq.Scale[c]
		}
		q.Scale = append(q.Scale, inScale*s)
		q.ZeroPoint = append(q.ZeroPoint, 0)
	}
	data := make([]byte, 4*n)
	for c := range n {
		binary.LittleEndian.PutUint32(data[4*c:], uint32(int32(b.rng.IntN(4001)-2000)))
	}
	return b.Tensor(&model.Tensor{Name: name, DType: model.Int32, Shape: []int{n}, Quant: q, Data: data})
}

// Ints appends a constant int32 tensor (axes, paddings, shapes).
func (b *Builder) Ints(name string, shape []int, vals ...int) int {
	if model.NumElements(shape) != len(vals) {
		panic(fmt.Sprintf("tflitetest.Ints %q: %d values for shape %v", name, len(vals), shape))
	}
	data := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(v)))
	}
	return b.Tensor(&model.Tensor{Name: name, DType: model.Int32, Shape: shape, Data: data})
}

// Op appends op, naming it after its first output when it has no name, and returns it.
func (b *Builder) Op(op *model.Op) *model.Op {
	if op.Name == "" && len(op.Outputs) > 0 {
		op.Name = b.G.Tensors[op.Outputs[0]].Name
	}
	if op.DilationH == 0 {
		op.DilationH = 1
	}
	if op.DilationW == 0 {
		op.DilationW = 1
	}
	b.G.Ops = append(b.G.Ops, op)
	return op
}

// AllOps returns a small graph (input float32 [1,8,8,3]) that uses every op kind of the
// IR, with dt (model.Uint8 or model.Int8) activations: QUANTIZE, CONV_2D (RELU6),
// DEPTHWISE_CONV_2D (depth multiplier 2, stride 2, RELU), PAD, MAX_POOL_2D,
// AVERAGE_POOL_2D, ADD, MUL (broadcast [1,1,1,C]), CONCATENATION (axis -1), MEAN
// (keep_dims), SQUEEZE, FULLY_CONNECTED, RESHAPE (shape input with -1), SOFTMAX, and a
// second output LOGISTIC -> DEQUANTIZE. With int8, the conv, depthwise and fully
// connected weights are quantized per channel.
func AllOps(dt model.DType, seed uint64) *model.Graph {
	b := NewBuilder(seed)
	zp := func(z int64) int64 { // zero points are given for uint8; int8 is shifted by -128
		if dt == model.Int8 {
			return z - 128
		}
		return z
	}
	axis := func(a int) int {
		if dt == model.Int8 {
			return a
		}
		return -1
	}
	const sIn = float32(1.0 / 64)
	in := b.Input("input", model.Float32, []int{1, 8, 8, 3}, 0, 0)
	x := b.Act("quantized_input", dt, []int{1, 8, 8, 3}, sIn, zp(128))
	b.Op(&model.Op{Kind: model.OpQuantize, Inputs: []int{in}, Outputs: []int{x}})

	w1 := b.Weights("conv/weights", dt, []int{4, 3, 3, 3}, axis(0))
	b1 := b.Bias("conv/bias", 4, sIn, w1)
	t1 := b.Act("conv", dt, []int{1, 8, 8, 4}, 6.0/255, zp(0))
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{x, w1, b1}, Outputs: []int{t1},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, Activation: model.ActRelu6})

	w2 := b.Weights("dw/weights", dt, []int{1, 3, 3, 8}, axis(3))
	b2 := b.Bias("dw/bias", 8, 6.0/255, w2)
	t2 := b.Act("dw", dt, []int{1, 4, 4, 8}, 0.05, zp(0))
	b.Op(&model.Op{Kind: model.OpDepthwiseConv2D, Inputs: []int{t1, w2, b2}, Outputs: []int{t2},
		Padding: model.PadSame, StrideH: 2, StrideW: 2, DepthMultiplier: 2, Activation: model.ActRelu})

	p := b.Ints("pad/paddings", []int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)
	t3 := b.Act("pad", dt, []int{1, 6, 6, 8}, 0.05, zp(0))
	b.Op(&model.Op{Kind: model.OpPad, Inputs: []int{t2, p}, Outputs: []int{t3}})

	t4 := b.Act("maxpool", dt, []int{1, 3, 3, 8}, 0.05, zp(0))
	b.Op(&model.Op{Kind: model.OpMaxPool2D, Inputs: []int{t3}, Outputs: []int{t4},
		Padding: model.PadValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2})

	t5 := b.Act("avgpool", dt, []int{1, 3, 3, 8}, 0.05, zp(0))
	b.Op(&model.Op{Kind: model.OpAveragePool2D, Inputs: []int{t4}, Outputs: []int{t5},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, FilterH: 3, FilterW: 3})

	t6 := b.Act("add", dt, []int{1, 3, 3, 8}, 0.08, zp(10))
	b.Op(&model.Op{Kind: model.OpAdd, Inputs: []int{t4, t5}, Outputs: []int{t6}})

	c := b.Weights("mul/factor", dt, []int{1, 1, 1, 8}, -1)
	t7 := b.Act("mul", dt, []int{1, 3, 3, 8}, 0.08, zp(10)) // int8 CONCATENATION needs equal quantization
	b.Op(&model.Op{Kind: model.OpMul, Inputs: []int{t6, c}, Outputs: []int{t7}})

	t8 := b.Act("concat", dt, []int{1, 3, 3, 16}, 0.08, zp(10))
	b.Op(&model.Op{Kind: model.OpConcatenation, Inputs: []int{t6, t7}, Outputs: []int{t8}, Axis: -1})

	ax := b.Ints("mean/axes", []int{2}, 1, 2)
	t9 := b.Act("mean", dt, []int{1, 1, 1, 16}, 0.05, zp(128))
	b.Op(&model.Op{Kind: model.OpMean, Inputs: []int{t8, ax}, Outputs: []int{t9}, KeepDims: true})

	t10 := b.Act("squeeze", dt, []int{1, 16}, 0.05, zp(128))
	b.Op(&model.Op{Kind: model.OpSqueeze, Inputs: []int{t9}, Outputs: []int{t10}, SqueezeDims: []int{1, 2}})

	w3 := b.Weights("fc/weights", dt, []int{10, 16}, axis(0))
	b3 := b.Bias("fc/bias", 10, 0.05, w3)
	t11 := b.Act("fc", dt, []int{1, 10}, 0.1, zp(120))
	b.Op(&model.Op{Kind: model.OpFullyConnected, Inputs: []int{t10, w3, b3}, Outputs: []int{t11}})

	sh := b.Ints("reshape/shape", []int{2}, -1, 10)
	t12 := b.Act("reshape", dt, []int{1, 10}, 0.1, zp(120))
	b.Op(&model.Op{Kind: model.OpReshape, Inputs: []int{t11, sh}, Outputs: []int{t12}})

	t13 := b.Act("softmax", dt, []int{1, 10}, 1.0/256, zp(0))
	b.Op(&model.Op{Kind: model.OpSoftmax, Inputs: []int{t12}, Outputs: []int{t13}, Beta: 1})

	t14 := b.Act("logistic", dt, []int{1, 10}, 1.0/256, zp(0))
	b.Op(&model.Op{Kind: model.OpLogistic, Inputs: []int{t11}, Outputs: []int{t14}})

	t15 := b.Act("dequantize", model.Float32, []int{1, 10}, 0, 0)
	b.Op(&model.Op{Kind: model.OpDequantize, Inputs: []int{t14}, Outputs: []int{t15}})

	b.Outputs(t13, t15)
	b.G.Description = fmt.Sprintf("tflitetest.AllOps(%v, %d)", dt, seed)
	return b.G
}

// TinyConv returns input [1,h,w,c] (dt) -> CONV_2D 3x3 SAME (cout channels, RELU) ->
// output, the smallest graph with weights.
func TinyConv(dt model.DType, h, w, c, cout int, seed uint64) *model.Graph {
	b := NewBuilder(seed)
	zp, outZP, axis := int64(128), int64(0), -1
	if dt == model.Int8 {
		zp, outZP, axis = 0, -128, 0
	}
	x := b.Input("input", dt, []int{1, h, w, c}, 1.0/64, zp)
	wt := b.Weights("conv/weights", dt, []int{cout, 3, 3, c}, axis)
	bias := b.Bias("conv/bias", cout, 1.0/64, wt)
	y := b.Act("output", dt, []int{1, h, w, cout}, 0.05, outZP)
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{x, wt, bias}, Outputs: []int{y},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, Activation: model.ActRelu})
	b.Outputs(y)
	b.G.Description = fmt.Sprintf("tflitetest.TinyConv(%v, %d, %d, %d, %d, %d)", dt, h, w, c, cout, seed)
	return b.G
}

// ShapeOps returns the graph a Keras model with a dynamic batch converts to, with an
// NCHW input: input dt [1,3,4,5] -> TRANSPOSE to NHWC -> CONV_2D 3x3 SAME (6 channels) ->
// RESHAPE to [1, 120] with the shape SHAPE -> STRIDED_SLICE (shrink) -> PACK with -1
// computes, and a REDUCE_PROD -> CAST -> SUB -> FLOOR_DIV detour -> GATHER of 16 columns
// -> EXPAND_DIMS -> SLICE -> FULLY_CONNECTED. Reading it folds the shape ops away.
func ShapeOps(dt model.DType, seed uint64) *model.Graph {
	b := NewBuilder(seed)
	zp := int64(0)
	if dt == model.Uint8 {
		zp = 128
	}
	axis := 0
	if dt == model.Uint8 {
		axis = -1
	}
	const s = float32(0.05)
	in := b.Input("input_nchw", dt, []int{1, 3, 4, 5}, s, zp)
	x := b.Act("nhwc", dt, []int{1, 4, 5, 3}, s, zp)
	b.Op(&model.Op{Kind: model.OpTranspose, Inputs: []int{in, b.Ints("perm", []int{4}, 0, 2, 3, 1)}, Outputs: []int{x}})
	w := b.Weights("conv/weights", dt, []int{6, 3, 3, 3}, axis)
	c := b.Act("conv", dt, []int{1, 4, 5, 6}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpConv2D, Inputs: []int{x, w, b.Bias("conv/bias", 6, s, w)}, Outputs: []int{c},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: model.ActRelu})
	ints := func(name string, shape ...int) int { return b.Act(name, model.Int32, shape, 0, 0) }
	shape := ints("shape", 4)
	b.Op(&model.Op{Kind: model.OpShape, Inputs: []int{c}, Outputs: []int{shape}})
	batch := ints("batch")
	b.Op(&model.Op{Kind: model.OpStridedSlice, ShrinkAxisMask: 1, Outputs: []int{batch},
		Inputs: []int{shape, b.Ints("begin", []int{1}, 0), b.Ints("end", []int{1}, 1), b.Ints("strides", []int{1}, 1)}})
	// width = (prod(shape) - 0) // batch, through an int64 CAST and back.
	prod := ints("prod")
	b.Op(&model.Op{Kind: model.OpReduceProd, Inputs: []int{shape, b.Ints("axes", []int{1}, 0)}, Outputs: []int{prod}})
	wide := b.Act("prod64", model.Int64, []int{}, 0, 0)
	b.Op(&model.Op{Kind: model.OpCast, Inputs: []int{prod}, Outputs: []int{wide}})
	back := ints("prod32")
	b.Op(&model.Op{Kind: model.OpCast, Inputs: []int{wide}, Outputs: []int{back}})
	diff := ints("diff")
	b.Op(&model.Op{Kind: model.OpSub, Inputs: []int{back, b.Ints("zero", []int{}, 0)}, Outputs: []int{diff}})
	width := ints("width")
	b.Op(&model.Op{Kind: model.OpFloorDiv, Inputs: []int{diff, batch}, Outputs: []int{width}})
	packed := ints("packed", 2)
	b.Op(&model.Op{Kind: model.OpPack, Inputs: []int{batch, width}, Outputs: []int{packed}})
	flat := b.Act("flat", dt, []int{1, 120}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpReshape, Inputs: []int{c, packed}, Outputs: []int{flat}})
	cols := make([]int, 16)
	for i := range cols {
		cols[i] = (i * 37) % 120
	}
	picked := b.Act("gather", dt, []int{1, 16}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpGather, Axis: 1, Inputs: []int{flat, b.Ints("indices", []int{16}, cols...)}, Outputs: []int{picked}})
	ex := b.Act("expand", dt, []int{1, 1, 16}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpExpandDims, Inputs: []int{picked, b.Ints("expand_axis", []int{1}, 1)}, Outputs: []int{ex}})
	sl := b.Act("slice", dt, []int{1, 1, 12}, 0.1, zp)
	b.Op(&model.Op{Kind: model.OpSlice, Inputs: []int{ex, b.Ints("slice_begin", []int{3}, 0, 0, 4), b.Ints("slice_size", []int{3}, -1, -1, 12)}, Outputs: []int{sl}})
	fw := b.Weights("fc/weights", dt, []int{5, 12}, axis)
	y := b.Act("fc", dt, []int{1, 5}, 0.2, zp)
	b.Op(&model.Op{Kind: model.OpFullyConnected, Inputs: []int{sl, fw, b.Bias("fc/bias", 5, 0.1, fw)}, Outputs: []int{y}})
	b.Outputs(y)
	b.G.Description = fmt.Sprintf("tflitetest.ShapeOps(%v, %d)", dt, seed)
	return b.G
}

// Movement returns a graph whose input (int8, or float32 quantized after its transpose
// when floatIn) is NCHW [1,3,4,5]: TRANSPOSE to NHWC, CONV_2D, then every data-movement
// op on activations: STRIDED_SLICE (masks, negative stride), SPLIT, PACK, UNPACK
// (SPLIT with DropAxis), GATHER, EXPAND_DIMS, SLICE, SPACE_TO_DEPTH and DEPTH_TO_SPACE.
func Movement(floatIn bool, seed uint64) *model.Graph {
	b := NewBuilder(seed)
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

// Rows returns a graph [1, 4, 6] int8 -> RESHAPE [2, 12] (two rows per image) -> FULLY_CONNECTED
// [2, 5] -> ADD of a [1, 5] constant (broadcast along rows) -> RESHAPE [1, 10] -> SOFTMAX:
// tensors whose leading dimension is not the image count (rows of [2N, ...]).
func Rows(seed uint64) *model.Graph {
	b := NewBuilder(seed)
	const s, zp = float32(0.05), int64(3)
	x := b.Input("x", model.Int8, []int{1, 4, 6}, s, zp)
	r := b.Act("rows", model.Int8, []int{2, 12}, s, zp)
	b.Op(&model.Op{Kind: model.OpReshape, Inputs: []int{x, b.Ints("shape", []int{2}, 2, 12)}, Outputs: []int{r}})
	w := b.Weights("w", model.Int8, []int{5, 12}, 0)
	bias := b.Bias("bias", 5, s, w)
	fc := b.Act("fc", model.Int8, []int{2, 5}, 0.1, -2)
	b.Op(&model.Op{Kind: model.OpFullyConnected, Inputs: []int{r, w, bias}, Outputs: []int{fc}})
	c := b.Weights("c", model.Int8, []int{1, 5}, -1)
	add := b.Act("add", model.Int8, []int{2, 5}, 0.12, 1)
	b.Op(&model.Op{Kind: model.OpAdd, Inputs: []int{fc, c}, Outputs: []int{add}})
	flat := b.Act("flat", model.Int8, []int{1, 10}, 0.12, 1)
	b.Op(&model.Op{Kind: model.OpReshape, NewShape: []int{1, 10}, Inputs: []int{add}, Outputs: []int{flat}})
	sm := b.Act("softmax", model.Int8, []int{1, 10}, 1.0/256, -128)
	b.Op(&model.Op{Kind: model.OpSoftmax, Beta: 1, Inputs: []int{flat}, Outputs: []int{sm}})
	b.Outputs(sm, fc)
	return b.G
}
