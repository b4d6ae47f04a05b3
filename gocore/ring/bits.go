package ring

import "fmt"

// Words returns the number of uint64 words that hold n bits: ceil(n/64).
func Words(n int) int { return (n + 63) / 64 }

// Transpose64 transposes a 64x64 bit matrix in place: afterwards bit i of a[j] is what bit j
// of a[i] was. Six rounds of delta swaps; with AVX2 four rows at a time (bits_amd64.s).
func Transpose64(a *[64]uint64) {
	if useAVX2 {
		transpose64AVX2(a)
		return
	}
	m := uint64(0x00000000FFFFFFFF)
	for s := 32; s != 0; s >>= 1 {
		for k := 0; k < 64; k = (k + s + 1) &^ s {
			t := ((a[k] >> uint(s)) ^ a[k+s]) & m
			a[k+s] ^= t
			a[k] ^= t << uint(s)
		}
		m ^= m << uint(s/2)
	}
}

// Transpose8x64 transposes an 8x64 bit matrix: afterwards bit j of out[i] is bit i of
// p[j] (bits 8 and up of out[i] are zero). It is Transpose64 for at most 8 nonzero rows,
// about five times cheaper: an 8x8 transpose of the bytes, then of the bits in each word.
func Transpose8x64(p *[8]uint64, out *[64]uint64) {
	r := *p
	// Bytes: afterwards byte j of r[k] is byte k of p[j].
	for k := 0; k < 8; k += 2 {
		t := (r[k]>>8 ^ r[k+1]) & 0x00FF00FF00FF00FF
		r[k+1] ^= t
		r[k] ^= t << 8
	}
	for k := 0; k < 8; k = (k + 3) &^ 2 {
		t := (r[k]>>16 ^ r[k+2]) & 0x0000FFFF0000FFFF
		r[k+2] ^= t
		r[k] ^= t << 16
	}
	for k := 0; k < 4; k++ {
		t := (r[k]>>32 ^ r[k+4]) & 0x00000000FFFFFFFF
		r[k+4] ^= t
		r[k] ^= t << 32
	}
	// Bits of each word, an 8x8 matrix with row j in byte j: afterwards bit j of byte i
	// is bit i of byte j.
	for k, x := range r {
		t := (x ^ x>>7) & 0x00AA00AA00AA00AA
		x ^= t ^ t<<7
		t = (x ^ x>>14) & 0x0000CCCC0000CCCC
		x ^= t ^ t<<14
		t = (x ^ x>>28) & 0x00000000F0F0F0F0
		x ^= t ^ t<<28
		o := out[8*k : 8*k+8]
		for i := range o {
			o[i] = x >> uint(8*i) & 0xFF
		}
	}
}

// tile is the number of 64-element blocks ToPlanes and FromPlanes transpose before
// touching the planes, so that each plane is written or read in runs of tile words.
const tile = 16

// ToPlanes bit-slices the w low bits of each element of vals into w planes: plane j occupies
// planes[j*Words(n) : (j+1)*Words(n)] (n = len(vals)) and holds bit j of element i at bit
// i%64 of word i/64. Padding bits of the last word are zero. It returns a new slice of
// w*Words(n) words.
func ToPlanes(vals []uint64, w int) []uint64 {
	if w < 0 || w > 64 {
		panic(fmt.Sprintf("ring.ToPlanes: width %d", w))
	}
	out := make([]uint64, w*Words(len(vals)))
	ToPlanesTo(out, vals, w)
	return out
}

// ToPlanesTo is ToPlanes into out (w*Words(len(vals)) words, every one written: its
// earlier contents do not matter).
func ToPlanesTo(out, vals []uint64, w int) {
	n := len(vals)
	nw := Words(n)
	if w < 0 || w > 64 || len(out) != w*nw {
		panic(fmt.Sprintf("ring.ToPlanesTo: %d words for n=%d w=%d", len(out), n, w))
	}
	var blk [64]uint64
	var buf [64][tile]uint64
	for b0 := 0; b0 < nw; b0 += tile {
		nb := min(tile, nw-b0)
		for t := 0; t < nb; t++ {
			lo := (b0 + t) * 64
			hi := min(lo+64, n)
			copy(blk[:], vals[lo:hi])
			clear(blk[hi-lo:])
			Transpose64(&blk)
			for j := 0; j < w; j++ {
				buf[j][t] = blk[j]
			}
		}
		for j := 0; j < w; j++ {
			copy(out[j*nw+b0:j*nw+b0+nb], buf[j][:nb])
		}
	}
}

