package rep3

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
)

// run3 runs f on three fresh parties over pipes and fails on any error.
func run3(t *testing.T, f func(p *Protocol) error) {
	t.Helper()
	run3Observed(t, func(int) Observer { return nil }, f)
}

// TestA2BSplitLeavesPending: a pending product (a MulSum) goes to
// A2BSplitLeaves without its resharing, with b = z_1 (range A) or z_0 (range B) and a the
// other two terms; every leaf equals its table at (a, b's chunk), chunks up to
// MaxLeafChunk wide (pending shares after linear methods: TestDivRoundAverage in package
// mpc); afterwards a share derived from the product is still opened right (its terms
// sent again, freshly masked),
// and a product that was settled before goes through the replicated path.
func TestA2BSplitLeavesPending(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 64, 65, 200} {
		for _, w := range []int{9, 40, 64} {
			t.Run(fmt.Sprintf("n=%d/w=%d", n, w), func(t *testing.T) {
				mask := ^uint64(0)
				if w < 64 {
					mask = 1<<uint(w) - 1
				}
				l := &mpc.SplitLeaves{}
				for range 10 {
					K := 1 + r.IntN(min(mpc.MaxLeafChunk, w))
					lo := r.IntN(w - K + 1)
					sw := r.IntN(6)
					slo := r.IntN(w - sw + 1)
					tab := make([]uint64, 1<<uint(sw))
					for i := range tab {
						tab[i] = r.Uint64()
						if K < 6 {
							tab[i] &= 1<<(1<<uint(K)) - 1
						}
					}
					l.Leaves = append(l.Leaves, mpc.SplitLeaf{Lo: lo, K: K, SLo: slo, SW: sw, Tab: tab})
				}
				xs, ys := make([]uint64, n), make([]uint64, n)
				for i := range xs {
					xs[i], ys[i] = r.Uint64(), r.Uint64()
				}
				var z [3][]uint64 // each party's term of the pending w = x*y
				var leaves [][]uint64
				var mu sync.Mutex
				run3(t, func(p *Protocol) error {
					x, err := p.Input(0, xs, n)
					if err != nil {
						return err
					}
					y, err := p.Input(1, ys, n)
					if err != nil {
						return err
					}
					prod, err := p.MulSum(x, y, 1)
					if err != nil {
						return err
					}
					// The product as it is (masked by its zero share: its terms are the
					// operands; after a linear method they are masked again, see sendable).
					wv := prod
					if s := anyAS(wv); !s.pending() || !s.masked {
						return fmt.Errorf("w is not a fresh pending share")
					}
					mu.Lock()
					z[p.id] = append([]uint64(nil), anyAS(wv).a...)
					mu.Unlock()
					_, _, lv, err := p.A2BSplitLeaves(wv, w, 0, l)
					if err != nil {
						return err
					}
					var out [][]uint64
					for _, s := range lv {
						v, err := p.OpenB(s, -1)
						if err != nil {
							return err
						}
						out = append(out, v)
					}
					// A second consumer of the product: its terms go again, freshly masked.
					v, err := p.Open(p.AddPublic(p.Neg(prod), []uint64{5}), -1)
					if err != nil {
						return err
					}
					for i := range v {
						if v[i] != 5-xs[i]*ys[i] {
							return fmt.Errorf("element %d: 5 - x*y after the leaves = %x, want %x", i, v[i], 5-xs[i]*ys[i])
						}
					}
					// Settled first: the replicated path, same leaves of the new split.
					q, err := p.MulSum(x, y, 1)
					if err != nil {
						return err
					}
					if _, err := p.Open(q, -1); err != nil {
						return err
					}
					if _, _, _, err := p.A2BSplitLeaves(q, w, 0, l); err != nil {
						return err
					}
					if p.id == 0 {
						mu.Lock()
						leaves = out
						mu.Unlock()
					}
					return nil
				})
				nw := (n + 63) / 64
				mid := min(64*((nw+1)/2), n)
				for i := range n {
					want := xs[i] * ys[i]
					if z[0][i]+z[1][i]+z[2][i] != want {
						t.Fatalf("element %d: terms add to %x, want %x", i, z[0][i]+z[1][i]+z[2][i], want)
					}
					a, b := z[0][i]+z[2][i], z[1][i] // range A
					if i >= mid {
						a, b = z[1][i]+z[2][i], z[0][i]
					}
					a, b = a&mask, b&mask
					for j, lf := range l.Leaves {
						tt := a >> uint(lf.SLo) & (1<<uint(lf.SW) - 1)
						v := b >> uint(lf.Lo) & (1<<uint(lf.K) - 1)
						if got, want := leaves[j][i], lf.Tab[tt]>>v&1; got != want {
							t.Fatalf("element %d leaf %d (%+v): got %d, want %d", i, j, lf, got, want)
						}
					}
				}
			})
		}
	}
}
