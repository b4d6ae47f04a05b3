package galois

// GF(2^64) = GR(2, 64) = GF(2)[X]/(X^64 + X^4 + X^3 + X + 1): the field for a proof of
// AND gates (bits) of the same shape as the Z_2^64 proof (rep3mal design notes, "what
// remains"). Over a field every element is in the exceptional set: a non-zero polynomial
// of total degree t vanishes at a uniform point with probability at most t/2^64.
// Go has no carry-less multiply intrinsic, so the product is computed with a table of the
// 16 multiples of one operand by 4-bit windows of the other.

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

// clmul returns the carry-less product of a and b (hi: coefficients 64..126).
func clmul(a, b uint64) (hi, lo uint64) {
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
	// hi * X^64 = hi * (X^4 + X^3 + X + 1): at most 67 bits, whose top 3 bits fold again.
	for hi != 0 {
		var h2, l2 uint64
		for _, k := range [...]uint{4, 3, 1, 0} {
			l2 ^= hi << k
			if k > 0 {
				h2 ^= hi >> (64 - k)
			}
		}
		lo ^= l2
		hi = h2
	}
	return lo
}
