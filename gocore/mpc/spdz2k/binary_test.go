package spdz2k

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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

// TestAndFinish: the word-at-a-time andFinish gives the reference's z, MACs and keys at
// both parties, and hashes the reference's D values in its chunk order.
func TestAndFinish(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ n, w int }{{1, 1}, {63, 2}, {64, 1}, {65, 3}, {1000, 1}, {andChunk, 2}, {andChunk + 77, 3}, {3*andChunk + 1, 1}} {
		for id := range 2 {
			t.Run(fmt.Sprintf("n=%d/w=%d/party=%d", tc.n, tc.w, id), func(t *testing.T) {
				n, w := tc.n, tc.w
				x, y, a, b, c := randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w)
				own, peer := make([]uint64, 2*len(x.x)), make([]uint64, 2*len(x.x))
				for i := range own {
					own[i], peer[i] = r.Uint64(), r.Uint64()
				}
				p := &Protocol{id: id, delta: r.Uint64()}
				p.check.reset()
				z := p.andFinish(x, y, a, b, c, own, peer)
				zr, dd := andFinishRef(id, p.delta, x, y, a, b, c, own, peer)
				if !equalWords(z.x, zr.x) || !equalWords(z.m, zr.m) || !equalWords(z.k, zr.k) {
					t.Fatal("z differs from the reference")
				}
				var ref checker
				ref.reset()
				for j := 0; j < w; j++ {
					for i0 := 0; i0 < n; i0 += andChunk {
						i1 := min(i0+andChunk, n)
						ref.hashD(dd[j*n+i0 : j*n+i1])
						ref.hashD(dd[n*w+j*n+i0 : n*w+j*n+i1])
					}
				}
				if !bytes.Equal(p.check.d.Sum(nil), ref.d.Sum(nil)) || p.check.bits != ref.bits {
					t.Fatal("hashed D values differ from the reference")
				}
			})
		}
	}
}

func equalWords(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkAndFinish: one party's local work of AND gates after the message exchange
// (MACs, keys, D values and their hash), per gate, for the 1-plane gates of the circuit
// engine with 2^15 elements (MobileNetV1 0.25_128's first layers), against the bit-by-bit
// reference.
func BenchmarkAndFinish(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, w = 1 << 15, 1
	x, y, ta, tb, tc := randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w), randomBShare(r, n, w)
	own, peer := make([]uint64, 2*len(x.x)), make([]uint64, 2*len(x.x))
	p := &Protocol{id: 1, delta: r.Uint64()}
	p.check.reset()
	b.Run("words", func(b *testing.B) {
		for range b.N {
			p.andFinish(x, y, ta, tb, tc, own, peer)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*w), "ns/gate")
	})
	b.Run("reference", func(b *testing.B) {
		for range b.N {
			_, dd := andFinishRef(1, p.delta, x, y, ta, tb, tc, own, peer)
			p.check.hashD(dd)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*w), "ns/gate")
	})
}
