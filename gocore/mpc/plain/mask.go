package plain

import "github.com/qmpc/qmpc/gocore/mpc"

// MaskB ANDs every plane of x with a public per-element bit mask (one plane's layout). It
// implements mpc.PublicMasker.
func (p *Protocol) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	s := bs(x)
	out := make([]uint64, len(s.planes))
	for k := range out {
		out[k] = s.planes[k] & mask[k%len(mask)]
	}
	return &BShare{s.n, s.w, out}
}
