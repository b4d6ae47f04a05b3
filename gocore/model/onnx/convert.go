package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// vkind says what an ONNX value is during the conversion.
type vkind uint8

const (
	kConst   vkind = iota // a constant (initializer or Constant node)
	kQ                    // a quantized activation: an IR tensor
	kFloatIn              // a float32 graph input (IR tensor), to be quantized
	kFloat                // a float32 IR tensor produced by DEQUANTIZE
	kDQ                   // DequantizeLinear of a kQ value (its float view)
	kWDQ                  // DequantizeLinear of a quantized constant
	kPend                 // a float op of a QDQ group, waiting for its QuantizeLinear
	kBad                  // the output of an unsupported node (errors are not repeated)
)

// value is an ONNX value (a node output, initializer or graph input).
type value struct {
	kind vkind
	c    *constant // kConst, kWDQ: the data (ONNX dimension order)
	t    int       // kQ, kFloatIn, kFloat: the IR tensor
	nchw bool      // a 4-D value whose IR tensor is the NHWC transpose of the ONNX NCHW one
	// flat is [C,H,W] when the value is an ONNX Flatten/Reshape [N, C*H*W] of an NCHW
	// tensor while the IR tensor holds the elements in H,W,C order.
	flat []int
	src  *value   // kDQ: the quantized value
	q    *qparams // kDQ, kWDQ: the quantization DequantizeLinear applies
	node *onnxpb.NodeProto
	ins  []*value // kPend: the node's inputs
	act  model.Activation
}

// qparams are quantization parameters read from a node's scale and zero point inputs.
type qparams struct {
	scale []float32
	zp    []int64
	dtype model.DType
	axis  int // ONNX axis of per-channel parameters
}

func (q *qparams) perChannel() bool { return len(q.scale) > 1 }

func (q *qparams) quant(axis int) *model.Quant {
	return &model.Quant{Scale: slices.Clone(q.scale), ZeroPoint: slices.Clone(q.zp), Axis: axis}
}

func (q *qparams) equal(r *qparams) bool {
	return q.dtype == r.dtype && slices.Equal(q.scale, r.scale) && slices.Equal(q.zp, r.zp)
}

type converter struct {
	m       *onnxpb.ModelProto
	g       *model.Graph
	vals    map[string]*value
	unsup   model.UnsupportedCollector
	nodeIdx int
	tnames  map[string]bool
}

func newConverter(m *onnxpb.ModelProto) *converter {
	return &converter{m: m, g: &model.Graph{}, vals: map[string]*value{}, tnames: map[string]bool{}}
}

// nodeErr is a malformed-model error naming the node.
func (c *converter) nodeErr(n *onnxpb.NodeProto, format string, args ...any) error {
	return fmt.Errorf("onnx node %d %s %q: %w", c.nodeIdx, n.GetOpType(), n.GetName(), errs.New(errs.Model, format, args...))
}

// unsupported records node n as unsupported under name (e.g. "Conv(group=2)").
func (c *converter) unsupported(n *onnxpb.NodeProto, name string) {
	c.unsup.Add(name, c.nodeIdx)
	for _, o := range n.GetOutput() {
		if o != "" {
			c.vals[o] = &value{kind: kBad}
		}
	}
}

// addTensor appends an IR tensor with a unique name.
func (c *converter) addTensor(name string, shape []int, dt model.DType, q *model.Quant, data []byte) int {
	base, i := name, 1
	for c.tnames[name] {
		i++
		name = fmt.Sprintf("%s_%d", base, i)
	}
	c.tnames[name] = true
	c.g.Tensors = append(c.g.Tensors, &model.Tensor{Name: name, Shape: shape, DType: dt, Quant: q, Data: data})
	return len(c.g.Tensors) - 1
}

func (c *converter) addOp(op *model.Op) {
	if op.Name == "" && len(op.Outputs) > 0 {
		op.Name = c.g.Tensors[op.Outputs[0]].Name
	}
	c.g.Ops = append(c.g.Ops, op)
}

func (c *converter) tensor(v *value) *model.Tensor { return c.g.Tensors[v.t] }

