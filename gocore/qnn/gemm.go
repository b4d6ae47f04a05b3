package qnn

// Integer GEMM for CONV_2D and FULLY_CONNECTED: C[p][o] = bias[o] + sum_k A[p][k]*W[o][k]
// with A the zero-point-subtracted im2col patches and W the zero-point-subtracted
// weights, both int16 (|v| <= 255), accumulated exactly in int32 as TFLite does (TFLite
// itself requires the accumulators to fit in int32).
//
// The micro-kernel dot2x4 computes a 2-row x 4-channel block; on amd64 with AVX2 it is
// assembly (VPMADDWD), elsewhere plain Go. Rows and the depth K are zero-padded to the
// kernel's granularity (2 rows, 16 values), which adds nothing to the sums.

const (
	gemmK       = 16 // depth granularity of dot2x4
	gemmCh      = 4  // output channels per dot2x4
	gemmRowTile = 32 // patch rows per tile (even)
)

// padK rounds K up to the kernel's depth granularity.
func padK(k int) int { return (k + gemmK - 1) / gemmK * gemmK }

// packWeights lays W ([outC][K] int16) out as [roundup(outC, 4)][padK(K)], zero-padded.
func packWeights(w []int16, outC, K int) []int16 {
	kp := padK(K)
	rows := (outC + gemmCh - 1) / gemmCh * gemmCh
	out := make([]int16, rows*kp)
	for o := range outC {
		copy(out[o*kp:o*kp+K], w[o*K:(o+1)*K])
	}
	return out
}

// dot2x4Go is the portable dot2x4.
func dot2x4Go(a0, a1, w []int16, stride, n int, out *[8]int32) {
	a0, a1 = a0[:n], a1[:n]
	for j := range gemmCh {
		wj := w[j*stride : j*stride+n]
		var s0, s1 int32
		for k, v := range wj {
			s0 += int32(a0[k]) * int32(v)
			s1 += int32(a1[k]) * int32(v)
		}
		out[j], out[gemmCh+j] = s0, s1
	}
}

// subNarrowGo is the portable subNarrow.
func subNarrowGo(dst []int16, src []int32, zp int32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = int16(v - zp)
	}
}

// mulAddGo is the portable mulAdd.
func mulAddGo(acc []int32, x, w []int16) {
	x, w = x[:len(acc)], w[:len(acc)]
	for i := range acc {
		acc[i] += int32(x[i]) * int32(w[i])
	}
}

// gemmAcc computes CONV_2D and FULLY_CONNECTED accumulators (with bias) into acc
// ([rows][OutC]) as im2col + GEMM, tiles of rows split across goroutines.
func (p *ConvParams) gemmAcc(x, acc []int32) {
	K := p.KH * p.KW * p.InC
	kp := padK(K)
	rows := p.Batch * p.OutH * p.OutW
	C := p.OutC
	tiles := (rows + gemmRowTile - 1) / gemmRowTile
	parallelFor(tiles, 1, func(lo, hi int) {
		a := make([]int16, gemmRowTile*kp)
		var blk [8]int32
		for t := lo; t < hi; t++ {
			r0 := t * gemmRowTile
			nr := min(gemmRowTile, rows-r0)
			for i := range nr {
				p.im2colRow16(x, r0+i, a[i*kp:(i+1)*kp])
			}
			for pi := 0; pi < nr; pi += 2 {
				a0 := a[pi*kp : (pi+1)*kp]
				a1 := a0
				if pi+1 < nr {
					a1 = a[(pi+1)*kp : (pi+2)*kp]
				}
				out0 := acc[(r0+pi)*C : (r0+pi+1)*C]
				var out1 []int32
				if pi+1 < nr {
					out1 = acc[(r0+pi+1)*C : (r0+pi+2)*C]
				}
				for o := 0; o < C; o += gemmCh {
					dot2x4(a0, a1, p.wPacked[o*kp:], kp, kp, &blk)
					no := min(gemmCh, C-o)
					for j := range no {
						out0[o+j] = blk[j] + p.Bias[o+j]
					}
					if out1 != nil {
						for j := range no {
							out1[o+j] = blk[gemmCh+j] + p.Bias[o+j]
						}
					}
				}
			}
		}
	})
}

// im2colRow16 fills dst (padK(KH*KW*InC) values) with the zero-point-subtracted input
// window of output pixel r; padding positions and the depth padding are 0.
func (p *ConvParams) im2colRow16(x []int32, r int, dst []int16) {
	zp := p.InZeroPoint
	if p.Kind == kindFC {
		subNarrow(dst[:p.InC], x[r*p.InC:(r+1)*p.InC], zp)
		clear(dst[p.InC:])
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
			d := dst[k : k+p.InC]
			k += p.InC
			if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
				clear(d)
				continue
			}
			subNarrow(d, x[((b*p.InH+iy)*p.InW+ix)*p.InC:][:p.InC], zp)
		}
	}
	clear(dst[k:])
}
