package rep3_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// recorder wraps a Conn and keeps copies of the messages it receives.
type recorder struct {
	net.Conn
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) Recv(from int) ([]byte, error) {
	m, err := r.Conn.Recv(from)
	if err == nil {
		r.mu.Lock()
		r.msgs = append(r.msgs, bytes.Clone(m))
		r.mu.Unlock()
	}
	return m, err
}

// newParties sets up rep3 over pipes wrapped by recorders.
func newParties(t testing.TB) ([]mpc.Protocol, []*recorder) {
	t.Helper()
	return newPartiesWith(t, func(int) mpc.Options { return mpc.Options{} })
}

// newPartiesWith is newParties with party i's options opt(i).
func newPartiesWith(t testing.TB, opt func(i int) mpc.Options) ([]mpc.Protocol, []*recorder) {
	t.Helper()
	conns := net.NewPipes(3)
	recs := make([]*recorder, 3)
	ps := make([]mpc.Protocol, 3)
	var wg sync.WaitGroup
	errc := make([]error, 3)
	for i := range 3 {
		recs[i] = &recorder{Conn: conns[i]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := rep3.New(recs[i], opt(i))
			ps[i], errc[i] = p, err
		}()
	}
	wg.Wait()
	for _, err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ps, recs
}

func TestNewNeedsThreeParties(t *testing.T) {
	if _, err := rep3.New(net.NewPipes(2)[0], mpc.Options{}); errs.KindOf(err) != errs.Config {
		t.Fatalf("rep3 with 2 parties: %v", err)
	}
	if _, err := local.New("rep3", 4); errs.KindOf(err) != errs.Config {
		t.Fatalf("local rep3 with 4 parties: %v", err)
	}
}

