package model

import (
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Data-movement ops copy elements: every output element is one element of the op's data
// inputs, at a position that depends only on shapes and on constant operands (perm, begin,
// indices, ...). MoveIndex computes that position map once; the cleartext kernel gathers
// with it, the secure engine applies it locally to each share (free), and FoldConstants
// applies it to constant data at import time.

// maxMoveElements bounds the elements of a data-movement op's inputs and output (int32
// index maps).
const maxMoveElements = 1 << 30

// IsMove reports whether ops of kind k are data movement (MoveIndex applies to them).
func IsMove(k OpKind) bool {
	switch k {
	case OpConcatenation, OpReshape, OpSqueeze:
		return true
	}
	return IsIndexMap(k)
}

// IsIndexMap reports whether ops of kind k are the data movement that the evaluators
// implement through MoveIndex alone (all but CONCATENATION, RESHAPE and SQUEEZE, which
// have kernels of their own).
func IsIndexMap(k OpKind) bool {
	switch k {
	case OpTranspose, OpSlice, OpStridedSlice, OpPack, OpGather, OpExpandDims, OpSplit,
		OpDepthToSpace, OpSpaceToDepth:
		return true
	}
	return false
}

// MoveDataInputs returns the positions of op's data inputs (the tensors whose elements it
// moves), in the order MoveIndex lays them end to end. The other inputs are structural
// constants (perm, begin, indices, axes, shapes).
func MoveDataInputs(op *Op) []int {
	switch op.Kind {
	case OpPack, OpConcatenation:
		out := make([]int, len(op.Inputs))
		for i := range out {
			out[i] = i
		}
		return out
	}
	return []int{0}
}

// MoveIndex returns a data-movement op's output shape and, for every output element in
// row-major order, the flat index of the element it copies in the op's data inputs (see
// MoveDataInputs) laid end to end. Structural operands must be constants.
func (g *Graph) MoveIndex(op *Op) (shape []int, idx []int32, err error) {
	return g.move(op, true)
}

// MoveShape returns a data-movement op's output shape, checking its operands as MoveIndex
// does, without building the index map.
func (g *Graph) MoveShape(op *Op) ([]int, error) {
	shape, _, err := g.move(op, false)
	return shape, err
}

func (g *Graph) move(op *Op, index bool) (shape []int, idx []int32, err error) {
	if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
		return nil, nil, errs.New(errs.Model, "%v: no input", op.Kind)
	}
	for _, k := range MoveDataInputs(op) {
		if k >= len(op.Inputs) || op.Inputs[k] < 0 || g.Tensors[op.Inputs[k]].Shape == nil {
			return nil, nil, errs.New(errs.Shape, "%v: data input %d has no shape", op.Kind, k)
		}
	}
	x := g.Tensors[op.Inputs[0]].Shape
	total := 0
	for _, k := range MoveDataInputs(op) {
		n, ok := checkedElements(g.Tensors[op.Inputs[k]].Shape)
		if !ok || n > maxMoveElements-total {
			return nil, nil, errs.New(errs.Shape, "%v: inputs are too large", op.Kind)
		}
		total += n
	}
	if NumElements(x) > maxMoveElements {
		return nil, nil, errs.New(errs.Shape, "%v: input %v is too large", op.Kind, x)
	}
	switch op.Kind {
	case OpTranspose:
		return g.transposeIndex(op, x, index)
	case OpSlice, OpStridedSlice:
		return g.sliceIndex(op, x, index)
	case OpSplit:
		return g.splitIndex(op, x, index)
	case OpPack, OpConcatenation:
		return g.stackIndex(op, index)
	case OpGather:
		return g.gatherIndex(op, x, index)
	case OpDepthToSpace, OpSpaceToDepth:
		return blockIndex(op, x, index)
	case OpExpandDims, OpReshape, OpSqueeze:
		s, err := g.reshapeLike(op, x)
		if err != nil || !index {
			return s, nil, err
		}
		idx := make([]int32, NumElements(x))
		for i := range idx {
			idx[i] = int32(i)
		}
		return s, idx, nil
	}
	return nil, nil, errs.New(errs.Internal, "%v is not a data-movement op", op.Kind)
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for d := len(shape) - 1; d >= 0; d-- {
		s[d] = acc
		acc *= shape[d]
	}
	return s
}

