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
