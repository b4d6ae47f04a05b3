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
