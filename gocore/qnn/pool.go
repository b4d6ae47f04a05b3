package qnn

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// PoolParams are the parameters of AVERAGE_POOL_2D and MAX_POOL_2D (input and output
// share scale and zero point, so there is no rescaling). For batch b, output pixel
// (y, x) and channel c, the window is the set W of input positions (iy, ix) with
// iy = y*StrideH - PadTop + ky, ix = x*StrideW - PadLeft + kx, 0 <= ky < FilterH,
// 0 <= kx < FilterW, that lie inside the input (padding is not counted), and
//
//	AVERAGE_POOL_2D: s = sum over W of X[b,iy,ix,c] (raw quantized values, no zero point)
//	                 n = |W|
//	                 out = clamp(s >= 0 ? (s + n/2) / n : (s - n/2) / n, ActMin, ActMax)
//	                 (division truncating toward zero: s/n rounded half away from zero)
//	MAX_POOL_2D:     out = clamp(max over W of X[b,iy,ix,c], ActMin, ActMax)
type PoolParams struct {
	Kind               model.OpKind
	Batch, InH, InW, C int
	OutH, OutW         int
	FilterH, FilterW   int
	StrideH, StrideW   int
	PadTop, PadLeft    int
	ActMin, ActMax     int32
}

// PreparePool prepares an AVERAGE_POOL_2D or MAX_POOL_2D op.
func PreparePool(g *model.Graph, op *model.Op) (*PoolParams, error) {
	p, err := preparePool(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func preparePool(g *model.Graph, op *model.Op) (*PoolParams, error) {
	if len(op.Inputs) != 1 || len(op.Outputs) != 1 {
		return nil, errs.New(errs.Model, "want 1 input and 1 output")
	}
	x, err := opTensor(g, op.Inputs[0])
	if err != nil {
		return nil, err
	}
	y, err := opTensor(g, op.Outputs[0])
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 4 || len(y.Shape) != 4 {
		return nil, errs.New(errs.Shape, "want 4-D input and output, got %v and %v", x.Shape, y.Shape)
	}
	p := &PoolParams{Kind: op.Kind, Batch: x.Shape[0], InH: x.Shape[1], InW: x.Shape[2], C: x.Shape[3],
		OutH: y.Shape[1], OutW: y.Shape[2], FilterH: op.FilterH, FilterW: op.FilterW,
		StrideH: op.StrideH, StrideW: op.StrideW}
	switch op.Padding {
	case model.PadSame:
		p.PadTop = computePadding(p.StrideH, 1, p.InH, p.FilterH, p.OutH)
		p.PadLeft = computePadding(p.StrideW, 1, p.InW, p.FilterW, p.OutW)
	case model.PadExplicit:
		p.PadTop, p.PadLeft = op.Pads[0], op.Pads[1]
	}
	p.ActMin, p.ActMax, err = activationRange(op.Activation, y)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Run evaluates the pool on x into y.
func (p *PoolParams) Run(x, y []int32) {
	C := p.C
	parallelFor(p.Batch*p.OutH, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/p.OutH, r%p.OutH
			iy0 := oy*p.StrideH - p.PadTop
			fy0, fy1 := max(0, -iy0), min(p.FilterH, p.InH-iy0)
			for ox := range p.OutW {
				ix0 := ox*p.StrideW - p.PadLeft
				fx0, fx1 := max(0, -ix0), min(p.FilterW, p.InW-ix0)
				out := y[((b*p.OutH+oy)*p.OutW+ox)*C:][:C]
				n := int32((fy1 - fy0) * (fx1 - fx0))
				first := true
				for fy := fy0; fy < fy1; fy++ {
					for fx := fx0; fx < fx1; fx++ {
						in := x[((b*p.InH+iy0+fy)*p.InW+ix0+fx)*C:][:C]
						switch {
						case first:
							copy(out, in)
							first = false
						case p.Kind == model.OpMaxPool2D:
							for c, v := range in {
								out[c] = max(out[c], v)
							}
						default:
							for c, v := range in {
								out[c] += v
							}
						}
					}
				}
				if first { // empty window (cannot happen for valid graphs)
					clear(out)
					n = 1
				}
				for c, s := range out {
					if p.Kind == model.OpAveragePool2D {
						if s > 0 {
							s = (s + n/2) / n
						} else {
							s = (s - n/2) / n
						}
					}
					out[c] = min(max(s, p.ActMin), p.ActMax)
				}
			}
		}
	})
}
