package engine

// Gather index builders. Every data movement of a layer (im2col, depthwise windows, pooling
// windows, padding, broadcasting, concatenation, transposes) is a public index map applied
// locally to each party's share with Protocol.Gather; -1 selects a zero.

// geom2D is the spatial geometry of a convolution or pooling window over an NHWC tensor.
type geom2D struct {
	N, H, W, C     int // input
	OH, OW         int // output
	KH, KW         int
	SH, SW, DH, DW int
	PadT, PadL     int
}

// inPos returns the flat NHWC input index of window tap (kh, kw) for output (n, oh, ow) and
// channel c, or -1 when the tap falls into the padding.
func (g *geom2D) inPos(n, oh, ow, kh, kw, c int) int32 {
	y := oh*g.SH - g.PadT + kh*g.DH
	x := ow*g.SW - g.PadL + kw*g.DW
	if y < 0 || y >= g.H || x < 0 || x >= g.W {
		return -1
	}
	return int32(((n*g.H+y)*g.W+x)*g.C + c)
}

// im2col returns, for each output position (n, oh, ow) in order, the K = KH*KW*C input
// indices in (kh, kw, c) order: the row layout that matches OHWI filters.
func (g *geom2D) im2col() []int32 {
	k := g.KH * g.KW * g.C
	idx := make([]int32, 0, g.N*g.OH*g.OW*k)
	for n := 0; n < g.N; n++ {
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				for kh := 0; kh < g.KH; kh++ {
					for kw := 0; kw < g.KW; kw++ {
						for c := 0; c < g.C; c++ {
							idx = append(idx, g.inPos(n, oh, ow, kh, kw, c))
						}
					}
				}
			}
		}
	}
	return idx
}

// depthwise returns the input and filter index lists for a depthwise convolution with
// depth multiplier m: for each output (n, oh, ow, oc) in NHWC order, KH*KW taps of input
// channel oc/m and of filter [1, KH, KW, C*m] column oc.
func (g *geom2D) depthwise(m int) (xIdx, wIdx []int32) {
	oc := g.C * m
	taps := g.KH * g.KW
	total := g.N * g.OH * g.OW * oc * taps
	xIdx = make([]int32, 0, total)
	wIdx = make([]int32, 0, total)
	for n := 0; n < g.N; n++ {
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				for o := 0; o < oc; o++ {
					for kh := 0; kh < g.KH; kh++ {
						for kw := 0; kw < g.KW; kw++ {
							xIdx = append(xIdx, g.inPos(n, oh, ow, kh, kw, o/m))
							wIdx = append(wIdx, int32((kh*g.KW+kw)*oc+o))
						}
					}
				}
			}
		}
	}
	return xIdx, wIdx
}

// pool returns, for each output (n, oh, ow, c), KH*KW tap indices (-1 in the padding) and
// the number of taps inside the image.
func (g *geom2D) pool() (idx []int32, counts []int) {
	taps := g.KH * g.KW
	outN := g.N * g.OH * g.OW * g.C
	idx = make([]int32, 0, outN*taps)
	counts = make([]int, 0, outN)
	for n := 0; n < g.N; n++ {
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				for c := 0; c < g.C; c++ {
					cnt := 0
					for kh := 0; kh < g.KH; kh++ {
						for kw := 0; kw < g.KW; kw++ {
							p := g.inPos(n, oh, ow, kh, kw, c)
							if p >= 0 {
								cnt++
							}
							idx = append(idx, p)
						}
					}
					counts = append(counts, cnt)
				}
			}
		}
	}
	return idx, counts
}

// fillPadding replaces the -1 entries of each group of k taps by a valid tap of the same
// group, for operations (max) where repeating an element is harmless.
func fillPadding(idx []int32, k int) {
	for i := 0; i < len(idx); i += k {
		var valid int32 = -1
		for _, v := range idx[i : i+k] {
			if v >= 0 {
				valid = v
				break
			}
		}
		for j := i; j < i+k; j++ {
			if idx[j] < 0 {
				idx[j] = valid
			}
		}
	}
}

// transpose returns the gather indices that turn a row-major [rows, cols] matrix into its
// [cols, rows] transpose.
func transpose(rows, cols int) []int32 {
	idx := make([]int32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			idx[c*rows+r] = int32(r*cols + c)
		}
	}
	return idx
}

// broadcast returns gather indices that expand a tensor of shape from to shape to with
// numpy/TFLite broadcasting (from is right-aligned; its dimensions are 1 or equal to to's).
func broadcast(from, to []int) []int32 {
	rank := len(to)
	f := make([]int, rank)
	for i := range f {
		f[i] = 1
	}
	copy(f[rank-len(from):], from)
	stride := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		stride[i] = s
		s *= f[i]
	}
	total := 1
	for _, d := range to {
		total *= d
	}
	idx := make([]int32, total)
	coord := make([]int, rank)
	for i := 0; i < total; i++ {
		off := 0
		for d := 0; d < rank; d++ {
			if f[d] != 1 {
				off += coord[d] * stride[d]
			}
		}
		idx[i] = int32(off)
		for d := rank - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < to[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx
}

// padIndex returns gather indices for a constant pad of an input of shape in with
// pads[d] = (before, after), and the output shape; padded positions get -1.
func padIndex(in []int, pads [][2]int) ([]int32, []int) {
	rank := len(in)
	out := make([]int, rank)
	for d := range in {
		out[d] = in[d] + pads[d][0] + pads[d][1]
	}
	total := 1
	for _, d := range out {
		total *= d
	}
	idx := make([]int32, total)
	coord := make([]int, rank)
	for i := 0; i < total; i++ {
		off, inside := 0, true
		for d := 0; d < rank; d++ {
			c := coord[d] - pads[d][0]
			if c < 0 || c >= in[d] {
				inside = false
				break
			}
			off = off*in[d] + c
		}
		if inside {
			idx[i] = int32(off)
		} else {
			idx[i] = -1
		}
		for d := rank - 1; d >= 0; d-- {
			coord[d]++
			if coord[d] < out[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx, out
}

// concatIndex returns gather indices into the end-to-end concatenation of inputs (shapes
// ins) that produce their concatenation along axis.
func concatIndex(ins [][]int, axis int) []int32 {
	outer := 1
	for d := 0; d < axis; d++ {
		outer *= ins[0][d]
	}
	inner := make([]int, len(ins)) // elements per outer index, per input
	base := make([]int, len(ins))
	total := 0
	for i, s := range ins {
		n := 1
		for d := axis; d < len(s); d++ {
			n *= s[d]
		}
		inner[i] = n
		base[i] = total
		total += outer * n
	}
	idx := make([]int32, 0, total)
	for o := 0; o < outer; o++ {
		for i := range ins {
			for j := 0; j < inner[i]; j++ {
				idx = append(idx, int32(base[i]+o*inner[i]+j))
			}
		}
	}
	return idx
}
