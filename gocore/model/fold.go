package model

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
)

// FoldOnly reports whether ops of kind k exist in the IR only to be folded at import time
// (shape arithmetic): a graph that still has one after FoldConstants cannot be evaluated.
func FoldOnly(k OpKind) bool {
	switch k {
	case OpShape, OpCast, OpSub, OpFloorDiv, OpReduceProd:
		return true
	}
	return false
}

// FoldConstants evaluates, at import time, every op whose result does not depend on the
// graph inputs, and removes it from g.Ops; its output tensor becomes a constant. Such ops
// are those whose inputs are all constants (data movement, CAST, integer ADD, SUB, MUL,
// FLOOR_DIV, REDUCE_PROD) and SHAPE of any tensor, since every shape is static. This is
// how the shape subgraphs of converters (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, as
// Keras models with a dynamic batch dimension convert to, or ONNX Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape) become constant RESHAPE shapes. A dynamic batch
// dimension is stored as 1 by the converters, so it folds as 1: the graph is the batch-1
// graph, as every runtime allocates it by default.
//
// Ops producing a graph output are kept. FoldConstants returns the indices (in g.Ops before
// folding) of the ops of a FoldOnly kind that it could not fold, for the importer to report
// as unsupported; an error means a foldable op is malformed.
func FoldConstants(g *Graph) (unfolded []int, err error) {
	isOut := map[int]bool{}
	for _, o := range g.Outputs {
		isOut[o] = true
	}
	kept := g.Ops[:0:0]
	for i, op := range g.Ops {
		folded := false
		if len(op.Outputs) == 1 && op.Outputs[0] >= 0 && !isOut[op.Outputs[0]] && foldable(g, op) {
			t, err := foldOp(g, op)
			if err != nil {
				return nil, errs.New(errs.KindOf(err), "op %d %v %q: %w", i, op.Kind, op.Name, err)
			}
			if t != nil {
				out := g.Tensors[op.Outputs[0]]
				out.Shape, out.Data = t.Shape, t.Data
				folded = true
			}
		}
		if folded {
			continue
		}
		if FoldOnly(op.Kind) {
			unfolded = append(unfolded, i)
		}
		kept = append(kept, op)
	}
	g.Ops = kept
	return unfolded, nil
}

// foldable reports whether op's inputs are known: all constants, or (SHAPE) shaped.
func foldable(g *Graph, op *Op) bool {
	if len(op.Inputs) == 0 {
		return false
	}
	for k, ti := range op.Inputs {
		if ti < 0 {
			continue
		}
		t := g.Tensors[ti]
		if op.Kind == OpShape && k == 0 {
			if t.Shape == nil {
				return false
			}
			continue
		}
		if !t.IsConst() {
			return false
		}
	}
	return true
}

// foldOp computes op on its known inputs; a nil tensor means the op is not folded (a
// kind, type or variant FoldConstants leaves to the evaluator).
func foldOp(g *Graph, op *Op) (*Tensor, error) {
	y := g.Tensors[op.Outputs[0]]
	switch {
	case op.Kind == OpShape:
		x := g.Tensors[op.Inputs[0]]
		vals := make([]int64, len(x.Shape))
		for i, d := range x.Shape {
			vals[i] = int64(d)
		}
		return intTensor(y.DType, []int{len(vals)}, vals)
	case IsMove(op.Kind):
		size := g.Tensors[op.Inputs[0]].DType.Size()
		var src []byte
		for _, k := range MoveDataInputs(op) {
			x := g.Tensors[op.Inputs[k]]
			if x.DType != y.DType {
				return nil, nil // a requantizing CONCATENATION: the kernel's job
			}
			if x.Quant != nil && y.Quant != nil && sameQuant(x, y) != nil {
				return nil, nil
			}
			src = append(src, x.Data...)
		}
		shape, err := g.MoveShape(op)
		if err != nil {
			return nil, err
		}
		if NumElements(shape) > foldBound(len(src)/max(size, 1)) {
			return nil, nil // an amplifying GATHER of constants: left to the evaluator
		}
		_, idx, err := g.MoveIndex(op)
		if err != nil {
			return nil, err
		}
		data := make([]byte, len(idx)*size)
		for i, j := range idx {
			copy(data[i*size:(i+1)*size], src[int(j)*size:(int(j)+1)*size])
		}
		return &Tensor{Shape: shape, Data: data}, nil
	case op.Kind == OpCast:
		return foldCast(g.Tensors[op.Inputs[0]], y)
	case op.Kind == OpAdd || op.Kind == OpMul || op.Kind == OpSub || op.Kind == OpFloorDiv:
		return foldArith(op, g.Tensors[op.Inputs[0]], g.Tensors[op.Inputs[1]], y)
	case op.Kind == OpReduceProd:
		return foldReduceProd(g, op, y)
	}
	return nil, nil
}

// foldBound is the largest result, in elements, folding computes from inputs of n
// elements: folding never amplifies much (an import's work stays bounded by the file's
// size, also for crafted files); larger results are left to the evaluator.
func foldBound(n int) int { return 2*n + 1024 }

// isInt reports whether t holds plain (unquantized) int32 or int64 values: shapes and
// indices.
func isInt(t *Tensor) bool {
	return (t.DType == Int32 || t.DType == Int64) && t.Quant == nil
}

// int64s decodes an integer constant.
func int64s(t *Tensor) ([]int64, error) {
	v, err := intData(t)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out, nil
}

// intTensor encodes vals as an int32 or int64 constant.
func intTensor(dt DType, shape []int, vals []int64) (*Tensor, error) {
	var data []byte
	switch dt {
	case Int32:
		data = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(v)))
		}
	case Int64:
		data = make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
		}
	default:
		return nil, nil
	}
	return &Tensor{Shape: shape, Data: data}, nil
}

