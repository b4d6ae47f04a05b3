package qnn

import (
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// HalfEvenParams are the prepared parameters of an op with Rounding == model.RoundHalfEven
// (imported from ONNX Runtime or PyTorch models). Every requantization is
// round-half-even of an exact integer product (MulHalfEven / RoundHalfEvenShift), so the
// secure engine computes the same values with exact truncation and a tie test. Per kind,
// with z the zero points, s the scales, [lo, hi] the output range (the type's range
// narrowed by the fused activation, whose bounds are z_y + RNE(float32(v / s_y))):
//
//	CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED:
//	    acc as ConvParams.Accumulators (bias + sum (x - z_x)(w - z_w), weights of any 8-bit type)
//	    y = clamp(z_y + RNE(acc * m_c * 2^(sh_c-31)))       (m_c, sh_c) = HalfEvenMultiplier(float32(s_x*s_w[c]) / s_y)
//	ADD:  y = clamp(z_y + RNE((A*(a - z_a) + B*(b - z_b)) / 2^R))
//	      A/2^R and B/2^R are float32(s_a/s_y) and float32(s_b/s_y), exact when their
//	      exponents differ by at most 22 (otherwise the smaller one is rounded to fit)
//	MUL:  y = clamp(z_y + RNE((a - z_a)(b - z_b) * m * 2^(sh-31)))   real float32(s_a*s_b) / s_y
//	AVERAGE_POOL_2D (padding excluded from the count n of each window):
//	      y = clamp(z_y + RNE(sum (x - z_x) * m_n * 2^(sh_n-31)))      real s_x / (s_y * n) (float64)
//	MEAN over axes {1,2} of a 4-D tensor: as AVERAGE_POOL_2D with one window of n = H*W
//	CONCATENATION: each input with parameters different from the output's:
//	      y = clamp(z_y + RNE((x - z_x) * m * 2^(sh-31)))               real float32(s_x / s_y)
//	QUANTIZE float32 -> q: y = clamp(z_y + RNE(float32(x / s_y)))        (ONNX QuantizeLinear)
//	QUANTIZE q -> q:       as CONCATENATION's requantization, clamped to the range of the
//	                       op's Activation (ONNX DequantizeLinear -> Relu/Clip -> QuantizeLinear)
//	DEQUANTIZE:            y = float32(float32(x - z_x) * s_x)            (ONNX DequantizeLinear)
//
// Ops that do not requantize (MAX_POOL_2D, PAD, RESHAPE) use the TFLite kernels.
type HalfEvenParams struct {
	Kind model.OpKind
	Conv *ConvParams // CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: geometry and accumulators
	Out  HalfEvenRequant

	// ADD
	ZeroPointA, ZeroPointB int64
	MulA, MulB             int64
	ShiftR                 int
	Broadcast              Broadcast

	// MUL (ZeroPointA/B, Broadcast) and the requantizing ops: Out.

	// AVERAGE_POOL_2D, MEAN
	Pool          *PoolParams
	InZeroPoint   int32
	CountMul      []int32 // indexed by window count n (0 unused)
	CountShift    []int
	MeanN         int
	MeanC, MeanHW int
	MeanBatch     int

	// CONCATENATION
	Outer  int
	Chunks []int             // per input: elements per outer index
	Inputs []HalfEvenRequant // per input requantization (Multiplier nil: copy)
	InZPs  []int32

	// QUANTIZE / DEQUANTIZE
	Scale    float32
	FloatIn  bool
	FloatOut bool
}

// halfEvenKind is a sentinel op kind NewPlan uses to dispatch to PrepareHalfEven.
const halfEvenKind = model.OpKind(0xffff)

// HalfEvenKinds reports whether an op of kind with Rounding == RoundHalfEven is prepared
// by PrepareHalfEven (the others use the TFLite kernels).
func HalfEvenKinds(k model.OpKind) bool {
	switch k {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected, model.OpAdd, model.OpMul,
		model.OpAveragePool2D, model.OpMean, model.OpConcatenation, model.OpQuantize, model.OpDequantize:
		return true
	}
	return false
}

// PrepareHalfEven prepares a RoundHalfEven op of a validated graph.
func PrepareHalfEven(g *model.Graph, op *model.Op) (p *HalfEvenParams, err error) {
	defer recoverErr(&err)
	p, err = prepareHalfEven(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q (round half even): %w", op.Kind, op.Name, err)
	}
	return p, nil
}

// halfEvenRange is the output range for a fused activation, ONNX Runtime style.
func halfEvenRange(act model.Activation, y *model.Tensor) (lo, hi int32, err error) {
	lo, hi, err = typeRange(y.DType)
	if err != nil {
		return 0, 0, err
	}
	s, zp, err := perTensor(y)
	if err != nil {
		return 0, 0, err
	}
	q := func(v float32) int32 { return zp + int32(math.RoundToEven(float64(v/s))) }
	switch act {
	case model.ActNone:
	case model.ActRelu:
		lo = max(lo, zp)
	case model.ActRelu6:
		lo, hi = max(lo, zp), min(hi, q(6))
	case model.ActReluN1To1:
		lo, hi = max(lo, q(-1)), min(hi, q(1))
	default:
		return 0, 0, errs.New(errs.Model, "unknown fused activation %v", act)
	}
	return lo, hi, nil
}

// requantTo prepares y = clamp(z_y + RNE((x - z_x) * float32(s_x/s_y))).
func requantTo(x, y *model.Tensor) (HalfEvenRequant, int32, error) {
	sx, zx, err := perTensor(x)
	if err != nil {
		return HalfEvenRequant{}, 0, err
	}
	sy, zy, err := perTensor(y)
	if err != nil {
		return HalfEvenRequant{}, 0, err
	}
	lo, hi, err := typeRange(y.DType)
	if err != nil {
		return HalfEvenRequant{}, 0, err
	}
	m, sh := HalfEvenMultiplier(float64(sx / sy))
	return HalfEvenRequant{Multiplier: []int32{m}, Shift: []int{sh}, OutZeroPoint: zy, ActMin: lo, ActMax: hi}, zx, nil
}

func prepareHalfEven(g *model.Graph, op *model.Op) (*HalfEvenParams, error) {
	if len(op.Outputs) != 1 || len(op.Inputs) < 1 {
		return nil, errs.New(errs.Model, "want inputs and 1 output")
	}
	x, err := opTensor(g, op.Inputs[0])
	if err != nil {
		return nil, err
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	p := &HalfEvenParams{Kind: op.Kind}
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		conv, err := prepareConv(g, op)
		if err != nil {
			return nil, err
		}
		w, _ := opTensor(g, op.Inputs[1])
		sx, _, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		sy, zy, err := perTensor(y)
		if err != nil {
			return nil, err
		}
		lo, hi, err := halfEvenRange(op.Activation, y)
		if err != nil {
			return nil, err
		}
		sw := make([]float32, conv.OutC)
		for o := range sw {
			sw[o] = w.Quant.Scale[0]
			if len(w.Quant.Scale) > 1 {
				sw[o] = w.Quant.Scale[o]
			}
		}
		p.Conv = conv
		p.Out = *NewHalfEvenConvRequant(sx, sw, sy, zy, lo, hi)
	case model.OpAdd, model.OpMul:
		q, err := binaryQuant(g, op)
		if err != nil {
			return nil, err
		}
		a, b, y := q.a, q.b, q.y
		sa, za, sb, zb, sy, zy := q.sa, q.za, q.sb, q.zb, q.sy, q.zy
		if p.Broadcast, err = newBroadcast(a.Shape, b.Shape, y.Shape); err != nil {
			return nil, err
		}
		lo, hi, err := halfEvenRange(op.Activation, y)
		if err != nil {
			return nil, err
		}
		p.ZeroPointA, p.ZeroPointB = int64(za), int64(zb)
		p.Out = HalfEvenRequant{OutZeroPoint: zy, ActMin: lo, ActMax: hi}
		if op.Kind == model.OpMul {
			m, sh := HalfEvenMultiplier(float64(sa * sb / sy))
			p.Out.Multiplier, p.Out.Shift = []int32{m}, []int{sh}
			break
		}
		ma, sha := HalfEvenMultiplier(float64(sa / sy))
		mb, shb := HalfEvenMultiplier(float64(sb / sy))
		p.MulA, p.MulB, p.ShiftR = alignMultipliers(ma, sha, mb, shb)
	case model.OpAveragePool2D:
		pool, err := preparePool(g, op)
		if err != nil {
			return nil, err
		}
		sx, zx, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		sy, zy, err := perTensor(y)
		if err != nil {
			return nil, err
		}
		lo, hi, err := halfEvenRange(op.Activation, y)
		if err != nil {
			return nil, err
		}
		p.Pool, p.InZeroPoint = pool, zx
		p.Out = HalfEvenRequant{OutZeroPoint: zy, ActMin: lo, ActMax: hi}
		nmax := op.FilterH * op.FilterW
		p.CountMul, p.CountShift = make([]int32, nmax+1), make([]int, nmax+1)
		for n := 1; n <= nmax; n++ {
			p.CountMul[n], p.CountShift[n] = HalfEvenMultiplier(float64(sx) / (float64(sy) * float64(n)))
		}
	case model.OpMean:
		axes, err := g.MeanAxes(op)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || !slices.Equal(axes, []int{1, 2}) {
			return nil, errs.New(errs.UnsupportedOp, "round-half-even MEAN over axes %v of shape %v (only axes {1,2} of 4-D tensors)", axes, x.Shape)
		}
		sx, zx, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		sy, zy, err := perTensor(y)
		if err != nil {
			return nil, err
		}
		lo, hi, err := typeRange(y.DType)
		if err != nil {
			return nil, err
		}
		p.InZeroPoint = zx
		p.MeanBatch, p.MeanHW, p.MeanC = x.Shape[0], x.Shape[1]*x.Shape[2], x.Shape[3]
		p.MeanN = p.MeanHW
		m, sh := HalfEvenMultiplier(float64(sx) / (float64(sy) * float64(p.MeanN)))
		p.Out = HalfEvenRequant{Multiplier: []int32{m}, Shift: []int{sh}, OutZeroPoint: zy, ActMin: lo, ActMax: hi}
	case model.OpConcatenation:
		axis := op.Axis
		if axis < 0 {
			axis += len(y.Shape)
		}
		if axis < 0 || axis >= len(y.Shape) {
			return nil, errs.New(errs.Shape, "axis %d for output shape %v", op.Axis, y.Shape)
		}
		p.Outer = model.NumElements(y.Shape[:axis])
		inner := model.NumElements(y.Shape[axis+1:])
		ys, zy, err := perTensor(y)
		if err != nil {
			return nil, err
		}
		for _, ti := range op.Inputs {
			t, err := opTensor(g, ti)
			if err != nil {
				return nil, err
			}
			p.Chunks = append(p.Chunks, t.Shape[axis]*inner)
			xs, zx, err := perTensor(t)
			if err != nil {
				return nil, err
			}
			if xs == ys && zx == zy && t.DType == y.DType {
				p.Inputs = append(p.Inputs, HalfEvenRequant{})
				p.InZPs = append(p.InZPs, 0)
				continue
			}
			rq, zx, err := requantTo(t, y)
			if err != nil {
				return nil, err
			}
			p.Inputs = append(p.Inputs, rq)
			p.InZPs = append(p.InZPs, zx)
		}
	case model.OpQuantize:
		if x.DType == model.Float32 {
			sy, zy, err := perTensor(y)
			if err != nil {
				return nil, err
			}
			lo, hi, err := typeRange(y.DType)
			if err != nil {
				return nil, err
			}
			p.FloatIn, p.Scale = true, sy
			p.Out = HalfEvenRequant{OutZeroPoint: zy, ActMin: lo, ActMax: hi}
			break
		}
		rq, zx, err := requantTo(x, y)
		if err != nil {
			return nil, err
		}
		// A fused activation narrows the range (DequantizeLinear -> Relu -> QuantizeLinear).
		if rq.ActMin, rq.ActMax, err = halfEvenRange(op.Activation, y); err != nil {
			return nil, err
		}
		p.Out, p.InZeroPoint = rq, zx
	case model.OpDequantize:
		sx, zx, err := perTensor(x)
		if err != nil {
			return nil, err
		}
		p.FloatOut, p.Scale, p.InZeroPoint = true, sx, zx
	default:
		return nil, errs.New(errs.UnsupportedOp, "%v has no round-half-even kernel", op.Kind)
	}
	return p, nil
}

// alignMultipliers puts two (m, shift) multipliers over one power of two: returns A, B, R
// with A/2^R = m_a*2^(sh_a-31) and B/2^R = m_b*2^(sh_b-31), exact when the exponents
// differ by at most 22 (A, B < 2^53, so 10-bit operands keep sums below 2^63); otherwise
// the smaller multiplier is rounded half to even to the common exponent.
func alignMultipliers(ma int32, sha int, mb int32, shb int) (A, B int64, R int) {
	ra, rb := 31-sha, 31-shb // value = m / 2^r
	R = max(ra, rb)
	if d := R - min(ra, rb); d > 22 {
		R = min(ra, rb) + 22
	}
	scale := func(m int32, r int) int64 {
		if R >= r {
			return int64(m) << (R - r)
		}
		return RoundHalfEvenShift(int64(m), r-R)
	}
	return scale(ma, ra), scale(mb, rb), R
}

// Run evaluates the op. xs are the integer inputs (nil for a float input), xf the float
// input of a QUANTIZE from float32; y receives integer outputs, yf float outputs.
func (p *HalfEvenParams) Run(xs [][]int32, xf []float32, y []int32, yf []float32) {
	switch p.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		acc := p.Conv.Accumulators(xs[0])
		n := p.Conv.OutC
		for i, a := range acc {
			y[i] = p.Out.Apply(a, i%n)
		}
	case model.OpAdd, model.OpMul:
		a, b := xs[0], xs[1]
		for i := range y {
			i1, i2 := p.Broadcast.Index(i)
			da, db := int64(a[i1])-p.ZeroPointA, int64(b[i2])-p.ZeroPointB
			var v int64
			if p.Kind == model.OpAdd {
				v = RoundHalfEvenShift(p.MulA*da+p.MulB*db, p.ShiftR)
			} else {
				v = MulHalfEven64(da*db, p.Out.Multiplier[0], p.Out.Shift[0])
			}
			y[i] = p.Out.clamp(v)
		}
	case model.OpAveragePool2D:
		p.avgPool(xs[0], y)
	case model.OpMean:
		C, HW := p.MeanC, p.MeanHW
		x := xs[0]
		for b := range p.MeanBatch {
			for c := range C {
				var s int64
				for k := range HW {
					s += int64(x[(b*HW+k)*C+c] - p.InZeroPoint)
				}
				y[b*C+c] = p.Out.clamp(MulHalfEven64(s, p.Out.Multiplier[0], p.Out.Shift[0]))
			}
		}
	case model.OpConcatenation:
		off := 0
		for o := range p.Outer {
			for k, x := range xs {
				ch := p.Chunks[k]
				src := x[o*ch : (o+1)*ch]
				dst := y[off : off+ch]
				if p.Inputs[k].Multiplier == nil {
					copy(dst, src)
				} else {
					for i, v := range src {
						dst[i] = p.Inputs[k].Apply(v-p.InZPs[k], 0)
					}
				}
				off += ch
			}
		}
	case model.OpQuantize:
		if p.FloatIn {
			for i, f := range xf {
				q := math.RoundToEven(float64(f / p.Scale))
				q = math.Max(math.Min(q, 1<<40), -(1 << 40)) // NaN-free and far beyond any range
				if math.IsNaN(q) {
					q = 0
				}
				y[i] = p.Out.clamp(int64(q))
			}
			return
		}
		for i, v := range xs[0] {
			y[i] = p.Out.Apply(v-p.InZeroPoint, 0)
		}
	case model.OpDequantize:
		for i, v := range xs[0] {
			yf[i] = float32(v-p.InZeroPoint) * p.Scale
		}
	}
}

