package qnn

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// ConvParams are the integer parameters of CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED, prepared exactly as TFLite prepares them.
//
// The kernel computes, for batch b, output pixel (y, x) and output channel o:
//
//	acc = Bias[o] + sum over (ky, kx, i) of (X[b, iy, ix, i] - InZeroPoint) * W(o, ky, kx, i)
//	out = Requant.Apply(acc, o, OutC)
//
// with iy = y*StrideH - PadTop + ky*DilationH and ix = x*StrideW - PadLeft + kx*DilationW;
// positions outside the input contribute nothing (as if X held InZeroPoint there).
// Weights hold the weights with their zero points already subtracted (q_w - z_w), as
// int32, laid out as:
//
//	CONV_2D:           W(o, ky, kx, i) = Weights[((o*KH + ky)*KW + kx)*InC + i]   (OHWI)
//	DEPTHWISE_CONV_2D: W(o, ky, kx, i) = Weights[(ky*KW + kx)*OutC + o], summed only
//	                   over the single input channel i = o / DepthMultiplier
//	FULLY_CONNECTED:   W(o, 0, 0, i)   = Weights[o*InC + i]                         ([O,I])
//
// FULLY_CONNECTED has H = W = KH = KW = 1 and Batch = number of input rows (the input's
// element count / InC). Requant has one multiplier per output channel (per-tensor
// quantization repeats the same one), computed as TFLite's
// PopulateConvolutionQuantizationParams: QuantizeMultiplier(double(s_in) * double(s_w[o]) /
// double(s_out)), except for uint8 inputs and per-tensor FULLY_CONNECTED, where TFLite's
// GetQuantizedConvolutionMultipler multiplies the scales in float32 first:
// QuantizeMultiplier(double(float32(s_in * s_w)) / double(s_out)). Its Schedule runs over the output channels o of OutC:
//
//	CONV_2D, FULLY_CONNECTED (uint8 and int8):  RoundUp everywhere (ruy's AVX2 kernels)
//	DEPTHWISE_CONV_2D int8:  RoundUp for o < OutC - OutC%8, RoundAway for the rest
//	DEPTHWISE_CONV_2D uint8: RoundAway everywhere
//
// which is what LiteRT 2.3.0's builtin kernels compute on x86-64 (measured, see the
// package documentation).
type ConvParams struct {
	Kind                 model.OpKind
	InDType              model.DType
	Batch, InH, InW, InC int
	OutH, OutW, OutC     int
	KH, KW               int
	StrideH, StrideW     int
	DilationH, DilationW int
	PadTop, PadLeft      int
	DepthMultiplier      int

	InZeroPoint     int32
	WeightZeroPoint []int32 // per output channel, as stored in the model (already subtracted in Weights)
	Weights         []int32
	Bias            []int32 // per output channel (zeros when the model has no bias)
	Requant         Requant

	OutShape []int // shape of the output tensor

	w16     []int16 // Weights as int16 for the cleartext kernels (set by init)
	wPacked []int16 // CONV_2D / FULLY_CONNECTED weights padded for the GEMM (see gemm.go)
	fastRQ  *fastRequant
	wTile   []int16 // stride-1 DEPTHWISE_CONV_2D: per (ky, kx), the OutC weights repeated OutW times
}

// init precomputes the kernels' private data from the exported fields.
func (p *ConvParams) init() error {
	p.w16 = make([]int16, len(p.Weights))
	for i, w := range p.Weights {
		if w < math.MinInt16 || w > math.MaxInt16 {
			return errs.New(errs.Model, "weight %d (after zero point) does not fit in 16 bits", w)
		}
		p.w16[i] = int16(w)
	}
	if p.Kind != model.OpDepthwiseConv2D {
		p.wPacked = packWeights(p.w16, p.OutC, p.KH*p.KW*p.InC)
	} else if p.StrideW == 1 {
		C, n := p.OutC, p.OutW*p.OutC
		p.wTile = make([]int16, p.KH*p.KW*n)
		for k := range p.KH * p.KW {
			for ox := range p.OutW {
				copy(p.wTile[k*n+ox*C:k*n+(ox+1)*C], p.w16[k*C:(k+1)*C])
			}
		}
	}
	p.fastRQ = newFastRequant(&p.Requant, p.OutC)
	return nil
}

