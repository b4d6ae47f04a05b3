package ot

import "testing"

// TestTCRBatch: the batched hash equals the one-block definition H(i, x) = pi(pi(x) xor i)
// xor pi(x), across batch boundaries.
func TestTCRBatch(t *testing.T) {
	h := newHasher()
	x := make([]Block, 600)
	for i := range x {
		x[i] = Block{uint64(i) * 0x9e3779b97f4a7c15, ^uint64(i)}
	}
	out := make([]Block, len(x))
	h.tcrBatch(out, x, 1000)
	for i := range x {
		if want := h.tcr(1000+uint64(i), x[i]); out[i] != want {
			t.Fatalf("block %d: %x, want %x", i, out[i], want)
		}
	}
	if h.tcr(1, x[0]) == h.tcr(2, x[0]) {
		t.Fatal("the tweak does not change the hash")
	}
}

func BenchmarkTCR(b *testing.B) {
	h := newHasher()
	x := make([]Block, 1<<12)
	b.SetBytes(16)
	for range b.N/len(x) + 1 {
		h.tcrBatch(x, x, 0)
	}
}
