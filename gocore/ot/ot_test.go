package ot

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
)

// seeded returns a deterministic randomness source for party tests.
func seeded(seed byte) *prg.PRG { return prg.New(prg.Key{seed, 0x5e, 0xed}) }

// run2 runs f0 and f1 concurrently and fails the test on their errors.
func run2(t testing.TB, f0, f1 func() error) {
	t.Helper()
	var wg sync.WaitGroup
	var e0, e1 error
	wg.Add(2)
	go func() { defer wg.Done(); e0 = f0() }()
	go func() { defer wg.Done(); e1 = f1() }()
	wg.Wait()
	if e0 != nil || e1 != nil {
		t.Fatalf("party 0: %v; party 1: %v", e0, e1)
	}
}

// sessions returns connected sessions of parties 0 and 1 over the given conns.
func sessions(t testing.TB, c0, c1 net.Conn) (*Session, *Session) {
	t.Helper()
	var s0, s1 *Session
	run2(t, func() (err error) { s0, err = NewSession(c0, 1, seeded(1)); return },
		func() (err error) { s1, err = NewSession(c1, 0, seeded(2)); return })
	return s0, s1
}

func newPair(t testing.TB) (*Session, *Session) {
	c := net.NewPipes(2)
	return sessions(t, c[0], c[1])
}

func bit(c []uint64, i int) uint64 { return c[i/64] >> (i % 64) & 1 }

var sizes = []int{0, 1, 63, 64, 65, 1000}

// TestColsToRows: colsToRows on both paths (AVX2 where the processor has it, and the
// portable one), for row counts with and without whole pairs of words and ragged ends,
// and fewer rows than the columns hold.
func TestColsToRows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	has := hasAVX2
	defer func() { hasAVX2 = has }()
	for _, avx := range []bool{true, false} {
		if avx && !has {
			t.Log("no AVX2: only the portable path")
			continue
		}
		hasAVX2 = avx
		for _, tc := range []struct{ n, nw, stride int }{{1, 1, 1}, {127, 2, 2}, {128, 2, 2}, {130, 3, 3}, {256, 4, 4}, {300, 5, 5},
			{1000, 16, 16}, {8192, 128, 128}, {8192, 128, tileStride}, {300, 5, 7}} {
			cols := make([]uint64, Kappa*tc.stride)
			for i := range cols {
				cols[i] = r.Uint64()
			}
			rows := make([]Block, tc.n+1)
			sentinel := Block{r.Uint64(), r.Uint64()}
			rows[tc.n] = sentinel
			colsToRows(rows[:tc.n], cols, tc.nw, tc.stride)
			if rows[tc.n] != sentinel {
				t.Fatalf("avx2 %v, n = %d: row past the end written", avx, tc.n)
			}
			for row := range tc.n {
				for col := range Kappa {
					if rows[row][col/64]>>(col%64)&1 != bit(cols[col*tc.stride:], row) {
						t.Fatalf("avx2 %v, n = %d, nw = %d: row %d col %d wrong", avx, tc.n, tc.nw, row, col)
					}
				}
			}
		}
	}
}

func TestBitPacking(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ws []int
	var vs []uint64
	var bw bitWriter
	total := 0
	for range 1000 {
		w := 1 + r.IntN(64)
		v := r.Uint64() & widthMask(w)
		ws, vs = append(ws, w), append(vs, v)
		bw.writeVec([]uint64{v}, w)
		total += w
	}
	out := bw.bytes()
	if len(out) != (total+63)/64*8 {
		t.Fatalf("packed %d bits into %d bytes", total, len(out))
	}
	br := newBitReader(out)
	for i, w := range ws {
		got := make([]uint64, 1)
		if br.readVec(got, w); got[0] != vs[i] {
			t.Fatalf("value %d (width %d): got %x want %x", i, w, got[0], vs[i])
		}
	}
}

