package model

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Batch semantics. A model is written for one input (TFLite: a fixed batch of 1; ONNX and
// PyTorch: a dynamic batch folded to 1 at import). WithBatch turns it into a graph that
// evaluates n inputs stacked along axis 0, so that every op runs once for all of them:
// the secure engine then pays one image's rounds for the whole batch.
//
// The rule: a tensor of the per-image graph with shape S becomes, in the batched graph, a
// tensor of shape [n*S[0], S[1:]...] holding the n per-image values one after another
// (row-major, so the data is simply the n values concatenated). Every op whose
// activation inputs follow this rule must compute each image's rows from that image's
// rows only; ops that work along axis 0 (a MEAN over it, a PAD of it, a TRANSPOSE that
// moves it, a SQUEEZE that removes it, a broadcast along it, ...) are refused with an
// error naming the op. A RESHAPE never moves data, so it always keeps images apart; its
// target shape is rewritten to [n*T[0], T[1:]...].

// BatchShape returns the shape users give for n stacked values of a tensor of per-image
// shape s: [n, s[1:]...] when s has a leading batch dimension of 1 (the batch axis
// replaced), else [n, s...] (a batch axis prepended).
func BatchShape(s []int, n int) []int {
	if len(s) > 0 && s[0] == 1 {
		return append([]int{n}, s[1:]...)
	}
	return append([]int{n}, s...)
}

// BatchOf returns n when shape is BatchShape(s, n) for some n >= 1 (the batch size of a
// value given for a tensor of per-image shape s); ok is false otherwise. A value of
// shape s itself is a batch of 1.
func BatchOf(s, shape []int) (n int, ok bool) {
	if slices.Equal(s, shape) {
		return 1, true
	}
	if len(s) > 0 && s[0] == 1 {
		if len(shape) == len(s) && slices.Equal(shape[1:], s[1:]) && shape[0] >= 1 {
			return shape[0], true
		}
		return 0, false
	}
	if len(shape) == len(s)+1 && slices.Equal(shape[1:], s) && shape[0] >= 1 {
		return shape[0], true
	}
	return 0, false
}

// Stack concatenates values of per-image shape s into one value of shape
// BatchShape(s, len(vals)) (its data is theirs one after another, the layout WithBatch's
// graph takes).
func Stack(vals []Value, s []int) (Value, error) {
	if len(vals) == 0 {
		return Value{}, errs.New(errs.Shape, "stacking no values")
	}
	out := Value{Shape: BatchShape(s, len(vals)), DType: vals[0].DType}
	for i, v := range vals {
		if v.DType != out.DType || !slices.Equal(v.Shape, s) || len(v.Data) != NumElements(s)*v.DType.Size() {
			return Value{}, errs.New(errs.Shape, "stacking value %d: %v%v, want %v%v", i, v.DType, v.Shape, out.DType, s)
		}
		out.Data = append(out.Data, v.Data...)
	}
	return out, nil
}

// Unstack splits a batch of n values (any shape holding n times the elements of s) into
// n values of shape s; it is the inverse of Stack.
func Unstack(v Value, s []int, n int) ([]Value, error) {
	size := NumElements(s) * v.DType.Size()
	if n < 1 || len(v.Data) != n*size {
		return nil, errs.New(errs.Shape, "unstacking %d bytes of %v%v into %d values of shape %v", len(v.Data), v.DType, v.Shape, n, s)
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Value{Shape: slices.Clone(s), DType: v.DType, Data: v.Data[i*size : (i+1)*size : (i+1)*size]}
	}
	return out, nil
}

// stackedShape is the shape of n per-image values of shape s in the batched graph.
func stackedShape(s []int, n int) []int {
	out := slices.Clone(s)
	out[0] *= n
	return out
}

// WithBatch returns a graph that evaluates g on n inputs stacked along axis 0: each graph
// input and output of per-image shape S has shape [n*S[0], S[1:]...] (use BatchShape for
// the shape users see; the data is the same). Output rows of image i depend only on input
// rows of image i and equal what g gives for that image alone, bit for bit. For n == 1 it
// returns g itself. The result shares g's constant data (read-only); g is not modified.
//
// Errors (errs.Shape) name the first op that mixes the batch axis, e.g. a SQUEEZE that
// removes it or a MEAN over it.
func WithBatch(g *Graph, n int) (*Graph, error) {
	if n < 1 {
		return nil, errs.New(errs.Shape, "batch size %d, want at least 1", n)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if n == 1 {
		return g, nil
	}
	b := &batcher{src: g, n: n, batched: make([]bool, len(g.Tensors))}
	out := &Graph{Inputs: slices.Clone(g.Inputs), Outputs: slices.Clone(g.Outputs),
		Description: g.Description}
	if out.Description != "" {
		out.Description += fmt.Sprintf(" (batch of %d)", n)
	}
	for _, t := range g.Tensors {
		c := *t
		c.Shape = slices.Clone(t.Shape)
		out.Tensors = append(out.Tensors, &c)
	}
	b.dst = out
	for k, ti := range g.Inputs {
		t := g.Tensors[ti]
		if len(t.Shape) == 0 {
			return nil, errs.New(errs.Shape, "batching: input %d %q is a scalar; a batch needs a leading axis", k, t.Name)
		}
		b.batched[ti] = true
		out.Tensors[ti].Shape = stackedShape(t.Shape, n)
	}
	for i, op := range g.Ops {
		c := *op
		c.Inputs, c.Outputs = slices.Clone(op.Inputs), slices.Clone(op.Outputs)
		c.NewShape, c.SqueezeDims = slices.Clone(op.NewShape), slices.Clone(op.SqueezeDims)
		if err := b.op(&c); err != nil {
			return nil, errs.New(errs.Shape, "cannot evaluate a batch of %d: op %d %v %q: %w", n, i, op.Kind, op.Name, err)
		}
		out.Ops = append(out.Ops, &c)
	}
	for k, ti := range g.Outputs {
		if !b.batched[ti] {
			return nil, errs.New(errs.Shape, "cannot evaluate a batch of %d: output %d %q does not depend on the input", n, k, g.Tensors[ti].Name)
		}
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("batch of %d: %w", n, err)
	}
	return out, nil
}

// batcher rewrites the ops of src into dst for a batch of n.
type batcher struct {
	src, dst *Graph
	n        int
	batched  []bool // per tensor: holds per-image rows (derives from a graph input)
}

// shape is tensor ti's per-image shape.
func (b *batcher) shape(ti int) []int { return b.src.Tensors[ti].Shape }

// constInt32 appends a constant int32 vector to dst and returns its index.
func (b *batcher) constInt32(name string, vals []int) int {
	data := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(v)))
	}
	b.dst.Tensors = append(b.dst.Tensors, &Tensor{Name: name, DType: Int32, Shape: []int{len(vals)}, Data: data})
	return len(b.dst.Tensors) - 1
}

