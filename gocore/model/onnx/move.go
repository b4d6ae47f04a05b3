package onnx

import (
	"errors"
	"slices"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// moveOps are the ONNX data-movement ops qmpc converts on activations (when their inputs
// are not all known at import time, in which case fold computes them): each becomes the
// IR op of the same meaning (model.MoveIndex; free on shares). On a quantized tensor
// (QOperator) the output keeps its quantization; on a DequantizeLinear's output (QDQ, or
// an op ORT's quantizer left in float) the output is the DequantizeLinear view of the
// moved quantized tensor, which the next QuantizeLinear requantizes if its parameters
// differ.
var moveOps = map[string]bool{
	"Slice": true, "Split": true, "Gather": true, "Squeeze": true, "Unsqueeze": true,
	"DepthToSpace": true, "SpaceToDepth": true,
}

// move converts a data-movement node. Slice, Split, Gather, Squeeze and Unsqueeze work on
// the tensor in ONNX order (a TRANSPOSE from NHWC first when needed);
// DepthToSpace/SpaceToDepth on NHWC, as the IR defines them.
func (c *converter) move(n *onnxpb.NodeProto) error {
	x, err := c.input(n, 0)
	if err != nil || x == nil {
		return c.nodeErr(n, "missing input")
	}
	src := x
	switch x.kind {
	case kQ:
	case kDQ:
		src = x.src
	default:
		c.unsupported(n, n.GetOpType()+" of a tensor that is not quantized")
		return nil
	}
	name := n.GetOutput()[0]
	op := n.GetOpType()
	var outs []*value
	switch op {
	case "DepthToSpace", "SpaceToDepth":
		outs, err = c.blockMove(n, src, name)
	default:
		outs, err = c.orderedMove(n, c.onnxOrder(src, name+"_onnx"), name)
	}
	if err != nil || outs == nil {
		return err
	}
	for k, o := range outs {
		if x.kind == kDQ {
			o = &value{kind: kDQ, src: o, q: x.q, nchw: o.nchw}
		}
		c.vals[n.GetOutput()[k]] = o
	}
	return nil
}

// emitMove adds op (its data input set) with an output of the shape MoveShape gives.
func (c *converter) emitMove(n *onnxpb.NodeProto, op *model.Op, x *value, name string) (*value, error) {
	xt := c.tensor(x)
	shape, err := c.g.MoveShape(op)
	if err != nil {
		return nil, c.nodeErr(n, "%v", err)
	}
	o := &value{kind: kQ}
	o.t = c.addTensor(name, shape, xt.DType, cloneQuant(xt.Quant), nil)
	op.Outputs = []int{o.t}
	c.addOp(op)
	return o, nil
}

// intsIn reads integer list input i, or attribute name for older opsets; ok is false when
// neither is given.
func (c *converter) intsIn(n *onnxpb.NodeProto, i int, name string) (v []int64, ok bool, err error) {
	if a := attr(n, name); a != nil {
		return a.GetInts(), true, nil
	}
	in, err := c.input(n, i)
	if err != nil || in == nil {
		return nil, false, err
	}
	if in.kind != kConst || (in.c.dtype != model.Int64 && in.c.dtype != model.Int32) {
		c.unsupported(n, n.GetOpType()+"(non-constant "+name+")")
		return nil, false, errUnsupported
	}
	return in.c.ints(), true, nil
}

// errUnsupported tells orderedMove's caller that the node was recorded as unsupported.
var errUnsupported = errors.New("unsupported")

func (c *converter) int32Tensor(name string, shape []int, v []int64) int {
	d := make([]int32, len(v))
	for i, x := range v {
		d[i] = int32(clampInt(x))
	}
	return c.addTensor(name, shape, model.Int32, nil, int32Bytes(d))
}

// orderedMove converts Slice, Split, Gather, Squeeze and Unsqueeze of x (in ONNX order).
func (c *converter) orderedMove(n *onnxpb.NodeProto, x *value, name string) (outs []*value, err error) {
	defer func() {
		if err == errUnsupported {
			outs, err = nil, nil
		}
	}()
	shape := c.tensor(x).Shape
	r := len(shape)
	normAxis := func(a int64, rank int) (int, error) {
		if a < 0 {
			a += int64(rank)
		}
		if a < 0 || a >= int64(rank) {
			return 0, c.nodeErr(n, "axis %d out of range for rank %d", a, rank)
		}
		return int(a), nil
	}
	switch n.GetOpType() {
	case "Slice":
		starts, _, err := c.intsIn(n, 1, "starts")
		if err != nil {
			return nil, err
		}
		ends, _, err := c.intsIn(n, 2, "ends")
		if err != nil {
			return nil, err
		}
		axes, haveAxes, err := c.intsIn(n, 3, "axes")
		if err != nil {
			return nil, err
		}
		steps, _, err := c.intsIn(n, 4, "steps")
		if err != nil {
			return nil, err
		}
		if len(starts) != len(ends) || (haveAxes && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
			return nil, c.nodeErr(n, "starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
		}
		begin, end, stride := make([]int64, r), make([]int64, r), make([]int64, r)
		var mask int32
		for d := range begin {
			stride[d] = 1
			mask |= 1 << d
		}
		for i := range starts {
			d := i
			if haveAxes {
				if d, err = normAxis(axes[i], r); err != nil {
					return nil, err
				}
			}
			s := int64(1)
			if steps != nil {
				s = steps[i]
			}
			if s < 0 && starts[i] < -int64(shape[d]) {
				// ONNX clamps such a start to 0, TFLite's STRIDED_SLICE to -1 (empty).
				c.unsupported(n, "Slice(negative step from before the first element)")
				return nil, errUnsupported
			}
			begin[d], end[d], stride[d] = starts[i], ends[i], s
			mask &^= 1 << d
		}
		op := &model.Op{Kind: model.OpStridedSlice, BeginMask: mask, EndMask: mask, Inputs: []int{x.t,
			c.int32Tensor(name+"_begin", []int{r}, begin), c.int32Tensor(name+"_end", []int{r}, end),
			c.int32Tensor(name+"_strides", []int{r}, stride)}}
		o, err := c.emitMove(n, op, x, name)
		return []*value{o}, err
	case "Split":
		axis, err := normAxis(attrInt(n, "axis", 0), r)
		if err != nil {
			return nil, err
		}
		k := len(n.GetOutput())
		sizes, ok, err := c.intsIn(n, 1, "split")
		if err != nil {
			return nil, err
		}
		if !ok { // equal parts; opset 18's num_outputs makes the last one smaller
			per := (shape[axis] + k - 1) / k
			for i := range k {
				sizes = append(sizes, int64(min(per, shape[axis]-i*per)))
			}
		}
		st := c.int32Tensor(name+"_sizes", []int{len(sizes)}, sizes)
		for i, out := range n.GetOutput() {
			op := &model.Op{Kind: model.OpSplit, Inputs: []int{x.t, st}, Axis: axis, NumPieces: k, Piece: i}
			o, err := c.emitMove(n, op, x, out)
			if err != nil {
				return nil, err
			}
			outs = append(outs, o)
		}
		return outs, nil
	case "Gather":
		ind, err := c.input(n, 1)
		if err != nil {
			return nil, err
		}
		if ind == nil || ind.kind != kConst || (ind.c.dtype != model.Int64 && ind.c.dtype != model.Int32) {
			c.unsupported(n, "Gather(non-constant indices)")
			return nil, nil
		}
		axis, err := normAxis(attrInt(n, "axis", 0), r)
		if err != nil {
			return nil, err
		}
		op := &model.Op{Kind: model.OpGather, Axis: axis, Inputs: []int{x.t,
			c.int32Tensor(name+"_indices", slices.Clone(ind.c.shape), ind.c.ints())}}
		o, err := c.emitMove(n, op, x, name)
		return []*value{o}, err
	case "Squeeze":
		axes, _, err := c.intsIn(n, 1, "axes")
		if err != nil {
			return nil, err
		}
		op := &model.Op{Kind: model.OpSqueeze, Inputs: []int{x.t}}
		for _, a := range axes {
			d, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			op.SqueezeDims = append(op.SqueezeDims, d)
		}
		o, err := c.emitMove(n, op, x, name)
		return []*value{o}, err
	case "Unsqueeze":
		axes, ok, err := c.intsIn(n, 1, "axes")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, c.nodeErr(n, "no axes")
		}
		rr := r + len(axes)
		out := make([]int, rr)
		for _, a := range axes {
			d, err := normAxis(a, rr)
			if err != nil {
				return nil, err
			}
			out[d] = -1
		}
		k := 0
		for i := range out {
			if out[i] == -1 {
				out[i] = 1
			} else if k < r {
				out[i] = shape[k]
				k++
			}
		}
		if k != r {
			return nil, c.nodeErr(n, "axes %v for rank %d", axes, r)
		}
		return []*value{c.irReshape(x, out, name)}, nil
	}
	return nil, c.nodeErr(n, "not a data-movement op")
}

// blockMove converts DepthToSpace (DCR mode, TensorFlow's order) and SpaceToDepth of a 4-D
// tensor, which the IR defines on NHWC.
func (c *converter) blockMove(n *onnxpb.NodeProto, x *value, name string) ([]*value, error) {
	if len(c.onnxShape(x)) != 4 || x.flat != nil {
		return nil, c.nodeErr(n, "input of shape %v, want 4-D", c.onnxShape(x))
	}
	if n.GetOpType() == "DepthToSpace" && attrString(n, "mode", "DCR") != "DCR" {
		c.unsupported(n, "DepthToSpace(mode="+attrString(n, "mode", "DCR")+")")
		return nil, nil
	}
	kind := model.OpDepthToSpace
	if n.GetOpType() == "SpaceToDepth" {
		kind = model.OpSpaceToDepth
	}
	x = c.asNHWC(x, name+"_nhwc")
	op := &model.Op{Kind: kind, Inputs: []int{x.t}, BlockSize: int(attrInt(n, "blocksize", 0))}
	o, err := c.emitMove(n, op, x, name)
	if err != nil {
		return nil, err
	}
	o.nchw = true
	return []*value{o}, nil
}
