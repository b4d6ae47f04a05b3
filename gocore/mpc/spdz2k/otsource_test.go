package spdz2k

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

func seededReader(seed byte) *prg.PRG { return prg.New(prg.Key{seed, 0x0f, 0xf1}) }

// both runs f0 and f1 concurrently; a party that fails closes its connection so that the
// other's pending Recv fails instead of hanging.
func both(conns []net.Conn, f0, f1 func() error) (e0, e1 error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if e0 = f0(); e0 != nil {
			conns[0].Close()
		}
	}()
	go func() {
		defer wg.Done()
		if e1 = f1(); e1 != nil {
			conns[1].Close()
		}
	}()
	wg.Wait()
	return e0, e1
}

func mustBoth(t testing.TB, conns []net.Conn, f0, f1 func() error) {
	t.Helper()
	if e0, e1 := both(conns, f0, f1); e0 != nil || e1 != nil {
		t.Fatalf("party 0: %v; party 1: %v", e0, e1)
	}
}

// otPair sets up the two parties' sources over conns (pipes unless given).
func otPair(t testing.TB, conns []net.Conn) [2]*otSource {
	t.Helper()
	var s [2]*otSource
	mustBoth(t, conns,
		func() (err error) { s[0], err = newOTSource(conns[0], seededReader(1)); return },
		func() (err error) { s[1], err = newOTSource(conns[1], seededReader(2)); return })
	return s
}

// alphaOf is alpha = alpha_0 + alpha_1 (65 bits).
func alphaOf(s [2]*otSource) ring128.Scalar {
	return ring128.Scalar{Lo: s[0].alpha}.Add(ring128.Scalar{Lo: s[1].alpha})
}

// checkShared checks x_0 + x_1 = want (if want is not nil) and m_0 + m_1 = alpha*x, and
// returns x.
func checkShared(t *testing.T, what string, alpha ring128.Scalar, sh [2]*AShare, want *ring128.Vec) ring128.Vec {
	t.Helper()
	n := sh[0].Len()
	if sh[1].Len() != n || sh[0].m.Len() != n || sh[1].m.Len() != n {
		t.Fatalf("%s: lengths %d %d %d %d", what, n, sh[1].Len(), sh[0].m.Len(), sh[1].m.Len())
	}
	x, m, am := ring128.Make(n), ring128.Make(n), ring128.Make(n)
	ring128.Add(x, sh[0].x, sh[1].x)
	ring128.Add(m, sh[0].m, sh[1].m)
	ring128.MulScalar(am, x, alpha)
	for i := range n {
		if want != nil && x.At(i) != want.At(i) {
			t.Fatalf("%s: element %d is %v, want %v", what, i, x.At(i), want.At(i))
		}
		if m.At(i) != am.At(i) {
			t.Fatalf("%s: MAC of element %d is %v, want alpha*x = %v", what, i, m.At(i), am.At(i))
		}
	}
	return x
}

func TestPackUnpack(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range []int{1, 3, 31, 63, 64} {
		for _, n := range []int{0, 1, 5, 64, 65, 200} {
			v := make([]uint64, n)
			for i := range v {
				v[i] = r.Uint64() >> (64 - w)
			}
			b := appendPacked(nil, v, w)
			if len(b) != 8*ring.Words(n*w) {
				t.Fatalf("w=%d n=%d: %d bytes", w, n, len(b))
			}
			got := make([]uint64, n)
			unpack(got, b, w)
			for i := range v {
				if got[i] != v[i] {
					t.Fatalf("w=%d n=%d: element %d is %x, want %x", w, n, i, got[i], v[i])
				}
			}
		}
	}
}

func TestOTSourceRandomAndInputMask(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	alpha := alphaOf(s)
	if s[0].alpha == s[1].alpha || s[0].Kind() != PreprocessingOT {
		t.Fatalf("keys %x %x kind %q", s[0].alpha, s[1].alpha, s[0].Kind())
	}
	for _, n := range []int{1, 7, authChunk + 3} {
		var sh [2]*AShare
		mustBoth(t, conns,
			func() (err error) { sh[0], err = s[0].Random(n); return },
			func() (err error) { sh[1], err = s[1].Random(n); return })
		x := checkShared(t, fmt.Sprintf("Random(%d)", n), alpha, sh, nil)
		if n > 1 && x.At(0) == x.At(1) {
			t.Fatalf("Random(%d): repeated value", n)
		}
		for owner := range 2 {
			var r [2]ring128.Vec
			mustBoth(t, conns,
				func() (err error) { r[0], sh[0], err = s[0].InputMask(owner, n); return },
				func() (err error) { r[1], sh[1], err = s[1].InputMask(owner, n); return })
			if r[1-owner].Len() != 0 || r[owner].Len() != n {
				t.Fatalf("InputMask(%d, %d): mask lengths %d %d", owner, n, r[0].Len(), r[1].Len())
			}
			checkShared(t, fmt.Sprintf("InputMask(%d, %d)", owner, n), alpha, sh, &r[owner])
		}
	}
}

func TestOTSourceTriples(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	alpha := alphaOf(s)
	for _, tc := range []struct{ n, k int }{{1, 1}, {5, 1}, {tripleChunk + 2, 1}, {12, 3}} {
		f := gatherMul{xLen: tc.n * tc.k, wLen: tc.n * tc.k, k: tc.k}
		var a, b, c [2]*AShare
		mustBoth(t, conns,
			func() (err error) { a[0], b[0], c[0], err = s[0].Triple(f); return },
			func() (err error) { a[1], b[1], c[1], err = s[1].Triple(f); return })
		name := fmt.Sprintf("triples n=%d k=%d", tc.n, tc.k)
		A := checkShared(t, name+" A", alpha, a, nil)
		B := checkShared(t, name+" B", alpha, b, nil)
		C := ring128.Make(tc.n)
		f.apply(C, A, B)
		checkShared(t, name+" C", alpha, c, &C)
	}
}

