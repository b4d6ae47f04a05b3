package rep3

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
)

// maskRecorder keeps the last product and its zero-share words (a MaskObserver).
type maskRecorder struct {
	next, prev []uint64
	x, y, z    Pair
}

func (r *maskRecorder) Input(int, bool, Pair)          {}
func (r *maskRecorder) Open(int, bool, Pair, []uint64) {}
func (r *maskRecorder) ProductMasks(next, prev []uint64) {
	r.next, r.prev = next, prev
}
func (r *maskRecorder) Product(_ Relation, x, y, z Pair) { r.x, r.y, r.z = x, y, z }

// TestB2AProductClaims: the checked B2A's t = b0 b1 is party 0's input, reported as a
// product whose claim shares (rep3mal's: w = z_B + next at V-, -prev at V+, party i-1
// and i+1 of prover i) are prover 0's t_0 + t_1 and zero for provers 1 and 2. With an
// honest party 0 the claims hold (w_0 = b0 b1) and t is shared correctly; with a party 0
// that inputs a wrong t consistently (its own copy and what it sends agree, so no
// opening or later product sees an inconsistency), the sharing holds the wrong t and so
// does w_0: prover 0's claim w_0 = b0 b1 is false, which the product proof rejects.
func TestB2AProductClaims(t *testing.T) {
	const n = 200
	r := rand.New(rand.NewPCG(3, 4))
	b0v, b1v := make([]uint64, n), make([]uint64, n)
	for i := range b0v {
		b0v[i], b1v[i] = r.Uint64()&1, r.Uint64()&1
	}
	for _, lie := range []int{-1, 0, 77, n - 1} {
		var recs [3]*maskRecorder
		var ts [3]*AShare
		run3Observed(t, func(i int) Observer { recs[i] = &maskRecorder{}; return recs[i] }, func(p *Protocol) error {
			zero := make([]uint64, n)
			var b0, b1 *AShare
			var tv []uint64
			switch p.id {
			case 0:
				b0, b1 = &AShare{a: b0v, b: zero}, &AShare{a: zero, b: b1v}
				tv = make([]uint64, n)
				for i := range tv {
					tv[i] = b0v[i] & b1v[i]
				}
				if lie >= 0 {
					tv[lie] ^= 1
				}
			case 1:
				b0, b1 = &AShare{a: zero, b: zero}, &AShare{a: b1v, b: zero}
			case 2:
				b0, b1 = &AShare{a: zero, b: b0v}, &AShare{a: zero, b: zero}
			}
			s, err := p.b2aProduct(b0, b1, tv, zero)
			ts[p.id] = s
			return err
		})
		for e := range n {
			// The sharing: components t_0, t_1, t_2 from their holders (party i holds (t_i,
			// t_{i+1})), the same at both holders.
			for c := range 3 {
				if ts[c].a[e] != ts[(c+2)%3].b[e] {
					t.Fatalf("lie %d: component %d of element %d differs between its holders", lie, c, e)
				}
			}
			got := ts[0].a[e] + ts[1].a[e] + ts[2].a[e]
			want := b0v[e] & b1v[e]
			if e == lie {
				want ^= 1
			}
			if got != want {
				t.Fatalf("lie %d: element %d is %d, party 0 input %d", lie, e, got, want)
			}
			// Claim of prover i: V- = party i-1 (z_B + next), V+ = party i+1 (-prev).
			for i := range 3 {
				vm, vp := recs[(i+2)%3], recs[(i+1)%3]
				w := vm.z.B[e] + vm.next[e] - vp.prev[e]
				// prover i's cross terms x_i y_i + x_i y_{i+1} + x_{i+1} y_i
				x, y := recs[i].x, recs[i].y
				cross := x.A[e]*(y.A[e]+y.B[e]) + x.B[e]*y.A[e]
				if holds := w == cross; holds != (i != 0 || e != lie) {
					t.Fatalf("lie %d: prover %d, element %d: claim %d, cross terms %d", lie, i, e, w, cross)
				}
			}
		}
	}
}

// run3Observed is run3 with an Observer per party.
func run3Observed(t testing.TB, obs func(i int) Observer, f func(p *Protocol) error) {
	t.Helper()
	conns := net.NewPipes(3)
	errc := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := NewObserved(conns[i], mpc.Options{}, obs(i))
			if err == nil {
				err = f(p)
			}
			if err != nil {
				errc[i] = err
				conns[i].Close()
			}
		}()
	}
	wg.Wait()
	for i, err := range errc {
		if err != nil {
			t.Fatalf("party %d: %v", i, err)
		}
	}
}
