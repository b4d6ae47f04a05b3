package rep3

import "github.com/qmpc/qmpc/gocore/mpc"

// MaskB ANDs every plane of x with a public per-element bit mask (one plane's layout),
// locally: masking each XOR component masks the shared value. It implements
// mpc.PublicMasker, which the requantization uses for per-element plane selection.
func (p *Protocol) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	s := bs(x)
	return &BShare{s.n, s.w, andMask(s.a, mask), andMask(s.b, mask)}
}

// andMask returns planes with each plane ANDed with mask.
func andMask(planes, mask []uint64) []uint64 {
	out := make([]uint64, len(planes))
	for k := range out {
		out[k] = planes[k] & mask[k%len(mask)]
	}
	return out
}
