package onnx

import (
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// foldOps are the ONNX ops computed at import time when their inputs are known, with
// model.EvalConstant (the TFLite reader's constant folding): the shape subgraphs exporters
// write, such as PyTorch's x.view(x.size(0), -1) as Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape. Shape reads the ONNX shape of any value, with a symbolic batch fixed
// to 1 as for graph inputs.
var foldOps = map[string]bool{
	"Shape": true, "Gather": true, "Unsqueeze": true, "Squeeze": true, "Concat": true,
	"Cast": true, "Slice": true, "Add": true, "Sub": true, "Mul": true, "Div": true,
	"ReduceProd": true, "Reshape": true,
}

// foldOnly are the foldOps qmpc has no other use for: on unknown inputs they are
// unsupported.
var foldOnly = map[string]bool{
	"Shape": true, "Cast": true, "Sub": true, "Div": true, "ReduceProd": true,
}

func (k *constant) tensor() *model.Tensor {
	return &model.Tensor{Shape: k.shape, DType: k.dtype, Data: k.data}
}

func int64Const(v []int64) *model.Tensor {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		for b := 0; b < 8; b++ {
			d[8*i+b] = byte(uint64(x) >> (8 * b))
		}
	}
	return &model.Tensor{Shape: []int{len(v)}, DType: model.Int64, Data: d}
}

// fold computes node n if its inputs are known, and records its output as a constant.
// It reports whether it did.
func (c *converter) fold(n *onnxpb.NodeProto) (bool, error) {
	if len(n.GetOutput()) != 1 || len(n.GetInput()) == 0 {
		return false, nil
	}
	op := n.GetOpType()
	var ins []*model.Tensor
	for i := range n.GetInput() {
		v, err := c.input(n, i)
		if err != nil {
			return false, err
		}
		switch {
		case v == nil:
			ins = append(ins, nil)
		case v.kind == kConst:
			ins = append(ins, v.c.tensor())
		case op == "Shape" && i == 0 && v.kind != kPend && v.kind != kBad:
			ins = append(ins, &model.Tensor{Shape: c.onnxShape(v), DType: model.Float32})
		default:
			return false, nil
		}
	}
	x := ins[0]
	out := &model.Tensor{Name: n.GetOutput()[0], DType: x.DType}
	irOp := &model.Op{}
	opIns := ins[:1]
	// axes reads an axes list from attribute name (older opsets) or input i.
	axes := func(i int) ([]int64, bool) {
		if a := attr(n, "axes"); a != nil {
			return a.GetInts(), true
		}
		if i < len(ins) && ins[i] != nil {
			return (&constant{dtype: ins[i].DType, shape: ins[i].Shape, data: ins[i].Data}).ints(), true
		}
		return nil, false
	}
	switch op {
	case "Shape":
		s := x.Shape
		start, end := int(attrInt(n, "start", 0)), int(attrInt(n, "end", int64(len(s))))
		start, end = clampAxis(start, len(s)), clampAxis(end, len(s))
		v := []int64{}
		for _, d := range s[start:max(start, end)] {
			v = append(v, int64(d))
		}
		c.vals[n.GetOutput()[0]] = &value{kind: kConst, c: &constant{dtype: model.Int64, shape: []int{len(v)}, data: int64Const(v).Data}}
		return true, nil
	case "Gather":
		if len(ins) != 2 {
			return false, nil
		}
		irOp.Kind, irOp.Axis, opIns = model.OpGather, int(attrInt(n, "axis", 0)), ins
	case "Concat":
		irOp.Kind, irOp.Axis, opIns = model.OpConcatenation, int(attrInt(n, "axis", 0)), ins
	case "Unsqueeze", "Squeeze":
		ax, ok := axes(1)
		r := len(x.Shape)
		if op == "Unsqueeze" {
			if !ok {
				return false, nil
			}
			r += len(ax)
			shape := make([]int, r)
			for _, a := range ax {
				na := int(a)
				if na < 0 {
					na += r
				}
				if na < 0 || na >= r {
					return false, c.nodeErr(n, "axis %d out of range", a)
				}
				shape[na] = -1
			}
			k := 0
			for i := range shape {
				if shape[i] == -1 {
					shape[i] = 1
				} else {
					shape[i] = x.Shape[k]
					k++
				}
			}
			irOp.Kind, irOp.NewShape = model.OpReshape, shape
		} else {
			irOp.Kind = model.OpSqueeze
			for _, a := range ax {
				irOp.SqueezeDims = append(irOp.SqueezeDims, int(a))
			}
		}
	case "Reshape":
		if len(ins) != 2 || ins[1] == nil || attrInt(n, "allowzero", 0) != 0 {
			return false, nil
		}
		spec := (&constant{dtype: ins[1].DType, shape: ins[1].Shape, data: ins[1].Data}).ints()
		irOp.Kind = model.OpReshape
		for i, d := range spec {
			if d == 0 && i < len(x.Shape) {
				d = int64(x.Shape[i])
			}
			irOp.NewShape = append(irOp.NewShape, int(d))
		}
	case "Cast":
		dt, ok := onnxDTypes[onnxpb.TensorProto_DataType(attrInt(n, "to", 0))]
		if !ok {
			return false, nil
		}
		irOp.Kind, out.DType = model.OpCast, dt
	case "Slice":
		return c.foldSlice(n, ins, out)
	case "Add", "Sub", "Mul", "Div":
		if len(ins) != 2 {
			return false, nil
		}
		irOp.Kind = map[string]model.OpKind{"Add": model.OpAdd, "Sub": model.OpSub, "Mul": model.OpMul, "Div": model.OpFloorDiv}[op]
		if op == "Div" { // ONNX divides integers truncating: floor division only agrees on non-negatives
			for _, t := range ins {
				if t.DType != model.Int32 && t.DType != model.Int64 {
					return false, nil
				}
				if slices.ContainsFunc((&constant{dtype: t.DType, shape: t.Shape, data: t.Data}).ints(), func(v int64) bool { return v < 0 }) {
					return false, nil
				}
			}
		}
		opIns = ins
	case "ReduceProd":
		ax, ok := axes(1)
		if !ok || len(ax) == 0 {
			ax = nil
			for i := range x.Shape {
				ax = append(ax, int64(i))
			}
		}
		irOp.Kind, irOp.KeepDims = model.OpReduceProd, attrInt(n, "keepdims", 1) != 0
		opIns = []*model.Tensor{x, int64Const(ax)}
	default:
		return false, nil
	}
	t, err := model.EvalConstant(irOp, opIns, out)
	if err != nil {
		return false, c.nodeErr(n, "folding at import: %v", err)
	}
	if t == nil {
		return false, nil
	}
	c.vals[n.GetOutput()[0]] = &value{kind: kConst, c: &constant{dtype: t.DType, shape: t.Shape, data: t.Data}}
	return true, nil
}

