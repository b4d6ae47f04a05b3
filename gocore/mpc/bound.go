package mpc

// Bounder is an optional Protocol extension: a public promise about a share's values.
// Bound(x, bits) returns x marked as holding signed integers of bits bits (two's
// complement, 1 <= bits <= 64). The promise must follow from public information (the
// engine declares a layer's weights minus their zero points from the weight type and the
// zero points, which are public), never from the values, so the mark reveals nothing.
// Protocols may size their work by it: semi2k's one-sided products of the owner's weights
// take one correlated OT per bit. A value that breaks the promise makes the product that
// relies on it fail with an error at the party that holds it.
type Bounder interface {
	Bound(x AShare, bits int) AShare
}

// Bound returns p's Bound(x, bits), or x for protocols without the extension.
func Bound(p Protocol, x AShare, bits int) AShare {
	if b, ok := Ext[Bounder](p); ok {
		return b.Bound(x, bits)
	}
	return x
}

// SignedBits is the fewest bits of a two's complement integer type that holds every
// integer in [lo, hi].
func SignedBits(lo, hi int64) int {
	for b := 1; b < 64; b++ {
		if lo >= -(1<<(b-1)) && hi < 1<<(b-1) {
			return b
		}
	}
	return 64
}
