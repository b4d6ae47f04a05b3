package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestRequantizeHalfEvenWide: round-half-even requantization of accumulators wider than
// int32 (ONNX Runtime's ADD: RNE((A*a + B*b) / 2^R) with 24-bit A, B), with multiplier 1,
// against qnn.RoundHalfEvenShift, including exact ties, odd and even quotients.
func TestRequantizeHalfEvenWide(t *testing.T) {
	const bound = 40
	for _, r := range []int{1, 7, 20, 30} {
		rng := rand.New(rand.NewPCG(uint64(r), 3))
		var ins []int64
		for _, q := range []int64{0, 1, 2, 3, -1, -2, -3, 100, -101} {
			ins = append(ins, q<<r+1<<(r-1), q<<r+1<<(r-1)-1, q<<r+1<<(r-1)+1, q<<r)
		}
		for len(ins) < 300 {
			ins = append(ins, rng.Int64N(1<<(bound-1))-1<<(bound-2))
		}
		want := make([]int64, len(ins))
		for i, x := range ins {
			want[i] = min(max(qnn.RoundHalfEvenShift(x, r)+5, -1<<20), 1<<20)
		}
		forEachProtocol(t, func(t *testing.T, name string) {
			got := evalA(t, name, [][]uint64{u64s(ins)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
				return mpc.RequantizeRound(p, xs[0], mpc.Requant{Mult: []int32{1}, Shift: []int{31 - r},
					Round: []mpc.RoundMode{mpc.RoundHalfEven}, OutZP: 5, ActMin: -1 << 20, ActMax: 1 << 20}, nil, bound)
			})
			checkEq(t, fmt.Sprintf("r=%d", r), got, want, func(i int) string { return fmt.Sprint(ins[i]) })
		})
	}
}
