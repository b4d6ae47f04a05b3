package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// floatOps are the float ops a QDQ group may have between its DequantizeLinear inputs
// and its QuantizeLinear output.
var floatOps = map[string]bool{
	"Conv": true, "Gemm": true, "MatMul": true, "Add": true, "Mul": true,
	"AveragePool": true, "GlobalAveragePool": true, "MaxPool": true, "Concat": true,
	"Flatten": true, "Reshape": true, "Transpose": true,
}

// node converts one node.
func (c *converter) node(n *onnxpb.NodeProto) error {
	for _, in := range n.GetInput() {
		if v, ok := c.vals[in]; ok && v.kind == kBad {
			// Downstream of an unsupported node: list the node only if its kind is
			// unsupported in any case (so that one error names every unknown kind).
			if !knownOp(n) {
				c.unsupported(n, opName(n))
				return nil
			}
			for _, o := range n.GetOutput() {
				c.vals[o] = &value{kind: kBad}
			}
			return nil
		}
	}
	if len(n.GetOutput()) == 0 {
		return c.nodeErr(n, "node has no outputs")
	}
	if foldOps[n.GetOpType()] && (n.GetDomain() == "" || n.GetDomain() == "ai.onnx") {
		if ok, err := c.fold(n); err != nil || ok {
			return err
		}
		if foldOnly[n.GetOpType()] {
			c.unsupported(n, n.GetOpType()+"(of a tensor not known at import time)")
			return nil
		}
	}
	if !knownOp(n) {
		c.unsupported(n, opName(n))
		return nil
	}
	if n.GetDomain() == LookupDomain {
		return c.lookup(n)
	}
	op := n.GetOpType()
	switch op {
	case "Constant":
		return c.constantNode(n)
	case "Identity", "Dropout":
		v, err := c.input(n, 0)
		if err != nil || v == nil {
			return c.nodeErr(n, "missing input")
		}
		if op == "Dropout" && len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			c.unsupported(n, "Dropout(mask output)")
			return nil
		}
		c.vals[n.GetOutput()[0]] = v
		return nil
	case "QuantizeLinear":
		return c.quantizeLinear(n)
	case "DequantizeLinear":
		return c.dequantizeLinear(n)
	case "QLinearConv":
		return c.qlinearConv(n)
	case "QLinearMatMul":
		return c.qlinearMatMul(n)
	case "QGemm":
		return c.qgemm(n)
	case "QLinearAdd", "QLinearMul":
		return c.qlinearBinary(n)
	case "QLinearAveragePool":
		return c.qlinearAvgPool(n)
	case "QLinearGlobalAveragePool":
		return c.qlinearGAP(n)
	case "QLinearConcat":
		return c.qlinearConcat(n)
	case "Relu", "Clip":
		return c.activation(n)
	}
	if moveOps[op] {
		return c.move(n)
	}
	return c.floatOrQuantizedOp(n)
}

// knownOps are the op types node handles (some only in some forms).
var knownOps = map[string]bool{
	"Constant": true, "Identity": true, "Dropout": true, "QuantizeLinear": true,
	"DequantizeLinear": true, "QLinearConv": true, "QLinearMatMul": true, "QGemm": true,
	"QLinearAdd": true, "QLinearMul": true, "QLinearAveragePool": true,
	"QLinearGlobalAveragePool": true, "QLinearConcat": true, "Relu": true, "Clip": true,
	"Transpose": true,
}

func knownOp(n *onnxpb.NodeProto) bool {
	switch n.GetDomain() {
	case "", "ai.onnx", "com.microsoft":
		return knownOps[n.GetOpType()] || floatOps[n.GetOpType()] || moveOps[n.GetOpType()]
	case LookupDomain:
		return n.GetOpType() == "Lookup"
	}
	return false
}

// LookupDomain is the domain of qmpc's own ONNX op, Lookup(x, x_scale, x_zero_point,
// table, y_scale, y_zero_point) -> y: an elementwise function of an 8-bit quantized x as
// the table of its 256 outputs, y = table[x - min of x's type] (the IR's LOOKUP), which
// qmpc.torch writes for activations such as PyTorch's quantized Hardswish, computing the
// table with PyTorch's own kernel.
const LookupDomain = "ai.qmpc"

