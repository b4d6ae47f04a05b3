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
	rows := len(y) / n
	parallelFor(rows, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			p.fastRQ.apply(y[r*n : (r+1)*n])
		}
	})
}

// depthwiseAcc is a direct depthwise convolution: the input is first widened to int16
// with its zero point subtracted (and, for a depth multiplier M > 1, each input channel
// repeated M times so that channel o of the expanded input is input channel o/M); each
// output pixel then accumulates KH*KW channel-vector products.
func (p *ConvParams) depthwiseAcc(x, acc []int32) {
	C, M := p.OutC, p.DepthMultiplier
	pixels := p.Batch * p.InH * p.InW
	xe := make([]int16, pixels*C)
	parallelFor(pixels, 256, func(lo, hi int) {
		if M == 1 {
			subNarrow(xe[lo*C:hi*C], x[lo*C:hi*C], p.InZeroPoint)
			return
		}
		for px := lo; px < hi; px++ {
			in := x[px*p.InC : (px+1)*p.InC]
			out := xe[px*C : (px+1)*C]
			for o := range out {
				out[o] = int16(in[o/M] - p.InZeroPoint)
			}
		}
	})
	rows := p.Batch * p.OutH
	parallelFor(rows, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/p.OutH, r%p.OutH
			row := acc[(b*p.OutH+oy)*p.OutW*C:][:p.OutW*C]
			for ox := range p.OutW {
				copy(row[ox*C:(ox+1)*C], p.Bias)
			}
			for ky := range p.KH {
				iy := oy*p.StrideH - p.PadTop + ky*p.DilationH
				if iy < 0 || iy >= p.InH {
					continue
				}
				for kx := range p.KW {
					off := kx*p.DilationW - p.PadLeft // ix = ox*StrideW + off
					if p.StrideW == 1 {
						// One multiply-add over the whole run of valid output pixels, with the
						// (ky, kx) weights tiled along the row.
						ox0, ox1 := max(0, -off), min(p.OutW, p.InW-off)
						if ox0 >= ox1 {
							continue
						}
						px := (b*p.InH+iy)*p.InW + ox0 + off
						mulAdd(row[ox0*C:ox1*C], xe[px*C:], p.wTile[(ky*p.KW+kx)*p.OutW*C:])
						continue
					}
					w := p.w16[(ky*p.KW+kx)*C : (ky*p.KW+kx+1)*C]
					for ox := range p.OutW {
						ix := ox*p.StrideW + off
						if ix < 0 || ix >= p.InW {
							continue
						}
						px := (b*p.InH+iy)*p.InW + ix
						mulAdd(row[ox*C:(ox+1)*C], xe[px*C:(px+1)*C], w)
					}
				}
			}
		}
	})
}
