package spdz2k

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/ring"
)

// randomBShare returns a secret share of n elements and w planes with random bits, MACs
// and keys (no MAC relation: andFinish's arithmetic does not depend on one).
func randomBShare(r *rand.Rand, n, w int) *BShare {
	s := newBShare(n, w)
	for _, v := range [][]uint64{s.x, s.m, s.k} {
		for i := range v {
			v[i] = r.Uint64()
		}
	}
	return s
}

// andFinishRef is andFinish bit by bit (the code before BenchmarkAndFinish): z and the D
// values, d's for all planes then e's.
func andFinishRef(id int, delta uint64, x, y, a, b, c *BShare, own, peer []uint64) (*BShare, []uint64) {
	n, w, nw := x.n, x.w, len(x.x)
	d, e := xorWords(own[:nw], peer[:nw]), xorWords(own[nw:], peer[nw:])
	z := &BShare{n: n, w: w, x: make([]uint64, nw), m: make([]uint64, n*w), k: make([]uint64, n*w)}
	for t := range z.x {
		z.x[t] = c.x[t] ^ d[t]&b.x[t] ^ e[t]&a.x[t]
		if id == 0 {
			z.x[t] ^= d[t] & e[t]
		}
	}
	W := ring.Words(n)
	dl := delta
	if id == 0 {
		dl = 0
	}
	dd := make([]uint64, 2*n*w)
	for j := 0; j < w; j++ {
		for i := 0; i < n; i++ {
			q := j*n + i
			md, me := mask(bitAt(d, W, j, i)), mask(bitAt(e, W, j, i))
			pd, pe := mask(bitAt(peer, W, j, i)), mask(bitAt(peer[nw:], W, j, i))
			z.m[q] = c.m[q] ^ b.m[q]&md ^ a.m[q]&me
			z.k[q] = c.k[q] ^ b.k[q]&md ^ a.k[q]&me ^ dl&md&me
			dd[q] = x.m[q] ^ a.m[q] ^ x.k[q] ^ a.k[q] ^ delta&pd
			dd[n*w+q] = y.m[q] ^ b.m[q] ^ y.k[q] ^ b.k[q] ^ delta&pe
		}
	}
	return z, dd
}

// TestAndFinish: the word-at-a-time, chunked andFinish gives the reference's z, MACs and
// keys at both parties, and hashes the folds of the reference's D values (foldRef) in the
// order of gates, planes and words; calls of one or several gates, below and above
// andParallelMin (workers).
func TestAndFinish(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ n, w, gates int }{{1, 1, 1}, {63, 2, 1}, {64, 1, 3}, {65, 3, 1}, {1000, 1, 2}, {andChunk, 2, 1},
		{andChunk + 77, 3, 1}, {3*andChunk + 1, 1, 1}, {5000, 4, 1}, {andParallelMin, 1, 3}, {777, 1, 40}} {
		for id := range 2 {
			t.Run(fmt.Sprintf("n=%d/w=%d/gates=%d/party=%d", tc.n, tc.w, tc.gates, id), func(t *testing.T) {
				n, w := tc.n, tc.w
				gates := make([]andGate, tc.gates)
				for g := range gates {
					x, y, a, b, c := randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w)
					own, peer := make([]uint64, 2*len(x.x)), make([]uint64, 2*len(x.x))
					for i := range own {
						own[i], peer[i] = r.Uint64(), r.Uint64()
					}
					gates[g] = andGate{x: x, y: y, a: a, b: b, c: c, own: own, peer: peer}
				}
				p := &Protocol{id: id, delta: r.Uint64()}
				p.check.reset()
				zs := p.andFinish(gates)
				var ref checker
				ref.reset()
				for g, q := range gates {
					zr, dd := andFinishRef(id, p.delta, q.x, q.y, q.a, q.b, q.c, q.own, q.peer)
					z := zs[g]
					if !slices.Equal(z.x, zr.x) || !slices.Equal(z.m, zr.m) || !slices.Equal(z.k, zr.k) {
						t.Fatalf("gate %d: z differs from the reference", g)
					}
					W := ring.Words(n)
					f := make([]uint64, 0, 2*w*W)
					for j := 0; j < w; j++ {
						for _, off := range []int{0, n * w} { // d's words, then e's
							for i := 0; i < n; i += 64 {
								f = append(f, foldRef(dd[off+j*n+i:off+j*n+min(i+64, n)]))
							}
						}
					}
					ref.hashFolded(f, 2*n*w)
				}
				if !bytes.Equal(p.check.d.Sum(nil), ref.d.Sum(nil)) || p.check.bits != ref.bits {
					t.Fatal("hashed D values differ from the reference")
				}
			})
		}
	}
}

// gfMulRef multiplies in GF(2^64) = GF(2)[X]/(X^64 + X^4 + X^3 + X + 1) bit by bit
// (schoolbook carry-less product, then reduction of the 127-bit result).
func gfMulRef(a, b uint64) uint64 {
	var lo, hi uint64
	for i := range 64 {
		if b>>i&1 == 1 {
			lo ^= a << i
			if i > 0 {
				hi ^= a >> (64 - i)
			}
		}
	}
	for i := 63; i >= 0; i-- { // X^(64+i) = X^i * (X^4 + X^3 + X + 1)
		if hi>>i&1 == 1 {
			hi ^= 1 << i
			r := uint64(0x1b) // X^4 + X^3 + X + 1, written out (not gf64Poly)
			lo ^= r << i
			if i > 0 {
				hi ^= r >> (64 - i)
			}
		}
	}
	return lo
}

