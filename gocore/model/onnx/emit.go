package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// window is a 2-D convolution or pooling window in ONNX terms.
type window struct {
	kh, kw, sh, sw, dh, dw int
	pads                   [4]int // top, left, bottom, right
	// ceil is ceil_mode = 1 where it changes an output size: the output sizes round up,
	// and a last window that would start in the end padding is dropped (ONNX and PyTorch).
	ceil bool
}

// readWindow reads kernel_shape (or the given kernel), strides, dilations, pads and
// auto_pad for an input of spatial size h x w. It returns ok = false after recording an
// unsupported variant.
func (c *converter) readWindow(n *onnxpb.NodeProto, h, w, kh, kw int) (win window, ok bool, err error) {
	ks := attrInts(n, "kernel_shape")
	if ks != nil {
		if len(ks) != 2 {
			c.unsupported(n, fmt.Sprintf("%s(%d-D)", n.GetOpType(), len(ks)))
			return win, false, nil
		}
		if (kh > 0 && int(ks[0]) != kh) || (kw > 0 && int(ks[1]) != kw) {
			return win, false, c.nodeErr(n, "kernel_shape %v differs from the weights' %dx%d", ks, kh, kw)
		}
		kh, kw = int(ks[0]), int(ks[1])
	}
	if kh < 1 || kw < 1 || kh > maxDimSize || kw > maxDimSize {
		return win, false, c.nodeErr(n, "kernel size %dx%d", kh, kw)
	}
	win = window{kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1}
	if s := attrInts(n, "strides"); s != nil {
		if len(s) != 2 || s[0] < 1 || s[1] < 1 || s[0] > maxDimSize || s[1] > maxDimSize {
			return win, false, c.nodeErr(n, "strides %v", s)
		}
		win.sh, win.sw = int(s[0]), int(s[1])
	}
	if d := attrInts(n, "dilations"); d != nil {
		if len(d) != 2 || d[0] < 1 || d[1] < 1 || d[0] > maxDimSize || d[1] > maxDimSize {
			return win, false, c.nodeErr(n, "dilations %v", d)
		}
		win.dh, win.dw = int(d[0]), int(d[1])
	}
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if p := attrInts(n, "pads"); p != nil {
			if len(p) != 4 {
				return win, false, c.nodeErr(n, "pads %v", p)
			}
			for i, v := range p {
				if v < 0 || v > maxDimSize {
					return win, false, c.nodeErr(n, "pads %v", p)
				}
				// ONNX: [top, left, bottom, right]
				win.pads[i] = int(v)
			}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i, d := range [][3]int{{h, win.kh, win.sh}, {w, win.kw, win.sw}} {
			dil := win.dh
			if i == 1 {
				dil = win.dw
			}
			out := (d[0] + d[2] - 1) / d[2]
			total := max((out-1)*d[2]+(d[1]-1)*dil+1-d[0], 0)
			small, big := total/2, total-total/2
			if ap == "SAME_LOWER" {
				small, big = big, small
			}
			win.pads[i], win.pads[i+2] = small, big
		}
	default:
		return win, false, c.nodeErr(n, "auto_pad %q", ap)
	}
	if attrInt(n, "ceil_mode", 0) != 0 {
		// ceil_mode only matters when the floor and ceil output sizes differ.
		win.ceil = true
		oh, ow := win.outSize(h, w)
		win.ceil = false
		if fh, fw := win.outSize(h, w); fh != oh || fw != ow {
			win.ceil = true
		}
	}
	return win, true, nil
}

// outSize is the output size of the window over an h x w input: floor((in + pads - eff) /
// stride) + 1, or with ceil_mode the ceiling, less one when the last window would start
// in the end padding (PyTorch's pooling_output_shape, ONNX Runtime's pool attributes).
func (w *window) outSize(h, wd int) (int, int) {
	size := func(in, pb, pe, k, s, d int) int {
		num := in + pb + pe - ((k-1)*d + 1)
		if !w.ceil {
			return num/s + 1
		}
		out := (num+s-1)/s + 1
		if (out-1)*s >= in+pb {
			out--
		}
		return out
	}
	return size(h, w.pads[0], w.pads[2], w.kh, w.sh, w.dh), size(wd, w.pads[1], w.pads[3], w.kw, w.sw, w.dw)
}

