package galois

// GF(2^64) = GR(2, 64) = GF(2)[X]/(X^64 + X^4 + X^3 + X + 1): the field of rep3mal's
// proof of AND words (bits), of the same shape as the Z_2^64 proof. Over a field every
// element is in the exceptional set: a non-zero polynomial of total degree t vanishes at
// a uniform point with probability at most t/2^64.
// Go has no carry-less multiply intrinsic: on amd64 processors with PCLMULQDQ the
// products, inner products and scaled sums use it (clmul_amd64.s), elsewhere a table of
// the 16 multiples of one operand by 4-bit windows of the other.

import "unsafe"

// F64 is an element of GF(2^64): bit i is the coefficient of X^i.
type F64 uint64

// gf64Taps is X^64 mod F = X^4 + X^3 + X + 1.
const gf64Taps = 0x1b

// Add is addition (XOR); subtraction is the same.
func (a F64) Add(b F64) F64 { return a ^ b }

// Mul is the field product.
func (a F64) Mul(b F64) F64 {
	hi, lo := clmul(uint64(a), uint64(b))
	return F64(gf64Reduce(hi, lo))
}

// clmul returns the carry-less product of a and b (hi: coefficients 64..126): with
// PCLMULQDQ where the processor has it (amd64), else clmulSoft.
func clmul(a, b uint64) (hi, lo uint64) {
	if hasCLMUL {
		return clmulAsm(a, b)
	}
	return clmulSoft(a, b)
}

// clmulSoft is clmul in Go.
func clmulSoft(a, b uint64) (hi, lo uint64) {
	// t[j] = a * j for 4-bit j, as 67-bit values: tl the low word, th the bits above 63.
	var tl, th [16]uint64
	tl[1] = a
	for j := 2; j < 16; j += 2 {
		tl[j], th[j] = tl[j/2]<<1, th[j/2]<<1|tl[j/2]>>63
		tl[j+1], th[j+1] = tl[j]^a, th[j]
	}
	for i := 60; i >= 0; i -= 4 { // Horner over the nibbles of b, high to low
		hi = hi<<4 | lo>>60
		lo <<= 4
		n := b >> uint(i) & 15
		lo ^= tl[n]
		hi ^= th[n]
	}
	return hi, lo
}

// gf64Reduce returns (hi * X^64 + lo) mod F.
func gf64Reduce(hi, lo uint64) uint64 {
	// hi * X^64 = hi * (X^4 + X^3 + X + 1): at most 68 bits; the 4 bits above 63 fold
	// once more (into bits 0..7, no further overflow).
	h2 := hi>>60 ^ hi>>61 ^ hi>>63
	lo ^= hi ^ hi<<1 ^ hi<<3 ^ hi<<4
	return lo ^ h2 ^ h2<<1 ^ h2<<3 ^ h2<<4
}

// F64Wide is an unreduced sum of products (coefficients 0..127): inner products are
// summed in a F64Wide and reduced once.
type F64Wide struct{ Hi, Lo uint64 }

// MulAdd adds the carry-less product a*b to w.
func (w *F64Wide) MulAdd(a, b F64) {
	hi, lo := clmul(uint64(a), uint64(b))
	w.Hi ^= hi
	w.Lo ^= lo
}

// Reduce returns w mod F.
func (w *F64Wide) Reduce() F64 { return F64(gf64Reduce(w.Hi, w.Lo)) }

// Dot adds the carry-less inner product sum a[i]*b[i], i < len(a) <= len(b), to w.
func (w *F64Wide) Dot(a, b []F64) {
	if len(a) == 0 {
		return
	}
	b = b[:len(a)]
	if hasCLMUL {
		hi, lo := clmulDotAsm(words64(a), words64(b))
		w.Hi ^= hi
		w.Lo ^= lo
		return
	}
	for i, x := range a {
		hi, lo := clmulSoft(uint64(x), uint64(b[i]))
		w.Hi ^= hi
		w.Lo ^= lo
	}
}

func words64(a []F64) []uint64 { return unsafe.Slice((*uint64)(unsafe.Pointer(&a[0])), len(a)) }

// F64Table multiplies by a constant c with eight look-ups: entry [i][b] is c * b * X^(8i)
// for the byte b (reduced). Setting it costs 2048 additions: worth it for vectors of more
// than a few hundred products by the same c.
type F64Table [8][256]F64

// Set makes t the table of c.
func (t *F64Table) Set(c F64) {
	x := c
	for i := range t {
		row := &t[i]
		row[0] = 0
		for j := range 8 { // row[1<<j] = c X^(8i+j)
			row[1<<j] = x
			x = x.mulX()
		}
		for b := 3; b < 256; b++ {
			if b&(b-1) != 0 {
				low := b & -b
				row[b] = row[b^low] ^ row[low]
			}
		}
	}
}

// Mul returns c*b.
func (t *F64Table) Mul(b F64) F64 {
	return t[0][uint8(b)] ^ t[1][uint8(b>>8)] ^ t[2][uint8(b>>16)] ^ t[3][uint8(b>>24)] ^
		t[4][uint8(b>>32)] ^ t[5][uint8(b>>40)] ^ t[6][uint8(b>>48)] ^ t[7][uint8(b>>56)]
}

// mulX returns a*X.
func (a F64) mulX() F64 {
	r := a << 1
	if a>>63 != 0 {
		r ^= gf64Taps
	}
	return r
}

// MulXPow returns a*X^k for k < 64.
func (a F64) MulXPow(k uint) F64 {
	if k == 0 {
		return a
	}
	return F64(gf64Reduce(uint64(a)>>(64-k), uint64(a)<<k))
}

// F64Acc is a vector of unreduced sums (F64Wide, kept as two word vectors).
type F64Acc struct{ Hi, Lo []uint64 }

// NewF64Acc returns n zero sums.
func NewF64Acc(n int) F64Acc { return F64Acc{make([]uint64, n), make([]uint64, n)} }

// AddScaled adds the carry-less products a[i]*c to sum i, i < len(a) <= the sums' length.
func (s F64Acc) AddScaled(a []F64, c F64) {
	if len(a) == 0 {
		return
	}
	hi, lo := s.Hi[:len(a)], s.Lo[:len(a)]
	if hasCLMUL {
		clmulAccAsm(hi, lo, words64(a), uint64(c))
		return
	}
	for i, x := range a {
		h, l := clmulSoft(uint64(x), uint64(c))
		hi[i] ^= h
		lo[i] ^= l
	}
}

// Reduce writes sum i mod F to out[i] and clears the sums.
func (s F64Acc) Reduce(out []F64) {
	for i := range out {
		out[i] = F64(gf64Reduce(s.Hi[i], s.Lo[i]))
		s.Hi[i], s.Lo[i] = 0, 0
	}
}