func TestRandomOT(t *testing.T) {
	s0, s1 := newPair(t)
	for _, n := range sizes {
		for dir := range 2 { // party dir is the sender
			snd, rcv := s0, s1
			if dir == 1 {
				snd, rcv = s1, s0
			}
			var m0, m1, mc []Block
			var c []uint64
			run2(t, func() (err error) { m0, m1, err = snd.SendRandomOT(n); return },
				func() (err error) { c, mc, err = rcv.RecvRandomOT(n); return })
			if len(m0) != n || len(m1) != n || len(mc) != n || len(c) != words(n) {
				t.Fatalf("n=%d: lengths %d %d %d %d", n, len(m0), len(m1), len(mc), len(c))
			}
			ones := 0
			for i := range n {
				want, other := m0[i], m1[i]
				if bit(c, i) == 1 {
					want, other = other, want
					ones++
				}
				if mc[i] != want || mc[i] == other {
					t.Fatalf("n=%d dir=%d OT %d: receiver got %x, m0 %x m1 %x c %d", n, dir, i, mc[i], m0[i], m1[i], bit(c, i))
				}
			}
			if n == 1000 && (ones < 400 || ones > 600) {
				t.Fatalf("choice bits not uniform: %d ones of %d", ones, n)
			}
		}
	}
}

func TestCOT(t *testing.T) {
	s0, s1 := newPair(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range sizes {
		for _, l := range []int{1, 3} {
			for _, bw := range []int{64, 56, 1} {
				delta := make([]uint64, n*l)
				for i := range delta {
					delta[i] = r.Uint64()
				}
				c := make([]uint64, words(n)+1)
				for i := range c {
					c[i] = r.Uint64()
				}
				var tt, y []uint64
				run2(t, func() (err error) { tt, err = s1.SendCOT(delta, l, bw); return },
					func() (err error) { y, err = s0.RecvCOT(c, n, l, bw); return })
				if len(tt) != n*l || len(y) != n*l {
					t.Fatalf("lengths %d %d", len(tt), len(y))
				}
				m := widthMask(bw)
				for i := range n * l {
					want := (tt[i] + bit(c, i/l)*delta[i]) & m
					if y[i] != want || tt[i]&^m != 0 {
						t.Fatalf("n=%d l=%d bits=%d word %d: got %x want %x", n, l, bw, i, y[i], want)
					}
				}
			}
		}
	}
}

// runProduct runs ProductW/ProductX and checks U+V against the cleartext W*X.
func runProduct(t *testing.T, s0, s1 *Session, m, k, n, bw int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	w := make([]int64, m*k)
	lo := int64(-1) << (bw - 1)
	for i := range w {
		w[i] = lo + int64(r.Uint64()>>(64-bw)) // uniform in [-2^(bw-1), 2^(bw-1))
	}
	if len(w) > 1 { // the extremes
		w[0], w[1] = lo, -lo-1
	}
	x := make([]uint64, k*n)
	for i := range x {
		x[i] = r.Uint64()
	}
	var u, v []uint64
	run2(t, func() (err error) { u, err = s0.ProductW(w, m, k, n, bw); return },
		func() (err error) { v, err = s1.ProductX(x, m, k, n, bw); return })
	for i := range m {
		for q := range n {
			var want uint64
			for p := range k {
				want += uint64(w[i*k+p]) * x[p*n+q]
			}
			if got := u[i*n+q] + v[i*n+q]; got != want {
				t.Fatalf("[%dx%d]x[%dx%d] bits %d: entry (%d,%d) = %x, want %x", m, k, k, n, bw, i, q, got, want)
			}
		}
	}
}

func TestProduct(t *testing.T) {
	s0, s1 := newPair(t)
	for _, c := range []struct{ m, k, n, bits int }{
		{0, 3, 2, 8}, {2, 0, 2, 8}, {2, 3, 0, 8}, {1, 1, 1, 1}, {3, 5, 7, 8},
		{2, 65, 3, 8}, {4, 9, 64, 4}, {3, 4, 5, 64}, {5, 2, 1, 16},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d/bits=%d", c.m, c.k, c.n, c.bits), func(t *testing.T) {
			runProduct(t, s0, s1, c.m, c.k, c.n, c.bits, uint64(c.m*1000+c.k))
		})
	}
}

func TestProductLayer(t *testing.T) {
	if testing.Short() {
		t.Skip("571 MB of corrections")
	}
	s0, s1 := newPair(t)
	runProduct(t, s0, s1, 64, 576, 256, 8, 99)
}

func TestProductRejectsWideWeights(t *testing.T) {
	s0, _ := newPair(t)
	if _, err := s0.ProductW([]int64{128}, 1, 1, 1, 8); err == nil {
		t.Fatal("ProductW accepted 128 as an 8-bit weight")
	}
}

