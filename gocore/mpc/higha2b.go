package mpc

// HighA2B is an optional Protocol extension: an A2B of which only the planes [lo, w) are
// wanted. A protocol with a parallel-prefix adder can skip the gates that only the lower
// sum planes need (the carry into plane lo is still computed), so the conversion sends
// fewer AND gates and never takes more rounds. Requantization uses it: the planes below
// the tie planes of the quotient are never read.
type HighA2B interface {
	// A2BHigh returns a (w-lo)-bit binary sharing of floor((x mod 2^w) / 2^lo), i.e. the
	// planes [lo, w) of A2B(x, w); 0 <= lo < w <= 64.
	A2BHigh(x AShare, w, lo int) (BShare, error)
}

// a2bHigh returns the planes [lo, w) of A2B(x, w), with p's HighA2B where it has one.
func a2bHigh(p Protocol, x AShare, w, lo int) (BShare, error) {
	if h, ok := Ext[HighA2B](p); ok {
		return h.A2BHigh(x, w, lo)
	}
	b, err := p.A2B(x, w)
	if err != nil {
		return nil, err
	}
	return p.Bits(b, lo, w-lo), nil
}

// a2bSigned returns the planes [lo, w) of the w-bit two's complement of x, in the
// domain-neutral way: A2B of x + 2^(w-1), which lies in [0, 2^w) when x lies in
// [-2^(w-1), 2^(w-1)), with plane w-1 flipped back. In Z_2^k this equals the planes of
// A2B(x, w) bit for bit for every x (adding 2^(w-1) changes only plane w-1 mod 2^w), at
// the same cost; in a prime field, where A2B of a negative x would decompose p + x, it is
// correct for x in that range. Every comparison, truncation and requantization of a
// signed value decomposes it this way.
func a2bSigned(p Protocol, x AShare, w, lo int) (BShare, error) {
	b, err := a2bHigh(p, p.AddPublic(x, []uint64{Int(1) << uint(w-1)}), w, lo)
	if err != nil {
		return nil, err
	}
	top := w - 1 - lo
	if top == 0 {
		return p.NOT(b), nil
	}
	return p.JoinBits(p.Bits(b, 0, top), p.NOT(p.Bits(b, top, 1))), nil
}

// Int is the encoding of the signed public constant v in the []uint64 arguments of
// Protocol (Public, AddPublic, MulPublic, Input values): 64-bit two's complement. A
// protocol over another domain (F_p) maps such a word to v mod p; values are meant as
// signed integers of at most 63 bits.
func Int(v int64) uint64 { return uint64(v) }

// RangedInput is an optional Protocol extension: Input with a public range [lo, hi] of
// the values as signed integers (e.g. their tensor type's range), which the owner's
// values must lie in. A protocol may use it to size its messages (semi2k's one-sided
// products) without looking at the values.
type RangedInput interface {
	InputRange(owner int, vals []uint64, n int, lo, hi int64) (AShare, error)
}

// InputRange inputs vals with the public range [lo, hi] through p's RangedInput, or with
// Input.
func InputRange(p Protocol, owner int, vals []uint64, n int, lo, hi int64) (AShare, error) {
	if r, ok := Ext[RangedInput](p); ok {
		return r.InputRange(owner, vals, n, lo, hi)
	}
	return p.Input(owner, vals, n)
}