// run converts the whole graph.
func (c *converter) run() (*model.Graph, error) {
	gp := c.m.GetGraph()
	c.g.Description = fmt.Sprintf("ONNX %s %s (%s)", c.m.GetProducerName(), c.m.GetProducerVersion(), gp.GetName())
	for _, t := range gp.GetInitializer() {
		k, err := decodeTensor(t)
		if err != nil {
			return nil, fmt.Errorf("onnx initializer: %w", err)
		}
		c.vals[t.GetName()] = &value{kind: kConst, c: k}
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, errs.New(errs.UnsupportedOp, "onnx: sparse initializers are not supported")
	}
	for _, in := range gp.GetInput() {
		if _, isInit := c.vals[in.GetName()]; isInit {
			continue
		}
		if err := c.graphInput(in); err != nil {
			return nil, err
		}
	}
	for i, n := range gp.GetNode() {
		c.nodeIdx = i
		if err := c.node(n); err != nil {
			return nil, err
		}
	}
	for _, out := range gp.GetOutput() {
		if err := c.graphOutput(out.GetName()); err != nil {
			return nil, err
		}
	}
	if err := c.unsup.Err(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if len(c.g.Inputs) == 0 {
		return nil, errs.New(errs.Model, "onnx: graph has no non-constant input")
	}
	return c.g, nil
}

func (c *converter) graphInput(in *onnxpb.ValueInfoProto) error {
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return errs.New(errs.UnsupportedOp, "onnx graph input %q is not a tensor", in.GetName())
	}
	dt, ok := onnxDTypes[onnxpb.TensorProto_DataType(tt.GetElemType())]
	if !ok || dt != model.Float32 {
		return errs.New(errs.UnsupportedOp, "onnx graph input %q has element type %v; qmpc imports models with float32 inputs followed by QuantizeLinear",
			in.GetName(), onnxpb.TensorProto_DataType(tt.GetElemType()))
	}
	if tt.GetShape() == nil {
		return errs.New(errs.Shape, "onnx graph input %q has no shape", in.GetName())
	}
	var dims []int64
	for i, d := range tt.GetShape().GetDim() {
		switch {
		case d.GetDimParam() != "" || (d.Value == nil && i == 0):
			if i != 0 {
				return errs.New(errs.Shape, "onnx graph input %q: symbolic dimension %d (%q); only the batch dimension may be symbolic", in.GetName(), i, d.GetDimParam())
			}
			dims = append(dims, 1) // symbolic batch: one sample at a time
		case d.Value == nil:
			return errs.New(errs.Shape, "onnx graph input %q: dimension %d has no size", in.GetName(), i)
		default:
			dims = append(dims, d.GetDimValue())
		}
	}
	shape, err := checkShape(dims)
	if err != nil {
		return fmt.Errorf("onnx graph input %q: %w", in.GetName(), err)
	}
	v := &value{kind: kFloatIn}
	v.t = c.addTensor(in.GetName(), shape, model.Float32, nil, nil)
	c.g.Inputs = append(c.g.Inputs, v.t)
	if len(shape) == 4 {
		// The graph input keeps ONNX's NCHW; the IR's image ops work on NHWC.
		v = c.transposeTo(v, []int{0, 2, 3, 1}, in.GetName()+"_nhwc")
		v.kind, v.nchw = kFloatIn, true
	}
	c.vals[in.GetName()] = v
	return nil
}

func (c *converter) graphOutput(name string) error {
	v, ok := c.vals[name]
	if !ok {
		return errs.New(errs.Model, "onnx graph output %q is never computed", name)
	}
	switch v.kind {
	case kBad:
		return nil // already reported
	case kDQ:
		// Back to ONNX's order on the quantized tensor, then DEQUANTIZE: the secure
		// engine's tail (cleartext on the client) takes the DEQUANTIZE alone.
		v = c.emitDequantize(c.onnxOrder(v.src, name+"_onnx"), name)
	case kQ, kFloat:
		if o := c.onnxOrder(v, name+"_onnx"); o.t != v.t {
			// The graph output carries the ONNX output's name.
			a, b := c.tensor(v), c.tensor(o)
			a.Name, b.Name = b.Name, a.Name
			v = o
		}
	default:
		c.unsup.Add("graph output that is not a (de)quantized tensor", c.nodeIdx)
		return nil
	}
	c.vals[name] = v
	c.g.Outputs = append(c.g.Outputs, v.t)
	return nil
}

