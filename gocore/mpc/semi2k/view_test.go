package semi2k_test

import (
	"math"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/viewtest"
)

// TestViewOneSidedProducts: the model owner's weights (int8, declared with their type's
// range) times the client's input, as a convolution's MatMul and a depthwise
// GatherMulSum, then a requantization-sized A2B: what either party receives, offline
// and online, looks uniform and has the same pattern whether the weights and the input
// are all zero or all extreme (-128). A width of the one-sided products computed from
// the weights' values made the message sizes differ here (the leak this test pins).
func TestViewOneSidedProducts(t *testing.T) {
	const m, k, n = 16, 72, 32
	run := func(p mpc.Protocol, s viewtest.Secrets) error {
		fill := func(owner, size int, lo, hi int64) (mpc.AShare, error) {
			var v []uint64
			if p.ID() == owner {
				v = make([]uint64, size)
				if s == viewtest.Extreme {
					for i := range v {
						v[i] = uint64(lo)
					}
				}
			}
			return mpc.InputRange(p, owner, v, size, lo, hi)
		}
		w, err := fill(0, k*n, math.MinInt8, math.MaxInt8)
		if err != nil {
			return err
		}
		x, err := fill(1, m*k, math.MinInt8, math.MaxInt8)
		if err != nil {
			return err
		}
		acc, err := p.MatMul(p.AddPublic(x, []uint64{3}), p.AddPublic(w, []uint64{^uint64(0)}), m, k, n)
		if err != nil {
			return err
		}
		g, _ := mpc.Ext[mpc.GatherMulSummer](p)
		idx := make([]int32, 2*m*n)
		for i := range idx {
			idx[i] = int32(i % (m * n))
		}
		if _, err := g.GatherMulSum(acc, idx, w, idx, 2); err != nil {
			return err
		}
		_, err = p.A2B(acc, 40)
		return err
	}
	for _, pre := range []string{mpc.PreprocessingDefault, mpc.PreprocessingDealer} {
		rep, err := viewtest.Check(viewtest.Config{Protocol: "semi2k", Preprocessing: pre}, run)
		if err != nil {
			t.Fatalf("preprocessing %q: %v", pre, err)
		}
		if rep.Words[0] == 0 || rep.Words[1] == 0 {
			t.Fatalf("preprocessing %q: a party received nothing to test: %v", pre, rep)
		}
		t.Logf("preprocessing %q: %v", pre, rep)
	}
}