func TestANDTriples(t *testing.T) {
	s0, s1 := newPair(t)
	for _, n := range sizes {
		var a0, b0, c0, a1, b1, c1 []uint64
		run2(t, func() (err error) { a0, b0, c0, err = s0.ANDTriples(n); return },
			func() (err error) { a1, b1, c1, err = s1.ANDTriples(n); return })
		for _, x := range [][]uint64{a0, b0, c0, a1, b1, c1} {
			if len(x) != words(n) {
				t.Fatalf("n=%d: %d words", n, len(x))
			}
		}
		for w := range words(n) {
			if (a0[w]^a1[w])&(b0[w]^b1[w]) != c0[w]^c1[w] {
				t.Fatalf("n=%d word %d: not a triple", n, w)
			}
			if n%64 != 0 && w == words(n)-1 {
				tail := ^uint64(0) << (n % 64)
				if (a0[w]|b0[w]|c0[w]|a1[w]|b1[w]|c1[w])&tail != 0 {
					t.Fatalf("n=%d: bits beyond n are set", n)
				}
			}
		}
		if n == 1000 {
			ones := 0
			for w := range a0 {
				ones += bits.OnesCount64(a0[w]^a1[w]) + bits.OnesCount64(b0[w]^b1[w])
			}
			if ones < 850 || ones > 1150 {
				t.Fatalf("a, b not uniform: %d ones of 2000", ones)
			}
		}
	}
}

func TestBeaverTriples(t *testing.T) {
	s0, s1 := newPair(t)
	for _, n := range sizes {
		var a0, b0, c0, a1, b1, c1 []uint64
		run2(t, func() (err error) { a0, b0, c0, err = s0.BeaverTriples(n); return },
			func() (err error) { a1, b1, c1, err = s1.BeaverTriples(n); return })
		if len(a0) != n || len(c1) != n {
			t.Fatalf("n=%d: lengths %d %d", n, len(a0), len(c1))
		}
		for i := range n {
			if (a0[i]+a1[i])*(b0[i]+b1[i]) != c0[i]+c1[i] {
				t.Fatalf("n=%d triple %d wrong", n, i)
			}
		}
	}
}

// tamperConn flips a bit in every 32 bytes of the k-th message it receives (counting from
// 0), and records every received message.
type tamperConn struct {
	net.Conn
	k, seen int
	log     [][]byte
}

func (c *tamperConn) Recv(from int) ([]byte, error) {
	msg, err := c.Conn.Recv(from)
	if err != nil {
		return msg, err
	}
	if c.seen == c.k && len(msg) > 0 {
		msg = append([]byte(nil), msg...)
		for i := 0; i < len(msg); i += 32 {
			msg[i] ^= 0x10
		}
	}
	c.seen++
	c.log = append(c.log, msg)
	return msg, nil
}