// affineIndex returns, for each coordinate c of outShape in row-major order, the index
// offset + sum_d c[d]*mult[d].
func affineIndex(outShape []int, offset int, mult []int) []int32 {
	n := NumElements(outShape)
	idx := make([]int32, n)
	if n == 0 {
		return idx
	}
	c := make([]int, len(outShape))
	cur := offset
	for i := range idx {
		idx[i] = int32(cur)
		for d := len(outShape) - 1; d >= 0; d-- {
			c[d]++
			cur += mult[d]
			if c[d] < outShape[d] {
				break
			}
			cur -= c[d] * mult[d]
			c[d] = 0
		}
	}
	return idx
}

// optIndex is affineIndex when index is set, else nil.
func optIndex(index bool, outShape []int, offset int, mult []int) []int32 {
	if !index {
		return nil
	}
	return affineIndex(outShape, offset, mult)
}

// constInts reads input k of op as integers (an error if it is absent or not constant).
func (g *Graph) constInts(op *Op, k int, what string) ([]int, error) {
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return nil, errs.New(errs.Model, "%v: missing %s", op.Kind, what)
	}
	v, err := intData(g.Tensors[op.Inputs[k]])
	if err != nil {
		return nil, fmt.Errorf("%v %s: %w", op.Kind, what, err)
	}
	return v, nil
}

func (g *Graph) transposeIndex(op *Op, x []int, index bool) ([]int, []int32, error) {
	perm, err := g.constInts(op, 1, "perm")
	if err != nil {
		return nil, nil, err
	}
	if len(perm) != len(x) {
		return nil, nil, errs.New(errs.Shape, "TRANSPOSE: perm %v for input shape %v", perm, x)
	}
	st := strides(x)
	out := make([]int, len(x))
	mult := make([]int, len(x))
	seen := make([]bool, len(x))
	for d, p := range perm {
		if p < 0 {
			p += len(x)
		}
		if p < 0 || p >= len(x) || seen[p] {
			return nil, nil, errs.New(errs.Shape, "TRANSPOSE: perm %v is not a permutation of %d axes", perm, len(x))
		}
		seen[p] = true
		out[d], mult[d] = x[p], st[p]
	}
	return out, optIndex(index, out, 0, mult), nil
}

