package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
)

// online is p's traffic so far outside its offline phase (making correlated randomness).
func online(p mpc.Protocol) net.Stats { return p.Conn().Stats().Sub(mpc.Offline(p).Net) }

// TestGatherMulSum checks GatherMulSum against the cleartext sum (with padding indices)
// and that it costs no more messages and bytes than MulSum(Gather(x, xIdx), Gather(w,
// wIdx), k) (exactly as many for rep3; semi2k's Beaver masks have the ungathered shapes).
func TestGatherMulSum(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, name := range local.Protocols() {
		for _, s := range [][3]int{{1, 1, 1}, {5, 9, 30}, {200, 9, 700}} {
			nx, k, n := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("%s/nx=%d/k=%d/n=%d", name, nx, k, n), func(t *testing.T) {
				x := make([]uint64, nx)
				for i := range x {
					x[i] = r.Uint64()
				}
				x[0] = ^uint64(0)
				nw := k + 3
				w := make([]uint64, nw)
				for i := range w {
					w[i] = r.Uint64()
				}
				idx := make([]int32, n*k)
				widx := make([]int32, n*k)
				for i := range idx {
					idx[i] = int32(r.IntN(nx+1) - 1) // -1: padding
					widx[i] = int32(r.IntN(nw))
				}
				want := make([]uint64, n)
				for i := range want {
					for j := range k {
						if q := idx[i*k+j]; q >= 0 {
							want[i] += x[q] * w[widx[i*k+j]]
						}
					}
				}
				got := make([][]uint64, 3)
				var costs [3][2]net.Stats
				err := local.Run(name, 0, func(p mpc.Protocol) error {
					g, ok := p.(mpc.GatherMulSummer)
					if !ok {
						return fmt.Errorf("%s does not implement mpc.GatherMulSummer", name)
					}
					var xv, wv []uint64
					if p.ID() == 0 {
						xv = x
					}
					if p.ID() == 1 {
						wv = w
					}
					xs, err := p.Input(0, xv, nx)
					if err != nil {
						return err
					}
					ws, err := p.Input(1, wv, nw)
					if err != nil {
						return err
					}
					s0 := online(p)
					y, err := g.GatherMulSum(xs, idx, ws, widx, k)
					if err != nil {
						return err
					}
					s1 := online(p)
					if _, err := p.MulSum(p.Gather(xs, idx), p.Gather(ws, widx), k); err != nil {
						return err
					}
					s2 := online(p)
					if p.ID() < 3 {
						costs[p.ID()] = [2]net.Stats{s1.Sub(s0), s2.Sub(s1)}
					}
					v, err := p.Open(y, -1)
					if p.ID() < 3 {
						got[p.ID()] = v
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				for id, v := range got {
					if v == nil {
						continue
					}
					for i := range want {
						if v[i] != want[i] {
							t.Fatalf("party %d: y[%d] = %#x, want %#x", id, i, v[i], want[i])
						}
					}
					if c := costs[id]; c[0].BytesSent > c[1].BytesSent || c[0].Messages != c[1].Messages {
						t.Fatalf("party %d: GatherMulSum sent %+v, MulSum of the gather %+v", id, c[0], c[1])
					}
				}
			})
		}
	}
}
