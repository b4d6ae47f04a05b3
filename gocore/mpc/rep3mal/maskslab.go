package rep3mal

import (
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/pagebuf"
)

// maskSlab holds the zero-share words of the recorded AND products (rep3.MaskBuffers):
// chunks of memory handed out end to end and reused from the start once the batch that
// used them has been checked, so that the AND rounds (the adders' 62 rounds per B2A, the
// comparisons' and A2B's rounds) neither allocate nor clear their mask words. It holds
// about the largest batch's mask words for the party's lifetime, outside the Go heap
// (pagebuf: 2 MB huge pages where the OS offers them, so that the chunks neither count
// towards the heap the garbage collector paces itself by nor are first touched 4 KB at a
// time).
type maskSlab struct {
	chunks []pagebuf.Buffer
	cur    int // the chunk taken from
	used   int // words of chunks[cur] handed out
}

// maskChunkWords is the size of a slab chunk (2 MB; a larger request gets a chunk of its
// own size).
const maskChunkWords = 1 << 18

// reset makes every chunk free again: the caller no longer needs any words handed out.
// A slab of several chunks becomes one chunk of their total size, so that the next
// batches' buffers are laid end to end in one mapping: a request larger than what is left
// of a chunk skips the rest of it, and on layers of growing sizes (the 1.0_224 chain)
// chunks of 2 MB and of single large requests added up to four times a batch's mask words.
// Pages of the mapping that no batch writes are never faulted in.
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
	s.chunks = append(s.chunks, pagebuf.Buffer{})
	s.used = n
	return pagebuf.Slice[uint64](&s.chunks[s.cur], max(n, maskChunkWords))[:n:n]
}

// MaskBuffers supplies rep3's AND products' mask buffers from the slab (rep3.MaskBuffers).
// When nothing is recorded, every earlier product has been checked (check takes the
// recorded products, and the proofs are done when it returns), so the slab starts over.
func (r *recorder) MaskBuffers(n int) (next, prev []uint64) {
	if len(r.products) == 0 && r.masks[0] == nil && !r.checking {
		r.slab.reset()
	}
	return r.slab.take(n), r.slab.take(n)
}

var _ rep3.MaskBuffers = (*recorder)(nil)
