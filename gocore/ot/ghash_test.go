package ot

import (
	"fmt"
	"testing"
)

// TestGHASHIncMatchesPolyHash: the incremental GHASH of ghash_amd64.s, fed the rows in
// pieces of any sizes (tiles, single rows, the octa loop's 8 and its remainders), equals
// polyHash.sum (the standard library's GCM) over the whole input.
func TestGHASHIncMatchesPolyHash(t *testing.T) {
	if newGHASHInc([32]byte{}) == nil {
		t.Skip("no incremental GHASH on this CPU")
	}
	rng := seeded(7)
	has := hasVPCLMUL
	defer func() { hasVPCLMUL = has }()
	t.Logf("VPCLMULQDQ kernel: %v", has)
	for _, tc := range []struct {
		n      int
		pieces []int
	}{
		{1, []int{1}},
		{7, []int{7}},
		{8, []int{8}},
		{9, []int{1, 8}},
		{100, []int{3, 0, 17, 80}},
		{64, []int{8, 16, 24, 16}},
		{48, []int{16, 32}},
		{40, []int{17, 23}},
		{1000, []int{999, 1}},
		{64*tileWords + KOSExtra, []int{64 * tileWords, KOSExtra}},
		{3*64*tileWords + 192, []int{64 * tileWords, 64 * tileWords, 64 * tileWords, 192}},
	} {
		t.Run(fmt.Sprintf("n=%d", tc.n), func(t *testing.T) {
			rows := make([]Block, tc.n)
			for j := range rows {
				w := rng.Uint64s(2)
				rows[j] = Block{w[0], w[1]}
			}
			var seed [32]byte
			rng.Read(seed[:])
			want := newPolyHash(seed).sumGCM(rows)
			for _, vp := range []bool{false, true} {
				if vp && !has {
					continue
				}
				hasVPCLMUL = vp
				g := newGHASHInc(seed)
				off := 0
				for _, p := range tc.pieces {
					g.write(rows[off : off+p])
					off += p
				}
				if off != tc.n {
					t.Fatalf("pieces cover %d of %d rows", off, tc.n)
				}
				if got := g.sum(); got != want {
					t.Fatalf("vpclmul=%v: incremental GHASH %x, crypto/cipher's %x", vp, got, want)
				}
				if got := newPolyHash(seed).sum(rows); got != want {
					t.Fatalf("vpclmul=%v: polyHash.sum %x, crypto/cipher's %x", vp, got, want)
				}
			}
			// A changed row changes the value.
			rows[tc.n/2][1] ^= 1 << 63
			if newPolyHash(seed).sum(rows) == want {
				t.Fatal("GHASH unchanged by a changed row")
			}
		})
	}
}

// BenchmarkGHASH: the KOS check's GHASH per 16-byte row over one tile's rows (in cache),
// by crypto/cipher's GCM and by the incremental kernels.
func BenchmarkGHASH(b *testing.B) {
	var seed [32]byte
	rows := make([]Block, 64*tileWords)
	has := hasVPCLMUL
	defer func() { hasVPCLMUL = has }()
	for _, name := range []string{"gcm", "inc", "inc-vpclmul"} {
		b.Run(name, func(b *testing.B) {
			p := newPolyHash(seed)
			g := newGHASHInc(seed)
			if name != "gcm" && g == nil || name == "inc-vpclmul" && !has {
				b.Skip("kernel not available")
			}
			hasVPCLMUL = name == "inc-vpclmul"
			before := cpuTime()
			for b.Loop() {
				if name == "gcm" {
					p.sumGCM(rows)
				} else {
					g.write(rows)
				}
			}
			b.ReportMetric(float64(cpuTime()-before)/float64(b.N*len(rows)), "cpu-ns/row")
		})
	}
}