// ceilPads returns the window's pads with the bottom and right pads grown so that a VALID
// window over the padded input has the ceil_mode output size.
func (w *window) ceilPads(h, wd int) [4]int {
	p := w.pads
	oh, ow := w.outSize(h, wd)
	p[2] = max(p[2], (oh-1)*w.sh+(w.kh-1)*w.dh+1-h-p[0])
	p[3] = max(p[3], (ow-1)*w.sw+(w.kw-1)*w.dw+1-wd-p[1])
	return p
}

// irPadding maps the ONNX pads to TFLite's SAME or VALID when they are equal to one of
// them; otherwise it reports explicit = true (the caller pads first, then uses VALID).
func (w *window) irPadding(h, wd int) (p model.Padding, explicit bool) {
	if w.pads == [4]int{} {
		return model.PadValid, false
	}
	same := func(in, k, s, d int) (int, int) {
		out := (in + s - 1) / s
		total := max((out-1)*s+(k-1)*d+1-in, 0)
		return total / 2, total - total/2
	}
	t, b := same(h, w.kh, w.sh, w.dh)
	l, r := same(wd, w.kw, w.sw, w.dw)
	if w.pads == [4]int{t, l, b, r} {
		return model.PadSame, false
	}
	return model.PadValid, true
}

// padInput emits a PAD of x (NHWC) by the window's pads; the padding value is the zero
// point (PAD's quantized semantics), which a convolution's (x - z_x) turns into zero.
func (c *converter) padInput(x *value, w *window, name string) *value {
	return c.padBy(x, w.pads, nil, name)
}

// padBy emits a PAD of x (NHWC) by pads (top, left, bottom, right), with the stored value
// *val (PADV2) or the zero point when val is nil.
func (c *converter) padBy(x *value, p [4]int, val *int32, name string) *value {
	xt := c.tensor(x)
	pads := []int32{0, 0, int32(p[0]), int32(p[2]), int32(p[1]), int32(p[3]), 0, 0}
	pt := c.addTensor(name+"_paddings", []int{4, 2}, model.Int32, nil, int32Bytes(pads))
	ins := []int{x.t, pt}
	if val != nil {
		b := []byte{byte(*val)}
		ins = append(ins, c.addTensor(name+"_pad_value", []int{}, xt.DType, cloneQuant(xt.Quant), b))
	}
	s := xt.Shape
	o := &value{kind: kQ, nchw: x.nchw}
	o.t = c.addTensor(name+"_padded", []int{s[0], s[1] + p[0] + p[2], s[2] + p[1] + p[3], s[3]},
		xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpPad, Inputs: ins, Outputs: []int{o.t}})
	return o
}

func cloneQuant(q *model.Quant) *model.Quant {
	if q == nil {
		return nil
	}
	return &model.Quant{Scale: slices.Clone(q.Scale), ZeroPoint: slices.Clone(q.ZeroPoint), Axis: q.Axis}
}

// biasTensor converts a bias input (int32 constant, DequantizeLinear of one, or a float
// constant that is quantized here with scale s_x * s_w[o], rounding half to even) into an
// IR int32 tensor of n elements.
func (c *converter) biasTensor(n *onnxpb.NodeProto, b *value, nOut int, sx float32, sw []float32, name string) (int, bool, error) {
	if b == nil {
		return -1, true, nil
	}
	var k *constant
	switch b.kind {
	case kConst, kWDQ:
		k = b.c
	default:
		c.unsupported(n, n.GetOpType()+"(non-constant bias)")
		return 0, false, nil
	}
	if k.n() != nOut || (len(k.shape) != 1 && !(len(k.shape) == 2 && k.shape[0] == 1)) {
		return 0, false, c.nodeErr(n, "bias shape %v, want [%d]", k.shape, nOut)
	}
	vals := make([]int32, nOut)
	switch {
	case k.dtype == model.Int32:
		for i, v := range k.ints() {
			vals[i] = int32(v)
		}
	case k.dtype == model.Float32 && b.kind == kConst:
		for i, f := range k.floats() {
			s := sw[0]
			if len(sw) > 1 {
				s = sw[i]
			}
			r := math.RoundToEven(float64(f) / float64(sx*s))
			if r > math.MaxInt32 || r < math.MinInt32 {
				return 0, false, c.nodeErr(n, "bias %v does not fit int32 at scale %v", f, sx*s)
			}
			vals[i] = int32(r)
		}
	default:
		c.unsupported(n, fmt.Sprintf("%s(%v bias)", n.GetOpType(), k.dtype))
		return 0, false, nil
	}
	bs := make([]float32, len(sw))
	for i, s := range sw {
		bs[i] = sx * s
	}
	bq := &model.Quant{Scale: bs, ZeroPoint: make([]int64, len(bs))}
	return c.addTensor(name+"_bias", []int{nOut}, model.Int32, bq, int32Bytes(vals)), true, nil
}