// TestTamperingBreaksCorrelation: the checks above can fail. A flipped bit in the
// receiver's extension message, or in the sender's corrections, or a receiver that uses other
// choice bits than it sent, breaks the correlation.
func TestTamperingBreaksCorrelation(t *testing.T) {
	const n, l = 256, 2
	delta := make([]uint64, n*l)
	for i := range delta {
		delta[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
	}
	ones := make([]uint64, words(n))
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	broken := func(tt, y, c []uint64) bool {
		for i := range n * l {
			if y[i] != tt[i]+bit(c, i/l)*delta[i] {
				return true
			}
		}
		return false
	}
	for _, which := range []string{"extension message", "corrections", "choices"} {
		t.Run(which, func(t *testing.T) {
			p := net.NewPipes(2)
			c0 := &tamperConn{Conn: p[0], k: -1}
			c1 := &tamperConn{Conn: p[1], k: -1}
			s0, s1 := sessions(t, c0, c1) // 3 messages each way so far
			switch which {
			case "extension message":
				c1.k = 3 // the sender's copy of u
			case "corrections":
				c0.k = 3
			}
			var tt, y []uint64
			run2(t, func() (err error) { tt, err = s1.SendCOT(delta, l, 64); return },
				func() (err error) { y, err = s0.RecvCOT(ones, n, l, 64); return })
			claimed := ones
			if which == "choices" {
				claimed = make([]uint64, words(n)) // the receiver says it chose 0s
			}
			if !broken(tt, y, claimed) {
				t.Fatalf("%s tampered with, yet the correlation holds", which)
			}
			// The honest model holds for an untampered run.
			if which == "choices" && broken(tt, y, ones) {
				t.Fatal("honest run broken")
			}
		})
	}
}

// TestViewUniform: the words a party receives look uniform bit by bit, and the same for
// all-zero and extreme inputs of the peer: the receiver's corrections for delta = 0, all
// ones and 2^63, the sender's extension message for all-zero and all-one choices.
func TestViewUniform(t *testing.T) {
	const n = 4096
	for _, dv := range []uint64{0, ^uint64(0), 1 << 63} {
		for _, cv := range []uint64{0, ^uint64(0)} {
			t.Run(fmt.Sprintf("delta=%x/c=%x", dv, cv), func(t *testing.T) {
				p := net.NewPipes(2)
				c0 := &tamperConn{Conn: p[0], k: -1}
				c1 := &tamperConn{Conn: p[1], k: -1}
				s0, s1 := sessions(t, c0, c1)
				delta := make([]uint64, n)
				for i := range delta {
					delta[i] = dv
				}
				c := make([]uint64, words(n))
				for i := range c {
					c[i] = cv
				}
				run2(t, func() error { _, err := s1.SendCOT(delta, 1, 64); return err },
					func() error { _, err := s0.RecvCOT(c, n, 1, 64); return err })
				checkBitsUniform(t, "receiver's corrections", c0.log[3])
				checkBitsUniform(t, "sender's extension message", c1.log[3])
			})
		}
	}
}

// TestExtension checks the extension's correlation q_j = t_j xor c_j*s directly, for every
// SoftSpoken parameter.
func TestExtension(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		for _, random := range []bool{false, true} {
			p := net.NewPipes(2)
			var s0, s1 *Session
			run2(t, func() (err error) { s0, err = NewSessionK(p[0], 1, seeded(1), k); return },
				func() (err error) { s1, err = NewSessionK(p[1], 0, seeded(2), k); return })
			for _, n := range append(sizes, 2*64*tileWords+5) { // and several tiles
				var r []uint64
				if !random {
					r = s1.randomBits(n)
				}
				c, tt, b1, msg := s1.rcv.extend(r, n)
				q, b0, err := s0.snd.extend(msg, n, random)
				if err != nil || b0 != b1 {
					t.Fatalf("k=%d: %v, tweak bases %d %d", k, err, b0, b1)
				}
				if len(msg) != msgLen(k, n, random) {
					t.Fatalf("k=%d n=%d: message of %d bytes", k, n, len(msg))
				}
				for j := range n {
					want := tt[j]
					if bit(c, j) == 1 {
						want[0] ^= s0.snd.s[0]
						want[1] ^= s0.snd.s[1]
					}
					if q[j] != want {
						t.Fatalf("k=%d random=%v n=%d row %d: q %x, t %x, c %d", k, random, n, j, q[j], tt[j], bit(c, j))
					}
				}
			}
		}
	}
}

// TestProductViewUniform: the corrections A receives in a Gilboa product look uniform bit
// by bit whether B's X is all zeros or all ones, and whatever A's W is; B's incoming
// extension message likewise.
func TestProductViewUniform(t *testing.T) {
	const m, k, n, bw = 16, 16, 64, 8
	for _, xv := range []uint64{0, ^uint64(0)} {
		for _, wv := range []int64{0, -1, -128} {
			t.Run(fmt.Sprintf("x=%x/w=%d", xv, wv), func(t *testing.T) {
				p := net.NewPipes(2)
				c0 := &tamperConn{Conn: p[0], k: -1}
				c1 := &tamperConn{Conn: p[1], k: -1}
				s0, s1 := sessions(t, c0, c1)
				w := make([]int64, m*k)
				for i := range w {
					w[i] = wv
				}
				x := make([]uint64, k*n)
				for i := range x {
					x[i] = xv
				}
				run2(t, func() error { _, err := s0.ProductW(w, m, k, n, bw); return err },
					func() error { _, err := s1.ProductX(x, m, k, n, bw); return err })
				checkBitsUniform(t, "A's corrections", c0.log[3])
				checkBitsUniform(t, "B's extension message", c1.log[3])
			})
		}
	}
}