// view runs a fixed computation on secret x (input by party 0) and returns what parties 1
// and 2 received after the key setup, and what party 2's Open(x, 0) returned.
func view(t *testing.T, x []uint64) (msgs [][]byte, open2 []uint64) {
	ps, recs := newParties(t)
	recs[1].msgs, recs[2].msgs = nil, nil // drop the setup keys
	n := len(x)
	err := local.RunParties(ps, func(p mpc.Protocol) error {
		var in []uint64
		if p.ID() == 0 {
			in = x
		}
		a, err := p.Input(0, in, n)
		if err != nil {
			return err
		}
		sq, err := p.Mul(a, a)
		if err != nil {
			return err
		}
		if _, err := p.MatMul(a, sq, 1, n, 1); err != nil {
			return err
		}
		b, err := p.A2B(a, 64)
		if err != nil {
			return err
		}
		c, err := p.AND([]mpc.BShare{b}, []mpc.BShare{p.NOT(b)})
		if err != nil {
			return err
		}
		if _, err := p.B2A(p.Bits(c[0], 0, 8)); err != nil {
			return err
		}
		v, err := p.Open(a, 0)
		if p.ID() == 2 {
			open2 = v
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(recs[1].msgs, recs[2].msgs...), open2
}

// TestView checks the views of parties 1 and 2 of a computation on party 0's secret: no message contains
// a secret word, the messages look uniform even when the secret is all zeros, they change
// from run to run (fresh keys), and Open(x, 0) gives party 2 nothing.
func TestView(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const n = 200
	secret := make([]uint64, n)
	for i := range secret {
		secret[i] = r.Uint64()
	}
	msgs, open2 := view(t, secret)
	if open2 != nil {
		t.Fatalf("party 2 got %v from Open(x, 0)", open2[:3])
	}
	if len(msgs) == 0 {
		t.Fatal("party 2 received nothing")
	}
	words := map[uint64]bool{}
	for _, v := range secret {
		words[v] = true
	}
	for k, m := range msgs {
		for i := 0; i+8 <= len(m); i += 8 {
			if words[binary.LittleEndian.Uint64(m[i:])] {
				t.Fatalf("message %d contains a secret word at byte %d", k, i)
			}
		}
	}
	zero := make([]uint64, n)
	z1, _ := view(t, zero)
	z2, _ := view(t, zero)
	if len(z1) != len(z2) {
		t.Fatalf("views of different shapes: %d and %d messages", len(z1), len(z2))
	}
	ones, total := 0, 0
	for k := range z1 {
		if len(z1[k]) >= 16 && bytes.Equal(z1[k], z2[k]) {
			t.Fatalf("message %d (%d bytes) is the same in two runs", k, len(z1[k]))
		}
		for _, b := range z1[k] {
			ones += bits.OnesCount8(b)
		}
		total += 8 * len(z1[k])
	}
	if f := float64(ones) / float64(total); f < 0.48 || f > 0.52 {
		t.Fatalf("messages for a zero secret have %.3f of their bits set", f)
	}
}

// cost measures each party's traffic for f (after the setup).
func cost(t *testing.T, f func(p mpc.Protocol, x, y mpc.AShare) error, n int) [3]net.Stats {
	t.Helper()
	ps, err := local.New("rep3", 3)
	if err != nil {
		t.Fatal(err)
	}
	var out [3]net.Stats
	err = local.RunParties(ps, func(p mpc.Protocol) error {
		x, y := p.Public(make([]uint64, n)), p.Public(make([]uint64, n))
		before := p.Conn().Stats()
		if err := f(p, x, y); err != nil {
			return err
		}
		out[p.ID()] = p.Conn().Stats().Sub(before)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCost checks the documented bytes, messages and rounds of each communicating method.
func TestCost(t *testing.T) {
	const n = 1000
	nw := ring.Words(n)
	type c struct{ bytes, rounds int64 }
	levels := func(w int) int64 { // ceil(log2(w-1))
		l := int64(0)
		for d := 1; d < w-1; d *= 2 {
			l++
		}
		return l
	}
	andPlanes := func(w int) int64 { // generate bits + Sklansky levels
		m := w - 1
		if m <= 0 {
			return 0
		}
		total := int64(m)
		for d := 1; d < m; d *= 2 {
			for j := 0; j < m; j++ {
				if j&d != 0 {
					total++ // G update
					// P update still needed by a later level: not at the last level, and
					// not for blocks that start at bit 0 (their G needs no P).
					if 2*d < m && j >= 2*d {
						total++
					}
				}
			}
		}
		return total
	}
	cases := []struct {
		name string
		f    func(p mpc.Protocol, x, y mpc.AShare) error
		want [3]c
	}{
		{"Input", func(p mpc.Protocol, x, y mpc.AShare) error {
			var v []uint64
			if p.ID() == 1 {
				v = make([]uint64, n)
			}
			_, err := p.Input(1, v, n)
			return err
		}, [3]c{{0, 0}, {8 * n, 0}, {0, 0}}},
		{"OpenAll", func(p mpc.Protocol, x, y mpc.AShare) error { _, err := p.Open(x, -1); return err },
			[3]c{{8 * n, 1}, {8 * n, 1}, {8 * n, 1}}},
		{"OpenTo2", func(p mpc.Protocol, x, y mpc.AShare) error { _, err := p.Open(x, 2); return err },
			[3]c{{0, 0}, {8 * n, 0}, {0, 0}}},
		{"Mul", func(p mpc.Protocol, x, y mpc.AShare) error { _, err := p.Mul(x, y); return err },
			[3]c{{8 * n, 1}, {8 * n, 1}, {8 * n, 1}}},
		// MulSum and MatMul defer their resharing (deferred.go) to the next method that is
		// not linear: here an opening to party 2 (party 1 sends one more message, in the
		// same round).
		{"MulSum/k=10", func(p mpc.Protocol, x, y mpc.AShare) error { _, err := p.MulSum(x, y, 10); return err },
			[3]c{{0, 0}, {0, 0}, {0, 0}}},
		{"MulSum/k=10+AddPublic+OpenTo2", func(p mpc.Protocol, x, y mpc.AShare) error {
			z, err := p.MulSum(x, y, 10)
			if err != nil {
				return err
			}
			_, err = p.Open(p.AddPublic(z, []uint64{3}), 2)
			return err
		}, [3]c{{8 * n / 10, 1}, {16 * n / 10, 1}, {8 * n / 10, 1}}},
		{"MatMul/m=10/k=100/n=7+OpenTo2", func(p mpc.Protocol, x, y mpc.AShare) error {
			z, err := p.MatMul(x, p.Gather(y, make([]int32, 700)), 10, 100, 7)
			if err != nil {
				return err
			}
			_, err = p.Open(z, 2)
			return err
		}, [3]c{{8 * 70, 1}, {16 * 70, 1}, {8 * 70, 1}}},
		{"AND/2x8bit", func(p mpc.Protocol, x, y mpc.AShare) error {
			b := p.BPublic(make([]uint64, n), 8)
			_, err := p.AND([]mpc.BShare{b, b}, []mpc.BShare{b, b})
			return err
		}, [3]c{{8 * 16 * int64(nw), 1}, {8 * 16 * int64(nw), 1}, {8 * 16 * int64(nw), 1}}},
	}
	for _, w := range []int{1, 2, 8, 32, 64} {
		// B2A: party h inputs w words for each element of its range (a third of the plane
		// words), and every party reshares one word per element.
		b2aBytes := func(h int) int64 {
			lo, hi := min(64*(nw*h/3), n), min(64*(nw*(h+1)/3), n)
			return 8*int64(w*(hi-lo)) + 8*n
		}
		and := 8 * int64(nw) * andPlanes(w)
		rounds := levels(w)
		if w > 1 {
			rounds++
		}
		cases = append(cases, struct {
			name string
			f    func(p mpc.Protocol, x, y mpc.AShare) error
			want [3]c
		}{fmt.Sprintf("A2B/w=%d", w), func(p mpc.Protocol, x, y mpc.AShare) error { _, err := p.A2B(x, w); return err },
			[3]c{{and, rounds}, {and + 8*int64(w*nw), rounds}, {and, rounds}}})
		cases = append(cases, struct {
			name string
			f    func(p mpc.Protocol, x, y mpc.AShare) error
			want [3]c
		}{fmt.Sprintf("B2A/w=%d+OpenTo2", w), func(p mpc.Protocol, x, y mpc.AShare) error {
			// The B2A's resharing is deferred (deferred.go) to the opening.
			z, err := p.B2A(p.BPublic(make([]uint64, n), w))
			if err != nil {
				return err
			}
			_, err = p.Open(z, 2)
			return err
		}, [3]c{{b2aBytes(0), 2}, {b2aBytes(1) + 8*n, 2}, {b2aBytes(2), 2}}})
	}
	for _, tc := range cases {
		got := cost(t, tc.f, n)
		for i := range 3 {
			s := got[i]
			if s.BytesSent != tc.want[i].bytes || s.Rounds != tc.want[i].rounds {
				t.Errorf("%s: party %d sent %d bytes in %d rounds, want %d bytes in %d rounds",
					tc.name, i, s.BytesSent, s.Rounds, tc.want[i].bytes, tc.want[i].rounds)
			}
		}
	}
}

// TestComponents checks FromComponents/Components against Open: a sharing built by hand
// from three random components opens to their sum.
func TestComponents(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const n = 50
	var comp [3][]uint64
	for j := range comp {
		comp[j] = make([]uint64, n)
		for i := range comp[j] {
			comp[j][i] = r.Uint64()
		}
	}
	bcomp := [3][]uint64{}
	for j := range bcomp {
		bcomp[j] = ring.ToPlanes(comp[j], 16)
	}
	var mu sync.Mutex
	opened := map[int][]uint64{}
	bopened := map[int][]uint64{}
	err := local.Run("rep3", 3, func(p mpc.Protocol) error {
		i := p.ID()
		x := rep3.FromComponents(comp[i], comp[(i+1)%3])
		a, b := rep3.Components(x)
		if &a[0] != &comp[i][0] || &b[0] != &comp[(i+1)%3][0] {
			return fmt.Errorf("Components does not return the components")
		}
		xb := rep3.FromBComponents(bcomp[i], bcomp[(i+1)%3], n, 16)
		v, err := p.Open(x, -1)
		if err != nil {
			return err
		}
		bv, err := p.OpenB(xb, -1)
		mu.Lock()
		opened[i], bopened[i] = v, bv
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for e := range n {
			if want := comp[0][e] + comp[1][e] + comp[2][e]; opened[i][e] != want {
				t.Fatalf("party %d element %d: %d, want %d", i, e, opened[i][e], want)
			}
			if want := (comp[0][e] ^ comp[1][e] ^ comp[2][e]) & 0xffff; bopened[i][e] != want {
				t.Fatalf("party %d binary element %d: %d, want %d", i, e, bopened[i][e], want)
			}
		}
	}
}