func (c *converter) lookup(n *onnxpb.NodeProto) error {
	x, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	if x.kind != kQ {
		c.unsupported(n, "Lookup(of a constant)")
		return nil
	}
	t, err := c.constIn(n, 3, "table")
	if err != nil {
		return err
	}
	q, err := c.qout(n, 4, 5)
	if err != nil {
		return err
	}
	xt := c.tensor(x)
	if t.dtype != q.dtype || t.n() != 256 || xt.DType.Size() != 1 {
		return c.nodeErr(n, "table of %d %v values for a %v input and %v output, want 256 of the output's type", t.n(), t.dtype, xt.DType, q.dtype)
	}
	name := n.GetOutput()[0]
	tt := c.addTensor(name+"_table", []int{256}, t.dtype, nil, t.data)
	o := &value{kind: kQ, nchw: x.nchw, flat: x.flat}
	o.t = c.addTensor(name, slices.Clone(xt.Shape), q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpLookup, Inputs: []int{x.t, tt}, Outputs: []int{o.t}})
	return c.set(n, o, nil)
}

// opName is the name an unknown op is listed under: its type, prefixed by its domain
// when that is not ONNX's or Microsoft's.
func opName(n *onnxpb.NodeProto) string {
	switch n.GetDomain() {
	case "", "ai.onnx", "com.microsoft":
		return n.GetOpType()
	}
	return n.GetDomain() + "." + n.GetOpType()
}

func (c *converter) constantNode(n *onnxpb.NodeProto) error {
	a := attr(n, "value")
	if a == nil || a.GetT() == nil {
		c.unsupported(n, "Constant(without a tensor value)")
		return nil
	}
	k, err := decodeTensor(a.GetT())
	if err != nil {
		return fmt.Errorf("onnx node %d Constant %q: %w", c.nodeIdx, n.GetName(), err)
	}
	c.vals[n.GetOutput()[0]] = &value{kind: kConst, c: k}
	return nil
}

// quantAxis normalizes a QuantizeLinear/DequantizeLinear axis attribute for rank r.
func quantAxis(n *onnxpb.NodeProto, r int) (int, bool) {
	a := int(attrInt(n, "axis", 1))
	if a < 0 {
		a += r
	}
	return a, a >= 0 && a < max(r, 1)
}

func (c *converter) quantizeLinear(n *onnxpb.NodeProto) error {
	x, err := c.input(n, 0)
	if err != nil || x == nil {
		return c.nodeErr(n, "missing input")
	}
	if attrInt(n, "block_size", 0) != 0 {
		c.unsupported(n, "QuantizeLinear(block_size)")
		return nil
	}
	q, err := c.qparamsIn(n, 1, 2, 0)
	if err != nil {
		return err
	}
	if q.perChannel() {
		c.unsupported(n, "QuantizeLinear(per-axis) of an activation")
		return nil
	}
	if q.dtype != model.Uint8 && q.dtype != model.Int8 {
		c.unsupported(n, fmt.Sprintf("QuantizeLinear(%v)", q.dtype))
		return nil
	}
	out := n.GetOutput()[0]
	switch x.kind {
	case kFloatIn:
		v := &value{kind: kQ, nchw: x.nchw}
		xt := c.tensor(x)
		v.t = c.addTensor(out, slices.Clone(xt.Shape), q.dtype, q.quant(0), nil)
		c.addOp(&model.Op{Kind: model.OpQuantize, Inputs: []int{x.t}, Outputs: []int{v.t}, Rounding: model.RoundHalfEven})
		c.vals[out] = v
	case kPend:
		v, err := c.finishGroup(x, q, out)
		if err != nil {
			return err
		}
		if v == nil {
			for _, o := range n.GetOutput() {
				c.vals[o] = &value{kind: kBad}
			}
			return nil
		}
		c.vals[out] = v
	case kDQ:
		c.vals[out] = c.requantize(x.src, q, out)
	default:
		c.unsupported(n, "QuantizeLinear of a float tensor qmpc does not compute")
	}
	return nil
}

