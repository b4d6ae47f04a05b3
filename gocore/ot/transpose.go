package ot

// Bit-matrix transpose for IKNP: the 128 columns of n bits each that the base-OT seeds
// expand to become n rows of 128 bits (one Block per OT). The matrix is cut into 64x64
// blocks, each transposed in place by Eklundh's recursive block swap (log2(64) = 6 passes
// of 32 masked word swaps; "Hacker's Delight", section 7-3): ring.Transpose64, the one
// 64x64 transpose of the project (with its AVX2 kernel). No secrets steer branches or
// addresses.

import "github.com/qmpc/qmpc/gocore/ring"

// colsToRows transposes 128 columns of nw words each, stride words apart
// (cols[i*stride+w] holds rows 64w..64w+63 of column i, row r at bit r%64), into rows:
// rows[r] has column c at bit c%64 of word c/64. Only the first len(rows) <= 64*nw rows
// are written. With AVX2 the whole pairs of words go through transpose_amd64.s (the same
// passes, four blocks at once).
func colsToRows(rows []Block, cols []uint64, nw, stride int) {
	w0 := 0
	if hasAVX2 {
		// Two words of every column (128 whole rows) at a time, four 64x64 blocks in the
		// lanes of AVX2 registers (transpose_amd64.s); the rest below.
		var s [256]uint64
		for ; w0+2 <= nw && 64*(w0+2) <= len(rows); w0 += 2 {
			transpose2x128AVX2(&rows[64*w0], &cols[w0], stride, &s)
		}
	}
	var a [64]uint64
	for w := w0; w < nw; w++ {
		lo := 64 * w
		cnt := min(64, len(rows)-lo)
		if cnt <= 0 {
			return
		}
		for cg := range 2 {
			for r := range 64 {
				a[r] = cols[(64*cg+r)*stride+w]
			}
			ring.Transpose64(&a)
			for b := range cnt {
				rows[lo+b][cg] = a[b]
			}
		}
	}
}
