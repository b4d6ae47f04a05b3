package qnn

import (
	"runtime"
	"sync"

	"github.com/qmpc/qmpc/gocore/model"
)

const (
	kindDepthwise = model.OpDepthwiseConv2D
	kindFC        = model.OpFullyConnected
)

// parallelFor runs f(lo, hi) over [0, n) split into contiguous chunks, one goroutine per
// chunk, using at most runtime.GOMAXPROCS(0) goroutines. Work smaller than minWork
// items per goroutine is not split.
func parallelFor(n, minWork int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if minWork < 1 {
		minWork = 1
	}
	if w := n / minWork; w < workers {
		workers = w
	}
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		lo, hi := n*k/workers, n*(k+1)/workers
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// Accumulators computes the int32 accumulators of a prepared convolution (before
// requantization) for input x (Batch*InH*InW*InC quantized values as int32), in NHWC
// order [Batch][OutH][OutW][OutC]. It is exported for layer-by-layer debugging of the
// secure engine.
func (p *ConvParams) Accumulators(x []int32) []int32 {
	acc := make([]int32, p.Batch*p.OutH*p.OutW*p.OutC)
	switch p.Kind {
	case kindDepthwise:
		p.depthwiseAcc(x, acc)
	default:
		p.gemmAcc(x, acc)
	}
	return acc
}

// Run evaluates the op on x and writes the requantized outputs into y.
func (p *ConvParams) Run(x, y []int32) {
	switch p.Kind {
	case kindDepthwise:
		p.depthwiseAcc(x, y)
	default:
		p.gemmAcc(x, y)
	}
	n := p.OutC
	rq := &p.Requant
	parallelFor(len(y)/n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := y[r*n : (r+1)*n]
			for o, a := range row {
				row[o] = rq.Apply(a, o, n)
			}
		}
	})
}

// depthwiseAcc is a direct depthwise convolution.
func (p *ConvParams) depthwiseAcc(x, acc []int32) {
	rows := p.Batch * p.OutH
	parallelFor(rows, 1, func(lo, hi int) {
		C, M := p.OutC, p.DepthMultiplier
		for r := lo; r < hi; r++ {
			b, oy := r/p.OutH, r%p.OutH
			for ox := range p.OutW {
				out := acc[((b*p.OutH+oy)*p.OutW+ox)*C:][:C]
				copy(out, p.Bias)
				for ky := range p.KH {
					iy := oy*p.StrideH - p.PadTop + ky*p.DilationH
					if iy < 0 || iy >= p.InH {
						continue
					}
					for kx := range p.KW {
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilationW
						if ix < 0 || ix >= p.InW {
							continue
						}
						in := x[((b*p.InH+iy)*p.InW+ix)*p.InC:][:p.InC]
						w := p.Weights[(ky*p.KW+kx)*C:][:C]
						if M == 1 {
							for o := range out {
								out[o] += (in[o] - p.InZeroPoint) * w[o]
							}
						} else {
							for o := range out {
								out[o] += (in[o/M] - p.InZeroPoint) * w[o]
							}
						}
					}
				}
			}
		}
	})
}

// gemmAcc computes CONV_2D and FULLY_CONNECTED accumulators as im2col + GEMM.
func (p *ConvParams) gemmAcc(x, acc []int32) {
	K := p.KH * p.KW * p.InC
	rows := p.Batch * p.OutH * p.OutW
	parallelFor(rows, 16, func(lo, hi int) {
		patch := make([]int32, K)
		for r := lo; r < hi; r++ {
			p.im2colRow(x, r, patch)
			out := acc[r*p.OutC : (r+1)*p.OutC]
			for o := range out {
				w := p.Weights[o*K : (o+1)*K]
				s := p.Bias[o]
				for k, v := range patch {
					s += v * w[k]
				}
				out[o] = s
			}
		}
	})
}

// im2colRow fills patch (KH*KW*InC) with the zero-point-subtracted input window of
// output pixel r (in [0, Batch*OutH*OutW)); padding positions are 0.
func (p *ConvParams) im2colRow(x []int32, r int, patch []int32) {
	if p.Kind == kindFC {
		in := x[r*p.InC : (r+1)*p.InC]
		for i, v := range in {
			patch[i] = v - p.InZeroPoint
		}
		return
	}
	ox := r % p.OutW
	oy := (r / p.OutW) % p.OutH
	b := r / (p.OutW * p.OutH)
	k := 0
	for ky := range p.KH {
		iy := oy*p.StrideH - p.PadTop + ky*p.DilationH
		for kx := range p.KW {
			ix := ox*p.StrideW - p.PadLeft + kx*p.DilationW
			dst := patch[k : k+p.InC]
			k += p.InC
			if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
				clear(dst)
				continue
			}
			src := x[((b*p.InH+iy)*p.InW+ix)*p.InC:][:p.InC]
			for i, v := range src {
				dst[i] = v - p.InZeroPoint
			}
		}
	}
}