// foldCast converts int32/int64/float32 constants to int32/int64/float32 (float to int
// truncates toward zero, as TFLite's CAST).
func foldCast(x, y *Tensor) (*Tensor, error) {
	if x.Quant != nil || y.Quant != nil {
		return nil, nil
	}
	n := x.NumElements()
	var vals []float64
	var ints []int64
	switch {
	case x.DType == Int32 || x.DType == Int64:
		v, err := int64s(x)
		if err != nil {
			return nil, err
		}
		ints = v
	case x.DType == Float32:
		vals = make([]float64, n)
		for i := range vals {
			vals[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(x.Data[4*i:])))
		}
	default:
		return nil, nil
	}
	shape := slices.Clone(x.Shape)
	if y.DType == Float32 {
		data := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			f := float32(0)
			if ints != nil {
				f = float32(ints[i])
			} else {
				f = float32(vals[i])
			}
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(f))
		}
		return &Tensor{Shape: shape, Data: data}, nil
	}
	if ints == nil {
		ints = make([]int64, n)
		for i, f := range vals {
			if math.IsNaN(f) || math.Abs(f) > 1<<62 {
				return nil, errs.New(errs.Model, "CAST of %v to %v", f, y.DType)
			}
			ints[i] = int64(f)
		}
	}
	return intTensor(y.DType, shape, ints)
}

// foldArith computes ADD, SUB, MUL or FLOOR_DIV of integer constants with broadcasting.
func foldArith(op *Op, a, b, y *Tensor) (*Tensor, error) {
	if !isInt(a) || !isInt(b) || !isInt(y) || op.Activation != ActNone {
		return nil, nil
	}
	shape, ok := BroadcastShapes(a.Shape, b.Shape)
	if !ok {
		return nil, errs.New(errs.Shape, "shapes %v and %v do not broadcast", a.Shape, b.Shape)
	}
	av, err := int64s(a)
	if err != nil {
		return nil, err
	}
	bv, err := int64s(b)
	if err != nil {
		return nil, err
	}
	if NumElements(shape) > foldBound(len(av)+len(bv)) {
		return nil, nil
	}
	ia, ib := broadcastIndex(a.Shape, shape), broadcastIndex(b.Shape, shape)
	out := make([]int64, len(ia))
	for i := range out {
		x, z := av[ia[i]], bv[ib[i]]
		switch op.Kind {
		case OpAdd:
			out[i] = x + z
		case OpSub:
			out[i] = x - z
		case OpMul:
			out[i] = x * z
		case OpFloorDiv:
			if z == 0 {
				return nil, errs.New(errs.Model, "FLOOR_DIV by zero")
			}
			q := x / z
			if (x%z != 0) && ((x < 0) != (z < 0)) {
				q--
			}
			out[i] = q
		}
	}
	return intTensor(y.DType, shape, out)
}

// foldReduceProd computes REDUCE_PROD of an integer constant over constant axes.
func foldReduceProd(g *Graph, op *Op, y *Tensor) (*Tensor, error) {
	x := g.Tensors[op.Inputs[0]]
	if len(op.Inputs) < 2 || !isInt(x) || !isInt(y) {
		return nil, nil
	}
	axes, err := g.MeanAxes(op) // the same axes operand as MEAN
	if err != nil {
		return nil, err
	}
	xv, err := int64s(x)
	if err != nil {
		return nil, err
	}
	var shape, kept []int
	for d, n := range x.Shape {
		if slices.Contains(axes, d) {
			if op.KeepDims {
				shape = append(shape, 1)
			}
			continue
		}
		shape, kept = append(shape, n), append(kept, d)
	}
	if shape == nil {
		shape = []int{}
	}
	out := make([]int64, NumElements(shape))
	for i := range out {
		out[i] = 1
	}
	st := strides(x.Shape)
	for i, v := range xv {
		o, acc := 0, 1
		for j := len(kept) - 1; j >= 0; j-- {
			d := kept[j]
			o += (i / st[d] % x.Shape[d]) * acc
			acc *= x.Shape[d]
		}
		out[o] *= v
	}
	return intTensor(y.DType, shape, out)
}

// broadcastIndex maps each element of shape to (numpy broadcasting) to its element of
// shape from.
func broadcastIndex(from, to []int) []int {
	rank := len(to)
	f := make([]int, rank)
	for i := range f {
		f[i] = 1
	}
	copy(f[rank-len(from):], from)
	mult := strides(f)
	for d := range f {
		if f[d] == 1 {
			mult[d] = 0
		}
	}
	idx := affineIndex(to, 0, mult)
	out := make([]int, len(idx))
	for i, v := range idx {
		out[i] = int(v)
	}
	return out
}

// EvalConstant computes one op on known inputs as FoldConstants does, for importers that
// fold while they convert (ONNX): ins are the op's inputs in order (constants; for SHAPE a
// tensor with a shape), out gives the result's type. op.Inputs and op.Outputs are ignored.
// It returns nil when the op cannot be folded (a kind, type or variant folding leaves to
// the evaluator).
func EvalConstant(op *Op, ins []*Tensor, out *Tensor) (*Tensor, error) {
	g := &Graph{Tensors: append(slices.Clone(ins), out)}
	o := *op
	o.Inputs = make([]int, len(ins))
	for i := range o.Inputs {
		o.Inputs[i] = i
	}
	o.Outputs = []int{len(ins)}
	if !foldable(g, &o) {
		return nil, nil
	}
	t, err := foldOp(g, &o)
	if t == nil || err != nil {
		return nil, err
	}
	t.Name, t.DType, t.Quant = out.Name, out.DType, out.Quant
	return t, nil
}
