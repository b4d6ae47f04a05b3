package semi2k

import (
	"errors"

	"github.com/qmpc/qmpc/gocore/ring"
)

// Source supplies one party's components of correlated randomness. Both parties call the
// same methods in the same order with the same public arguments; the results are this
// party's additive (or XOR) components. A Source draws what is asked just in time; the
// Protocol accounts the time and traffic as offline cost.
type Source interface {
	// Kind is PreprocessingOT or PreprocessingDealer.
	Kind() string
	// ANDTriples returns components of `words` words of bit triples c = a & b.
	ANDTriples(words int) (a, b, c []uint64, err error)
	// CrossTriples returns `words` words of bit triples whose a is held by party 0 and b by
	// party 1 (the other party's component of each is 0): a is party 0's first result and
	// b party 1's; c (the second result) is a XOR sharing of a & b. One random OT per
	// triple, half the cost of ANDTriples: for ANDs of a bit held by party 0 with one held
	// by party 1 (the adder's first round in A2B).
	CrossTriples(words int) (ab, c []uint64, err error)
	// DaBits returns components of 64*words random bits r, in binary (words words; bit
	// i%64 of word i/64 is bit i) and arithmetic (64*words ring elements, element i is
	// [r_i]).
	DaBits(words int) (bin, arith []uint64, err error)
	// MatTriples returns components of A [m,k], B [k,n] and C = A B (row-major).
	MatTriples(m, k, n int) (a, b, c []uint64, err error)
	// GatherTriples returns components of A (xLen elements), B (wLen elements) and C =
	// gatherMulSum(A, xIdx, B, wIdx, k). Elementwise and MulSum triples are the case of
	// identity index maps.
	GatherTriples(xLen int, xIdx []int32, wLen int, wIdx []int32, k int) (a, b, c []uint64, err error)
	// OneSided returns a one-sided product correlation for the bilinear map f with the
	// second operand W held by party owner (w: its values, nil on the other party), whose
	// elements are signed integers of `bits` bits (public): the non-owner gets a uniformly
	// random R of f's first-operand shape, and both get components of f(R, W). It returns
	// errNoOneSided if the source cannot make them (the dealer: it never sees W).
	OneSided(f Bilinear, owner int, w []uint64, bits int) (r, z []uint64, err error)
}

// errNoOneSided: the Source makes no one-sided product correlations.
var errNoOneSided = errors.New("no one-sided products")

// Bilinear is a bilinear map f(X, W) over Z_2^64 of the protocol's products: a matrix
// product or a gathered sum of products.
type Bilinear interface {
	// Sizes are the lengths of X, W and f(X, W).
	Sizes() (x, w, out int)
	// Apply adds f(x, w) to out.
	Apply(out, x, w []uint64)
}

// matMul is X [m,k] times W [k,n].
type matMul struct{ m, k, n int }

func (f matMul) Sizes() (int, int, int) { return f.m * f.k, f.k * f.n, f.m * f.n }

func (f matMul) Apply(out, x, w []uint64) {
	ring.MatMulAdd(out, x, w, f.m, f.k, f.n)
}

// gatherMul is out[i] = sum_{j<k} x[xIdx[i*k+j]] w[wIdx[i*k+j]] (x[-1] = 0).
type gatherMul struct {
	xLen, wLen int
	xIdx, wIdx []int32 // nil: identity
	k          int
}

func (f gatherMul) Sizes() (int, int, int) {
	n := f.xLen
	if f.xIdx != nil {
		n = len(f.xIdx)
	}
	return f.xLen, f.wLen, n / f.k
}

func (f gatherMul) Apply(out, x, w []uint64) {
	k := f.k
	switch {
	case f.xIdx == nil && f.wIdx == nil:
		for i := range out {
			xs, ws := x[i*k:(i+1)*k], w[i*k:(i+1)*k]
			ws = ws[:len(xs)]
			var acc uint64
			for j, v := range xs {
				acc += v * ws[j]
			}
			out[i] += acc
		}
	default:
		for i := range out {
			var acc uint64
			for j := i * k; j < (i+1)*k; j++ {
				q, r := int32(j), int32(j)
				if f.xIdx != nil {
					q = f.xIdx[j]
				}
				if f.wIdx != nil {
					r = f.wIdx[j]
				}
				if q >= 0 && r >= 0 {
					acc += x[q] * w[r]
				}
			}
			out[i] += acc
		}
	}
}