// FromPlanes is the inverse of ToPlanes: it returns the n w-bit values held in planes
// (w*Words(n) words). Padding bits are ignored.
func FromPlanes(planes []uint64, n, w int) []uint64 {
	nw := Words(n)
	if w < 0 || w > 64 || len(planes) != w*nw {
		panic(fmt.Sprintf("ring.FromPlanes: %d words for n=%d w=%d", len(planes), n, w))
	}
	out := make([]uint64, n)
	var blk [64]uint64
	var buf [64][tile]uint64
	for b0 := 0; b0 < nw; b0 += tile {
		nb := min(tile, nw-b0)
		for j := 0; j < w; j++ {
			copy(buf[j][:nb], planes[j*nw+b0:j*nw+b0+nb])
		}
		for t := 0; t < nb; t++ {
			for j := 0; j < w; j++ {
				blk[j] = buf[j][t]
			}
			clear(blk[w:])
			Transpose64(&blk)
			lo := (b0 + t) * 64
			hi := min(lo+64, n)
			copy(out[lo:hi], blk[:hi-lo])
		}
	}
	return out
}

// GatherBits gathers bits of w planes: src holds w planes of Words(srcN) words, and the
// result holds w planes of Words(len(idx)) words with bit i of plane j equal to bit idx[i]
// of src's plane j, or 0 where idx[i] < 0. It panics if an index is >= srcN.
func GatherBits(src []uint64, srcN, w int, idx []int32) []uint64 {
	sw := Words(srcN)
	if len(src) != w*sw {
		panic(fmt.Sprintf("ring.GatherBits: %d words for n=%d w=%d", len(src), srcN, w))
	}
	dw := Words(len(idx))
	out := make([]uint64, w*dw)
	for i, id := range idx {
		if id < 0 {
			continue
		}
		if int(id) >= srcN {
			panic(fmt.Sprintf("ring.GatherBits: index %d out of range [0,%d)", id, srcN))
		}
		sword, sbit := int(id)>>6, uint(id)&63
		dword, dbit := i>>6, uint(i)&63
		for j := 0; j < w; j++ {
			out[j*dw+dword] |= (src[j*sw+sword] >> sbit & 1) << dbit
		}
	}
	return out
}

// ConcatBits joins w-plane bit vectors of lengths ns end to end: the result has w planes of
// Words(sum ns) words.
func ConcatBits(w int, planes [][]uint64, ns []int) []uint64 {
	total := 0
	for _, n := range ns {
		total += n
	}
	dw := Words(total)
	out := make([]uint64, w*dw)
	off := 0
	for k, p := range planes {
		n := ns[k]
		sw := Words(n)
		for j := 0; j < w; j++ {
			copyBits(out[j*dw:(j+1)*dw], off, p[j*sw:(j+1)*sw], n)
		}
		off += n
	}
	return out
}

// ExtractBits sets out (Words(n) words) to bits [lo, lo+n) of x, bit lo at bit 0, word by
// word (each output word from at most two input words, none past bit lo+n-1 of x), the
// bits of out above n zero.
func ExtractBits(out, x []uint64, lo, n int) {
	if n <= 0 {
		return
	}
	out = out[:Words(n)]
	w0, s := lo/64, uint(lo%64)
	last := (lo + n - 1) / 64 // the last word of x that holds a bit of the range
	for w := range out {
		v := x[w0+w] >> s
		if s != 0 && w0+w+1 <= last {
			v |= x[w0+w+1] << (64 - s)
		}
		out[w] = v
	}
	MaskTail(out, n)
}

// copyBits ORs the first n bits of src into dst starting at bit offset off (dst bits there
// must be zero).
func copyBits(dst []uint64, off int, src []uint64, n int) {
	for i := 0; i < n; i += 64 {
		v := src[i>>6]
		if k := n - i; k < 64 {
			v &= (uint64(1) << uint(k)) - 1
		}
		p := off + i
		w, s := p>>6, uint(p)&63
		dst[w] |= v << s
		if s != 0 && w+1 < len(dst) {
			dst[w+1] |= v >> (64 - s)
		}
	}
}

// MaskTail clears the padding bits (bits n..64*Words(n)-1) of each of the planes of p.
func MaskTail(p []uint64, n int) {
	nw := Words(n)
	r := uint(n) & 63
	if r == 0 || nw == 0 {
		return
	}
	m := (uint64(1) << r) - 1
	for j := nw - 1; j < len(p); j += nw {
		p[j] &= m
	}
}
