package rep3

// MaskBuffers is an optional interface of a MaskObserver: it supplies the buffers in which
// rep3 draws the zero-share words of its products (AND words and arithmetic products,
// those it then reports to ProductMasks), so that a checked variant can take them from
// memory it reuses once its check no longer needs them, instead of rep3 allocating (and
// clearing) two fresh vectors per product and AND round. rep3 writes every word of both
// buffers before reporting them, and the Observer owns them (rep3 neither keeps nor reads
// them afterwards).
type MaskBuffers interface {
	MaskObserver
	// MaskBuffers returns two buffers of n words each (any contents; not aliasing each
	// other or anything the Observer still needs).
	MaskBuffers(n int) (next, prev []uint64)
}

// Scratch is an optional interface of a MaskBuffers Observer: it also supplies the words
// of a checked conversion's own vectors, those it reports as AND operands and those it
// needs only while it runs (b2aAdder: -r_1's and -r_2's planes, U, S, C and the ripple's
// G and H), from the memory it reuses for the masks. rep3 calls Hold(true) before taking
// any and Hold(false) when the conversion returns; it writes every word it takes before
// reading it, and sends none of them (a sent vector may be kept by the receiver).
type Scratch interface {
	MaskBuffers
	// Scratch returns n words (any contents) that alias nothing handed out since
	// Hold(true), nor anything a recorded product refers to.
	Scratch(n int) []uint64
	// Hold(true) keeps every word handed out from being handed out again, even after a
	// check of the products recorded so far, until Hold(false); after that, the words
	// stay untouched while a recorded product refers to them.
	Hold(on bool)
}

// scratch returns n words for a checked conversion's own vectors (stale contents: the
// caller writes every one, and sends none): the Observer's (Scratch) between hold(true)
// and hold(false), else new ones.
func (p *Protocol) scratch(n int) []uint64 {
	if s, ok := p.obs.(Scratch); ok {
		return s.Scratch(n)
	}
	return make([]uint64, n)
}

// hold brackets a conversion that takes scratch words (Scratch.Hold).
func (p *Protocol) hold(on bool) {
	if s, ok := p.obs.(Scratch); ok {
		s.Hold(on)
	}
}

// zeroWords returns n zero words that nothing writes: the one component of an AND operand
// that a checked conversion knows to be zero (b2aAdder's V, a2bCheckedOperands' U and V).
// The slice is shared by every caller and may be kept by the Observer (which must not
// modify what it is given), instead of a fresh zero vector per conversion.
func (p *Protocol) zeroWords(n int) []uint64 {
	if len(p.zeros) < n {
		p.zeros = make([]uint64, n)
	}
	return p.zeros[:n:n]
}
