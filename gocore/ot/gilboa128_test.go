package ot

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// u128 helpers for the cleartext reference: (lo, hi).
func add128(alo, ahi, blo, bhi uint64) (uint64, uint64) {
	lo, c := bits.Add64(alo, blo, 0)
	hi, _ := bits.Add64(ahi, bhi, c)
	return lo, hi
}

func mul128(alo, ahi, blo, bhi uint64) (uint64, uint64) {
	hi, lo := bits.Mul64(alo, blo)
	return lo, hi + alo*bhi + ahi*blo
}

// randVec returns n uniform elements.
func randVec(r *rand.Rand, n int) ring128.Vec {
	v := ring128.Make(n)
	for i := range n {
		v.Lo[i], v.Hi[i] = r.Uint64(), r.Uint64()
	}
	return v
}

// pairFor returns sessions of either mode.
func pairFor(t testing.TB, mal bool) (*Session, *Session, []net.Conn) {
	p := net.NewPipes(2)
	var s0, s1 *Session
	run2(t, func() (err error) { s0, err = newSession(p[0], 1, seeded(1), DefaultK, mal); return },
		func() (err error) { s1, err = newSession(p[1], 0, seeded(2), DefaultK, mal); return })
	return s0, s1, p
}

func TestCOT128(t *testing.T) {
	for _, mal := range []bool{false, true} {
		s0, s1, _ := pairFor(t, mal)
		r := rand.New(rand.NewPCG(31, 32))
		for _, n := range sizes {
			for _, l := range []int{1, 3} {
				for _, w := range []int{128, 127, 100, 65, 64, 63, 1} {
					delta := randVec(r, n*l)
					c := make([]uint64, words(n)+1)
					for i := range c {
						c[i] = r.Uint64()
					}
					var tt, y ring128.Vec
					run2(t, func() (err error) { tt, err = s1.SendCOT128(delta, l, w); return },
						func() (err error) { y, err = s0.RecvCOT128(c, n, l, w); return })
					if tt.Len() != n*l || y.Len() != n*l || len(tt.Hi) != n*l || len(y.Hi) != n*l {
						t.Fatalf("lengths %d %d", tt.Len(), y.Len())
					}
					mlo, mhi := mask128(w)
					for e := range n * l {
						b := bit(c, e/l)
						lo, hi := add128(tt.Lo[e], tt.Hi[e], delta.Lo[e]&-b, delta.Hi[e]&-b)
						if y.Lo[e] != lo&mlo || y.Hi[e] != hi&mhi || tt.Lo[e]&^mlo != 0 || tt.Hi[e]&^mhi != 0 {
							t.Fatalf("mal=%v n=%d l=%d w=%d element %d: got (%x,%x) want (%x,%x)", mal, n, l, w, e, y.Lo[e], y.Hi[e], lo&mlo, hi&mhi)
						}
					}
				}
			}
		}
	}
}

// runProduct128 runs ProductW128/ProductX128 with nx matrices and checks every U_x + V_x
// against the cleartext W*X_x mod 2^128.
func runProduct128(t *testing.T, s0, s1 *Session, m, k, n, bw, nx int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 33))
	w := make([]int64, m*k)
	lo := int64(-1) << (bw - 1)
	for i := range w {
		w[i] = lo + int64(r.Uint64()>>(64-bw))
	}
	if len(w) > 1 {
		w[0], w[1] = lo, -lo-1
	}
	xs := make([]ring128.Vec, nx)
	for x := range xs {
		xs[x] = randVec(r, k*n)
	}
	var u, v []ring128.Vec
	run2(t, func() (err error) { u, err = s0.ProductW128(w, m, k, n, bw, nx); return },
		func() (err error) { v, err = s1.ProductX128(xs, m, k, n, bw); return })
	if len(u) != nx || len(v) != nx {
		t.Fatalf("%d and %d outputs, want %d", len(u), len(v), nx)
	}
	for x := range nx {
		for i := range m {
			for q := range n {
				var wl, wh uint64
				for p := range k {
					wi := uint64(w[i*k+p])
					pl, ph := mul128(wi, uint64(w[i*k+p]>>63), xs[x].Lo[p*n+q], xs[x].Hi[p*n+q])
					wl, wh = add128(wl, wh, pl, ph)
				}
				e := i*n + q
				gl, gh := add128(u[x].Lo[e], u[x].Hi[e], v[x].Lo[e], v[x].Hi[e])
				if gl != wl || gh != wh {
					t.Fatalf("[%dx%d]x[%dx%d] bits %d, X_%d entry (%d,%d) = %x:%x, want %x:%x", m, k, k, n, bw, x, i, q, gh, gl, wh, wl)
				}
			}
		}
	}
}