// clamp adds the output zero point to a rounded value and clamps it to the output range.
func (q *HalfEvenRequant) clamp(v int64) int32 {
	v += int64(q.OutZeroPoint)
	return int32(min(max(v, int64(q.ActMin)), int64(q.ActMax)))
}

func (p *HalfEvenParams) avgPool(x, y []int32) {
	pp := p.Pool
	C := pp.C
	for b := range pp.Batch {
		for oy := range pp.OutH {
			iy0 := oy*pp.StrideH - pp.PadTop
			fy0, fy1 := max(0, -iy0), min(pp.FilterH, pp.InH-iy0)
			for ox := range pp.OutW {
				ix0 := ox*pp.StrideW - pp.PadLeft
				fx0, fx1 := max(0, -ix0), min(pp.FilterW, pp.InW-ix0)
				n := (fy1 - fy0) * (fx1 - fx0)
				out := y[((b*pp.OutH+oy)*pp.OutW+ox)*C:][:C]
				for c := range C {
					var s int64
					for fy := fy0; fy < fy1; fy++ {
						for fx := fx0; fx < fx1; fx++ {
							s += int64(x[((b*pp.InH+iy0+fy)*pp.InW+ix0+fx)*C+c] - p.InZeroPoint)
						}
					}
					v := int64(0)
					if n > 0 {
						v = MulHalfEven64(s, p.CountMul[n], p.CountShift[n])
					}
					out[c] = p.Out.clamp(v)
				}
			}
		}
	}
}
