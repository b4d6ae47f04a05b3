package spdz2k

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/ring128"
)

// Source supplies one party's components of authenticated correlated randomness. Both
// parties call the same methods in the same order with the same public arguments.
type Source interface {
	// Kind is the preprocessing's name ("dealer").
	Kind() string
	// Keys returns this party's MAC keys: its share alpha_i of the arithmetic key and its
	// binary key Delta_i (GF(2)^64: a source with 128-bit TinyOT MACs keeps the low
	// halves, for which every MAC relation holds as well).
	Keys() (alpha uint64, delta uint64)
	// DealerBytes is what a trusted dealer would have sent this party so far (0 for a
	// source without a dealer).
	DealerBytes() int64
	// InputMask returns a random [r] of n elements; party owner also gets r (nil at the
	// other party).
	InputMask(owner, n int) (r ring128.Vec, share *AShare, err error)
	// Random returns a random [t] of n elements that no party knows.
	Random(n int) (*AShare, error)
	// Triple returns [A], [B] and [C = f(A, B)] for the bilinear map f.
	Triple(f bilinear) (a, b, c *AShare, err error)
	// ANDTriples returns authenticated bit triples c = a & b shaped as binary shares of n
	// elements and w planes.
	ANDTriples(n, w int) (a, b, c *BShare, err error)
	// DaBits returns n*w random bits r, in binary as n elements of w planes and in
	// arithmetic as n*w elements (element j*n+i is plane j of element i).
	DaBits(n, w int) (bin *BShare, arith *AShare, err error)
	// EdaBits returns n edaBits of length m (1 <= m <= 64): bits b as n elements of m
	// planes and [r] with r = sum_j 2^j b_j mod 2^m, r's bits from m up uniform and
	// unknown to both parties ("loose" edaBits, edabits.go).
	EdaBits(n, m int) (bin *BShare, arith *AShare, err error)
	// CarryEdaBits returns n edaBits of length 64 (as EdaBits(n, 64)) and the prefix
	// products of their planes from w on (1 <= w <= 62): n elements of 63 - w planes,
	// plane t being b_w & b_{w+1} & ... & b_{w+t}. They depend only on the edaBit, so
	// B2A's carry above plane w is one AND round online (convert.go, with lowDepth).
	CarryEdaBits(n, w int) (bin *BShare, arith *AShare, pre *BShare, err error)
}

// bilinear is a bilinear map f(X, W) over Z_2^128: a matrix product or a gathered sum of
// products (Mul and MulSum are gathers with identity index maps).
type bilinear interface {
	// sizes are the lengths of X, W and f(X, W).
	sizes() (x, w, out int)
	// apply adds f(x, w) to out.
	apply(out, x, w ring128.Vec)
}

// matMul is X [m,k] times W [k,n].
type matMul struct{ m, k, n int }

func (f matMul) sizes() (int, int, int) { return f.m * f.k, f.k * f.n, f.m * f.n }

func (f matMul) apply(out, x, w ring128.Vec) { ring128.MatMulAdd(out, x, w, f.m, f.k, f.n) }

// gatherMul is out[i] = sum_{j<k} x[xIdx[i*k+j]] w[wIdx[i*k+j]] (x[-1] = 0; nil index
// maps are the identity).
type gatherMul struct {
	xLen, wLen int
	xIdx, wIdx []int32
	k          int
}

func (f gatherMul) sizes() (int, int, int) {
	n := f.xLen
	if f.xIdx != nil {
		n = len(f.xIdx)
	}
	return f.xLen, f.wLen, n / f.k
}

func (f gatherMul) apply(out, x, w ring128.Vec) {
	for i := range out.Lo {
		var acc ring128.Scalar
		for j := i * f.k; j < (i+1)*f.k; j++ {
			q, r := int32(j), int32(j)
			if f.xIdx != nil {
				q = f.xIdx[j]
			}
			if f.wIdx != nil {
				r = f.wIdx[j]
			}
			if q >= 0 && r >= 0 {
				acc = acc.Add(x.At(int(q)).Mul(w.At(int(r))))
			}
		}
		s := out.At(i).Add(acc)
		out.Lo[i], out.Hi[i] = s.Lo, s.Hi
	}
}

func checkGather(xLen int, xIdx []int32, wLen int, wIdx []int32, k int) error {
	if k < 1 || len(xIdx) != len(wIdx) || len(xIdx)%k != 0 {
		return fmt.Errorf("%d x-indices, %d w-indices, groups of %d", len(xIdx), len(wIdx), k)
	}
	for i, q := range xIdx {
		if q >= int32(xLen) || wIdx[i] < 0 || wIdx[i] >= int32(wLen) {
			return fmt.Errorf("index pair %d (%d, %d) out of range (%d, %d)", i, q, wIdx[i], xLen, wLen)
		}
	}
	return nil
}
