package rep3mal

import (
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/pagebuf"
)

// maskSlab holds the zero-share words of the recorded products (rep3.MaskBuffers) and the
// checked conversions' own vectors (rep3.Scratch: the B2A adder's operands): chunks of
// memory handed out end to end and reused from the start once the batch that used them
// has been checked, so that the AND rounds (the adders' 62 rounds per B2A, the
// comparisons' and A2B's rounds), the arithmetic products and the adders neither allocate
// nor clear these words. It holds about the largest batch's words for the party's
// lifetime, outside the Go heap (pagebuf: 2 MB huge pages where the OS offers them, so
// that the chunks neither count towards the heap the garbage collector paces itself by
// nor are first touched 4 KB at a time).
type maskSlab struct {
	chunks []pagebuf.Buffer
	cur    int // the chunk taken from
	used   int // words of chunks[cur] handed out
}

// maskChunkWords is the least size of a slab chunk (2 MB; a chunk is at least as large as
// the request it is added for and as all earlier chunks together, so that a slab of k
// chunks has grown by doubling), and firstChunkWords that of the first where unwritten
// pages cost nothing (pagebuf.Lazy: 64 MB of address space, more than MobileNetV1
// 0.25_128's batches write, so that its slab never grows nor is joined and faulted in
// again).
const (
	maskChunkWords  = 1 << 18
	firstChunkWords = 1 << 23
)

// reset makes every chunk free again: the caller no longer needs any words handed out.
// A slab of several chunks becomes one chunk of their total size, so that the next
// batches' buffers are laid end to end in one mapping (a request larger than what is left
// of a chunk skips the rest of it; on the 1.0_224 chain, chunks of 2 MB and of single
// large requests added up to 82 MB per party). Pages of the mapping that no batch writes
// are never faulted in.
func (s *maskSlab) reset() {
	if len(s.chunks) > 1 {
		words := 0
		for i := range s.chunks {
			words += s.chunks[i].Cap() / 8
			s.chunks[i].Release()
		}
		s.chunks = s.chunks[:1]
		pagebuf.Slice[uint64](&s.chunks[0], words)
	}
	s.cur, s.used = 0, 0
}

// take returns n words (stale contents) that do not overlap any others taken since the
// last reset.
func (s *maskSlab) take(n int) []uint64 {
	for s.cur < len(s.chunks) {
		if c := &s.chunks[s.cur]; s.used+n <= c.Cap()/8 {
			s.used += n
			return pagebuf.Slice[uint64](c, s.used)[s.used-n : s.used : s.used]
		}
		s.cur, s.used = s.cur+1, 0
	}
	words := 0 // a new chunk is at least as large as all others together
	for i := range s.chunks {
		words += s.chunks[i].Cap() / 8
	}
	if words == 0 && pagebuf.Lazy {
		words = firstChunkWords
	}
	s.chunks = append(s.chunks, pagebuf.Buffer{})
	s.used = n
	return pagebuf.Slice[uint64](&s.chunks[s.cur], max(n, maskChunkWords, words))[:n:n]
}

// MaskBuffers supplies rep3's products' mask buffers from the slab (rep3.MaskBuffers).
func (r *recorder) MaskBuffers(n int) (next, prev []uint64) {
	r.startOver()
	return r.stale(r.slab.take(n)), r.stale(r.slab.take(n))
}

// Scratch supplies a checked conversion's vectors from the slab (rep3.Scratch).
func (r *recorder) Scratch(n int) []uint64 {
	r.startOver()
	return r.stale(r.slab.take(n))
}

// stale fills b with words that differ between the parties if r.poison is set (tests:
// rep3 must write every word it takes before reading it, whatever the slab held).
func (r *recorder) stale(b []uint64) []uint64 {
	if r.poison != 0 {
		for i := range b {
			b[i] = r.poison * uint64(i+1)
		}
	}
	return b
}

// Hold keeps the slab from starting over while a conversion uses its scratch words
// (rep3.Scratch).
func (r *recorder) Hold(on bool) {
	if on {
		r.startOver()
		r.held++
	} else {
		r.held--
	}
}

// startOver resets the slab if nothing can refer to its words: when nothing is recorded,
// every earlier product has been checked (check takes the recorded products, and the
// proofs are done when it returns), and no conversion holds scratch words it still uses
// (a check run from inside it, when the batch filled up, leaves them to it).
func (r *recorder) startOver() {
	if len(r.products) == 0 && r.masks[0] == nil && !r.checking && r.held == 0 {
		r.slab.reset()
	}
}

var _ rep3.Scratch = (*recorder)(nil)