// checkBitsUniform fails if some bit position of msg's 64-bit words is one in a fraction of
// the words more than 6 standard deviations of a fair coin away from 1/2 (deterministic
// seeds: the test does not flake).
func checkBitsUniform(t *testing.T, name string, msg []byte) {
	t.Helper()
	cnt := make([]int, 64)
	words := len(msg) / 8
	if words < 1000 {
		t.Fatalf("%s: only %d words", name, words)
	}
	for w := range words {
		for b := range 8 {
			for k := range 8 {
				cnt[8*b+k] += int(msg[8*w+b] >> k & 1)
			}
		}
	}
	for b, c := range cnt {
		f := float64(c) / float64(words)
		if d := f - 0.5; d*d > 36*0.25/float64(words) {
			t.Fatalf("%s: bit %d is one in %.3f of %d words", name, b, f, words)
		}
	}
}

// TestBatches: calls larger than one batch give correct results and the bytes the cost
// functions predict (small batches set on the sessions).
func TestBatches(t *testing.T) {
	p := net.NewPipes(2)
	s0, s1 := sessions(t, p[0], p[1])
	bt := batching{and: 128, beaver: 64, ots: 1000}
	s0.batch, s1.batch = bt, bt
	sent := func() int64 { return p[0].Stats().BytesSent }
	const n = 2*128 + 70
	b := sent()
	var a0, b0, c0, a1, b1, c1 []uint64
	run2(t, func() (err error) { a0, b0, c0, err = s0.ANDTriples(n); return },
		func() (err error) { a1, b1, c1, err = s1.ANDTriples(n); return })
	for w := range words(n) {
		if (a0[w]^a1[w])&(b0[w]^b1[w]) != c0[w]^c1[w] {
			t.Fatalf("AND word %d: not a triple", w)
		}
	}
	if got := sent() - b; got != bt.andBytes(n, DefaultK) {
		t.Fatalf("AND: sent %d, cost %d", got, bt.andBytes(n, DefaultK))
	}
	b = sent()
	run2(t, func() (err error) { a0, b0, c0, err = s0.BeaverTriples(n); return },
		func() (err error) { a1, b1, c1, err = s1.BeaverTriples(n); return })
	for i := range n {
		if (a0[i]+a1[i])*(b0[i]+b1[i]) != c0[i]+c1[i] {
			t.Fatalf("Beaver triple %d wrong", i)
		}
	}
	if got := sent() - b; got != bt.beaverBytes(n, DefaultK) {
		t.Fatalf("Beaver: sent %d, cost %d", got, bt.beaverBytes(n, DefaultK))
	}
	// Products: 1000 OTs per batch = 7 rows of k*bits = 18*8.
	runProduct(t, s0, s1, 23, 18, 5, 8, 77)
	b0p, b1p := p[0].Stats().BytesSent, p[1].Stats().BytesSent
	runProduct(t, s0, s1, 23, 18, 5, 8, 78)
	wb, xb := bt.productBytes(23, 18, 5, 8, DefaultK)
	if p[0].Stats().BytesSent-b0p != wb || p[1].Stats().BytesSent-b1p != xb {
		t.Fatalf("product: sent %d / %d, cost %d / %d", p[0].Stats().BytesSent-b0p, p[1].Stats().BytesSent-b1p, wb, xb)
	}
	// VOLE: 1000/16 = 62 scalars per batch.
	w := make([]int64, 200)
	x := make([]uint64, 200*3)
	for i := range w {
		w[i] = int64(i) - 100
		for q := range 3 {
			x[3*i+q] = uint64(i*7+q) * 0x9e3779b97f4a7c15
		}
	}
	var u, v []uint64
	run2(t, func() (err error) { u, err = s0.VOLEW(w, 3, 16); return },
		func() (err error) { v, err = s1.VOLEX(x, 3, 16); return })
	for i := range u {
		if u[i]+v[i] != uint64(w[i/3])*x[i] {
			t.Fatalf("VOLE word %d wrong", i)
		}
	}
}