// computePadding is TFLite's ComputePaddingWithOffset: the padding before the input (the
// odd remainder, if any, goes after it).
func computePadding(stride, dilation, in, filter, out int) int {
	eff := (filter-1)*dilation + 1
	total := (out-1)*stride + eff - in
	if total < 0 {
		total = 0
	}
	return total / 2
}

// constInts decodes a constant integer tensor's data as int32 values.
func constInts(t *model.Tensor) ([]int32, error) {
	n := t.NumElements()
	out := make([]int32, n)
	switch t.DType {
	case model.Int8:
		for i := range out {
			out[i] = int32(int8(t.Data[i]))
		}
	case model.Uint8:
		for i := range out {
			out[i] = int32(t.Data[i])
		}
	case model.Int32:
		if len(t.Data) < 4*n {
			return nil, errs.New(errs.Model, "tensor %q has %d bytes for %d int32 values", t.Name, len(t.Data), n)
		}
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	default:
		return nil, errs.New(errs.DType, "tensor %q is %v, want int8, uint8 or int32", t.Name, t.DType)
	}
	if t.DType != model.Int32 && len(t.Data) < n {
		return nil, errs.New(errs.Model, "tensor %q has %d bytes for %d values", t.Name, len(t.Data), n)
	}
	return out, nil
}

func opTensor(g *model.Graph, idx int) (*model.Tensor, error) {
	if idx < 0 || idx >= len(g.Tensors) || g.Tensors[idx] == nil {
		return nil, errs.New(errs.Model, "tensor index %d out of range", idx)
	}
	return g.Tensors[idx], nil
}