func TestProduct128(t *testing.T) {
	for _, mal := range []bool{false, true} {
		s0, s1, _ := pairFor(t, mal)
		for _, c := range []struct{ m, k, n, bits, nx int }{
			{0, 3, 2, 8, 2}, {2, 0, 2, 8, 2}, {2, 3, 0, 8, 1}, {1, 1, 1, 1, 1}, {3, 5, 7, 8, 2},
			{2, 65, 3, 8, 2}, {4, 9, 16, 4, 3}, {3, 4, 5, 64, 2}, {5, 2, 1, 16, 1},
		} {
			t.Run(fmt.Sprintf("mal=%v/%dx%dx%d/bits=%d/nx=%d", mal, c.m, c.k, c.n, c.bits, c.nx), func(t *testing.T) {
				runProduct128(t, s0, s1, c.m, c.k, c.n, c.bits, c.nx, uint64(c.m*1000+c.k))
			})
		}
	}
}

// TestProduct128Batches: a product larger than one batch gives the same sums and the
// cost function follows the batching.
func TestProduct128Batches(t *testing.T) {
	s0, s1, p := pairFor(t, true)
	bt := batching{and: 64, beaver: 64, ots: 3 * 8 * 4} // 4 rows of W (k = 3, 8 bits) per batch
	s0.batch, s1.batch = bt, bt
	b0, b1 := p[0].Stats().BytesSent, p[1].Stats().BytesSent
	runProduct128(t, s0, s1, 11, 3, 5, 8, 2, 7)
	wb, xb := bt.product128Bytes(11, 3, 5, 8, 2, DefaultK, true)
	if g0, g1 := p[0].Stats().BytesSent-b0, p[1].Stats().BytesSent-b1; g0 != wb || g1 != xb {
		t.Fatalf("sent %d / %d bytes, cost says %d / %d", g0, g1, wb, xb)
	}
}

func TestProduct128Costs(t *testing.T) {
	s0, s1, p := pairFor(t, false)
	b0, b1 := p[0].Stats().BytesSent, p[1].Stats().BytesSent
	runProduct128(t, s0, s1, 4, 6, 5, 8, 2, 3)
	wb, xb := Product128Bytes(4, 6, 5, 8, 2, DefaultK, false)
	if g0, g1 := p[0].Stats().BytesSent-b0, p[1].Stats().BytesSent-b1; g0 != wb || g1 != xb {
		t.Fatalf("sent %d / %d bytes, cost says %d / %d", g0, g1, wb, xb)
	}
	n, l, w := 100, 3, 100
	b0, b1 = p[0].Stats().BytesSent, p[1].Stats().BytesSent
	run2(t, func() error { _, err := s1.SendCOT128(ring128.Make(n*l), l, w); return err },
		func() error { _, err := s0.RecvCOT128(make([]uint64, words(n)), n, l, w); return err })
	rb, sb := COT128Bytes(n, l, w, DefaultK)
	if g0, g1 := p[0].Stats().BytesSent-b0, p[1].Stats().BytesSent-b1; g0 != rb || g1 != sb {
		t.Fatalf("COT128 sent %d / %d bytes, cost says %d / %d", g0, g1, rb, sb)
	}
}