// sliceIndex handles SLICE (begin, size; size -1 takes the rest) and STRIDED_SLICE with
// TFLite's semantics (strided_slice_logic.h): begin/end masks, negative indices, clamping,
// shrink_axis_mask, offset; dimensions past the given begin are taken whole.
func (g *Graph) sliceIndex(op *Op, x []int, index bool) ([]int, []int32, error) {
	rank := len(x)
	begin, err := g.constInts(op, 1, "begin")
	if err != nil {
		return nil, nil, err
	}
	var end, step []int
	if op.Kind == OpSlice {
		size, err := g.constInts(op, 2, "size")
		if err != nil {
			return nil, nil, err
		}
		if len(size) != len(begin) {
			return nil, nil, errs.New(errs.Shape, "SLICE: begin %v and size %v differ in length", begin, size)
		}
		end = make([]int, len(begin))
		step = make([]int, len(begin))
		for d := range begin {
			if d >= rank || begin[d] < 0 || begin[d] > x[d] {
				return nil, nil, errs.New(errs.Shape, "SLICE: begin %v out of range for input shape %v", begin, x)
			}
			step[d] = 1
			if size[d] == -1 {
				end[d] = x[d]
			} else {
				end[d] = begin[d] + size[d]
			}
			if size[d] < -1 || end[d] > x[d] {
				return nil, nil, errs.New(errs.Shape, "SLICE: size %v out of range for input shape %v at begin %v", size, x, begin)
			}
		}
	} else {
		if op.EllipsisMask != 0 || op.NewAxisMask != 0 {
			return nil, nil, errs.New(errs.UnsupportedOp, "STRIDED_SLICE with ellipsis_mask %d or new_axis_mask %d", op.EllipsisMask, op.NewAxisMask)
		}
		if end, err = g.constInts(op, 2, "end"); err != nil {
			return nil, nil, err
		}
		if step, err = g.constInts(op, 3, "strides"); err != nil {
			return nil, nil, err
		}
		if len(end) != len(begin) || len(step) != len(begin) {
			return nil, nil, errs.New(errs.Shape, "STRIDED_SLICE: begin %v, end %v and strides %v differ in length", begin, end, step)
		}
	}
	if len(begin) > rank {
		return nil, nil, errs.New(errs.Shape, "%v: %d begin indices for input shape %v", op.Kind, len(begin), x)
	}
	st := strides(x)
	var out, mult []int
	offset := 0
	for d := 0; d < rank; d++ {
		n := x[d]
		if d >= len(begin) {
			out, mult = append(out, n), append(mult, st[d])
			continue
		}
		s := step[d]
		if s == 0 {
			return nil, nil, errs.New(errs.Shape, "STRIDED_SLICE: stride 0 on axis %d", d)
		}
		bit := int32(1) << d
		start, stop := begin[d], end[d]
		if op.Kind == OpStridedSlice {
			if op.Offset {
				stop += begin[d]
			}
			start = sliceBound(start, n, s, op.BeginMask&bit != 0, false)
			if op.ShrinkAxisMask&bit != 0 {
				if start < 0 || start >= n {
					return nil, nil, errs.New(errs.Shape, "STRIDED_SLICE: index %d out of range for axis %d of size %d", begin[d], d, n)
				}
				offset += start * st[d]
				continue
			}
			stop = sliceBound(stop, n, s, op.EndMask&bit != 0, true)
		}
		cnt := 0
		if s > 0 && stop > start {
			cnt = (stop - start + s - 1) / s
		} else if s < 0 && start > stop {
			cnt = (start - stop - s - 1) / -s
		}
		if cnt > 0 {
			offset += start * st[d]
		}
		out, mult = append(out, cnt), append(mult, s*st[d])
	}
	if out == nil {
		out = []int{}
	}
	return out, optIndex(index, out, offset, mult), nil
}

// sliceBound resolves a STRIDED_SLICE begin (or end) index as TFLite: a masked bound is
// the first (or past-the-last) position of the axis in the stride's direction; negative
// indices count from the end; the result is clamped to [0, n] (positive stride) or
// [-1, n-1].
func sliceBound(v, n, stride int, masked, end bool) int {
	if n == 0 {
		return 0
	}
	if masked {
		switch {
		case stride > 0 && end:
			return n
		case stride > 0:
			return 0
		case end:
			return -1
		}
		return n - 1
	}
	if v < 0 {
		v += n
	}
	if stride > 0 {
		return min(max(v, 0), n)
	}
	return min(max(v, -1), n-1)
}

func (g *Graph) splitIndex(op *Op, x []int, index bool) ([]int, []int32, error) {
	axis, ok := normAxis(op.Axis, len(x))
	if !ok {
		return nil, nil, errs.New(errs.Shape, "SPLIT: axis %d out of range for input shape %v", op.Axis, x)
	}
	if op.NumPieces < 1 || op.Piece < 0 || op.Piece >= op.NumPieces {
		return nil, nil, errs.New(errs.Model, "SPLIT: piece %d of %d", op.Piece, op.NumPieces)
	}
	var sizes []int
	if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
		s, err := g.constInts(op, 1, "size_splits")
		if err != nil {
			return nil, nil, err
		}
		sizes = s
		if len(sizes) != op.NumPieces {
			return nil, nil, errs.New(errs.Shape, "SPLIT: %d sizes for %d pieces", len(sizes), op.NumPieces)
		}
		unknown, known := -1, 0
		for i, v := range sizes {
			switch {
			case v == -1 && unknown < 0:
				unknown = i
			case v < 0:
				return nil, nil, errs.New(errs.Shape, "SPLIT: sizes %v", sizes)
			default:
				known += v
			}
		}
		sizes = slices.Clone(sizes)
		if unknown >= 0 {
			sizes[unknown] = x[axis] - known
			known = x[axis]
		}
		if known != x[axis] || (unknown >= 0 && sizes[unknown] < 0) {
			return nil, nil, errs.New(errs.Shape, "SPLIT: sizes %v do not add up to axis %d of %v", sizes, axis, x)
		}
	} else {
		if x[axis]%op.NumPieces != 0 {
			return nil, nil, errs.New(errs.Shape, "SPLIT: axis %d of %v does not divide into %d pieces", axis, x, op.NumPieces)
		}
		sizes = make([]int, op.NumPieces)
		for i := range sizes {
			sizes[i] = x[axis] / op.NumPieces
		}
	}
	start := 0
	for _, v := range sizes[:op.Piece] {
		start += v
	}
	st := strides(x)
	var out, mult []int
	for d, n := range x {
		switch {
		case d != axis:
			out, mult = append(out, n), append(mult, st[d])
		case op.DropAxis:
			if sizes[op.Piece] != 1 {
				return nil, nil, errs.New(errs.Shape, "SPLIT: dropping axis %d of a piece of size %d", axis, sizes[op.Piece])
			}
		default:
			out, mult = append(out, sizes[op.Piece]), append(mult, st[d])
		}
	}
	if out == nil {
		out = []int{}
	}
	return out, optIndex(index, out, start*st[axis], mult), nil
}

