package rep3

// MaskBuffers is an optional interface of a MaskObserver: it supplies the buffers in which
// rep3 draws the zero-share words of its AND products (those it then reports to
// ProductMasks), so that a checked variant can take them from memory it reuses once its
// check no longer needs them, instead of rep3 allocating (and clearing) two fresh vectors
// per AND round. rep3 writes every word of both buffers before reporting them, and the
// Observer owns them (rep3 neither keeps nor reads them afterwards).
type MaskBuffers interface {
	MaskObserver
	// MaskBuffers returns two buffers of n words each (any contents; not aliasing each
	// other or anything the Observer still needs).
	MaskBuffers(n int) (next, prev []uint64)
}

// andMasks returns the buffers for an AND product's zero-share words: the Observer's if
// it supplies them (MaskBuffers), else productMasks'.
func (p *Protocol) andMasks(n int) (next, prev []uint64) {
	if b, ok := p.obs.(MaskBuffers); ok {
		return b.MaskBuffers(n)
	}
	return p.productMasks(n)
}