// transposeTo emits a TRANSPOSE of v's IR tensor (output dimension i is input dimension
// perm[i]) and returns the result as a value in the IR's own order (nchw and flat unset).
func (c *converter) transposeTo(v *value, perm []int, name string) *value {
	xt := c.tensor(v)
	shape := make([]int, len(perm))
	p32 := make([]int32, len(perm))
	for i, p := range perm {
		shape[i], p32[i] = xt.Shape[p], int32(p)
	}
	pt := c.addTensor(name+"_perm", []int{len(perm)}, model.Int32, nil, int32Bytes(p32))
	o := &value{kind: v.kind}
	o.t = c.addTensor(name, shape, xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpTranspose, Inputs: []int{v.t, pt}, Outputs: []int{o.t}})
	return o
}

// irReshape emits a RESHAPE of v's IR tensor to shape and returns it as a value in the
// IR's own order.
func (c *converter) irReshape(v *value, shape []int, name string) *value {
	xt := c.tensor(v)
	s32 := make([]int32, len(shape))
	for i, d := range shape {
		s32[i] = int32(d)
	}
	st := c.addTensor(name+"_shape", []int{len(shape)}, model.Int32, nil, int32Bytes(s32))
	o := &value{kind: v.kind}
	o.t = c.addTensor(name, slices.Clone(shape), xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpReshape, Inputs: []int{v.t, st}, Outputs: []int{o.t}, NewShape: slices.Clone(shape)})
	return o
}

// onnxOrder returns v (kQ or kFloat) with its IR tensor in ONNX's dimension order: v
// itself when it is already, else after a TRANSPOSE from NHWC to NCHW (for a flattened
// NCHW tensor: RESHAPE to NHWC, TRANSPOSE, RESHAPE back). Data movement is free on shares.
func (c *converter) onnxOrder(v *value, name string) *value {
	switch {
	case v.nchw:
		return c.transposeTo(v, []int{0, 3, 1, 2}, name)
	case v.flat != nil && v.flat[1]*v.flat[2] > 1 && v.flat[0] > 1:
		s := c.tensor(v).Shape
		f := v.flat
		u := c.irReshape(v, []int{s[0], f[1], f[2], f[0]}, name+"_nhwc")
		u = c.transposeTo(u, []int{0, 3, 1, 2}, name+"_nchw")
		return c.irReshape(u, slices.Clone(s), name)
	case v.flat != nil:
		o := *v
		o.flat = nil
		return &o
	}
	return v
}

// asNHWC returns a 4-D quantized activation in the IR's NHWC layout (nchw set): v itself,
// or a TRANSPOSE of a value held in ONNX's NCHW order (after a Transpose or Reshape the
// importer computed in ONNX order).
func (c *converter) asNHWC(v *value, name string) *value {
	if v.kind != kQ || v.nchw || v.flat != nil || len(c.tensor(v).Shape) != 4 {
		return v
	}
	o := c.transposeTo(v, []int{0, 2, 3, 1}, name)
	o.nchw = true
	return o
}

// ---- helpers on values ----

// onnxShape is a value's shape in ONNX order.
func (c *converter) onnxShape(v *value) []int {
	switch v.kind {
	case kConst, kWDQ:
		return v.c.shape
	case kDQ:
		return c.onnxShape(v.src)
	}
	s := c.tensor(v).Shape
	if v.nchw {
		return nhwcToNCHW(s)
	}
	if v.flat != nil {
		return []int{s[0], v.flat[0] * v.flat[1] * v.flat[2]}
	}
	return s
}

func nchwToNHWC(s []int) []int { return []int{s[0], s[2], s[3], s[1]} }
func nhwcToNCHW(s []int) []int { return []int{s[0], s[3], s[1], s[2]} }