func TestOTSourceANDTriples(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	n, w := 70, 3
	var a, b, c [2]*BShare
	mustBoth(t, conns,
		func() (err error) { a[0], b[0], c[0], err = s[0].ANDTriples(n, w); return },
		func() (err error) { a[1], b[1], c[1], err = s[1].ANDTriples(n, w); return })
	var delta [2]uint64
	_, delta[0] = s[0].Keys()
	_, delta[1] = s[1].Keys()
	W := ring.Words(n)
	for j := range w {
		for i := range n {
			bit := func(x [2]*BShare) uint64 { return bitAt(x[0].x, W, j, i) ^ bitAt(x[1].x, W, j, i) }
			if bit(c) != bit(a)&bit(b) {
				t.Fatalf("triple %d of plane %d: c = %d, a = %d, b = %d", i, j, bit(c), bit(a), bit(b))
			}
			for _, x := range [][2]*BShare{a, b, c} {
				for p := range 2 {
					q := j*n + i
					if x[p].m[q] != x[1-p].k[q]^delta[1-p]&mask(bitAt(x[p].x, W, j, i)) {
						t.Fatalf("bit %d of plane %d, party %d: MAC relation fails", i, j, p)
					}
				}
			}
		}
	}
}

func TestOTSourceNotBuilt(t *testing.T) {
	conns := net.NewPipes(2)
	s := otPair(t, conns)
	if _, _, _, err := s[0].Triple(matMul{2, 3, 4}); errs.KindOf(err) != errs.Config {
		t.Fatalf("matrix triple: %v", err)
	}
	if _, _, _, err := s[0].Triple(gatherMul{xLen: 3, wLen: 3, xIdx: []int32{0, 1}, wIdx: []int32{1, 2}, k: 1}); errs.KindOf(err) != errs.Config {
		t.Fatalf("gather triple: %v", err)
	}
	if _, _, err := s[0].DaBits(3, 2); errs.KindOf(err) != errs.Config {
		t.Fatalf("daBits: %v", err)
	}
}

// otProtocols returns two online spdz2k parties on top of the OT-based source (what New
// would make with this preprocessing).
func otProtocols(t testing.TB, conns []net.Conn) [2]*Protocol {
	s := otPair(t, conns)
	var p [2]*Protocol
	for i := range 2 {
		p[i] = &Protocol{name: Name, conn: conns[i], id: i, other: 1 - i, src: s[i], rng: seededReader(byte(10 + i))}
		p[i].check.reset()
		p[i].alpha, p[i].delta = s[i].Keys()
	}
	return p
}

// TestOTSourceOnline runs the online phase on the OT-based preprocessing: inputs,
// multiplication, MulSum, AND, opening.
func TestOTSourceOnline(t *testing.T) {
	conns := net.NewPipes(2)
	p := otProtocols(t, conns)
	x := []uint64{3, 1 << 63, 12345, ^uint64(0), 7, 9}
	y := []uint64{5, 2, 1 << 40, 3, ^uint64(6), 11}
	var out [2][]uint64
	var bout [2][]uint64
	run := func(i int) func() error {
		return func() error {
			var xv, yv []uint64
			if i == 0 {
				xv = x
			} else {
				yv = y
			}
			X, err := p[i].Input(0, xv, len(x))
			if err != nil {
				return err
			}
			Y, err := p[i].Input(1, yv, len(y))
			if err != nil {
				return err
			}
			Z, err := p[i].Mul(X, Y)
			if err != nil {
				return err
			}
			S, err := p[i].MulSum(Z, X, 2)
			if err != nil {
				return err
			}
			all := p[i].Concat(Z, S)
			if out[i], err = p[i].Open(all, -1); err != nil {
				return err
			}
			xb := p[i].BPublic([]uint64{0xff, 0x0f}, 8)
			yb := p[i].BPublic([]uint64{0x3c, 0xf0}, 8)
			bx := p[i].shared(bs(xb))
			zb, err := p[i].AND([]mpc.BShare{bx}, []mpc.BShare{yb})
			if err != nil {
				return err
			}
			zb2, err := p[i].AND(zb, []mpc.BShare{p[i].shared(bs(yb))})
			if err != nil {
				return err
			}
			bout[i], err = p[i].OpenB(zb2[0], -1)
			return err
		}
	}
	mustBoth(t, conns, run(0), run(1))
	want := make([]uint64, 0, 9)
	for i := range x {
		want = append(want, x[i]*y[i])
	}
	for i := 0; i < 3; i++ {
		want = append(want, x[2*i]*y[2*i]*x[2*i]+x[2*i+1]*y[2*i+1]*x[2*i+1])
	}
	for i := range 2 {
		if fmt.Sprint(out[i]) != fmt.Sprint(want) {
			t.Fatalf("party %d opened %v, want %v", i, out[i], want)
		}
		if fmt.Sprint(bout[i]) != fmt.Sprint([]uint64{0x3c, 0}) {
			t.Fatalf("party %d opened AND %x", i, bout[i])
		}
	}
	if p[0].Preprocessing() != PreprocessingOT {
		t.Fatalf("preprocessing %q", p[0].Preprocessing())
	}
}

var _ mpc.Protocol = (*Protocol)(nil)
