package ot

// Bit-matrix transpose for IKNP: the 128 columns of n bits each that the base-OT seeds
// expand to become n rows of 128 bits (one Block per OT). The matrix is cut into 64x64
// blocks, each transposed in place by Eklundh's recursive block swap (log2(64) = 6 passes
// of 32 masked word swaps; "Hacker's Delight", section 7-3). No secrets steer branches or
// addresses.

// transpose64 transposes the 64x64 bit matrix a in place, where bit c of a[r] is the entry
// in row r, column c: for j = 32, 16, ..., 1 it swaps the off-diagonal j x j sub-blocks of
// every 2j x 2j block (constant shifts and masks, written out per level).
func transpose64(a *[64]uint64) {
	for b := 0; b < 64; b += 64 {
		for k := b; k < b+32; k++ {
			t := (a[k]>>32 ^ a[k+32]) & 0x00000000ffffffff
			a[k+32] ^= t
			a[k] ^= t << 32
		}
	}
	for b := 0; b < 64; b += 32 {
		for k := b; k < b+16; k++ {
			t := (a[k]>>16 ^ a[k+16]) & 0x0000ffff0000ffff
			a[k+16] ^= t
			a[k] ^= t << 16
		}
	}
	for b := 0; b < 64; b += 16 {
		for k := b; k < b+8; k++ {
			t := (a[k]>>8 ^ a[k+8]) & 0x00ff00ff00ff00ff
			a[k+8] ^= t
			a[k] ^= t << 8
		}
	}
	for b := 0; b < 64; b += 8 {
		for k := b; k < b+4; k++ {
			t := (a[k]>>4 ^ a[k+4]) & 0x0f0f0f0f0f0f0f0f
			a[k+4] ^= t
			a[k] ^= t << 4
		}
	}
	for b := 0; b < 64; b += 4 {
		for k := b; k < b+2; k++ {
			t := (a[k]>>2 ^ a[k+2]) & 0x3333333333333333
			a[k+2] ^= t
			a[k] ^= t << 2
		}
	}
	for b := 0; b < 64; b += 2 {
		for k := b; k < b+1; k++ {
			t := (a[k]>>1 ^ a[k+1]) & 0x5555555555555555
			a[k+1] ^= t
			a[k] ^= t << 1
		}
	}
}

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
			transpose64(&a)
			for b := range cnt {
				rows[lo+b][cg] = a[b]
			}
		}
	}
}
