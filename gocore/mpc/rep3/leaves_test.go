package rep3_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
)

// TestA2BSplitLeaves: the operands add up to x mod 2^w, and every leaf equals its table at
// (a, b's chunk) with a and b the opened operands (operand planes wanted: one range, a =
// x_0), or, without operand planes (two ranges of words, a = x_0 then a = x_2), with a
// read from the parties' components; for element counts around word boundaries, widths
// 1..64, chunk widths 1..4, random, equality and suffix tables on a and a derived source.
func TestA2BSplitLeaves(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 63, 64, 65, 200, 700} {
		for _, w := range []int{1, 7, 40, 63, 64} {
			for _, planes := range []bool{true, false} {
				t.Run(fmt.Sprintf("n=%d/w=%d/planes=%v", n, w, planes), func(t *testing.T) {
					mask := ^uint64(0)
					if w < 64 {
						mask = 1<<uint(w) - 1
					}
					derive := func(a uint64, out []uint64) { out[0] = (a*2654435761 + 17) & mask }
					l := &mpc.SplitLeaves{NDerived: 1, Derive: derive}
					for j := range 12 {
						K := 1 + r.IntN(min(mpc.MaxLeafChunk, w))
						lo := r.IntN(w - K + 1)
						sw := r.IntN(min(5, w+1))
						slo := r.IntN(w - sw + 1)
						tab := make([]uint64, 1<<uint(sw))
						for i := range tab {
							tab[i] = r.Uint64() & (1<<(1<<uint(K)) - 1)
						}
						if j == 0 && w >= 4 { // equality of chunks, as the requantization uses
							K, sw, slo, lo = 4, 4, 0, 0
							tab = make([]uint64, 16)
							for i := range tab {
								tab[i] = 1 << uint(i)
							}
						}
						if j == 1 && w >= 3 { // a suffix table {v >= t}, as carries are
							K, sw, slo, lo = 3, 3, 0, w-3
							tab = make([]uint64, 8)
							for i := range tab {
								tab[i] = 0xff &^ (1<<uint(i) - 1)
							}
						}
						l.Leaves = append(l.Leaves, mpc.SplitLeaf{Lo: lo, K: K, Src: r.IntN(2), SLo: slo, SW: sw, Tab: tab})
					}
					xs := make([]uint64, n)
					for i := range xs {
						xs[i] = r.Uint64()
					}
					ps, _ := newParties(t)
					var wg sync.WaitGroup
					opened := make([][]uint64, 2+len(l.Leaves))
					nb := w
					if !planes {
						nb = 0
					}
					var x0, x2 []uint64 // components 0 (party 0's first) and 2 (party 1's second)
					errc := make([]error, 3)
					for i := range 3 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							p := ps[i]
							errc[i] = func() error {
								xi, err := p.Input(0, xs, n)
								if err != nil {
									return err
								}
								switch ca, cb := rep3.Components(xi); i {
								case 0:
									x0 = ca
								case 1:
									x2 = cb
								}
								a, b, lv, err := p.(*rep3.Protocol).A2BSplitLeaves(xi, w, nb, l)
								if err != nil {
									return err
								}
								for k, s := range append([]mpc.BShare{a, b}, lv...) {
									v, err := p.OpenB(s, 0)
									if err != nil {
										return err
									}
									if i == 0 {
										opened[k] = v
									}
								}
								return nil
							}()
						}()
					}
					wg.Wait()
					for _, err := range errc {
						if err != nil {
							t.Fatal(err)
						}
					}
					av, bv := opened[0], opened[1]
					if !planes {
						av, bv = make([]uint64, n), make([]uint64, n)
						mid := 64 * (((n+63)/64 + 1) / 2) // first element of the second range
						for i := range n {
							av[i] = x0[i]
							if i >= mid {
								av[i] = x2[i]
							}
							av[i] &= mask
							bv[i] = (xs[i] - av[i]) & mask
						}
					}
					out := make([]uint64, 1)
					for i := range n {
						if (av[i]+bv[i])&mask != xs[i]&mask {
							t.Fatalf("element %d: a+b = %x, x = %x", i, (av[i]+bv[i])&mask, xs[i]&mask)
						}
						derive(av[i], out)
						for j, lf := range l.Leaves {
							src := av[i]
							if lf.Src == 1 {
								src = out[0]
							}
							tt := src >> uint(lf.SLo) & (1<<uint(lf.SW) - 1)
							v := bv[i] >> uint(lf.Lo) & (1<<uint(lf.K) - 1)
							if want := lf.Tab[tt] >> v & 1; opened[2+j][i] != want {
								t.Fatalf("element %d leaf %d (%+v): got %d, want %d", i, j, lf, opened[2+j][i], want)
							}
						}
					}
				})
			}
		}
	}
}

// TestA2BSplitLeavesMasks: every message a party receives in A2BSplitLeaves (the one-hot
// inputs and the leaves' resharing, both ranges) is masked by a key that party lacks.
// Party i lacks k_{i+1} = s_{i-1} (party i-1's seed): two runs on the same shares with
// every seed equal except party i-1's must give party i messages that differ in almost
// every word. (The statistical view harness cannot see a mask the receiver could remove
// with its own keys: the leaves' shares u are uniform to an observer without them.)
func TestA2BSplitLeavesMasks(t *testing.T) {
	const n, w = 700, 40
	r := rand.New(rand.NewPCG(3, 4))
	var comp [3][]uint64
	for c := range comp {
		comp[c] = make([]uint64, n)
		for e := range comp[c] {
			comp[c][e] = r.Uint64()
		}
	}
	l := &mpc.SplitLeaves{}
	for j := range 6 {
		K := 1 + j%4
		tab := make([]uint64, 1<<uint(min(4, w)))
		for i := range tab {
			tab[i] = r.Uint64() & (1<<(1<<uint(K)) - 1)
		}
		l.Leaves = append(l.Leaves, mpc.SplitLeaf{Lo: 4 * j, K: K, SLo: 20, SW: 4, Tab: tab})
	}
	run := func(seeds [3]byte) [][]byte {
		ps, recs := newPartiesWith(t, func(i int) mpc.Options {
			return mpc.Options{Rand: rand.NewChaCha8([32]byte{seeds[i], byte(i)})}
		})
		for _, r := range recs {
			r.msgs = nil // the setup keys
		}
		err := local.RunParties(ps, func(p mpc.Protocol) error {
			i := p.ID()
			_, _, _, err := p.(*rep3.Protocol).A2BSplitLeaves(rep3.FromComponents(comp[i], comp[(i+1)%3]), w, 0, l)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		out := make([][]byte, 3)
		for i := range 3 {
			for _, m := range recs[i].msgs {
				out[i] = append(out[i], m...)
			}
		}
		return out
	}
	base := run([3]byte{1, 1, 1})
	for i := range 3 {
		seeds := [3]byte{1, 1, 1}
		seeds[(i+2)%3] = 2
		other := run(seeds)
		if len(base[i]) != len(other[i]) || len(base[i]) == 0 {
			t.Fatalf("party %d received %d and %d bytes", i, len(base[i]), len(other[i]))
		}
		same := 0
		for k := 0; k+8 <= len(base[i]); k += 8 {
			if string(base[i][k:k+8]) == string(other[i][k:k+8]) {
				same++
			}
		}
		if same > 0 {
			t.Errorf("party %d: %d of %d received words do not change with the key it lacks (unmasked)", i, same, len(base[i])/8)
		}
	}
}