// emitConv emits CONV_2D or DEPTHWISE_CONV_2D for an ONNX Conv/QLinearConv.
func (c *converter) emitConv(n *onnxpb.NodeProto, x *value, w *constant, wq *qparams, b *value, q *qparams, act model.Activation, name string) (*value, error) {
	x = c.asNHWC(x, name+"_nhwc")
	xt := c.tensor(x)
	if !x.nchw || len(xt.Shape) != 4 {
		c.unsupported(n, fmt.Sprintf("%s(%d-D input)", n.GetOpType(), len(c.onnxShape(x))))
		return nil, nil
	}
	if len(w.shape) != 4 {
		c.unsupported(n, fmt.Sprintf("%s(%d-D weights)", n.GetOpType(), len(w.shape)))
		return nil, nil
	}
	N, H, W, C := xt.Shape[0], xt.Shape[1], xt.Shape[2], xt.Shape[3]
	O, Ig, KH, KW := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	group := int(attrInt(n, "group", 1))
	win, ok, err := c.readWindow(n, H, W, KH, KW)
	if err != nil || !ok {
		return nil, err
	}
	if wq.perChannel() && wq.axis != 0 {
		return nil, c.nodeErr(n, "weights quantized along axis %d, want 0", wq.axis)
	}
	var kind model.OpKind
	var wdata []byte
	var wshape []int
	var chanAxis int
	size := w.dtype.Size()
	switch {
	case group == 1 && Ig == C:
		kind, chanAxis = model.OpConv2D, 0
		wdata, wshape = transposeData(w.data, w.shape, []int{0, 2, 3, 1}, size) // OIHW -> OHWI
	case group == C && Ig == 1 && O%C == 0 && C > 1:
		kind, chanAxis = model.OpDepthwiseConv2D, 3
		d, s := transposeData(w.data, w.shape, []int{1, 2, 3, 0}, size) // [O,1,KH,KW] -> [1,KH,KW,O]
		wdata, wshape = d, s
	case group == 1:
		return nil, c.nodeErr(n, "weights %v for %d input channels", w.shape, C)
	default:
		c.unsupported(n, fmt.Sprintf("%s(group=%d)", n.GetOpType(), group))
		return nil, nil
	}
	if wq.perChannel() && len(wq.scale) != O {
		return nil, c.nodeErr(n, "%d weight scales for %d output channels", len(wq.scale), O)
	}
	sx := c.tensor(x).Quant.Scale[0]
	bias, ok, err := c.biasTensor(n, b, O, sx, wq.scale, name)
	if err != nil || !ok {
		return nil, err
	}
	pad, explicit := win.irPadding(H, W)
	in := x
	if explicit {
		in = c.padInput(x, &win, name)
		pad = model.PadValid
	}
	oh, ow := win.outSize(H, W)
	if oh < 1 || ow < 1 {
		return nil, c.nodeErr(n, "window does not fit the %dx%d input", H, W)
	}
	wt := c.addTensor(name+"_weights", wshape, w.dtype, wq.quant(chanAxis), wdata)
	o := &value{kind: kQ, nchw: true}
	o.t = c.addTensor(name, []int{N, oh, ow, O}, q.dtype, q.quant(0), nil)
	op := &model.Op{Kind: kind, Inputs: []int{in.t, wt, bias}, Outputs: []int{o.t}, Padding: pad,
		StrideH: win.sh, StrideW: win.sw, DilationH: win.dh, DilationW: win.dw, Activation: act,
		Rounding: model.RoundHalfEven}
	if kind == model.OpDepthwiseConv2D {
		op.DepthMultiplier = O / C
	}
	c.addOp(op)
	return o, nil
}