// requantize returns v quantized with q (v itself when the parameters are equal).
func (c *converter) requantize(v *value, q *qparams, name string) *value {
	t := c.tensor(v)
	cur := &qparams{scale: t.Quant.Scale, zp: t.Quant.ZeroPoint, dtype: t.DType}
	if cur.equal(q) {
		return v
	}
	o := &value{kind: kQ, nchw: v.nchw, flat: v.flat}
	o.t = c.addTensor(name, slices.Clone(t.Shape), q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpQuantize, Inputs: []int{v.t}, Outputs: []int{o.t}, Rounding: model.RoundHalfEven})
	return o
}

func (c *converter) dequantizeLinear(n *onnxpb.NodeProto) error {
	x, err := c.input(n, 0)
	if err != nil || x == nil {
		return c.nodeErr(n, "missing input")
	}
	if attrInt(n, "block_size", 0) != 0 {
		c.unsupported(n, "DequantizeLinear(block_size)")
		return nil
	}
	out := n.GetOutput()[0]
	switch x.kind {
	case kConst:
		axis, ok := quantAxis(n, len(x.c.shape))
		q, err := c.qparamsIn(n, 1, 2, axis)
		if err != nil {
			return err
		}
		if q.perChannel() && !ok {
			return c.nodeErr(n, "axis %d out of range for shape %v", attrInt(n, "axis", 1), x.c.shape)
		}
		if !q.perChannel() {
			q.axis = 0
		}
		if q.dtype != x.c.dtype {
			return c.nodeErr(n, "zero point type %v differs from the data type %v", q.dtype, x.c.dtype)
		}
		if q.perChannel() && (len(x.c.shape) == 0 || x.c.shape[axis] != len(q.scale)) {
			return c.nodeErr(n, "%d per-axis scales for axis %d of shape %v", len(q.scale), axis, x.c.shape)
		}
		c.vals[out] = &value{kind: kWDQ, c: x.c, q: q}
	case kQ:
		q, err := c.qparamsIn(n, 1, 2, 0)
		if err != nil {
			return err
		}
		if err := c.actParams(n, x, q); err != nil {
			return err
		}
		c.vals[out] = &value{kind: kDQ, src: x, q: q, nchw: x.nchw}
	default:
		c.unsupported(n, "DequantizeLinear of a tensor that is not quantized")
	}
	return nil
}

// emitDequantize appends a DEQUANTIZE of a quantized value (for graph outputs).
func (c *converter) emitDequantize(src *value, name string) *value {
	st := c.tensor(src)
	o := &value{kind: kFloat, nchw: src.nchw, flat: src.flat}
	o.t = c.addTensor(name, slices.Clone(st.Shape), model.Float32, nil, nil)
	c.addOp(&model.Op{Kind: model.OpDequantize, Inputs: []int{src.t}, Outputs: []int{o.t}, Rounding: model.RoundHalfEven})
	return o
}

// activation handles Relu and Clip: fused into a pending QDQ group, or (on a quantized
// tensor in QOperator form) unsupported.
func (c *converter) activation(n *onnxpb.NodeProto) error {
	x, err := c.input(n, 0)
	if err != nil || x == nil {
		return c.nodeErr(n, "missing input")
	}
	act := model.ActRelu
	if n.GetOpType() == "Clip" {
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if attr(n, "min") != nil || attr(n, "max") != nil { // opset < 11
			lo, hi = attrFloat(n, "min", lo), attrFloat(n, "max", hi)
		}
		for i, p := range []*float32{&lo, &hi} {
			v, err := c.input(n, i+1)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			if v.kind != kConst || v.c.dtype != model.Float32 || v.c.n() != 1 {
				c.unsupported(n, "Clip(non-constant bounds)")
				return nil
			}
			*p = v.c.floats()[0]
		}
		switch {
		case lo == 0 && hi == 6:
			act = model.ActRelu6
		case lo == -1 && hi == 1:
			act = model.ActReluN1To1
		case lo == 0 && math.IsInf(float64(hi), 1):
			act = model.ActRelu
		default:
			c.unsupported(n, fmt.Sprintf("Clip(%v,%v)", lo, hi))
			return nil
		}
	}
	if x.kind == kDQ {
		// A standalone activation on a dequantized tensor (DequantizeLinear -> Relu ->
		// QuantizeLinear): a requantizing QUANTIZE with the activation as its clamp.
		c.vals[n.GetOutput()[0]] = &value{kind: kPend, node: n, ins: []*value{x}, nchw: x.nchw, act: act}
		return nil
	}
	if x.kind != kPend || x.act != model.ActNone || !fusesActivation(x.node.GetOpType()) {
		c.unsupported(n, n.GetOpType()+" not directly after a Conv, Gemm, MatMul, Add or Mul")
		return nil
	}
	p := *x
	p.act = act
	c.vals[n.GetOutput()[0]] = &p
	return nil
}

