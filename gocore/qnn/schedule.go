package qnn

// Schedule says which RoundMode a kernel uses at each position of a run of n positions
// (channels of a tensor, or elements of a flat element-wise loop). LiteRT's optimized
// kernels process full vector blocks with SIMD code and the remainder with scalar code,
// and the two round differently: position i uses Vector when i < n - n%Block, Tail
// otherwise. Block <= 1 means every position uses Vector.
//
// Which positions form the run is documented at each use (e.g. "channel c of C").
type Schedule struct {
	Block  int
	Vector RoundMode
	Tail   RoundMode
}

// Uniform is a schedule that uses mode r everywhere.
func Uniform(r RoundMode) Schedule { return Schedule{Block: 1, Vector: r, Tail: r} }

// At returns the rounding mode of position i in a run of n.
func (s Schedule) At(i, n int) RoundMode {
	if s.Block <= 1 || i < n-n%s.Block {
		return s.Vector
	}
	return s.Tail
}

// VectorEnd returns the first position of a run of n that uses Tail (n if none).
func (s Schedule) VectorEnd(n int) int {
	if s.Block <= 1 {
		return n
	}
	return n - n%s.Block
}
