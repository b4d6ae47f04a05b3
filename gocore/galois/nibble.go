package galois

// NibbleTable holds the 16 subset sums of each group of four rows of a list of elements:
// entry 16g + b is the sum of rows 4g + i over the bits i of b. With it, a sum of rows
// selected by a bit mask costs one addition per four rows (Elem.AddNibbleSums), the
// "four Russians" way: the proofs' folds of 0/1-valued components (rep3mal) use it.
type NibbleTable []Elem

// NewNibbleTable returns the table of rows (len(rows) a multiple of 4).
func NewNibbleTable(rows []Elem) NibbleTable {
	t := make(NibbleTable, len(rows)/4*16)
	for g := range len(rows) / 4 {
		tg := t[16*g : 16*g+16]
		for i := range 4 {
			tg[1<<i] = rows[4*g+i]
		}
		for b := 3; b < 16; b++ {
			if low := b & -b; low != b {
				tg[b].Add(&tg[b^low], &tg[low])
			}
		}
	}
	return t
}

// Groups is the number of groups of four rows.
func (t NibbleTable) Groups() int { return len(t) / 16 }

// AddNibbleSums adds to e the sum over g of entry 16g + idx[g] of t (idx[g] < 16; len(idx)
// at most t.Groups()): the sum of the rows 4g + i with bit i of idx[g] set.
func (e *Elem) AddNibbleSums(t NibbleTable, idx []uint8) {
	n := len(idx)
	if n > t.Groups() {
		panic("galois: more nibbles than table groups")
	}
	if n == 0 {
		return
	}
	for _, b := range idx {
		if b > 15 {
			panic("galois: nibble index above 15")
		}
	}
	if hasAVX512 {
		addNibbleSumsAVX512((*[D]uint64)(e), (*[D]uint64)(&t[0]), &idx[0], n)
		return
	}
	if hasAVX2 {
		addNibbleSumsAVX2((*[D]uint64)(e), (*[D]uint64)(&t[0]), &idx[0], n)
		return
	}
	for g, b := range idx {
		r := &t[16*g+int(b)]
		for i := range e {
			e[i] += r[i]
		}
	}
}

// MulAddBits adds the unreduced product x*y to w for x in the exceptional set given as
// the bit mask of its coefficients (bit i: the coefficient of X^i, bits 56..63 zero):
// with AVX-512, additions under a mask instead of the 448 eight-lane products; with AVX2,
// one four-lane addition per set bit and group of four words.
func (w *Wide) MulAddBits(x uint64, y *Elem) {
	if x>>D != 0 {
		panic("galois: MulAddBits: bits above the degree")
	}
	if hasAVX512 {
		mulAdd56BitsAVX512((*[2 * D]uint64)(w), x, (*[D]uint64)(y))
		return
	}
	if hasAVX2 {
		var ypad [D + 8]uint64
		copy(ypad[4:], y[:])
		mulAdd56BitsAVX2((*[2 * D]uint64)(w), x, &ypad)
		return
	}
	for i := range D {
		if x>>uint(i)&1 == 1 {
			for j := range y {
				w[i+j] += y[j]
			}
		}
	}
}

// MulBits sets e = x*y for x in the exceptional set given by its bit mask (MulAddBits).
func (e *Elem) MulBits(x uint64, y *Elem) {
	var w Wide
	w.MulAddBits(x, y)
	w.Reduce(e)
}

// Bits returns the bit mask of the coefficients of e, which must be in the exceptional set
// (every coefficient 0 or 1).
func (e *Elem) Bits() uint64 {
	var b uint64
	for i, c := range e {
		if c > 1 {
			panic("galois: Bits of an element outside the exceptional set")
		}
		b |= c << uint(i)
	}
	return b
}
