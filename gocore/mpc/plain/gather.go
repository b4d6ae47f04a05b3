package plain

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

// GatherMulSum is MulSum(Gather(x, xIdx), Gather(w, wIdx), k) without the gathered
// copies. It implements mpc.GatherMulSummer.
func (p *Protocol) GatherMulSum(x mpc.AShare, xIdx []int32, w mpc.AShare, wIdx []int32, k int) (mpc.AShare, error) {
	xv, wv := as(x).v, as(w).v
	if len(xIdx) != len(wIdx) || k < 1 || len(xIdx)%k != 0 {
		return nil, errs.New(errs.Shape, "plain gathermulsum: %d and %d indices, k=%d", len(xIdx), len(wIdx), k)
	}
	z := make([]uint64, len(xIdx)/k)
	for i := range z {
		var acc uint64
		for j, q := range xIdx[i*k : (i+1)*k] {
			if q >= 0 {
				acc += xv[q] * wv[wIdx[i*k+j]]
			}
		}
		z[i] = acc
	}
	return &AShare{z}, nil
}