// op checks that op keeps images apart, rewrites its structural operands for the batch
// and sets its outputs' batched shapes (op is dst's copy; its tensor indices are src's).
func (b *batcher) op(op *Op) error {
	fromInput := false
	for _, ti := range op.Inputs {
		if ti >= 0 && b.batched[ti] {
			fromInput = true
		}
	}
	if !fromInput { // computed from constants only: the same for every image
		return nil
	}
	g := b.src
	x := op.Inputs[0]
	xs := b.shape(x)
	axis0 := func(what string) error {
		return fmt.Errorf("%s the batch axis (axis 0 of input shape %v)", what, xs)
	}
	// Only data inputs may carry images; structural operands are constants.
	data := []int{0}
	switch op.Kind {
	case OpAdd, OpMul:
		data = []int{0, 1}
	case OpPack, OpConcatenation:
		data = MoveDataInputs(op)
	}
	for k, ti := range op.Inputs {
		if ti >= 0 && b.batched[ti] && !slices.Contains(data, k) {
			return fmt.Errorf("input %d (%q) is computed from the model input, want a constant", k, g.Tensors[ti].Name)
		}
	}
	for _, k := range data {
		ti := op.Inputs[k]
		if ti >= 0 && len(b.shape(ti)) == 0 && b.batched[ti] {
			return fmt.Errorf("input %d (%q) is a scalar per image", k, g.Tensors[ti].Name)
		}
	}
	switch op.Kind {
	case OpConv2D, OpDepthwiseConv2D, OpAveragePool2D, OpMaxPool2D, OpLogistic, OpHardSwish, OpTanh, OpLookup, OpSpaceToDepth, OpDepthToSpace:
		// Axis 0 is the batch of NHWC: every image on its own (SPACE_TO_DEPTH and
		// DEPTH_TO_SPACE move data within H, W and C only). LOGISTIC, HARD_SWISH, TANH and
		// LOOKUP are elementwise.
	case OpFullyConnected:
		// Rows of [rows, I]: an image's rows are its own when the features are not on axis 0.
		if len(xs) < 2 {
			return fmt.Errorf("input shape %v: the features would be on the batch axis", xs)
		}
	case OpQuantize, OpDequantize:
		for _, ti := range []int{x, op.Outputs[0]} {
			if q := g.Tensors[ti].Quant; q.PerChannel() && q.Axis == 0 {
				return fmt.Errorf("tensor %q is quantized per channel along axis 0", g.Tensors[ti].Name)
			}
		}
	case OpSoftmax:
		if len(xs) < 2 {
			return axis0("normalizes along")
		}
	case OpAdd, OpMul:
		ys := b.shape(op.Outputs[0])
		for _, k := range data {
			ti := op.Inputs[k]
			s := b.shape(ti)
			switch {
			case b.batched[ti] && (len(s) != len(ys) || s[0] != ys[0]):
				return fmt.Errorf("input %d of shape %v broadcasts along the batch axis of the output %v", k, s, ys)
			case !b.batched[ti] && len(s) == len(ys) && s[0] != 1:
				return fmt.Errorf("constant input %d of shape %v varies along the batch axis (axis 0); only size 1 broadcasts to a batch", k, s)
			}
		}
	case OpMean:
		axes, err := g.MeanAxes(op)
		if err != nil {
			return err
		}
		if slices.Contains(axes, 0) {
			return axis0("averages over")
		}
	case OpPad:
		pads, err := g.Paddings(op)
		if err != nil {
			return err
		}
		if pads[0] != [2]int{0, 0} {
			return axis0(fmt.Sprintf("pads %v", pads[0]))
		}
	case OpReshape:
		t, err := g.ReshapeTarget(op)
		if err != nil {
			return err
		}
		if len(t) == 0 {
			return fmt.Errorf("reshapes input %v to a scalar per image", xs)
		}
		nt := stackedShape(t, b.n)
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
			op.Inputs[1] = b.constInt32(g.Tensors[op.Inputs[1]].Name+"/batch", nt)
		}
		if op.NewShape != nil {
			op.NewShape = nt
		}
	case OpSqueeze:
		dims := op.SqueezeDims
		if len(dims) == 0 { // all size-1 dimensions: name them, the batch may not be 1
			for d, v := range xs {
				if v == 1 {
					dims = append(dims, d)
				}
			}
			op.SqueezeDims = dims
		}
		for _, d := range dims {
			if d == 0 || d == -len(xs) {
				return axis0("removes")
			}
		}
	case OpConcatenation, OpPack, OpSplit, OpGather:
		rank := len(xs)
		if op.Kind == OpPack {
			rank++
		}
		if a, ok := normAxis(op.Axis, rank); ok && a == 0 {
			return axis0(fmt.Sprintf("works along axis %d, which is", op.Axis))
		}
		for _, k := range data {
			if ti := op.Inputs[k]; !b.batched[ti] {
				return fmt.Errorf("input %d (%q) is a constant: it would need a copy per image", k, g.Tensors[ti].Name)
			}
		}
	case OpExpandDims:
		ax, err := g.constInts(op, 1, "axis")
		if err != nil {
			return err
		}
		if a, ok := normAxis(ax[0], len(xs)+1); ok && a == 0 {
			return axis0("inserts a dimension before")
		}
	case OpTranspose:
		perm, err := g.constInts(op, 1, "perm")
		if err != nil {
			return err
		}
		if p, ok := normAxis(perm[0], len(xs)); !ok || p != 0 {
			return axis0(fmt.Sprintf("permutes (perm %v)", perm))
		}
	case OpSlice:
		begin, err := g.constInts(op, 1, "begin")
		if err != nil {
			return err
		}
		size, err := g.constInts(op, 2, "size")
		if err != nil {
			return err
		}
		if len(begin) > 0 {
			if begin[0] != 0 || (size[0] != -1 && size[0] != xs[0]) {
				return axis0(fmt.Sprintf("slices (begin %v, size %v)", begin, size))
			}
			size = slices.Clone(size)
			size[0] = -1
			op.Inputs[2] = b.constInt32(g.Tensors[op.Inputs[2]].Name+"/batch", size)
		}
	case OpStridedSlice:
		begin, err := g.constInts(op, 1, "begin")
		if err != nil {
			return err
		}
		if len(begin) > 0 {
			end, err := g.constInts(op, 2, "end")
			if err != nil {
				return err
			}
			step, err := g.constInts(op, 3, "strides")
			if err != nil {
				return err
			}
			stop := end[0]
			if op.Offset {
				stop += begin[0]
			}
			whole := op.ShrinkAxisMask&1 == 0 && step[0] == 1 &&
				sliceBound(begin[0], xs[0], 1, op.BeginMask&1 != 0, false) == 0 &&
				sliceBound(stop, xs[0], 1, op.EndMask&1 != 0, true) == xs[0]
			if !whole {
				return axis0(fmt.Sprintf("slices (begin %v, end %v, strides %v)", begin, end, step))
			}
			op.BeginMask |= 1
			op.EndMask |= 1
		}
	default:
		return fmt.Errorf("%v is not evaluated per image", op.Kind)
	}
	for _, ti := range op.Outputs {
		s := b.shape(ti)
		if len(s) == 0 {
			return fmt.Errorf("output %q is a scalar per image", g.Tensors[ti].Name)
		}
		b.batched[ti] = true
		b.dst.Tensors[ti].Shape = stackedShape(s, b.n)
	}
	return nil
}
