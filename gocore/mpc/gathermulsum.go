package mpc

// GatherMulSummer is an optional Protocol extension: MulSum of gathered operands without
// materializing the gathers. Depthwise convolutions use it: their windows overlap, so
// Gather(x, xIdx) is KH*KW times larger than x, and their weights repeat at every output
// position.
type GatherMulSummer interface {
	// GatherMulSum returns y[i] = sum_{j<k} x[xIdx[i*k+j]] * w[wIdx[i*k+j]], where x[-1]
	// is 0: the result of MulSum(Gather(x, xIdx), Gather(w, wIdx), k), without the
	// gathered copies. len(xIdx) == len(wIdx) must be a multiple of k >= 1; indices
	// must be < x.Len() and in [0, w.Len()) respectively.
	GatherMulSum(x AShare, xIdx []int32, w AShare, wIdx []int32, k int) (AShare, error)
}