// TestCosts: the cost functions equal the bytes the connections counted.
func TestCosts(t *testing.T) {
	p := net.NewPipes(2)
	s0, s1 := sessions(t, p[0], p[1])
	sent := func() [2]int64 { return [2]int64{p[0].Stats().BytesSent, p[1].Stats().BytesSent} }
	if got := sent(); got != [2]int64{SetupBytes, SetupBytes} {
		t.Fatalf("setup sent %v, want %d each", got, SetupBytes)
	}
	check := func(name string, before [2]int64, want0, want1 int64) {
		t.Helper()
		now := sent()
		if now[0]-before[0] != want0 || now[1]-before[1] != want1 {
			t.Fatalf("%s: sent %d / %d, cost functions say %d / %d", name, now[0]-before[0], now[1]-before[1], want0, want1)
		}
	}
	for _, n := range []int{1, 65, 1000} {
		b := sent()
		run2(t, func() error { _, _, _, err := s0.ANDTriples(n); return err },
			func() error { _, _, _, err := s1.ANDTriples(n); return err })
		check("AND", b, ANDTriplesBytes(n, DefaultK), ANDTriplesBytes(n, DefaultK))
		b = sent()
		run2(t, func() error { _, _, _, err := s0.BeaverTriples(n); return err },
			func() error { _, _, _, err := s1.BeaverTriples(n); return err })
		check("Beaver", b, BeaverTriplesBytes(n, DefaultK), BeaverTriplesBytes(n, DefaultK))
		b = sent()
		run2(t, func() error { _, _, err := s0.SendRandomOT(n); return err },
			func() error { _, _, err := s1.RecvRandomOT(n); return err })
		check("ROT", b, 0, ExtensionBytes(n, DefaultK, true))
		b = sent()
		delta := make([]uint64, 3*n)
		run2(t, func() error { _, err := s0.SendCOT(delta, 3, 50); return err },
			func() error { _, err := s1.RecvCOT(make([]uint64, words(n)), n, 3, 50); return err })
		rb, sb := COTBytes(n, 3, 50, DefaultK)
		check("COT", b, sb, rb)
	}
	b := sent()
	const m, k, n, bw = 3, 40, 17, 8
	run2(t, func() error { _, err := s0.ProductW(make([]int64, m*k), m, k, n, bw); return err },
		func() error { _, err := s1.ProductX(make([]uint64, k*n), m, k, n, bw); return err })
	wb, xb := ProductBytes(m, k, n, bw, DefaultK)
	check("product", b, wb, xb)
	b = sent()
	run2(t, func() error { _, err := s0.VOLEW(make([]int64, 33), 5, 16); return err },
		func() error { _, err := s1.VOLEX(make([]uint64, 33*5), 5, 16); return err })
	wb, xb = VOLEBytes(33, 5, 16, DefaultK)
	check("VOLE", b, wb, xb)
}

func TestVOLE(t *testing.T) {
	s0, s1 := newPair(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ n, l, bits int }{{0, 3, 8}, {1, 1, 1}, {65, 3, 8}, {10, 5, 64}, {7, 70, 4}} {
		w := make([]int64, c.n)
		lo := int64(-1) << (c.bits - 1)
		for i := range w {
			w[i] = lo + int64(r.Uint64()>>(64-c.bits))
		}
		x := make([]uint64, c.n*c.l)
		for i := range x {
			x[i] = r.Uint64()
		}
		var u, v []uint64
		run2(t, func() (err error) { u, err = s0.VOLEW(w, c.l, c.bits); return },
			func() (err error) { v, err = s1.VOLEX(x, c.l, c.bits); return })
		if len(u) != c.n*c.l || len(v) != c.n*c.l {
			t.Fatalf("%+v: lengths %d %d", c, len(u), len(v))
		}
		for i := range u {
			if u[i]+v[i] != uint64(w[i/c.l])*x[i] {
				t.Fatalf("%+v: word %d wrong", c, i)
			}
		}
	}
}

