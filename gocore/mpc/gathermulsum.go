package mpc

// GatherMulSummer is an optional Protocol extension: MulSum of a gathered operand without
// materializing the gather. Depthwise convolutions use it: their windows overlap, so
// Gather(x, idx) is KH*KW times larger than x.
type GatherMulSummer interface {
	// GatherMulSum returns y[i] = sum_{j<k} x[idx[i*k+j]] * w[i*k+j], where x[-1] is 0,
	// with exactly the messages and the result of MulSum(Gather(x, idx), w, k). len(idx)
	// must equal w.Len() and be a multiple of k >= 1; indices must be < x.Len(). One
	// round.
	GatherMulSum(x AShare, idx []int32, w AShare, k int) (AShare, error)
}
