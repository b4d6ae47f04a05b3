package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
)

// TestA2BHigh checks rep3's A2BHigh against floor((x mod 2^w) / 2^lo) computed here, and
// that it never costs more bytes or rounds than the full A2B.
func TestA2BHigh(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n = 300
	x := make([]uint64, n)
	for i := range x {
		x[i] = r.Uint64()
	}
	x[0], x[1], x[2] = 0, ^uint64(0), 1<<63
	for _, w := range []int{1, 2, 3, 8, 33, 45, 63, 64} {
		for _, lo := range []int{0, 1, w / 2, w - 2, w - 1} {
			if lo < 0 || lo >= w {
				continue
			}
			t.Run(fmt.Sprintf("w=%d/lo=%d", w, lo), func(t *testing.T) {
				got := make([][]uint64, 3)
				var costs [3][2]net.Stats
				err := local.Run("rep3", 0, func(p mpc.Protocol) error {
					var v []uint64
					if p.ID() == 0 {
						v = x
					}
					xs, err := p.Input(0, v, n)
					if err != nil {
						return err
					}
					s0 := p.Conn().Stats()
					hb, err := p.(mpc.HighA2B).A2BHigh(xs, w, lo)
					if err != nil {
						return err
					}
					s1 := p.Conn().Stats()
					if _, err := p.A2B(xs, w); err != nil {
						return err
					}
					costs[p.ID()] = [2]net.Stats{s1.Sub(s0), p.Conn().Stats().Sub(s1)}
					if hb.Width() != w-lo || hb.Len() != n {
						return fmt.Errorf("A2BHigh: %d elements of %d bits", hb.Len(), hb.Width())
					}
					got[p.ID()], err = p.OpenB(hb, -1)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				for id, v := range got {
					for i := range x {
						want := x[i]
						if w < 64 {
							want &= 1<<uint(w) - 1
						}
						want >>= uint(lo)
						if v[i] != want {
							t.Fatalf("party %d: element %d = %#x, want %#x", id, i, v[i], want)
						}
					}
					c := costs[id]
					if c[0].BytesSent > c[1].BytesSent || c[0].Rounds > c[1].Rounds {
						t.Fatalf("party %d: A2BHigh cost %+v, more than A2B's %+v", id, c[0], c[1])
					}
				}
				t.Logf("party 0: A2BHigh %d bytes, %d rounds; A2B %d bytes, %d rounds",
					costs[0][0].BytesSent, costs[0][0].Rounds, costs[0][1].BytesSent, costs[0][1].Rounds)
			})
		}
	}
}