// emitFC emits FULLY_CONNECTED for Gemm/QGemm/MatMul/QLinearMatMul: y = x * B (+ bias)
// with B [K,N] (transB false) or [N,K] (transB true).
func (c *converter) emitFC(n *onnxpb.NodeProto, x *value, w *constant, wq *qparams, transB bool, b *value, q *qparams, act model.Activation, name string) (*value, error) {
	xs := c.onnxShape(x)
	if x.kind != kQ || len(xs) != 2 {
		c.unsupported(n, fmt.Sprintf("%s(%d-D input)", n.GetOpType(), len(xs)))
		return nil, nil
	}
	if len(w.shape) != 2 {
		c.unsupported(n, fmt.Sprintf("%s(%d-D weights)", n.GetOpType(), len(w.shape)))
		return nil, nil
	}
	size := w.dtype.Size()
	data, shape := w.data, w.shape
	// Per-channel quantization must be along N.
	nAxis := 1
	if transB {
		nAxis = 0
	}
	if wq.perChannel() && wq.axis != nAxis {
		c.unsupported(n, n.GetOpType()+"(weights quantized along K)")
		return nil, nil
	}
	if !transB {
		data, shape = transposeData(data, shape, []int{1, 0}, size) // [K,N] -> [N,K]
	}
	N, K := shape[0], shape[1]
	if xs[1] != K {
		return nil, c.nodeErr(n, "input shape %v and weights %v do not match", xs, w.shape)
	}
	if f := x.flat; f != nil && f[1]*f[2] > 1 {
		// The IR input holds the features in H,W,C order; ONNX's weights expect C,H,W.
		data = permuteColumns(data, N, f[0], f[1], f[2], size)
	}
	sx := c.tensor(x).Quant.Scale[0]
	bias, ok, err := c.biasTensor(n, b, N, sx, wq.scale, name)
	if err != nil || !ok {
		return nil, err
	}
	wt := c.addTensor(name+"_weights", []int{N, K}, w.dtype, wq.quant(0), data)
	o := &value{kind: kQ}
	o.t = c.addTensor(name, []int{xs[0], N}, q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpFullyConnected, Inputs: []int{x.t, wt, bias}, Outputs: []int{o.t},
		Activation: act, Rounding: model.RoundHalfEven})
	return o, nil
}

// permuteColumns reorders each row of an [N, C*H*W] matrix from C,H,W to H,W,C order.
func permuteColumns(data []byte, rows, C, H, W, size int) []byte {
	out := make([]byte, len(data))
	k := C * H * W
	for r := 0; r < rows; r++ {
		for ch := 0; ch < C; ch++ {
			for h := 0; h < H; h++ {
				for w := 0; w < W; w++ {
					src := r*k + (ch*H+h)*W + w
					dst := r*k + (h*W+w)*C + ch
					copy(out[dst*size:(dst+1)*size], data[src*size:(src+1)*size])
				}
			}
		}
	}
	return out
}

// operand returns the IR tensor of a binary op operand: a quantized activation, or a
// quantized constant (transposed to NHWC when it broadcasts against an NCHW tensor).
func (c *converter) operand(n *onnxpb.NodeProto, v *value, nchw bool, name string) (int, []int, bool) {
	if v.kind == kQ {
		if v.flat != nil {
			v = c.onnxOrder(v, name+"_onnx")
		}
		return v.t, c.tensor(v).Shape, true
	}
	k := v.c
	data, shape := k.data, k.shape
	if nchw {
		if len(shape) > 4 {
			c.unsupported(n, n.GetOpType()+"(constant of rank > 4)")
			return 0, nil, false
		}
		full := make([]int, 4-len(shape), 4)
		for i := range full {
			full[i] = 1
		}
		full = append(full, shape...)
		data, shape = transposeData(data, full, []int{0, 2, 3, 1}, k.dtype.Size())
	}
	t := c.addTensor(name, shape, k.dtype, v.q.quant(0), slices.Clone(data))
	return t, shape, true
}