func fusesActivation(op string) bool {
	switch op {
	case "Conv", "Gemm", "MatMul", "Add", "Mul":
		return true
	}
	return false
}

// floatOrQuantizedOp handles an op that is either part of a QDQ group (inputs from
// DequantizeLinear) or, for the layout ops, applied directly to a quantized tensor.
func (c *converter) floatOrQuantizedOp(n *onnxpb.NodeProto) error {
	op := n.GetOpType()
	x, err := c.input(n, 0)
	if err != nil || x == nil {
		return c.nodeErr(n, "missing input")
	}
	if x.kind == kQ {
		switch op {
		case "MaxPool":
			return c.maxPool(n, x)
		case "Flatten", "Reshape":
			return c.reshape(n, x)
		case "Transpose":
			v, err := c.transpose(n, x, n.GetOutput()[0])
			return c.set(n, v, err)
		}
		c.unsupported(n, op+" on a quantized tensor")
		return nil
	}
	if x.kind == kDQ && (op == "Transpose" || op == "Reshape" || op == "Flatten") {
		// Data movement on a DequantizeLinear's output: move the quantized tensor and keep
		// the float view (the next QuantizeLinear requantizes if its parameters differ), so
		// that chains of such ops (Unsqueeze -> Transpose -> Squeeze) import.
		var v *value
		if op == "Transpose" {
			v, err = c.transpose(n, x.src, n.GetOutput()[0])
		} else {
			v, err = c.emitReshape(n, x.src, n.GetOutput()[0])
		}
		if err != nil || v == nil {
			return err
		}
		c.vals[n.GetOutput()[0]] = &value{kind: kDQ, src: v, q: x.q, nchw: v.nchw}
		return nil
	}
	ins := make([]*value, len(n.GetInput()))
	for i := range ins {
		v, err := c.input(n, i)
		if err != nil {
			return err
		}
		ins[i] = v
	}
	if x.kind != kDQ {
		c.unsupported(n, op+" (float, not between DequantizeLinear and QuantizeLinear)")
		return nil
	}
	if len(n.GetOutput()) != 1 {
		c.unsupported(n, op+"(several outputs)")
		return nil
	}
	c.vals[n.GetOutput()[0]] = &value{kind: kPend, node: n, ins: ins, nchw: x.nchw}
	return nil
}

