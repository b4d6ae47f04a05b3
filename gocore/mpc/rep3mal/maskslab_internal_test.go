package rep3mal

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc/rep3"
)

// TestMaskSlab: the slab's buffers do not overlap until a reset (sizes below, at and
// above a chunk), have their requested length and capacity, a reset joins the chunks into
// one that holds the next round's buffers, and the recorder starts the slab over only
// when no recorded product (or pending mask) and no conversion holding scratch words can
// still use its words.
func TestMaskSlab(t *testing.T) {
	var s maskSlab
	sizes := []int{5, maskChunkWords - 3, 7, maskChunkWords + 1, 1, maskChunkWords, 0, 64}
	for round := range 2 {
		var got [][]uint64
		for i, n := range sizes {
			b := s.take(n)
			if len(b) != n || cap(b) != n {
				t.Fatalf("round %d, take(%d): len %d cap %d", round, n, len(b), cap(b))
			}
			for j := range b {
				b[j] = uint64(i)
			}
			got = append(got, b)
		}
		for i, b := range got {
			for j, v := range b {
				if v != uint64(i) {
					t.Fatalf("round %d: buffer %d word %d overwritten by buffer %d", round, i, j, v)
				}
			}
		}
		chunks, words := len(s.chunks), 0
		for i := range s.chunks {
			words += s.chunks[i].Cap() / 8
		}
		s.reset()
		if round == 1 && chunks != 1 {
			t.Fatalf("the second round took %d chunks, want 1", chunks)
		}
		if len(s.chunks) != 1 || s.chunks[0].Cap()/8 != words {
			t.Fatalf("round %d: reset left %d chunks (first of %d bytes), want one of %d words", round, len(s.chunks), s.chunks[0].Cap(), words)
		}
	}
	r := newRecorder()
	next, _ := r.MaskBuffers(4)
	r.ProductMasks(next, nil) // pending: reported, its product not yet
	if n2, _ := r.MaskBuffers(4); &n2[0] == &next[0] {
		t.Fatal("pending masks were handed out again")
	}
	r.masks = [2][]uint64{}
	r.products = append(r.products, product{rel: rep3.Relation{Kind: "and"}, next: next})
	if n2, _ := r.MaskBuffers(4); &n2[0] == &next[0] {
		t.Fatal("a recorded product's masks were handed out again")
	}
	r.products = nil
	if n3, _ := r.MaskBuffers(4); &n3[0] != &next[0] {
		t.Fatal("the slab did not start over with nothing recorded")
	}
	// A conversion holding scratch words: a check from inside it (nothing recorded
	// afterwards) must not hand its words out again until it lets go.
	r.products = nil
	r.Hold(true)
	u := r.Scratch(4)
	for _, take := range []func() []uint64{
		func() []uint64 { n, _ := r.MaskBuffers(4); return n },
		func() []uint64 { return r.Scratch(4) },
	} {
		if b := take(); &b[0] == &u[0] {
			t.Fatal("held scratch words were handed out again")
		}
	}
	r.Hold(false)
	if r.held != 0 {
		t.Fatalf("held %d after Hold(false)", r.held)
	}
	if b := r.Scratch(4); &b[0] != &u[0] {
		t.Fatal("the slab did not start over after the hold")
	}
}
