package model

import (
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Validate checks that g is a well-formed quantized graph that qmpc can evaluate:
//   - every tensor index is in range, every tensor has a known element type, constant
//     data has the size its shape and type say, quantization parameters are complete
//     (positive finite scales, one zero point per scale, a valid per-channel axis);
//   - ops are in topological order: each input is a constant, a graph input or the
//     output of an earlier op, and each tensor is written at most once;
//   - each op has the inputs and outputs its kind needs, with the element types qmpc's
//     kernels support (uint8 or int8 activations, int32 biases, float32 only at QUANTIZE
//     and DEQUANTIZE) and the quantization parameters they need;
//   - each op's output shape is the one TFLite's shape inference gives.
//
// Errors carry errs.Model, errs.Shape or errs.DType and name the op (index, kind, name).
func (g *Graph) Validate() error {
	return g.check(false)
}

// InferShapes sets the shape of every op output whose Shape is nil to the inferred
// shape (for importers whose files do not store them), then validates g as Validate.
func (g *Graph) InferShapes() error {
	return g.check(true)
}

func (g *Graph) check(fill bool) error {
	if g == nil {
		return errs.New(errs.Model, "nil graph")
	}
	n := len(g.Tensors)
	for i, t := range g.Tensors {
		if t == nil {
			return errs.New(errs.Model, "tensor %d is nil", i)
		}
		if err := checkTensor(t, fill); err != nil {
			return fmt.Errorf("tensor %d %q: %w", i, t.Name, err)
		}
	}
	// written[i] tells whether tensor i has a value before the op being checked runs.
	written := make([]bool, n)
	for i, t := range g.Tensors {
		written[i] = t.IsConst()
	}
	if len(g.Inputs) == 0 {
		return errs.New(errs.Model, "graph has no inputs")
	}
	if len(g.Outputs) == 0 {
		return errs.New(errs.Model, "graph has no outputs")
	}
	for _, i := range g.Inputs {
		if i < 0 || i >= n {
			return errs.New(errs.Model, "graph input: tensor index %d out of range [0,%d)", i, n)
		}
		if g.Tensors[i].IsConst() {
			return errs.New(errs.Model, "graph input %d %q is a constant", i, g.Tensors[i].Name)
		}
		if g.Tensors[i].Shape == nil {
			return errs.New(errs.Shape, "graph input %d %q has no shape", i, g.Tensors[i].Name)
		}
		written[i] = true
	}
	for oi, op := range g.Ops {
		if op == nil {
			return errs.New(errs.Model, "op %d is nil", oi)
		}
		where := func() string { return fmt.Sprintf("op %d %s %q", oi, op.Kind, op.Name) }
		for _, i := range op.Inputs {
			if i < -1 || i >= n {
				return errs.New(errs.Model, "%s: input tensor index %d out of range [0,%d)", where(), i, n)
			}
			if i >= 0 && !written[i] {
				return errs.New(errs.Model, "%s: input tensor %d %q is neither a constant, a graph input nor the output of an earlier op", where(), i, g.Tensors[i].Name)
			}
		}
		for _, i := range op.Outputs {
			if i < 0 || i >= n {
				return errs.New(errs.Model, "%s: output tensor index %d out of range [0,%d)", where(), i, n)
			}
			if written[i] {
				return errs.New(errs.Model, "%s: output tensor %d %q is already a constant, a graph input or another op's output", where(), i, g.Tensors[i].Name)
			}
		}
		if err := g.checkOp(op, fill); err != nil {
			return fmt.Errorf("%s: %w", where(), err)
		}
		for _, i := range op.Outputs {
			written[i] = true
		}
	}
	for _, i := range g.Outputs {
		if i < 0 || i >= n {
			return errs.New(errs.Model, "graph output: tensor index %d out of range [0,%d)", i, n)
		}
		if !written[i] {
			return errs.New(errs.Model, "graph output %d %q is never computed", i, g.Tensors[i].Name)
		}
	}
	return nil
}

func checkTensor(t *Tensor, fill bool) error {
	if t.DType == Invalid || t.DType.Size() == 0 {
		return errs.New(errs.DType, "invalid element type %v", t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return errs.New(errs.Shape, "negative dimension in shape %v", t.Shape)
		}
	}
	if t.Shape == nil && !fill {
		return errs.New(errs.Shape, "no shape")
	}
	if t.IsConst() {
		if t.Shape == nil {
			return errs.New(errs.Shape, "constant without a shape")
		}
		n, ok := checkedElements(t.Shape)
		if !ok || len(t.Data) != n*t.DType.Size() {
			return errs.New(errs.Model, "constant data has %d bytes, want %d elements of %v for shape %v", len(t.Data), n, t.DType, t.Shape)
		}
	}
	if q := t.Quant; q != nil {
		if len(q.Scale) == 0 || len(q.Scale) != len(q.ZeroPoint) {
			return errs.New(errs.Model, "quantization has %d scales and %d zero points", len(q.Scale), len(q.ZeroPoint))
		}
		for _, s := range q.Scale {
			if !(s > 0) || math.IsInf(float64(s), 0) {
				return errs.New(errs.Model, "quantization scale %v is not a positive finite number", s)
			}
		}
		if lo, hi, ok := dtypeRange(t.DType); ok {
			for _, z := range q.ZeroPoint {
				if z < lo || z > hi {
					return errs.New(errs.Model, "zero point %d out of the %v range [%d,%d]", z, t.DType, lo, hi)
				}
			}
		}
		if len(q.Scale) > 1 && t.Shape != nil {
			if q.Axis < 0 || q.Axis >= len(t.Shape) {
				return errs.New(errs.Model, "per-channel quantization axis %d out of range for shape %v", q.Axis, t.Shape)
			}
			if t.Shape[q.Axis] != len(q.Scale) {
				return errs.New(errs.Model, "%d per-channel scales for dimension %d of size %d", len(q.Scale), q.Axis, t.Shape[q.Axis])
			}
		}
	}
	return nil
}

// dtypeRange is the range of an integer type that zero points must lie in.
func dtypeRange(d DType) (lo, hi int64, ok bool) {
	switch d {
	case Uint8:
		return 0, 255, true
	case Int8:
		return -128, 127, true
	case Int16:
		return math.MinInt16, math.MaxInt16, true
	case Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// checkedElements is NumElements with an overflow check (limit 2^40 elements).
func checkedElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d != 0 && n > (1<<40)/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// opCheck gives the op checks access to the graph's tensors.
type opCheck struct {
	g    *Graph
	op   *Op
	fill bool
}

func (c *opCheck) in(i int) *Tensor { return c.g.Tensors[c.op.Inputs[i]] }

// optIn is input i, or nil when it is absent or -1.
func (c *opCheck) optIn(i int) *Tensor {
	if i >= len(c.op.Inputs) || c.op.Inputs[i] < 0 {
		return nil
	}
	return c.g.Tensors[c.op.Inputs[i]]
}

func (c *opCheck) out() *Tensor { return c.g.Tensors[c.op.Outputs[0]] }

// arity checks the number of inputs (min..max, max < 0 for unbounded) and that the first
// required inputs are present, and requires exactly one output.
func (c *opCheck) arity(min, max, required int) error {
	n := len(c.op.Inputs)
	if n < min || (max >= 0 && n > max) {
		if max == min {
			return errs.New(errs.Model, "%d inputs, want %d", n, min)
		}
		if max < 0 {
			return errs.New(errs.Model, "%d inputs, want at least %d", n, min)
		}
		return errs.New(errs.Model, "%d inputs, want %d to %d", n, min, max)
	}
	for i := 0; i < required && i < n; i++ {
		if c.op.Inputs[i] < 0 {
			return errs.New(errs.Model, "required input %d is absent", i)
		}
	}
	if len(c.op.Outputs) != 1 {
		return errs.New(errs.Model, "%d outputs, want 1", len(c.op.Outputs))
	}
	return nil
}

// setOut compares the output's shape with the inferred one (or fills it in).
func (c *opCheck) setOut(shape []int) error {
	o := c.out()
	if o.Shape == nil && c.fill {
		o.Shape = shape
		return nil
	}
	if !slices.Equal(o.Shape, shape) {
		return errs.New(errs.Shape, "output shape %v, want %v", o.Shape, shape)
	}
	return nil
}

func isQ8(d DType) bool { return d == Uint8 || d == Int8 }

// quantInOut checks that x (input) and y (output) are quantized activations of the same
// element type.
func quantInOut(x, y *Tensor) error {
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := quantAct("output", y); err != nil {
		return err
	}
	return sameDType(x, y)
}

// quantAct checks that t is an 8-bit activation with per-tensor quantization.
func quantAct(what string, t *Tensor) error {
	if !isQ8(t.DType) {
		return errs.New(errs.DType, "%s %q is %v, want uint8 or int8 (qmpc evaluates quantized models)", what, t.Name, t.DType)
	}
	if t.Quant == nil {
		return errs.New(errs.Model, "%s %q has no quantization parameters", what, t.Name)
	}
	if t.Quant.PerChannel() {
		return errs.New(errs.Model, "%s %q is quantized per channel; activations need one scale and zero point", what, t.Name)
	}
	return nil
}

// sameDType checks that out has the dtype of in.
func sameDType(in, out *Tensor) error {
	if in.DType != out.DType {
		return errs.New(errs.DType, "output %q is %v but input %q is %v", out.Name, out.DType, in.Name, in.DType)
	}
	return nil
}

// sameQuant checks that two tensors share their (per-tensor) quantization, as TFLite's
// kernels for ops that do not requantize expect.
func sameQuant(a, b *Tensor) error {
	qa, qb := a.Quant, b.Quant
	if qa == nil || qb == nil {
		return nil
	}
	sa, sb := float64(qa.Scale[0]), float64(qb.Scale[0])
	if qa.ZeroPoint[0] != qb.ZeroPoint[0] || math.Abs(sa-sb) > 1e-6*math.Max(sa, sb) {
		return errs.New(errs.Model, "output %q quantization (scale %v, zero point %d) differs from input %q (scale %v, zero point %d)",
			b.Name, sb, qb.ZeroPoint[0], a.Name, sa, qa.ZeroPoint[0])
	}
	return nil
}

func rank(what string, t *Tensor, r int) error {
	if len(t.Shape) != r {
		return errs.New(errs.Shape, "%s %q has shape %v, want rank %d", what, t.Name, t.Shape, r)
	}
	return nil
}

func (g *Graph) checkOp(op *Op, fill bool) error {
	c := &opCheck{g: g, op: op, fill: fill}
	switch op.Kind {
	case OpConv2D, OpDepthwiseConv2D:
		return c.conv()
	case OpFullyConnected:
		return c.fullyConnected()
	case OpAveragePool2D, OpMaxPool2D:
		return c.pool()
	case OpAdd, OpMul:
		return c.binary()
	case OpMean:
		return c.mean()
	case OpPad:
		return c.pad()
	case OpReshape:
		return c.reshape()
	case OpSqueeze:
		return c.squeeze()
	case OpConcatenation:
		return c.concat()
	case OpQuantize, OpDequantize:
		return c.quantize()
	case OpSoftmax, OpLogistic:
		return c.softmax()
	case OpHardSwish, OpTanh:
		return c.unary()
	case OpLookup:
		return c.lookup()
	case OpTranspose, OpSlice, OpStridedSlice, OpPack, OpGather, OpExpandDims, OpSplit,
		OpDepthToSpace, OpSpaceToDepth:
		return c.move()
	case OpShape, OpCast, OpSub, OpFloorDiv, OpReduceProd:
		return errs.New(errs.UnsupportedOp, "%v of a tensor not known at import time (qmpc folds it only on constants)", op.Kind)
	}
	return errs.New(errs.Model, "unknown op kind %v", op.Kind)
}

// ConvOutSize is TFLite's output size of a convolution or pooling window along one
// dimension (0 if the window does not fit or an argument is invalid).
func ConvOutSize(pad Padding, in, filter, stride, dilation int) int {
	if stride <= 0 || dilation <= 0 || filter <= 0 {
		return 0
	}
	eff := (filter-1)*dilation + 1
	switch pad {
	case PadSame:
		return (in + stride - 1) / stride
	case PadValid:
		if in < eff {
			return 0
		}
		return (in + stride - eff) / stride
	}
	return 0
}

// windowOptions checks strides, dilations and padding.
func (c *opCheck) windowOptions(dilation bool) error {
	op := c.op
	if op.StrideH < 1 || op.StrideW < 1 {
		return errs.New(errs.Model, "strides (%d,%d), want >= 1", op.StrideH, op.StrideW)
	}
	if dilation && (op.DilationH < 1 || op.DilationW < 1) {
		return errs.New(errs.Model, "dilations (%d,%d), want >= 1", op.DilationH, op.DilationW)
	}
	if op.Padding != PadSame && op.Padding != PadValid &&
		(op.Padding != PadExplicit || (op.Kind != OpAveragePool2D && op.Kind != OpMaxPool2D)) {
		return errs.New(errs.Model, "unknown padding %d for %v", op.Padding, op.Kind)
	}
	if op.Activation > ActRelu6 {
		return errs.New(errs.Model, "unknown fused activation %v", op.Activation)
	}
	return nil
}

func (c *opCheck) conv() error {
	op := c.op
	if err := c.arity(2, 3, 2); err != nil {
		return err
	}
	if err := c.windowOptions(true); err != nil {
		return err
	}
	x, w, b, y := c.in(0), c.in(1), c.optIn(2), c.out()
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := rank("input", x, 4); err != nil {
		return err
	}
	if err := rank("filter", w, 4); err != nil {
		return err
	}
	if !w.IsConst() {
		return errs.New(errs.Model, "filter %q is not a constant", w.Name)
	}
	if w.DType != x.DType && !c.mixedWeightsOK(w) {
		return errs.New(errs.DType, "filter %q is %v but input is %v", w.Name, w.DType, x.DType)
	}
	if w.Quant == nil {
		return errs.New(errs.Model, "filter %q has no quantization parameters", w.Name)
	}
	n, h, wd, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	kh, kw := w.Shape[1], w.Shape[2]
	var outC, chanAxis int
	if op.Kind == OpConv2D {
		outC, chanAxis = w.Shape[0], 0
		if w.Shape[3] != ch {
			return errs.New(errs.Shape, "filter %q has shape %v (OHWI) but the input has %d channels", w.Name, w.Shape, ch)
		}
	} else {
		outC, chanAxis = w.Shape[3], 3
		if w.Shape[0] != 1 {
			return errs.New(errs.Shape, "depthwise filter %q has shape %v, want [1,KH,KW,C*M]", w.Name, w.Shape)
		}
		if op.DepthMultiplier < 1 || ch*op.DepthMultiplier != outC {
			return errs.New(errs.Shape, "depthwise filter %q has %d channels, want input channels %d x depth multiplier %d", w.Name, outC, ch, op.DepthMultiplier)
		}
	}
	if err := c.weightQuant(w, chanAxis); err != nil {
		return err
	}
	if kh < 1 || kw < 1 || outC < 1 {
		return errs.New(errs.Shape, "filter %q has empty shape %v", w.Name, w.Shape)
	}
	if err := c.bias(b, outC); err != nil {
		return err
	}
	if err := quantAct("output", y); err != nil {
		return err
	}
	if err := sameDType(x, y); err != nil {
		return err
	}
	oh := ConvOutSize(op.Padding, h, kh, op.StrideH, op.DilationH)
	ow := ConvOutSize(op.Padding, wd, kw, op.StrideW, op.DilationW)
	if oh < 1 || ow < 1 {
		return errs.New(errs.Shape, "filter %dx%d (dilation %d,%d) does not fit the %dx%d input with %v padding",
			kh, kw, op.DilationH, op.DilationW, h, wd, padName(op.Padding))
	}
	return c.setOut([]int{n, oh, ow, outC})
}

func padName(p Padding) string {
	switch p {
	case PadSame:
		return "SAME"
	case PadExplicit:
		return "EXPLICIT"
	}
	return "VALID"
}

// PoolOutSize is the output size of a pool's window along one dimension: ConvOutSize for
// SAME and VALID, and for PadExplicit floor((in + before + after - filter) / stride) + 1,
// 0 unless every window holds at least one tap of the input.
func PoolOutSize(op *Op, axis, in, filter, stride int) int {
	if op.Padding != PadExplicit {
		return ConvOutSize(op.Padding, in, filter, stride, 1)
	}
	before, after := op.Pads[axis], op.Pads[axis+2]
	if stride <= 0 || filter <= 0 || before < 0 || after < 0 || before >= filter || in+before+after < filter {
		return 0
	}
	out := (in+before+after-filter)/stride + 1
	if (out-1)*stride-before >= in {
		return 0
	}
	return out
}

// weightQuant checks that a weight tensor is quantized per tensor, or per channel along
// chanAxis (int8 only, as TFLite).
func (c *opCheck) weightQuant(w *Tensor, chanAxis int) error {
	if !w.Quant.PerChannel() {
		return nil
	}
	if w.DType != Int8 && !c.mixedWeightsOK(w) {
		return errs.New(errs.Model, "weights %q are %v with per-channel quantization; TFLite supports that for int8 only", w.Name, w.DType)
	}
	if w.Quant.Axis != chanAxis {
		return errs.New(errs.Model, "weights %q are quantized per channel along axis %d, want %d", w.Name, w.Quant.Axis, chanAxis)
	}
	return nil
}

// mixedWeightsOK reports whether 8-bit weights may differ in type from the input, or be
// uint8 per channel: ONNX Runtime and PyTorch (fbgemm) ops (RoundHalfEven) use uint8
// activations with int8 weights, which the integer accumulation handles exactly.
func (c *opCheck) mixedWeightsOK(w *Tensor) bool {
	return c.op.Rounding == RoundHalfEven && isQ8(w.DType)
}

// bias checks an optional int32 bias of n elements.
func (c *opCheck) bias(b *Tensor, n int) error {
	if b == nil {
		return nil
	}
	if b.DType != Int32 {
		return errs.New(errs.DType, "bias %q is %v, want int32", b.Name, b.DType)
	}
	if !b.IsConst() {
		return errs.New(errs.Model, "bias %q is not a constant", b.Name)
	}
	if b.NumElements() != n || len(b.Shape) != 1 {
		return errs.New(errs.Shape, "bias %q has shape %v, want [%d]", b.Name, b.Shape, n)
	}
	return nil
}

func (c *opCheck) fullyConnected() error {
	op := c.op
	if err := c.arity(2, 3, 2); err != nil {
		return err
	}
	if op.Activation > ActRelu6 {
		return errs.New(errs.Model, "unknown fused activation %v", op.Activation)
	}
	x, w, b, y := c.in(0), c.in(1), c.optIn(2), c.out()
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := rank("weights", w, 2); err != nil {
		return err
	}
	if !w.IsConst() {
		return errs.New(errs.Model, "weights %q are not a constant", w.Name)
	}
	if w.DType != x.DType && !c.mixedWeightsOK(w) {
		return errs.New(errs.DType, "weights %q are %v but input is %v", w.Name, w.DType, x.DType)
	}
	if w.Quant == nil {
		return errs.New(errs.Model, "weights %q have no quantization parameters", w.Name)
	}
	if err := c.weightQuant(w, 0); err != nil {
		return err
	}
	units, depth := w.Shape[0], w.Shape[1]
	if units < 1 || depth < 1 {
		return errs.New(errs.Shape, "weights %q have empty shape %v", w.Name, w.Shape)
	}
	if err := c.bias(b, units); err != nil {
		return err
	}
	if err := quantAct("output", y); err != nil {
		return err
	}
	if err := sameDType(x, y); err != nil {
		return err
	}
	if len(x.Shape) < 1 {
		return errs.New(errs.Shape, "input %q is a scalar", x.Name)
	}
	var want []int
	if op.KeepDims {
		if last := x.Shape[len(x.Shape)-1]; last != depth {
			return errs.New(errs.Shape, "input %q has shape %v; with keep_num_dims its last dimension must be the weights' input size %d", x.Name, x.Shape, depth)
		}
		want = append(slices.Clone(x.Shape[:len(x.Shape)-1]), units)
	} else {
		ne := x.NumElements()
		if ne%depth != 0 {
			return errs.New(errs.Shape, "input %q has shape %v, whose %d elements are not a multiple of the weights' input size %d", x.Name, x.Shape, ne, depth)
		}
		want = []int{ne / depth, units}
	}
	return c.setOut(want)
}

func (c *opCheck) pool() error {
	op := c.op
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	if err := c.windowOptions(false); err != nil {
		return err
	}
	if op.FilterH < 1 || op.FilterW < 1 {
		return errs.New(errs.Model, "filter size %dx%d, want >= 1", op.FilterH, op.FilterW)
	}
	x, y := c.in(0), c.out()
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := rank("input", x, 4); err != nil {
		return err
	}
	if err := quantAct("output", y); err != nil {
		return err
	}
	if err := sameDType(x, y); err != nil {
		return err
	}
	// ONNX Runtime's QLinearAveragePool requantizes (RoundHalfEven); TFLite's pools keep
	// the input's parameters.
	if op.Kind == OpMaxPool2D || op.Rounding != RoundHalfEven {
		if err := sameQuant(x, y); err != nil {
			return err
		}
	}
	oh := PoolOutSize(op, 0, x.Shape[1], op.FilterH, op.StrideH)
	ow := PoolOutSize(op, 1, x.Shape[2], op.FilterW, op.StrideW)
	if oh < 1 || ow < 1 {
		return errs.New(errs.Shape, "window %dx%d does not fit the %dx%d input with %v padding %v",
			op.FilterH, op.FilterW, x.Shape[1], x.Shape[2], padName(op.Padding), op.Pads)
	}
	return c.setOut([]int{x.Shape[0], oh, ow, x.Shape[3]})
}

// BroadcastShapes returns the numpy/TFLite broadcast of two shapes.
func BroadcastShapes(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 1; i <= n; i++ {
		da, db := 1, 1
		if i <= len(a) {
			da = a[len(a)-i]
		}
		if i <= len(b) {
			db = b[len(b)-i]
		}
		switch {
		case da == db:
			out[n-i] = da
		case da == 1:
			out[n-i] = db
		case db == 1:
			out[n-i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

func (c *opCheck) binary() error {
	if err := c.arity(2, 2, 2); err != nil {
		return err
	}
	if c.op.Activation > ActRelu6 {
		return errs.New(errs.Model, "unknown fused activation %v", c.op.Activation)
	}
	a, b, y := c.in(0), c.in(1), c.out()
	for _, t := range []struct {
		what string
		t    *Tensor
	}{{"input 0", a}, {"input 1", b}, {"output", y}} {
		if err := quantAct(t.what, t.t); err != nil {
			return err
		}
	}
	if a.DType != b.DType {
		return errs.New(errs.DType, "inputs %q (%v) and %q (%v) differ in type", a.Name, a.DType, b.Name, b.DType)
	}
	if err := sameDType(a, y); err != nil {
		return err
	}
	s, ok := BroadcastShapes(a.Shape, b.Shape)
	if !ok {
		return errs.New(errs.Shape, "input shapes %v and %v do not broadcast", a.Shape, b.Shape)
	}
	return c.setOut(s)
}

// intData reads a constant int32 or int64 tensor.
func intData(t *Tensor) ([]int, error) {
	if !t.IsConst() {
		return nil, errs.New(errs.Model, "%q is not a constant", t.Name)
	}
	n := t.NumElements()
	out := make([]int, n)
	switch t.DType {
	case Int32:
		for i := range out {
			d := t.Data[4*i:]
			out[i] = int(int32(uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16 | uint32(d[3])<<24))
		}
	case Int64:
		for i := range out {
			d := t.Data[8*i:]
			var v uint64
			for k := 7; k >= 0; k-- {
				v = v<<8 | uint64(d[k])
			}
			out[i] = int(int64(v))
		}
	default:
		return nil, errs.New(errs.DType, "%q is %v, want int32 or int64", t.Name, t.DType)
	}
	return out, nil
}

// IntData returns the contents of a constant int32 or int64 tensor (axes, paddings,
// shapes).
func IntData(t *Tensor) ([]int, error) { return intData(t) }

// normAxis maps an axis in [-rank, rank) to [0, rank).
func normAxis(axis, rank int) (int, bool) {
	if axis < -rank || axis >= rank {
		return 0, false
	}
	if axis < 0 {
		axis += rank
	}
	return axis, true
}

// MeanAxes returns the sorted, de-duplicated, non-negative axes a MEAN op reduces.
func (g *Graph) MeanAxes(op *Op) ([]int, error) {
	x, at := g.Tensors[op.Inputs[0]], g.Tensors[op.Inputs[1]]
	raw, err := intData(at)
	if err != nil {
		return nil, fmt.Errorf("axes: %w", err)
	}
	var axes []int
	for _, a := range raw {
		na, ok := normAxis(a, len(x.Shape))
		if !ok {
			return nil, errs.New(errs.Shape, "axis %d out of range for input shape %v", a, x.Shape)
		}
		if !slices.Contains(axes, na) {
			axes = append(axes, na)
		}
	}
	slices.Sort(axes)
	return axes, nil
}

func (c *opCheck) mean() error {
	if err := c.arity(2, 2, 2); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantInOut(x, y); err != nil {
		return err
	}
	if r := len(c.in(1).Shape); r > 1 {
		return errs.New(errs.Shape, "axes %q has rank %d, want 0 or 1", c.in(1).Name, r)
	}
	axes, err := c.g.MeanAxes(c.op)
	if err != nil {
		return err
	}
	var want []int
	for i, d := range x.Shape {
		switch {
		case !slices.Contains(axes, i):
			want = append(want, d)
		case c.op.KeepDims:
			want = append(want, 1)
		}
	}
	if want == nil {
		want = []int{}
	}
	return c.setOut(want)
}

// Paddings returns a PAD op's paddings as [rank][2]int (before, after).
func (g *Graph) Paddings(op *Op) ([][2]int, error) {
	x, pt := g.Tensors[op.Inputs[0]], g.Tensors[op.Inputs[1]]
	if !slices.Equal(pt.Shape, []int{len(x.Shape), 2}) {
		return nil, errs.New(errs.Shape, "paddings %q have shape %v, want [%d 2]", pt.Name, pt.Shape, len(x.Shape))
	}
	raw, err := intData(pt)
	if err != nil {
		return nil, fmt.Errorf("paddings: %w", err)
	}
	out := make([][2]int, len(x.Shape))
	for i := range out {
		out[i] = [2]int{raw[2*i], raw[2*i+1]}
		if out[i][0] < 0 || out[i][1] < 0 {
			return nil, errs.New(errs.Shape, "negative padding %v on axis %d", out[i], i)
		}
		if out[i][0] > 1<<24 || out[i][1] > 1<<24 {
			return nil, errs.New(errs.Shape, "padding %v on axis %d is too large", out[i], i)
		}
	}
	return out, nil
}

// PadValue returns the stored value a PAD op fills the padding with: its optional third
// input (TFLite PADV2's constant_values, a scalar constant of the input's type), else the
// input's zero point (a real 0; 0 for unquantized tensors). A max pool padded with the
// type's minimum sees "-inf" padding: a padded position never exceeds a real one.
func (g *Graph) PadValue(op *Op) (int32, error) {
	x := g.Tensors[op.Inputs[0]]
	if len(op.Inputs) < 3 || op.Inputs[2] < 0 {
		if x.Quant != nil && len(x.Quant.ZeroPoint) > 0 {
			return int32(x.Quant.ZeroPoint[0]), nil
		}
		return 0, nil
	}
	c := g.Tensors[op.Inputs[2]]
	if !c.IsConst() || c.NumElements() != 1 || c.DType != x.DType {
		return 0, errs.New(errs.Model, "pad value %q: want a scalar constant of the input's type %v", c.Name, x.DType)
	}
	switch c.DType {
	case Uint8:
		return int32(c.Data[0]), nil
	case Int8:
		return int32(int8(c.Data[0])), nil
	}
	return 0, errs.New(errs.Model, "pad value %q of type %v, want uint8 or int8", c.Name, c.DType)
}

func (c *opCheck) pad() error {
	if err := c.arity(2, 3, 2); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantInOut(x, y); err != nil {
		return err
	}
	if err := sameQuant(x, y); err != nil {
		return err
	}
	pads, err := c.g.Paddings(c.op)
	if err != nil {
		return err
	}
	if _, err := c.g.PadValue(c.op); err != nil {
		return err
	}
	want := make([]int, len(x.Shape))
	for i, d := range x.Shape {
		want[i] = d + pads[i][0] + pads[i][1]
	}
	return c.setOut(want)
}

// ReshapeTarget returns the shape a RESHAPE op produces, as TFLite resolves it: the shape
// input when present and 1-D, else the new_shape option, else the output tensor's shape;
// a -1 entry takes the remaining size.
func (g *Graph) ReshapeTarget(op *Op) ([]int, error) {
	x := g.Tensors[op.Inputs[0]]
	var spec []int
	switch {
	case len(op.Inputs) > 1 && op.Inputs[1] >= 0 && len(g.Tensors[op.Inputs[1]].Shape) == 1:
		s, err := intData(g.Tensors[op.Inputs[1]])
		if err != nil {
			return nil, fmt.Errorf("shape input: %w", err)
		}
		spec = s
	case op.NewShape != nil:
		spec = op.NewShape
	default:
		if len(op.Outputs) == 0 || g.Tensors[op.Outputs[0]].Shape == nil {
			return nil, errs.New(errs.Shape, "no target shape")
		}
		spec = g.Tensors[op.Outputs[0]].Shape
	}
	out := slices.Clone(spec)
	if out == nil {
		out = []int{}
	}
	unknown, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d < 0:
			return nil, errs.New(errs.Shape, "invalid target shape %v", spec)
		default:
			if d != 0 && known > (1<<40)/d {
				return nil, errs.New(errs.Shape, "target shape %v is too large", spec)
			}
			known *= d
		}
	}
	ne := x.NumElements()
	if unknown >= 0 {
		if known == 0 || ne%known != 0 {
			return nil, errs.New(errs.Shape, "cannot reshape %v (%d elements) to %v", x.Shape, ne, spec)
		}
		out[unknown] = ne / known
		known = ne
	}
	if known != ne {
		return nil, errs.New(errs.Shape, "cannot reshape %v (%d elements) to %v (%d elements)", x.Shape, ne, spec, known)
	}
	return out, nil
}

func (c *opCheck) reshape() error {
	if err := c.arity(1, 2, 1); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := sameDType(x, y); err != nil {
		return err
	}
	want, err := c.g.ReshapeTarget(c.op)
	if err != nil {
		return err
	}
	return c.setOut(want)
}

func (c *opCheck) squeeze() error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantAct("input", x); err != nil {
		return err
	}
	if err := sameDType(x, y); err != nil {
		return err
	}
	want, err := squeezeShape(x.Shape, c.op.SqueezeDims)
	if err != nil {
		return err
	}
	return c.setOut(want)
}

func (c *opCheck) concat() error {
	if err := c.arity(1, -1, len(c.op.Inputs)); err != nil {
		return err
	}
	if c.op.Activation > ActRelu6 {
		return errs.New(errs.Model, "unknown fused activation %v", c.op.Activation)
	}
	x0, y := c.in(0), c.out()
	if err := quantAct("output", y); err != nil {
		return err
	}
	axis, ok := normAxis(c.op.Axis, len(x0.Shape))
	if !ok {
		return errs.New(errs.Shape, "axis %d out of range for input shape %v", c.op.Axis, x0.Shape)
	}
	want := slices.Clone(x0.Shape)
	want[axis] = 0
	for i := range c.op.Inputs {
		x := c.in(i)
		if err := quantAct(fmt.Sprintf("input %d", i), x); err != nil {
			return err
		}
		if err := sameDType(x, y); err != nil {
			return err
		}
		if y.DType == Int8 && c.op.Rounding != RoundHalfEven { // TFLite requantizes uint8 inputs only
			if err := sameQuant(x, y); err != nil {
				return fmt.Errorf("int8 CONCATENATION: %w", err)
			}
		}
		if len(x.Shape) != len(want) {
			return errs.New(errs.Shape, "input %d %q has shape %v, want rank %d", i, x.Name, x.Shape, len(want))
		}
		for d := range want {
			if d != axis && x.Shape[d] != x0.Shape[d] {
				return errs.New(errs.Shape, "input %d %q has shape %v, incompatible with %v outside axis %d", i, x.Name, x.Shape, x0.Shape, axis)
			}
		}
		want[axis] += x.Shape[axis]
	}
	return c.setOut(want)
}

func (c *opCheck) quantize() error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if c.op.Kind == OpQuantize {
		if x.DType != Float32 {
			if err := quantAct("input", x); err != nil {
				return err
			}
		}
		if err := quantAct("output", y); err != nil {
			return err
		}
	} else {
		if err := quantAct("input", x); err != nil {
			return err
		}
		if y.DType != Float32 {
			return errs.New(errs.DType, "output %q is %v, want float32", y.Name, y.DType)
		}
	}
	return c.setOut(slices.Clone(x.Shape))
}

// softmax checks SOFTMAX and LOGISTIC, whose quantized outputs TFLite fixes to scale
// 1/256 and zero point 0 (uint8) or -128 (int8).
// unary checks an elementwise op of one quantized input whose output has the input's
// shape and its own quantization (HARD_SWISH, TANH).
func (c *opCheck) unary() error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantInOut(x, y); err != nil {
		return err
	}
	return c.setOut(slices.Clone(x.Shape))
}

func (c *opCheck) lookup() error {
	if err := c.arity(2, 2, 2); err != nil {
		return err
	}
	x, t, y := c.in(0), c.in(1), c.out()
	if err := quantInOut(x, y); err != nil {
		return err
	}
	if x.DType.Size() != 1 || y.DType.Size() != 1 {
		return errs.New(errs.DType, "input %v and output %v, want 8-bit types", x.DType, y.DType)
	}
	if !t.IsConst() || t.DType != y.DType || t.NumElements() != 256 {
		return errs.New(errs.Model, "table %q: want a constant of 256 values of the output's type %v", t.Name, y.DType)
	}
	return c.setOut(slices.Clone(x.Shape))
}

func (c *opCheck) softmax() error {
	if err := c.arity(1, 1, 1); err != nil {
		return err
	}
	x, y := c.in(0), c.out()
	if err := quantInOut(x, y); err != nil {
		return err
	}
	if c.op.Kind == OpSoftmax {
		if len(x.Shape) < 1 {
			return errs.New(errs.Shape, "input %q is a scalar", x.Name)
		}
		if b := float64(c.op.Beta); !(b > 0) || math.IsInf(b, 0) {
			return errs.New(errs.Model, "beta %v, want a positive finite number", c.op.Beta)
		}
	}
	wantZP := int64(0)
	if y.DType == Int8 {
		wantZP = -128
	}
	if s := float64(y.Quant.Scale[0]); math.Abs(s-1.0/256) > 0.001/256 || y.Quant.ZeroPoint[0] != wantZP {
		return errs.New(errs.Model, "output %q has scale %v and zero point %d; TFLite requires 1/256 and %d", y.Name, s, y.Quant.ZeroPoint[0], wantZP)
	}
	return c.setOut(slices.Clone(x.Shape))
}

// move checks a data-movement op on activations: 8-bit inputs and output of one type and
// one quantization (these ops copy elements, they never requantize) or all float32,
// constant structural operands, and the output shape MoveIndex gives.
func (c *opCheck) move() error {
	data := MoveDataInputs(c.op)
	if err := c.arity(len(data), -1, len(data)); err != nil {
		return err
	}
	y := c.out()
	float := y.DType == Float32
	for _, k := range data {
		float = float && c.in(k).DType == Float32
	}
	if float { // float data movement (e.g. of a float input before its QUANTIZE)
		shape, err := c.g.MoveShape(c.op)
		if err != nil {
			return err
		}
		return c.setOut(shape)
	}
	if err := quantAct("output", y); err != nil {
		return err
	}
	for _, k := range data {
		x := c.in(k)
		if err := quantAct(fmt.Sprintf("input %d", k), x); err != nil {
			return err
		}
		if err := sameDType(x, y); err != nil {
			return err
		}
		if err := sameQuant(x, y); err != nil {
			return err
		}
	}
	shape, err := c.g.MoveShape(c.op)
	if err != nil {
		return err
	}
	return c.setOut(shape)
}