func TestCOTWidths(t *testing.T) {
	p := net.NewPipes(2)
	s0, s1 := sessions(t, p[0], p[1])
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range sizes {
		const l = 2
		widths := make([]uint8, n)
		for i := range widths {
			widths[i] = uint8(1 + r.IntN(64))
		}
		delta := make([]uint64, n*l)
		for i := range delta {
			delta[i] = r.Uint64()
		}
		c := make([]uint64, words(n))
		for i := range c {
			c[i] = r.Uint64()
		}
		b0, b1 := p[0].Stats().BytesSent, p[1].Stats().BytesSent
		var tt, y []uint64
		run2(t, func() (err error) { tt, err = s0.SendCOTWidths(delta, l, widths); return },
			func() (err error) { y, err = s1.RecvCOTWidths(c, l, widths); return })
		for i := range n * l {
			m := widthMask(int(widths[i/l]))
			if y[i] != (tt[i]+bit(c, i/l)*delta[i])&m || tt[i]&^m != 0 {
				t.Fatalf("n=%d word %d (width %d) wrong", n, i, widths[i/l])
			}
		}
		rb, sb := COTWidthsBytes(l, widths, DefaultK)
		if p[0].Stats().BytesSent-b0 != sb || p[1].Stats().BytesSent-b1 != rb {
			t.Fatalf("n=%d: sent %d / %d, cost functions say %d / %d", n, p[0].Stats().BytesSent-b0, p[1].Stats().BytesSent-b1, sb, rb)
		}
	}
}

// randomBits returns words(n) uniform words with the bits from n on cleared.
func (s *Session) randomBits(n int) []uint64 {
	c := s.rng.Uint64s(words(n))
	if n%64 != 0 {
		c[len(c)-1] &= 1<<(n%64) - 1
	}
	return c
}

// TestSessionMismatch: parties with different k, or a bad k, fail at setup with an error.
func TestSessionMismatch(t *testing.T) {
	p := net.NewPipes(2)
	var e0, e1 error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, e0 = NewSessionK(p[0], 1, seeded(1), 4) }()
	go func() { defer wg.Done(); _, e1 = NewSessionK(p[1], 0, seeded(2), 2) }()
	wg.Wait()
	if e0 == nil || e1 == nil || !strings.Contains(e0.Error(), "SoftSpoken k") {
		t.Fatalf("mismatched k: errors %v / %v", e0, e1)
	}
	if _, err := NewSessionK(p[0], 1, seeded(1), 3); err == nil {
		t.Fatal("k = 3 accepted")
	}
	if _, err := NewSession(p[0], 0, seeded(1)); err == nil {
		t.Fatal("a session with oneself accepted")
	}
}

func TestDeltaCOT(t *testing.T) {
	for _, mal := range []bool{false, true} {
		t.Run(fmt.Sprintf("malicious=%v", mal), func(t *testing.T) { testDeltaCOT(t, mal) })
	}
	// The KOS check on crypto/cipher's GCM (the path without the incremental GHASH).
	has := hasGHASH
	defer func() { hasGHASH = has }()
	hasGHASH = false
	t.Run("malicious=true/gcm", func(t *testing.T) { testDeltaCOT(t, true) })
}

func testDeltaCOT(t *testing.T, mal bool) {
	p := net.NewPipes(2)
	var s0, s1 *Session
	run2(t, func() (err error) { s0, err = newSession(p[0], 1, seeded(1), DefaultK, mal); return },
		func() (err error) { s1, err = newSession(p[1], 0, seeded(2), DefaultK, mal); return })
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range append(sizes, deltaCOTBatch+65) {
		for dir := range 2 { // party dir is the sender
			snd, rcv := s0, s1
			if dir == 1 {
				snd, rcv = s1, s0
			}
			b := make([]uint64, words(n)+1)
			for i := range b {
				b[i] = r.Uint64()
			}
			var k, m []Block
			if dir == 0 {
				run2(t, func() (err error) { k, err = snd.SendDeltaCOT(n); return },
					func() (err error) { m, err = rcv.RecvDeltaCOT(b, n); return })
			} else {
				// The Into variants on dirty destinations: every row returned is written
				// in dst's memory (too small a dst: a new slice).
				dk, dm := dirtyRows(r, snd.DeltaCOTRows(n)), dirtyRows(r, rcv.DeltaCOTRows(n)-1)
				run2(t, func() (err error) { k, err = snd.SendDeltaCOTInto(dk, n); return },
					func() (err error) { m, err = rcv.RecvDeltaCOTInto(dm, b, n); return })
				if n > 0 && (&k[0] != &dk[0] || len(dm) > 0 && &m[0] == &dm[0]) {
					t.Fatalf("n=%d: the keys are not in dst, or the MACs are in a too small dst", n)
				}
			}
			if len(k) != n || len(m) != n {
				t.Fatalf("n=%d: lengths %d %d", n, len(k), len(m))
			}
			d := snd.Delta()
			if d == rcv.Delta() {
				t.Fatalf("both parties have Delta %x", d)
			}
			for j := range n {
				want := k[j]
				if bit(b, j) == 1 {
					want = Block{want[0] ^ d[0], want[1] ^ d[1]}
				}
				if m[j] != want {
					t.Fatalf("n=%d dir=%d COT %d: M = %x, want K xor b*Delta = %x", n, dir, j, m[j], want)
				}
			}
		}
	}
}