// stackIndex handles CONCATENATION (along Axis) and PACK (along a new axis Axis).
func (g *Graph) stackIndex(op *Op, index bool) ([]int, []int32, error) {
	x0 := g.Tensors[op.Inputs[0]].Shape
	rank := len(x0)
	pack := op.Kind == OpPack
	axis, ok := normAxis(op.Axis, rank)
	if pack {
		axis, ok = normAxis(op.Axis, rank+1)
	}
	if !ok {
		return nil, nil, errs.New(errs.Shape, "%v: axis %d out of range for input shape %v", op.Kind, op.Axis, x0)
	}
	outer := NumElements(x0[:axis])
	var out []int
	inner := make([]int, len(op.Inputs)) // elements per outer index, per input
	base := make([]int, len(op.Inputs))
	total, along := 0, 0
	for k, ti := range op.Inputs {
		s := g.Tensors[ti].Shape
		if len(s) != rank {
			return nil, nil, errs.New(errs.Shape, "%v: input %d has shape %v, want rank %d", op.Kind, k, s, rank)
		}
		for d := range s {
			if (pack || d != axis) && s[d] != x0[d] {
				return nil, nil, errs.New(errs.Shape, "%v: input %d has shape %v, incompatible with %v", op.Kind, k, s, x0)
			}
		}
		inner[k] = NumElements(s[axis:])
		base[k] = total
		total += NumElements(s)
		if pack {
			along++
		} else {
			along += s[axis]
		}
	}
	out = append(out, x0[:axis]...)
	out = append(out, along)
	if pack {
		out = append(out, x0[axis:]...)
	} else {
		out = append(out, x0[axis+1:]...)
	}
	if !index {
		return out, nil, nil
	}
	idx := make([]int32, 0, total)
	for o := 0; o < outer; o++ {
		for k := range op.Inputs {
			for j := 0; j < inner[k]; j++ {
				idx = append(idx, int32(base[k]+o*inner[k]+j))
			}
		}
	}
	return out, idx, nil
}

func (g *Graph) gatherIndex(op *Op, x []int, index bool) ([]int, []int32, error) {
	if op.BatchDims != 0 {
		return nil, nil, errs.New(errs.UnsupportedOp, "GATHER with batch_dims %d", op.BatchDims)
	}
	axis, ok := normAxis(op.Axis, len(x))
	if !ok {
		return nil, nil, errs.New(errs.Shape, "GATHER: axis %d out of range for input shape %v", op.Axis, x)
	}
	ind, err := g.constInts(op, 1, "indices")
	if err != nil {
		return nil, nil, err
	}
	is := g.Tensors[op.Inputs[1]].Shape
	out := append(append(slices.Clone(x[:axis]), is...), x[axis+1:]...)
	outer, inner, n := NumElements(x[:axis]), NumElements(x[axis+1:]), x[axis]
	if total, ok := checkedElements([]int{outer, len(ind), inner}); !ok || total > maxMoveElements {
		return nil, nil, errs.New(errs.Shape, "GATHER: output %v is too large", out)
	}
	for _, v := range ind {
		if v < -n || v >= n {
			return nil, nil, errs.New(errs.Shape, "GATHER: index %d out of range for axis %d of %v", v, axis, x)
		}
	}
	if !index {
		return out, nil, nil
	}
	idx := make([]int32, 0, outer*len(ind)*inner)
	for o := 0; o < outer; o++ {
		for _, v := range ind {
			if v < 0 {
				v += n // ONNX; TFLite rejects negative indices
			}
			if v < 0 || v >= n {
				return nil, nil, errs.New(errs.Shape, "GATHER: index %d out of range for axis %d of %v", v, axis, x)
			}
			for j := 0; j < inner; j++ {
				idx = append(idx, int32((o*n+v)*inner+j))
			}
		}
	}
	return out, idx, nil
}

