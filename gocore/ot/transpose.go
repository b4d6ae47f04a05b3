package ot

// Bit-matrix transpose for IKNP: the 128 columns of n bits each that the base-OT seeds
// expand to become n rows of 128 bits (one Block per OT). The matrix is cut into 64x64
// blocks, each transposed in place by Eklundh's recursive block swap (log2(64) = 6 passes
// of 32 masked word swaps; "Hacker's Delight", section 7-3). No secrets steer branches or
// addresses.

// transpose64 transposes the 64x64 bit matrix a in place, where bit c of a[r] is the entry
// in row r, column c.
func transpose64(a *[64]uint64) {
	m := uint64(0x00000000ffffffff)
	for j := 32; j != 0; j >>= 1 {
		for k := 0; k < 64; k = (k + j + 1) &^ j {
			t := (a[k]>>j ^ a[k+j]) & m
			a[k+j] ^= t
			a[k] ^= t << j
		}
		m ^= m << (j >> 1)
	}
}

// colsToRows transposes 128 columns of nw words each (cols[i*nw+w] holds rows 64w..64w+63
// of column i, row r at bit r%64) into rows: rows[r] has column c at bit c%64 of word
// c/64. Only the first len(rows) <= 64*nw rows are written.
func colsToRows(rows []Block, cols []uint64, nw int) {
	var a [64]uint64
	for w := range nw {
		lo := 64 * w
		cnt := min(64, len(rows)-lo)
		if cnt <= 0 {
			return
		}
		for cg := range 2 {
			for r := range 64 {
				a[r] = cols[(64*cg+r)*nw+w]
			}
			transpose64(&a)
			for b := range cnt {
				rows[lo+b][cg] = a[b]
			}
		}
	}
}