// dirtyRows is n random rows (a reused destination's leftovers).
func dirtyRows(r *rand.Rand, n int) []Block {
	d := make([]Block, max(n, 0))
	for i := range d {
		d[i] = Block{r.Uint64(), r.Uint64()}
	}
	return d
}

// TestSumTree: the tree of sumTree gives the subset sums of the naive loop (u = XOR of all
// streams, column i = XOR of the streams with bit i of x set) for every k the sessions
// accept and more, over several calls on the same scratch, with a zero leaf as S's
// punctured stream.
func TestSumTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 2, 3, 4, 5, 8} {
		tree := newSumTree(k)
		for call, tw := range []int{tileWords, 3, 1} {
			hole := rng.IntN(1 << k)
			streams := make([][]uint64, 1<<k)
			wantU := make([]uint64, tw)
			wantCols := make([][]uint64, k)
			for i := range wantCols {
				wantCols[i] = make([]uint64, tw)
			}
			for x := range streams {
				streams[x] = make([]uint64, tw)
				if x == hole && call == 1 {
					continue // zero
				}
				for w := range streams[x] {
					streams[x][w] = rng.Uint64()
				}
				xorInto(wantU, streams[x])
				for i := range k {
					if x>>i&1 == 1 {
						xorInto(wantCols[i], streams[x])
					}
				}
			}
			cols := make([][]uint64, k)
			for i := range cols {
				cols[i] = make([]uint64, tw)
			}
			u := tree.sums(k, tw, func(x int, dst []uint64) { copy(dst, streams[x]) },
				func(i int) []uint64 { return cols[i] })
			if fmt.Sprint(u) != fmt.Sprint(wantU) {
				t.Fatalf("k=%d tw=%d: u differs", k, tw)
			}
			for i := range k {
				if fmt.Sprint(cols[i]) != fmt.Sprint(wantCols[i]) {
					t.Fatalf("k=%d tw=%d: column %d differs", k, tw, i)
				}
			}
		}
	}
}

// A base-OT message that is no group element, or has the wrong length, is a deviation
// from the protocol (an honest party never sends one): both sides refuse it with
// errs.Cheating, so that a malicious protocol's tamper tests see a detected cheat.
func TestBaseOTRefusesMalformedMessages(t *testing.T) {
	s, aMsg, err := baseSenderStart(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	choices := make([]uint64, Kappa/64)
	bMsg, _, err := baseReceive(seeded(2), aMsg, choices)
	if err != nil {
		t.Fatal(err)
	}
	invalid := make([]byte, elemSize) // not a canonical Ristretto255 encoding
	for i := range invalid {
		invalid[i] = 0xff
	}
	badB := append([]byte(nil), bMsg...)
	copy(badB[5*elemSize:], invalid)
	cases := []struct {
		name, want string
		run        func() error
	}{
		{"A not an element", "bad group element A", func() error { _, _, err := baseReceive(seeded(2), invalid, choices); return err }},
		{"A the identity", "bad group element A", func() error {
			_, _, err := baseReceive(seeded(2), make([]byte, elemSize), choices)
			return err
		}},
		{"A short", "A has 31 bytes", func() error { _, _, err := baseReceive(seeded(2), aMsg[:31], choices); return err }},
		{"B_5 not an element", "bad group element B_5", func() error { _, _, err := s.finish(badB); return err }},
		{"B short", "B message has", func() error { _, _, err := s.finish(bMsg[:len(bMsg)-1]); return err }},
	}
	for _, c := range cases {
		err := c.run()
		if errs.KindOf(err) != errs.Cheating || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%s: got %v (kind %q), want a cheating error naming %q", c.name, err, errs.KindOf(err), c.want)
		}
	}
	if _, _, err := s.finish(bMsg); err != nil {
		t.Errorf("the untampered B: %v", err)
	}
}
