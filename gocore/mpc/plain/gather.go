package plain

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

// GatherMulSum is MulSum(Gather(x, idx), w, k) without the gathered copy. It implements
// mpc.GatherMulSummer.
func (p *Protocol) GatherMulSum(x mpc.AShare, idx []int32, w mpc.AShare, k int) (mpc.AShare, error) {
	xv, wv := as(x).v, as(w).v
	if len(idx) != len(wv) || k < 1 || len(wv)%k != 0 {
		return nil, errs.New(errs.Shape, "plain gathermulsum: %d indices, %d weights, k=%d", len(idx), len(wv), k)
	}
	z := make([]uint64, len(wv)/k)
	for i := range z {
		var acc uint64
		for j, q := range idx[i*k : (i+1)*k] {
			if q >= 0 {
				acc += xv[q] * wv[i*k+j]
			}
		}
		z[i] = acc
	}
	return &AShare{z}, nil
}