// foldSlice folds an ONNX Slice (starts, ends, axes, steps as inputs from opset 10, as
// attributes before) as a STRIDED_SLICE over every dimension: ONNX clamps its bounds as
// TFLite does.
func (c *converter) foldSlice(n *onnxpb.NodeProto, ins []*model.Tensor, out *model.Tensor) (bool, error) {
	x := ins[0]
	r := len(x.Shape)
	get := func(i int, name string) []int64 {
		if a := attr(n, name); a != nil {
			return a.GetInts()
		}
		if i < len(ins) && ins[i] != nil {
			return (&constant{dtype: ins[i].DType, shape: ins[i].Shape, data: ins[i].Data}).ints()
		}
		return nil
	}
	starts, ends, axes, steps := get(1, "starts"), get(2, "ends"), get(3, "axes"), get(4, "steps")
	if len(starts) != len(ends) {
		return false, c.nodeErr(n, "starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	begin, end, stride := make([]int64, r), make([]int64, r), make([]int64, r)
	var mask int32
	for d := range begin {
		stride[d] = 1
		mask |= 1 << d
	}
	for i, a := range axes {
		d := int(a)
		if d < 0 {
			d += r
		}
		if d < 0 || d >= r || i >= len(starts) {
			return false, c.nodeErr(n, "axis %d out of range", a)
		}
		s := int64(1)
		if i < len(steps) {
			s = steps[i]
		}
		begin[d], end[d], stride[d] = clampInt(starts[i]), clampInt(ends[i]), s
		mask &^= 1 << d
	}
	op := &model.Op{Kind: model.OpStridedSlice, BeginMask: mask, EndMask: mask}
	t, err := model.EvalConstant(op, []*model.Tensor{x, int64Const(begin), int64Const(end), int64Const(stride)}, out)
	if err != nil {
		return false, c.nodeErr(n, "folding at import: %v", err)
	}
	if t == nil {
		return false, nil
	}
	c.vals[n.GetOutput()[0]] = &value{kind: kConst, c: &constant{dtype: t.DType, shape: t.Shape, data: t.Data}}
	return true, nil
}

// clampInt keeps ONNX's "to the end" bounds (INT64_MAX, INT64_MIN) away from overflow
// in index arithmetic.
func clampInt(v int64) int64 { return min(max(v, -math.MaxInt32), math.MaxInt32) }

// clampAxis maps a Shape start/end attribute into [0, r].
func clampAxis(a, r int) int {
	if a < 0 {
		a += r
	}
	return min(max(a, 0), r)
}