// emitBinary emits ADD or MUL.
func (c *converter) emitBinary(n *onnxpb.NodeProto, a, b *value, q *qparams, act model.Activation, name string) (*value, error) {
	kind := model.OpAdd
	if op := n.GetOpType(); op == "Mul" || op == "QLinearMul" {
		kind = model.OpMul
	}
	if a.kind != kQ && b.kind != kQ {
		c.unsupported(n, n.GetOpType()+"(of two constants)")
		return nil, nil
	}
	nchw := (a.kind == kQ && a.nchw) || (b.kind == kQ && b.nchw)
	if nchw {
		a, b = c.asNHWC(a, name+"_a_nhwc"), c.asNHWC(b, name+"_b_nhwc")
	}
	for _, v := range []*value{a, b} {
		if v.kind == kQ && !v.nchw && nchw {
			c.unsupported(n, n.GetOpType()+"(of a 4-D and a lower-rank activation)")
			return nil, nil
		}
	}
	ta, sa, ok := c.operand(n, a, nchw, name+"_a")
	if !ok {
		return nil, nil
	}
	tb, sb, ok := c.operand(n, b, nchw, name+"_b")
	if !ok {
		return nil, nil
	}
	shape, ok := model.BroadcastShapes(sa, sb)
	if !ok {
		return nil, c.nodeErr(n, "shapes %v and %v do not broadcast", sa, sb)
	}
	if c.g.Tensors[ta].DType != q.dtype || c.g.Tensors[tb].DType != q.dtype {
		c.unsupported(n, n.GetOpType()+"(mixed uint8 and int8)")
		return nil, nil
	}
	o := &value{kind: kQ, nchw: nchw && len(shape) == 4}
	o.t = c.addTensor(name, shape, q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: kind, Inputs: []int{ta, tb}, Outputs: []int{o.t}, Activation: act, Rounding: model.RoundHalfEven})
	return o, nil
}

// emitAvgPool emits AVERAGE_POOL_2D with any pads and ceil_mode: the divisor is the number
// of taps inside the input (count_include_pad = 0) or inside the padded input
// (count_include_pad = 1, a PAD with the zero point first), as ONNX Runtime and PyTorch
// define it.
func (c *converter) emitAvgPool(n *onnxpb.NodeProto, x *value, q *qparams, name string) (*value, error) {
	x = c.asNHWC(x, name+"_nhwc")
	xt := c.tensor(x)
	if !x.nchw {
		c.unsupported(n, n.GetOpType()+"(not 4-D)")
		return nil, nil
	}
	H, W := xt.Shape[1], xt.Shape[2]
	win, ok, err := c.readWindow(n, H, W, 0, 0)
	if err != nil || !ok {
		return nil, err
	}
	if win.dh != 1 || win.dw != 1 {
		c.unsupported(n, n.GetOpType()+"(dilations)")
		return nil, nil
	}
	if q.dtype != xt.DType {
		c.unsupported(n, n.GetOpType()+"(changing the element type)")
		return nil, nil
	}
	oh, ow := win.outSize(H, W) // ceil_mode included
	cip := attrInt(n, "count_include_pad", 0) != 0
	pad, explicit := win.irPadding(H, W)
	var pads [4]int
	if win.ceil || explicit || (pad == model.PadSame && cip) {
		p := win.pads
		if cip && p != [4]int{} {
			// The padding counts: a PAD with the zero point (a real 0) first, and the
			// windows placed in the padded input, where only ceil_mode's overhang is left
			// out of the count (PyTorch and ONNX Runtime clip the divisor's window to the
			// padded input).
			x = c.padInput(x, &win, name)
			H, W = H+p[0]+p[2], W+p[1]+p[3]
			p = [4]int{}
		}
		// ceil_mode: the bottom and right pads grow to hold the last windows; taps
		// outside the input are not counted (model.PadExplicit).
		p[2] = max(p[2], (oh-1)*win.sh+win.kh-H-p[0])
		p[3] = max(p[3], (ow-1)*win.sw+win.kw-W-p[1])
		pad = model.PadValid
		if p != [4]int{} {
			pad, pads = model.PadExplicit, p
		}
	}
	o := &value{kind: kQ, nchw: true}
	o.t = c.addTensor(name, []int{xt.Shape[0], oh, ow, xt.Shape[3]}, q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpAveragePool2D, Inputs: []int{x.t}, Outputs: []int{o.t}, Padding: pad, Pads: pads,
		StrideH: win.sh, StrideW: win.sw, FilterH: win.kh, FilterW: win.kw, Rounding: model.RoundHalfEven})
	return o, nil
}

