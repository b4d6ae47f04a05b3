package ot

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

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

func TestTranspose64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var a, b [64]uint64
	for i := range a {
		a[i] = r.Uint64()
	}
	b = a
	transpose64(&b)
	for i := range 64 {
		for j := range 64 {
			if a[i]>>j&1 != b[j]>>i&1 {
				t.Fatalf("entry (%d,%d) not transposed", i, j)
			}
		}
	}
	// colsToRows on a ragged n.
	const n = 130
	nw := words(n)
	cols := make([]uint64, Kappa*nw)
	for i := range cols {
		cols[i] = r.Uint64()
	}
	rows := make([]Block, n)
	colsToRows(rows, cols, nw)
	for row := range n {
		for col := range Kappa {
			if rows[row][col/64]>>(col%64)&1 != bit(cols[col*nw:], row) {
				t.Fatalf("row %d col %d wrong", row, col)
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
		bw.write(v, w)
		total += w
	}
	out := bw.bytes()
	if len(out) != (total+63)/64*8 {
		t.Fatalf("packed %d bits into %d bytes", total, len(out))
	}
	br := newBitReader(out)
	for i, w := range ws {
		if got := br.read(w); got != vs[i] {
			t.Fatalf("value %d (width %d): got %x want %x", i, w, got, vs[i])
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

// tamperConn flips one bit of the k-th message it receives (counting from 0), and records
// every received message.
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
		msg[len(msg)/2] ^= 0x10
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
			s0, s1 := sessions(t, c0, c1) // 2 messages each way so far
			switch which {
			case "extension message":
				c1.k = 2 // the sender's copy of u
			case "corrections":
				c0.k = 2
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
	checkBits := func(t *testing.T, name string, msg []byte) {
		cnt := make([]int, 64)
		words := len(msg) / 8
		for w := range words {
			for b := range 8 {
				for k := range 8 {
					cnt[8*b+k] += int(msg[8*w+b] >> k & 1)
				}
			}
		}
		for b, c := range cnt {
			f := float64(c) / float64(words)
			// 6 standard deviations of a fair coin's frequency.
			if d := f - 0.5; d*d > 36*0.25/float64(words) {
				t.Fatalf("%s: bit %d is one in %.3f of %d words", name, b, f, words)
			}
		}
	}
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
				checkBits(t, "receiver's corrections", c0.log[2])
				checkBits(t, "sender's extension message", c1.log[2])
			})
		}
	}
}