// finishGroup emits the quantized op of a QDQ group whose QuantizeLinear has params q.
// It returns nil after recording an unsupported op.
func (c *converter) finishGroup(p *value, q *qparams, name string) (*value, error) {
	n := p.node
	saved := c.nodeIdx
	defer func() { c.nodeIdx = saved }()
	// src returns input i as a quantized activation (from its DequantizeLinear).
	src := func(i int) *value {
		if i < len(p.ins) && p.ins[i] != nil && p.ins[i].kind == kDQ {
			return p.ins[i].src
		}
		return nil
	}
	switch op := n.GetOpType(); op {
	case "Conv":
		x, w := src(0), p.ins[1]
		if x == nil || w == nil || w.kind != kWDQ {
			c.unsupported(n, "Conv (QDQ) without quantized input and weights")
			return nil, nil
		}
		var b *value
		if len(p.ins) > 2 {
			b = p.ins[2]
		}
		return c.emitConv(n, x, w.c, w.q, b, q, p.act, name)
	case "Gemm", "MatMul":
		x, w := src(0), p.ins[1]
		if x == nil || w == nil || w.kind != kWDQ {
			c.unsupported(n, op+" (QDQ) without quantized input and weights")
			return nil, nil
		}
		var b *value
		if len(p.ins) > 2 {
			b = p.ins[2]
		}
		transB := op == "Gemm" && attrInt(n, "transB", 0) != 0
		if op == "Gemm" && (attrInt(n, "transA", 0) != 0 || attrFloat(n, "alpha", 1) != 1 || (b != nil && attrFloat(n, "beta", 1) != 1)) {
			c.unsupported(n, "Gemm(transA, alpha or beta)")
			return nil, nil
		}
		return c.emitFC(n, x, w.c, w.q, transB, b, q, p.act, name)
	case "Add", "Mul":
		a, b := c.qOperand(p.ins[0]), c.qOperand(p.ins[1])
		if a == nil || b == nil {
			c.unsupported(n, op+" (QDQ) of operands that are not quantized")
			return nil, nil
		}
		return c.emitBinary(n, a, b, q, p.act, name)
	case "AveragePool":
		x := src(0)
		if x == nil {
			c.unsupported(n, op+" (QDQ) of a tensor that is not quantized")
			return nil, nil
		}
		return c.emitAvgPool(n, x, q, name)
	case "GlobalAveragePool":
		x := src(0)
		if x == nil {
			c.unsupported(n, op+" (QDQ) of a tensor that is not quantized")
			return nil, nil
		}
		return c.emitGAP(n, x, q, name)
	case "Concat":
		var xs []*value
		for i := range p.ins {
			x := src(i)
			if x == nil {
				c.unsupported(n, "Concat (QDQ) of tensors that are not quantized")
				return nil, nil
			}
			xs = append(xs, x)
		}
		return c.emitConcat(n, xs, q, name)
	case "Relu", "Clip":
		x := src(0)
		t := c.tensor(x)
		o := &value{kind: kQ, nchw: x.nchw, flat: x.flat}
		o.t = c.addTensor(name, slices.Clone(t.Shape), q.dtype, q.quant(0), nil)
		c.addOp(&model.Op{Kind: model.OpQuantize, Inputs: []int{x.t}, Outputs: []int{o.t}, Activation: p.act, Rounding: model.RoundHalfEven})
		return o, nil
	case "MaxPool":
		x := src(0)
		if x == nil {
			c.unsupported(n, op+" (QDQ) of a tensor that is not quantized")
			return nil, nil
		}
		v, err := c.emitMaxPool(n, x, name)
		if v == nil || err != nil {
			return nil, err
		}
		return c.requantize(v, q, name+"_requant"), nil
	}
	c.unsupported(n, n.GetOpType()+" (QDQ)")
	return nil, nil
}

// qOperand returns a QDQ operand as a quantized activation or quantized constant.
func (c *converter) qOperand(v *value) *value {
	if v == nil {
		return nil
	}
	switch v.kind {
	case kDQ:
		return v.src
	case kWDQ:
		if v.q.perChannel() {
			return nil
		}
		return v
	}
	return nil
}

func (c *converter) maxPool(n *onnxpb.NodeProto, x *value) error {
	if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
		c.unsupported(n, "MaxPool(indices output)")
		return nil
	}
	v, err := c.emitMaxPool(n, x, n.GetOutput()[0])
	if err != nil || v == nil {
		return err
	}
	c.vals[n.GetOutput()[0]] = v
	return nil
}

func (c *converter) reshape(n *onnxpb.NodeProto, x *value) error {
	v, err := c.emitReshape(n, x, n.GetOutput()[0])
	if err != nil || v == nil {
		return err
	}
	c.vals[n.GetOutput()[0]] = v
	return nil
}