// emitGAP emits a MEAN over H and W (keeping the dimensions), ONNX's GlobalAveragePool.
func (c *converter) emitGAP(n *onnxpb.NodeProto, x *value, q *qparams, name string) (*value, error) {
	x = c.asNHWC(x, name+"_nhwc")
	xt := c.tensor(x)
	if !x.nchw {
		c.unsupported(n, n.GetOpType()+"(not 4-D)")
		return nil, nil
	}
	if q.dtype != xt.DType {
		c.unsupported(n, n.GetOpType()+"(changing the element type)")
		return nil, nil
	}
	axes := c.addTensor(name+"_axes", []int{2}, model.Int32, nil, int32Bytes([]int32{1, 2}))
	o := &value{kind: kQ, nchw: true}
	o.t = c.addTensor(name, []int{xt.Shape[0], 1, 1, xt.Shape[3]}, q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpMean, Inputs: []int{x.t, axes}, Outputs: []int{o.t}, KeepDims: true, Rounding: model.RoundHalfEven})
	return o, nil
}

// emitConcat emits CONCATENATION (each input requantized to the output's parameters).
func (c *converter) emitConcat(n *onnxpb.NodeProto, xs []*value, q *qparams, name string) (*value, error) {
	r := len(c.onnxShape(xs[0]))
	axis := int(attrInt(n, "axis", 1))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return nil, c.nodeErr(n, "axis %d for rank %d", attrInt(n, "axis", 1), r)
	}
	nchw := slices.ContainsFunc(xs, func(x *value) bool { return x.nchw })
	xs = slices.Clone(xs)
	for i, x := range xs {
		if nchw {
			xs[i] = c.asNHWC(x, fmt.Sprintf("%s_in%d_nhwc", name, i))
		} else if x.flat != nil {
			xs[i] = c.onnxOrder(x, fmt.Sprintf("%s_in%d_onnx", name, i))
		}
	}
	ins := make([]int, len(xs))
	var shape []int
	for i, x := range xs {
		xt := c.tensor(x)
		if x.nchw != nchw || (x.flat != nil && x.flat[1]*x.flat[2] > 1) {
			c.unsupported(n, n.GetOpType()+"(of tensors in different layouts)")
			return nil, nil
		}
		if xt.DType != q.dtype {
			c.unsupported(n, n.GetOpType()+"(changing the element type)")
			return nil, nil
		}
		ins[i] = x.t
		if i == 0 {
			shape = slices.Clone(xt.Shape)
		}
	}
	irAxis := axis
	if nchw {
		irAxis = []int{0, 3, 1, 2}[axis]
	}
	shape[irAxis] = 0
	for _, x := range xs {
		s := c.tensor(x).Shape
		if len(s) != len(shape) {
			return nil, c.nodeErr(n, "inputs of different ranks")
		}
		shape[irAxis] += s[irAxis]
	}
	o := &value{kind: kQ, nchw: nchw}
	o.t = c.addTensor(name, shape, q.dtype, q.quant(0), nil)
	c.addOp(&model.Op{Kind: model.OpConcatenation, Inputs: ins, Outputs: []int{o.t}, Axis: irAxis, Rounding: model.RoundHalfEven})
	return o, nil
}

// emitMaxPool emits MAX_POOL_2D on a quantized tensor (its parameters are kept).
func (c *converter) emitMaxPool(n *onnxpb.NodeProto, x *value, name string) (*value, error) {
	x = c.asNHWC(x, name+"_nhwc")
	xt := c.tensor(x)
	if !x.nchw {
		c.unsupported(n, n.GetOpType()+"(not 4-D)")
		return nil, nil
	}
	if attrInt(n, "storage_order", 0) != 0 {
		c.unsupported(n, "MaxPool(storage_order=1)")
		return nil, nil
	}
	H, W := xt.Shape[1], xt.Shape[2]
	win, ok, err := c.readWindow(n, H, W, 0, 0)
	if err != nil || !ok {
		return nil, err
	}
	if win.dh != 1 || win.dw != 1 {
		return c.emitDilatedMaxPool(n, x, &win, name)
	}
	oh, ow := win.outSize(H, W)
	pad, explicit := win.irPadding(H, W)
	if explicit || win.ceil {
		// Explicit (or ceil_mode) padding: a PAD with the type's minimum, which never
		// exceeds a real value (a padded position never wins), then a VALID pool.
		lo := int32(0)
		if xt.DType == model.Int8 {
			lo = -128
		}
		x = c.padBy(x, win.ceilPads(H, W), &lo, name)
		pad = model.PadValid
	}
	o := &value{kind: kQ, nchw: true}
	o.t = c.addTensor(name, []int{xt.Shape[0], oh, ow, xt.Shape[3]}, xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpMaxPool2D, Inputs: []int{x.t}, Outputs: []int{o.t}, Padding: pad,
		StrideH: win.sh, StrideW: win.sw, FilterH: win.kh, FilterW: win.kw})
	return o, nil
}