// TestProduct128Tampered: on a malicious session, the W side's extension message altered
// in transit makes the X side fail with errs.Cheating before it sends any correction.
func TestProduct128Tampered(t *testing.T) {
	p := net.NewPipes(2)
	tp, _ := net.NewTamperer(p[0], net.Tamper{Message: 3, Word: 5, Xor: 1 << 20})
	s0, s1 := malSessions(t, tp, p[1], DefaultK)
	w := []int64{3, -2, 7, 1, 0, -8}
	xs := []ring128.Vec{ring128.Make(3 * 4), ring128.Make(3 * 4)}
	eW, eX := run2errs(func() error {
		_, err := s0.ProductW128(w, 2, 3, 4, 4, 2)
		return err
	}, func() error {
		_, err := s1.ProductX128(xs, 2, 3, 4, 4)
		if err != nil {
			p[1].Close()
		}
		return err
	})
	if errs.KindOf(eX) != errs.Cheating || eW == nil {
		t.Fatalf("X side: %v; W side: %v; want a cheating error at the X side and a failed W side", eX, eW)
	}
}

// TestVOLE128: u_r + v_r = a_r*x_r mod 2^128 for 128-bit scalars used at nbits bits, on
// both kinds of session and across batches.
func TestVOLE128(t *testing.T) {
	for _, mal := range []bool{false, true} {
		s0, s1, _ := pairFor(t, mal)
		r := rand.New(rand.NewPCG(41, 42))
		for _, c := range []struct{ n, l, nbits int }{{0, 1, 128}, {1, 1, 128}, {5, 3, 128}, {7, 2, 64}, {4, 1, 65}, {3, 4, 1}, {9, 1, 100}} {
			for _, small := range []bool{false, true} {
				if small {
					bt := batching{and: 64, beaver: 64, ots: 2 * c.nbits} // two scalars per batch
					s0.batch, s1.batch = bt, bt
				} else {
					s0.batch, s1.batch = defaultBatching, defaultBatching
				}
				a := randVec(r, c.n)
				x := randVec(r, c.n*c.l)
				var u, v ring128.Vec
				run2(t, func() (err error) { u, err = s0.VOLEW128(a, c.l, c.nbits); return },
					func() (err error) { v, err = s1.VOLEX128(x, c.l, c.nbits); return })
				mlo, mhi := mask128(c.nbits)
				for rr := range c.n {
					al, ah := a.Lo[rr]&mlo, a.Hi[rr]&mhi
					for q := range c.l {
						e := rr*c.l + q
						wl, wh := mul128(al, ah, x.Lo[e], x.Hi[e])
						gl, gh := add128(u.Lo[e], u.Hi[e], v.Lo[e], v.Hi[e])
						if gl != wl || gh != wh {
							t.Fatalf("mal=%v %+v batch-small=%v: scalar %d element %d = %x:%x, want %x:%x", mal, c, small, rr, q, gh, gl, wh, wl)
						}
					}
				}
			}
		}
	}
}

func TestVOLE128Costs(t *testing.T) {
	for _, mal := range []bool{false, true} {
		s0, s1, p := pairFor(t, mal)
		const n, l, nbits = 50, 2, 128
		b0, b1 := p[0].Stats().BytesSent, p[1].Stats().BytesSent
		run2(t, func() error { _, err := s0.VOLEW128(ring128.Make(n), l, nbits); return err },
			func() error { _, err := s1.VOLEX128(ring128.Make(n*l), l, nbits); return err })
		wb, xb := VOLE128Bytes(n, l, nbits, DefaultK, mal)
		if g0, g1 := p[0].Stats().BytesSent-b0, p[1].Stats().BytesSent-b1; g0 != wb || g1 != xb {
			t.Fatalf("mal=%v: sent %d / %d bytes, cost says %d / %d", mal, g0, g1, wb, xb)
		}
	}
}