// reshapeLike returns the output shape of RESHAPE, SQUEEZE and EXPAND_DIMS.
func (g *Graph) reshapeLike(op *Op, x []int) ([]int, error) {
	switch op.Kind {
	case OpReshape:
		return g.ReshapeTarget(op)
	case OpSqueeze:
		return squeezeShape(x, op.SqueezeDims)
	}
	ax, err := g.constInts(op, 1, "axis")
	if err != nil {
		return nil, err
	}
	if len(ax) != 1 {
		return nil, errs.New(errs.Shape, "EXPAND_DIMS: axis %v, want one value", ax)
	}
	a, ok := normAxis(ax[0], len(x)+1)
	if !ok {
		return nil, errs.New(errs.Shape, "EXPAND_DIMS: axis %d out of range for input shape %v", ax[0], x)
	}
	return slices.Insert(slices.Clone(x), a, 1), nil
}

// squeezeShape drops the given dimensions of x (all dimensions of size 1 when dims is
// empty).
func squeezeShape(x []int, dims []int) ([]int, error) {
	drop := make([]bool, len(x))
	if len(dims) == 0 {
		for i, d := range x {
			drop[i] = d == 1
		}
	}
	for _, a := range dims {
		na, ok := normAxis(a, len(x))
		if !ok {
			return nil, errs.New(errs.Shape, "squeeze dimension %d out of range for input shape %v", a, x)
		}
		if x[na] != 1 {
			return nil, errs.New(errs.Shape, "squeeze dimension %d of input shape %v is not 1", a, x)
		}
		drop[na] = true
	}
	out := []int{}
	for i, d := range x {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// blockIndex handles DEPTH_TO_SPACE and SPACE_TO_DEPTH on NHWC tensors with TensorFlow's
// (DCR) order: depth index (i*b + j)*C' + c holds the pixel at offset (i, j) of a b x b
// block. Both are affine maps over a 6-D view of the output.
func blockIndex(op *Op, x []int, index bool) ([]int, []int32, error) {
	b := op.BlockSize
	if len(x) != 4 || b < 1 {
		return nil, nil, errs.New(errs.Shape, "%v: input shape %v, block size %d; want NHWC and a block size >= 1", op.Kind, x, b)
	}
	n, h, w, c := x[0], x[1], x[2], x[3]
	st := strides(x)
	var out, view, mult []int
	if op.Kind == OpDepthToSpace {
		if c%(b*b) != 0 {
			return nil, nil, errs.New(errs.Shape, "DEPTH_TO_SPACE: %d channels do not divide by block size %d squared", c, b)
		}
		cc := c / (b * b)
		out = []int{n, h * b, w * b, cc}
		view = []int{n, h, b, w, b, cc} // out[n, h*b+i, w*b+j, c] = x[n, h, w, (i*b+j)*cc+c]
		mult = []int{st[0], st[1], b * cc, st[2], cc, 1}
	} else {
		if h%b != 0 || w%b != 0 {
			return nil, nil, errs.New(errs.Shape, "SPACE_TO_DEPTH: %dx%d does not divide by block size %d", h, w, b)
		}
		out = []int{n, h / b, w / b, c * b * b}
		view = []int{n, h / b, w / b, b, b, c} // out[n, h, w, (i*b+j)*c+k] = x[n, h*b+i, w*b+j, k]
		mult = []int{st[0], b * st[1], b * st[2], st[1], st[2], 1}
	}
	return out, optIndex(index, view, 0, mult), nil
}