// emitDilatedMaxPool emits a max pool with dilations (ONNX MaxPool's dilations, PyTorch's
// MaxPool2d(dilation=)) with ops the IR has: a PAD with the type's minimum for the pads and
// ceil_mode (as in emitMaxPool), then a GATHER with constant indices that lays out each
// output's kh*kw taps side by side (data movement, free on shares), and a MAX_POOL_2D
// of a 1 x kh*kw window over them: [N,H,W,C] -> [N,H*W,C] -> gather [N,OH*OW*KH*KW,C] ->
// [N,OH*OW,KH*KW,C] -> max [N,OH*OW,1,C] -> [N,OH,OW,C]. The max is over the same taps as
// the dilated window, so the result and the secure cost (the comparisons of a kh*kw max)
// are those of a dilated pool; the gathered tensor is kh*kw times the output's size.
func (c *converter) emitDilatedMaxPool(n *onnxpb.NodeProto, x *value, win *window, name string) (*value, error) {
	xt := c.tensor(x)
	N, H, W, C := xt.Shape[0], xt.Shape[1], xt.Shape[2], xt.Shape[3]
	oh, ow := win.outSize(H, W)
	if oh < 1 || ow < 1 {
		return nil, c.nodeErr(n, "output size %dx%d", oh, ow)
	}
	if p := win.ceilPads(H, W); p != [4]int{} {
		lo := int32(0)
		if xt.DType == model.Int8 {
			lo = -128
		}
		x = c.padBy(x, p, &lo, name)
		H, W = H+p[0]+p[2], W+p[1]+p[3]
	}
	taps := win.kh * win.kw
	if N*oh*ow*taps*C > maxElems {
		return nil, c.nodeErr(n, "%d taps for each of %dx%d outputs: too large", taps, oh, ow)
	}
	flat := c.irReshape(x, []int{N, H * W, C}, name+"_flat")
	idx := make([]int64, 0, oh*ow*taps)
	for y := 0; y < oh; y++ {
		for xo := 0; xo < ow; xo++ {
			for a := 0; a < win.kh; a++ {
				for b := 0; b < win.kw; b++ {
					idx = append(idx, int64((y*win.sh+a*win.dh)*W+xo*win.sw+b*win.dw))
				}
			}
		}
	}
	it := c.int32Tensor(name+"_taps_idx", []int{len(idx)}, idx)
	g := &value{kind: kQ}
	g.t = c.addTensor(name+"_taps", []int{N, len(idx), C}, xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpGather, Axis: 1, Inputs: []int{flat.t, it}, Outputs: []int{g.t}})
	g = c.irReshape(g, []int{N, oh * ow, taps, C}, name+"_windows")
	m := &value{kind: kQ}
	m.t = c.addTensor(name+"_max", []int{N, oh * ow, 1, C}, xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpMaxPool2D, Inputs: []int{g.t}, Outputs: []int{m.t}, Padding: model.PadValid,
		StrideH: 1, StrideW: taps, FilterH: 1, FilterW: taps})
	o := c.irReshape(m, []int{N, oh, ow, C}, name)
	o.nchw = true
	return o, nil
}