// PrepareConv prepares a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED op of a validated
// graph (model.Graph.Validate).
func PrepareConv(g *model.Graph, op *model.Op) (*ConvParams, error) {
	p, err := prepareConv(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareConv(g *model.Graph, op *model.Op) (*ConvParams, error) {
	if len(op.Inputs) < 2 || len(op.Outputs) != 1 {
		return nil, errs.New(errs.Model, "want 2 or 3 inputs and 1 output")
	}
	x, err := opTensor(g, op.Inputs[0])
	if err != nil {
		return nil, err
	}
	w, err := opTensor(g, op.Inputs[1])
	if err != nil {
		return nil, err
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	if w.Quant == nil || len(w.Quant.Scale) == 0 {
		return nil, errs.New(errs.Model, "weights %q have no quantization parameters", w.Name)
	}
	sx, zx, err := perTensor(x)
	if err != nil {
		return nil, err
	}
	sy, zy, err := perTensor(y)
	if err != nil {
		return nil, err
	}
	p := &ConvParams{Kind: op.Kind, InDType: x.DType, InZeroPoint: zx, OutShape: y.Shape,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, DepthMultiplier: 1, KH: 1, KW: 1}
	raw, err := constInts(w)
	if err != nil {
		return nil, err
	}
	var chanAxisLen int
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D:
		if len(x.Shape) != 4 || len(w.Shape) != 4 || len(y.Shape) != 4 {
			return nil, errs.New(errs.Shape, "want 4-D input, filter and output, got %v, %v, %v", x.Shape, w.Shape, y.Shape)
		}
		p.Batch, p.InH, p.InW, p.InC = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		p.OutH, p.OutW, p.OutC = y.Shape[1], y.Shape[2], y.Shape[3]
		p.KH, p.KW = w.Shape[1], w.Shape[2]
		p.StrideH, p.StrideW = op.StrideH, op.StrideW
		p.DilationH, p.DilationW = op.DilationH, op.DilationW
		if p.DilationH == 0 {
			p.DilationH = 1
		}
		if p.DilationW == 0 {
			p.DilationW = 1
		}
		p.PadTop = computePadding(p.StrideH, p.DilationH, p.InH, p.KH, p.OutH)
		p.PadLeft = computePadding(p.StrideW, p.DilationW, p.InW, p.KW, p.OutW)
		if op.Padding == model.PadValid {
			p.PadTop, p.PadLeft = 0, 0
		}
		if op.Kind == model.OpConv2D {
			if w.Shape[0] != p.OutC || w.Shape[3] != p.InC {
				return nil, errs.New(errs.Shape, "filter shape %v does not match input %v and output %v", w.Shape, x.Shape, y.Shape)
			}
		} else {
			p.DepthMultiplier = op.DepthMultiplier
			if p.DepthMultiplier < 1 || w.Shape[3] != p.OutC || p.InC*p.DepthMultiplier != p.OutC {
				return nil, errs.New(errs.Shape, "depthwise filter shape %v does not match input %v, output %v and depth multiplier %d", w.Shape, x.Shape, y.Shape, op.DepthMultiplier)
			}
		}
		chanAxisLen = p.OutC
	case model.OpFullyConnected:
		if len(w.Shape) != 2 {
			return nil, errs.New(errs.Shape, "want 2-D weights, got %v", w.Shape)
		}
		p.OutC, p.InC = w.Shape[0], w.Shape[1]
		n := x.NumElements()
		if p.InC == 0 || n%p.InC != 0 {
			return nil, errs.New(errs.Shape, "input shape %v is not a multiple of the weights' input size %d", x.Shape, p.InC)
		}
		p.Batch, p.InH, p.InW, p.OutH, p.OutW = n/p.InC, 1, 1, 1, 1
		chanAxisLen = p.OutC
	default:
		return nil, errs.New(errs.Model, "not a convolution")
	}
	if y.NumElements() != p.Batch*p.OutH*p.OutW*p.OutC {
		return nil, errs.New(errs.Shape, "output shape %v does not match the op", y.Shape)
	}
	// Weight zero points and scales, per output channel.
	nq := len(w.Quant.Scale)
	if nq != 1 && nq != chanAxisLen {
		return nil, errs.New(errs.Model, "weights %q have %d scales for %d output channels", w.Name, nq, chanAxisLen)
	}
	if len(w.Quant.ZeroPoint) != nq {
		return nil, errs.New(errs.Model, "weights %q have %d scales but %d zero points", w.Name, nq, len(w.Quant.ZeroPoint))
	}
	p.WeightZeroPoint = make([]int32, p.OutC)
	wscale := make([]float32, p.OutC)
	for o := range p.OutC {
		k := 0
		if nq > 1 {
			k = o
		}
		p.WeightZeroPoint[o] = int32(w.Quant.ZeroPoint[k])
		wscale[o] = w.Quant.Scale[k]
	}
	p.Weights = raw
	switch op.Kind {
	case model.OpDepthwiseConv2D:
		for i := range raw {
			raw[i] -= p.WeightZeroPoint[i%p.OutC]
		}
	default:
		per := len(raw) / p.OutC
		for i := range raw {
			raw[i] -= p.WeightZeroPoint[i/per]
		}
	}
	p.Bias = make([]int32, p.OutC)
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		b, err := opTensor(g, op.Inputs[2])
		if err != nil {
			return nil, err
		}
		bv, err := constInts(b)
		if err != nil {
			return nil, err
		}
		if len(bv) != p.OutC {
			return nil, errs.New(errs.Shape, "bias %q has %d values for %d output channels", b.Name, len(bv), p.OutC)
		}
		copy(p.Bias, bv)
	}
	// Requantization (TFLite PopulateConvolutionQuantizationParams).
	rq := Requant{Multiplier: make([]int32, p.OutC), Shift: make([]int, p.OutC), OutZeroPoint: zy}
	// TFLite's legacy path (uint8 convolutions, per-tensor FULLY_CONNECTED) multiplies the
	// two scales in float32 before widening; the per-channel path multiplies in double.
	legacy := x.DType == model.Uint8 || (op.Kind == model.OpFullyConnected && nq == 1)
	for o := range p.OutC {
		real := float64(sx) * float64(wscale[o]) / float64(sy)
		if legacy {
			real = float64(sx*wscale[o]) / float64(sy)
		}
		rq.Multiplier[o], rq.Shift[o] = QuantizeMultiplier(real)
	}
	rq.ActMin, rq.ActMax, err = activationRange(op.Activation, y)
	if err != nil {
		return nil, err
	}
	switch {
	case op.Kind == model.OpDepthwiseConv2D && x.DType == model.Int8:
		rq.Sched = Schedule{Block: 8, Vector: RoundUp, Tail: RoundAway}
	case op.Kind == model.OpDepthwiseConv2D:
		rq.Sched = Uniform(RoundAway)
	default:
		rq.Sched = Uniform(RoundUp)
	}
	p.Requant = rq
	if err := p.init(); err != nil {
		return nil, err
	}
	return p, nil
}
