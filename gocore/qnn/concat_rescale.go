package qnn

// RescaleValue is CONCATENATION's rescaling of value x of input k before the clamp to
// [OutMin, OutMax]: int32(roundf(float32(float32(x)*Scale[k]) + Bias[k])) + OutZeroPoint
// (TFLite's ConcatenationWithScaling, float32 arithmetic). The secure engine fits an exact
// integer form to it.
func (p *ConcatParams) RescaleValue(k int, x int32) int32 {
	return roundAwayToInt32(float64(float32(float32(x)*p.Scale[k])+p.Bias[k])) + p.OutZeroPoint
}