// emitReshape handles Flatten and Reshape of a quantized tensor.
func (c *converter) emitReshape(n *onnxpb.NodeProto, x *value, name string) (*value, error) {
	s := c.onnxShape(x)
	var target []int64
	if n.GetOpType() == "Flatten" {
		axis := int(attrInt(n, "axis", 1))
		if axis < 0 {
			axis += len(s)
		}
		if axis < 0 || axis > len(s) {
			return nil, c.nodeErr(n, "axis %d for shape %v", attrInt(n, "axis", 1), s)
		}
		target = []int64{int64(model.NumElements(s[:axis])), int64(model.NumElements(s[axis:]))}
	} else {
		k, err := c.input(n, 1)
		if err != nil {
			return nil, err
		}
		if k == nil || k.kind != kConst || (k.c.dtype != model.Int64 && k.c.dtype != model.Int32) || len(k.c.shape) != 1 {
			c.unsupported(n, "Reshape(non-constant shape)")
			return nil, nil
		}
		if attrInt(n, "allowzero", 0) != 0 {
			c.unsupported(n, "Reshape(allowzero)")
			return nil, nil
		}
		target = k.c.ints()
		unknown, known := -1, 1
		for i, d := range target {
			switch {
			case d == 0 && i < len(s):
				target[i] = int64(s[i])
			case d == -1 && unknown < 0:
				unknown = i
				continue
			case d < 1 || d > maxDimSize:
				return nil, c.nodeErr(n, "target shape %v", k.c.ints())
			}
			known *= int(target[i])
			if known > maxElems {
				return nil, c.nodeErr(n, "target shape %v", k.c.ints())
			}
		}
		if unknown >= 0 {
			ne := model.NumElements(s)
			if known == 0 || ne%known != 0 {
				return nil, c.nodeErr(n, "cannot reshape %v to %v", s, k.c.ints())
			}
			target[unknown] = int64(ne / known)
		}
	}
	return c.reshapeTo(n, x, target, name)
}

// reshapeTo reshapes x to the ONNX shape target, keeping track of the NCHW/NHWC layout.
func (c *converter) reshapeTo(n *onnxpb.NodeProto, x *value, target []int64, name string) (*value, error) {
	s := c.onnxShape(x)
	ts := make([]int, len(target))
	for i, d := range target {
		ts[i] = int(d)
	}
	if model.NumElements(ts) != model.NumElements(s) {
		return nil, c.nodeErr(n, "cannot reshape %v to %v", s, ts)
	}
	xt := c.tensor(x)
	o := &value{kind: kQ}
	var irShape []int
	switch {
	case x.nchw && len(ts) == 2 && ts[0] == s[0]:
		// Flatten of NCHW: the IR holds H,W,C order; fine as is when H*W == 1, otherwise
		// the consumer (a fully connected op) permutes its weights.
		irShape = ts
		if s[2]*s[3] > 1 && s[1] > 1 {
			o.flat = []int{s[1], s[2], s[3]}
		}
	case x.nchw && s[2]*s[3] > 1 && s[1] > 1, x.flat != nil && !slices.Equal(ts, s):
		// Any other reshape of an NCHW tensor: in ONNX order (a TRANSPOSE first).
		return c.reshapeTo(n, c.onnxOrder(x, name+"_onnx"), target, name)
	case x.nchw:
		irShape = ts
		if len(ts) == 4 {
			irShape, o.nchw = nchwToNHWC(ts), true
		}
	case x.flat != nil:
		o.flat = x.flat
		irShape = ts
	default:
		irShape = ts
		if len(ts) == 4 && (ts[1] == 1 || ts[2]*ts[3] == 1) {
			// [N,C,1,1] and the like: NHWC holds the same element order when the
			// spatial or channel dimensions are trivial. Otherwise the result stays in
			// ONNX order (asNHWC transposes it for the image ops).
			irShape, o.nchw = nchwToNHWC(ts), true
		}
	}
	if slices.Equal(irShape, xt.Shape) {
		o.t = x.t
		return o, nil
	}
	shapeT := make([]int32, len(irShape))
	for i, d := range irShape {
		shapeT[i] = int32(d)
	}
	st := c.addTensor(name+"_shape", []int{len(irShape)}, model.Int32, nil, int32Bytes(shapeT))
	o.t = c.addTensor(name, irShape, xt.DType, cloneQuant(xt.Quant), nil)
	c.addOp(&model.Op{Kind: model.OpReshape, Inputs: []int{x.t, st}, Outputs: []int{o.t}, NewShape: slices.Clone(irShape)})
	return o, nil
}