// transpose converts an ONNX Transpose of a quantized tensor. A permutation that moves
// only size-1 dimensions is a reshape; any other becomes the IR's TRANSPOSE on the tensor
// in ONNX order (data movement, free on shares).
func (c *converter) transpose(n *onnxpb.NodeProto, x *value, name string) (*value, error) {
	shape := c.onnxShape(x)
	perm := attrInts(n, "perm")
	if perm == nil {
		for i := len(shape) - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != len(shape) {
		return nil, c.nodeErr(n, "perm %v for shape %v", perm, shape)
	}
	var nonUnit, permNonUnit []int
	out := make([]int64, len(shape))
	p := make([]int, len(perm))
	seen := make([]bool, len(shape))
	for i, q := range perm {
		if q < 0 || int(q) >= len(shape) || seen[q] {
			return nil, c.nodeErr(n, "perm %v for shape %v", perm, shape)
		}
		seen[q] = true
		out[i], p[i] = int64(shape[q]), int(q)
		if shape[q] != 1 {
			permNonUnit = append(permNonUnit, int(q))
		}
	}
	for i, d := range shape {
		if d != 1 {
			nonUnit = append(nonUnit, i)
		}
	}
	if slices.Equal(nonUnit, permNonUnit) {
		return c.reshapeTo(n, x, out, name)
	}
	if x.nchw && slices.Equal(p, []int{0, 2, 3, 1}) {
		// NCHW -> NHWC: the IR tensor already is.
		o := *x
		o.nchw = false
		return &o, nil
	}
	return c.transposeTo(c.onnxOrder(x, name+"_onnx"), p, name), nil
}

// ---- QOperator ops ----

// qin reads a QLinear op's activation input at i with its params at i+1, i+2.
func (c *converter) qin(n *onnxpb.NodeProto, i int) (*value, error) {
	x, err := c.input(n, i)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, c.nodeErr(n, "missing input %d", i)
	}
	q, err := c.qparamsIn(n, i+1, i+2, 0)
	if err != nil {
		return nil, err
	}
	switch x.kind {
	case kQ:
		if err := c.actParams(n, x, q); err != nil {
			return nil, err
		}
		return x, nil
	case kConst:
		if q.perChannel() || x.c.dtype != q.dtype {
			return nil, c.nodeErr(n, "constant input %d: type %v with zero point type %v", i, x.c.dtype, q.dtype)
		}
		return &value{kind: kWDQ, c: x.c, q: q}, nil
	}
	return nil, c.nodeErr(n, "input %d is not a quantized tensor", i)
}

// qweight reads a constant quantized weight input at i with params at i+1, i+2 (per
// tensor, or per channel along axis).
func (c *converter) qweight(n *onnxpb.NodeProto, i, axis int) (*constant, *qparams, error) {
	w, err := c.constIn(n, i, "weights")
	if err != nil {
		return nil, nil, err
	}
	q, err := c.qparamsIn(n, i+1, i+2, axis)
	if err != nil {
		return nil, nil, err
	}
	if q.dtype != w.dtype {
		return nil, nil, c.nodeErr(n, "weights are %v but their zero point is %v", w.dtype, q.dtype)
	}
	if q.perChannel() && (axis >= len(w.shape) || w.shape[axis] != len(q.scale)) {
		return nil, nil, c.nodeErr(n, "%d weight scales for shape %v", len(q.scale), w.shape)
	}
	return w, q, nil
}

func (c *converter) qout(n *onnxpb.NodeProto, si, zi int) (*qparams, error) {
	q, err := c.qparamsIn(n, si, zi, 0)
	if err != nil {
		return nil, err
	}
	if q.perChannel() {
		return nil, c.nodeErr(n, "output quantized per channel")
	}
	if q.dtype != model.Uint8 && q.dtype != model.Int8 {
		return nil, errs.New(errs.UnsupportedOp, "onnx node %d %s %q: output type %v", c.nodeIdx, n.GetOpType(), n.GetName(), q.dtype)
	}
	return q, nil
}

func (c *converter) set(n *onnxpb.NodeProto, v *value, err error) error {
	if err != nil || v == nil {
		return err
	}
	c.vals[n.GetOutput()[0]] = v
	return nil
}