// transposeData permutes an n-D constant's elements: out dimension i is in dimension
// perm[i]. size is the element size in bytes.
func transposeData(data []byte, shape []int, perm []int, size int) ([]byte, []int) {
	r := len(shape)
	outShape := make([]int, r)
	for i, p := range perm {
		outShape[i] = shape[p]
	}
	inStride := make([]int, r)
	st := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = st
		st *= shape[i]
	}
	out := make([]byte, len(data))
	idx := make([]int, r)
	n := model.NumElements(outShape)
	for o := 0; o < n; o++ {
		off := 0
		for i := 0; i < r; i++ {
			off += idx[i] * inStride[perm[i]]
		}
		copy(out[o*size:(o+1)*size], data[off*size:(off+1)*size])
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < outShape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, outShape
}

// input returns the value of node input i ("" or missing gives nil).
func (c *converter) input(n *onnxpb.NodeProto, i int) (*value, error) {
	if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
		return nil, nil
	}
	v, ok := c.vals[n.GetInput()[i]]
	if !ok {
		return nil, c.nodeErr(n, "input %q is not defined before the node", n.GetInput()[i])
	}
	return v, nil
}

// constIn returns node input i, which must be a constant.
func (c *converter) constIn(n *onnxpb.NodeProto, i int, what string) (*constant, error) {
	v, err := c.input(n, i)
	if err != nil {
		return nil, err
	}
	if v == nil || v.kind != kConst {
		return nil, c.nodeErr(n, "%s (input %d) must be a constant", what, i)
	}
	return v.c, nil
}

// qparamsIn reads a (scale, zero point) input pair; the zero point is optional (0, uint8).
func (c *converter) qparamsIn(n *onnxpb.NodeProto, si, zi int, axis int) (*qparams, error) {
	s, err := c.constIn(n, si, "scale")
	if err != nil {
		return nil, err
	}
	if s.dtype != model.Float32 || len(s.shape) > 1 || s.n() == 0 {
		return nil, c.nodeErr(n, "scale must be a float32 scalar or 1-D tensor, got %v%v", s.dtype, s.shape)
	}
	q := &qparams{scale: s.floats(), dtype: model.Uint8, axis: axis}
	for _, f := range q.scale {
		if !(f > 0) || math.IsInf(float64(f), 0) {
			return nil, c.nodeErr(n, "scale %v is not a positive finite number", f)
		}
	}
	if zv, err := c.input(n, zi); err != nil {
		return nil, err
	} else if zv != nil {
		z, err := c.constIn(n, zi, "zero point")
		if err != nil {
			return nil, err
		}
		switch z.dtype {
		case model.Uint8, model.Int8, model.Int32:
		default:
			return nil, errs.New(errs.UnsupportedOp, "onnx node %d %s %q: zero point type %v (qmpc supports uint8, int8 and int32)", c.nodeIdx, n.GetOpType(), n.GetName(), z.dtype)
		}
		if z.n() != len(q.scale) || len(z.shape) > 1 {
			return nil, c.nodeErr(n, "zero point shape %v does not match scale shape %v", z.shape, s.shape)
		}
		q.dtype, q.zp = z.dtype, z.ints()
	} else {
		q.zp = make([]int64, len(q.scale))
	}
	return q, nil
}

// actParams checks that a kQ value's IR quantization is q (the params a QLinear op states
// for its input).
func (c *converter) actParams(n *onnxpb.NodeProto, v *value, q *qparams) error {
	t := c.tensor(v)
	if q.perChannel() {
		return c.nodeErr(n, "activation %q is quantized per channel", t.Name)
	}
	if t.DType != q.dtype || t.Quant == nil || t.Quant.Scale[0] != q.scale[0] || t.Quant.ZeroPoint[0] != q.zp[0] {
		return c.nodeErr(n, "input %q is quantized as (%v, scale %v, zero point %v) but the node states (%v, scale %v, zero point %v)",
			t.Name, t.DType, t.Quant.Scale, t.Quant.ZeroPoint, q.dtype, q.scale[0], q.zp[0])
	}
	return nil
}

// Attribute accessors.

func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string) []int64 {
	if a := attr(n, name); a != nil {
		return a.GetInts()
	}
	return nil
}

func attrString(n *onnxpb.NodeProto, name string, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// int32Bytes encodes int32 values little endian.
func int32Bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}
