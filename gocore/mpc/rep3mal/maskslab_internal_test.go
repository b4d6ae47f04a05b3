package rep3mal

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc/rep3"
)

// TestMaskSlab: the slab's buffers do not overlap until a reset (sizes below, at and
// above a chunk), have their requested length and capacity, and the recorder starts the
// slab over only when no recorded product (or pending mask) can still hold its words.
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
		chunks := len(s.chunks)
		s.reset()
		if round == 1 && chunks != len(s.chunks) {
			t.Fatalf("the second round grew the slab")
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
}
