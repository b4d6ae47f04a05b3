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
	for g, b := range idx {
		r := &t[16*g+int(b)]
		for i := range e {
			e[i] += r[i]
		}
	}
}