// foldRef is foldD from its definition: sum_u X^(m-1-u) d[u], powers of X by gfMulRef.
func foldRef(d []uint64) uint64 {
	var f uint64
	for u, v := range d {
		pow := uint64(1)
		for range len(d) - 1 - u {
			pow = gfMulRef(pow, 2)
		}
		f ^= gfMulRef(v, pow)
	}
	return f
}

// TestFoldD: foldD is its definition, and it detects every pattern of flipped bits of a
// word: the fold of D ^ e*Delta differs from the fold of D for e != 0 (single flips,
// pairs, which a plain XOR would cancel, and random patterns), and the difference is
// Delta times the fold of e (the check's argument).
func TestFoldD(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{1, 2, 7, 63, 64} {
		d := make([]uint64, m)
		for i := range d {
			d[i] = r.Uint64()
		}
		if foldD(d) != foldRef(d) {
			t.Fatalf("m=%d: foldD differs from its definition", m)
		}
		delta := r.Uint64() | 1
		var patterns [][]int
		for u := range m {
			patterns = append(patterns, []int{u})
			for v := u + 1; v < m; v++ {
				patterns = append(patterns, []int{u, v})
			}
		}
		for range 200 {
			var pat []int
			for u := range m {
				if r.IntN(2) == 1 {
					pat = append(pat, u)
				}
			}
			if len(pat) > 0 {
				patterns = append(patterns, pat)
			}
		}
		for _, pat := range patterns {
			bad, e := append([]uint64(nil), d...), make([]uint64, m)
			for _, u := range pat {
				bad[u] ^= delta
				e[u] = 1
			}
			diff := foldD(bad) ^ foldD(d)
			if diff == 0 || diff != gfMulRef(delta, foldD(e)) {
				t.Fatalf("m=%d, flipped %v: fold difference %#x, want Delta*E = %#x (nonzero)", m, pat, diff, gfMulRef(delta, foldD(e)))
			}
		}
	}
}

// TestOpenedBitsFold: openedBits hashes the folds of the D values M ^ K ^ b*Delta
// (expectedMACs) of every word of every plane.
func TestOpenedBitsFold(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ n, w int }{{1, 1}, {64, 2}, {100, 64}, {1000, 3}} {
		s := randomBShare(r, tc.n, tc.w)
		peer := make([]uint64, len(s.x))
		for i := range peer {
			peer[i] = r.Uint64()
		}
		delta := r.Uint64()
		var got, want checker
		got.reset()
		want.reset()
		got.openedBits(s, peer, delta)
		d := expectedMACs(peer, delta, s)
		ring.Xor(d, d, s.m)
		var f []uint64
		for j := 0; j < tc.w; j++ {
			for i := 0; i < tc.n; i += 64 {
				f = append(f, foldRef(d[j*tc.n+i:j*tc.n+min(i+64, tc.n)]))
			}
		}
		want.hashFolded(f, tc.n*tc.w)
		if !bytes.Equal(got.d.Sum(nil), want.d.Sum(nil)) || got.bits != want.bits {
			t.Fatalf("n=%d, w=%d: openedBits hashed something else", tc.n, tc.w)
		}
	}
}

// TestPublicBitOps: andPublic and party 1's xorKeys, a word at a time, against the bit by
// bit definitions (MAC and key zeroed where the public bit is 0; key ^= Delta where it is
// 1).
func TestPublicBitOps(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ n, w int }{{1, 1}, {64, 2}, {130, 3}} {
		x := randomBShare(r, tc.n, tc.w)
		c := make([]uint64, len(x.x))
		for i := range c {
			c[i] = r.Uint64()
		}
		p := &Protocol{id: 1, delta: r.Uint64()}
		y := andPublic(x, c)
		z := clone(x)
		p.xorKeys(z, c)
		W := ring.Words(tc.n)
		for j := 0; j < tc.w; j++ {
			for i := 0; i < tc.n; i++ {
				q, b := j*tc.n+i, bitAt(c, W, j, i)
				if y.m[q] != x.m[q]*b || y.k[q] != x.k[q]*b || z.k[q] != x.k[q]^p.delta*b || z.m[q] != x.m[q] {
					t.Fatalf("n=%d, w=%d: bit %d of plane %d differs", tc.n, tc.w, i, j)
				}
			}
		}
	}
}

// BenchmarkAndFinish: one party's local work of AND gates after the message exchange
// (MACs, keys, D values and their hash), per gate, for one call of eight 1-plane gates
// (the circuit engine's shape) of 2^15 elements (MobileNetV1 0.25_128's first layers):
// "words" is andFinish (GOMAXPROCS workers; -cpu 1 for one), "reference" the bit-by-bit
// code it replaced.
func BenchmarkAndFinish(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, w, k = 1 << 15, 1, 8
	gates := make([]andGate, k)
	for g := range gates {
		gates[g] = andGate{x: randomBShare(r, n, w), y: randomBShare(r, n, w), a: randomBShare(r, n, w), b: randomBShare(r, n, w), c: randomBShare(r, n, w),
			own: make([]uint64, 2*w*ring.Words(n)), peer: make([]uint64, 2*w*ring.Words(n))}
	}
	p := &Protocol{id: 1, delta: r.Uint64()}
	p.check.reset()
	b.Run("words", func(b *testing.B) {
		for range b.N {
			p.andFinish(gates)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*w*k), "ns/gate")
	})
	b.Run("reference", func(b *testing.B) {
		for range b.N {
			for _, q := range gates {
				_, dd := andFinishRef(1, p.delta, q.x, q.y, q.a, q.b, q.c, q.own, q.peer)
				p.check.hashD(dd)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*w*k), "ns/gate")
	})
}
