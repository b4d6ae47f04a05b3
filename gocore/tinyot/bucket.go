package tinyot

// Bucket size for the combining step of WRK17 (section 3 and its appendix: "each bucket
// of B leaky ANDs gives one AND triple that leaks only if all B leak").
//
// Each leaky AND (triples.go) lets a cheater guess the honest party's share of x: it
// learns the share if its guess is right and is caught with probability 1/2 otherwise,
// independently per triple (the share is uniform). A cheater that attacks t of the N =
// l*B leaky triples of a batch therefore passes the check with probability 2^-t, and it
// gains only if some bucket holds attacked triples only; the buckets are a uniformly
// random partition, drawn by coin tossing after every leaky triple is fixed, so by a union
// bound over the l buckets
//
//	Pr[cheater wins] <= max_t  2^-t * min(1, l * C(t, B) / C(N, B)).
//
// The term grows with t while (t+1)/(2(t+1-B)) > 1, so its maximum is near t = 2B; the
// function below evaluates it for t up to 4B+64 (far past the maximum). Over k batches
// the bound multiplies by k. Examples (40 bits, one batch): l = 2^20 and 2^19 need B = 3
// (2^-43.8, 2^-41.8), l >= 280,000 needs 3, l >= 3,100 needs 4, l = 1,000 needs 5 (these
// match the thresholds of WRK17's implementation, emp-ag2pc).

import "math"

// StatBits is the statistical security parameter of Triples.
const StatBits = 40

// log2Binom returns log2 C(n, k).
func log2Binom(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return (a - b - c) / math.Ln2
}

// SecurityBits returns -log2 of the bound above for `batches` batches of l triples
// each with buckets of size b.
func SecurityBits(l, b, batches int) float64 {
	n := l * b
	worst := math.Inf(-1)
	for t := b; t <= min(n, 4*b+64); t++ {
		v := -float64(t) + math.Min(0, math.Log2(float64(l))+log2Binom(t, b)-log2Binom(n, b))
		worst = math.Max(worst, v)
	}
	return -(worst + math.Log2(float64(batches)))
}

// BucketSize returns the smallest bucket size B >= 2 for which `batches` batches of l
// triples keep StatBits bits of statistical security.
func BucketSize(l, batches int) int {
	for b := 2; ; b++ {
		if SecurityBits(l, b, batches) >= StatBits {
			return b
		}
	}
}