func (c *converter) qlinearConv(n *onnxpb.NodeProto) error {
	x, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	w, wq, err := c.qweight(n, 3, 0)
	if err != nil {
		return err
	}
	q, err := c.qout(n, 6, 7)
	if err != nil {
		return err
	}
	b, err := c.input(n, 8)
	if err != nil {
		return err
	}
	v, err := c.emitConv(n, x, w, wq, b, q, model.ActNone, n.GetOutput()[0])
	return c.set(n, v, err)
}

func (c *converter) qlinearMatMul(n *onnxpb.NodeProto) error {
	x, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	w, wq, err := c.qweight(n, 3, 1)
	if err != nil {
		return err
	}
	q, err := c.qout(n, 6, 7)
	if err != nil {
		return err
	}
	v, err := c.emitFC(n, x, w, wq, false, nil, q, model.ActNone, n.GetOutput()[0])
	return c.set(n, v, err)
}

func (c *converter) qgemm(n *onnxpb.NodeProto) error {
	if attrInt(n, "transA", 0) != 0 || attrFloat(n, "alpha", 1) != 1 {
		c.unsupported(n, "QGemm(transA or alpha)")
		return nil
	}
	if len(n.GetInput()) < 8 || n.GetInput()[7] == "" {
		c.unsupported(n, "QGemm(float output)")
		return nil
	}
	x, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	transB := attrInt(n, "transB", 0) != 0
	axis := 1
	if transB {
		axis = 0
	}
	w, wq, err := c.qweight(n, 3, axis)
	if err != nil {
		return err
	}
	b, err := c.input(n, 6)
	if err != nil {
		return err
	}
	q, err := c.qout(n, 7, 8)
	if err != nil {
		return err
	}
	v, err := c.emitFC(n, x, w, wq, transB, b, q, model.ActNone, n.GetOutput()[0])
	return c.set(n, v, err)
}

func (c *converter) qlinearBinary(n *onnxpb.NodeProto) error {
	a, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	b, err := c.qin(n, 3)
	if err != nil {
		return err
	}
	q, err := c.qout(n, 6, 7)
	if err != nil {
		return err
	}
	v, err := c.emitBinary(n, a, b, q, model.ActNone, n.GetOutput()[0])
	return c.set(n, v, err)
}

func (c *converter) qlinearAvgPool(n *onnxpb.NodeProto) error {
	return c.qlinearPool(n, "QLinearAveragePool", c.emitAvgPool)
}

func (c *converter) qlinearGAP(n *onnxpb.NodeProto) error {
	return c.qlinearPool(n, "QLinearGlobalAveragePool", c.emitGAP)
}

// qlinearPool converts a com.microsoft QLinear pooling node (input x, x_scale, x_zp,
// y_scale, y_zp) with emit.
func (c *converter) qlinearPool(n *onnxpb.NodeProto, op string,
	emit func(*onnxpb.NodeProto, *value, *qparams, string) (*value, error)) error {
	if attrInt(n, "channels_last", 0) != 0 {
		c.unsupported(n, op+"(channels_last)")
		return nil
	}
	x, err := c.qin(n, 0)
	if err != nil {
		return err
	}
	q, err := c.qout(n, 3, 4)
	if err != nil {
		return err
	}
	v, err := emit(n, x, q, n.GetOutput()[0])
	return c.set(n, v, err)
}

func (c *converter) qlinearConcat(n *onnxpb.NodeProto) error {
	q, err := c.qout(n, 0, 1)
	if err != nil {
		return err
	}
	if (len(n.GetInput())-2)%3 != 0 || len(n.GetInput()) < 5 {
		return c.nodeErr(n, "%d inputs, want 2 + 3 per concatenated tensor", len(n.GetInput()))
	}
	var xs []*value
	for i := 2; i < len(n.GetInput()); i += 3 {
		x, err := c.qin(n, i)
		if err != nil {
			return err
		}
		if x.kind != kQ {
			c.unsupported(n, "QLinearConcat(constant input)")
			return nil
		}
		xs = append(xs, x)
	}
	v, err := c.emitConcat(n, xs, q, n.GetOutput()[0])
	return c.set(n, v, err)
}
