// Package ring128 is vector arithmetic in Z_2^128, the ring of SPDZ2k with k = 64 and
// s = 64 (Cramer, Damgård, Escudero, Scholl, Xing, CRYPTO 2018). Go has no 128-bit
// integer, so an element is two 64-bit words and products use math/bits.Mul64 (one
// 64x64 -> 128-bit multiplication and two 64-bit ones per product; BenchmarkMul).
//
// A vector is stored as two slices (structure of arrays): Lo holds the low words, Hi the
// high words, so that the 64-bit parts can be gathered, opened and sliced with the
// same index maps as Z_2^64 vectors. Functions that take dst write into it and allow
// dst to alias an operand.
package ring128

import (
	"fmt"
	"math/bits"
)

// Vec is a vector of Z_2^128 elements: element i is Hi[i]*2^64 + Lo[i].
type Vec struct {
	Lo, Hi []uint64
}

// Make returns a zero vector of n elements.
func Make(n int) Vec { return Vec{make([]uint64, n), make([]uint64, n)} }

// FromU64 returns the vector of the 64-bit values v, zero-extended (v is kept as Lo, not
// copied).
func FromU64(v []uint64) Vec { return Vec{v, make([]uint64, len(v))} }

// Len is the number of elements.
func (v Vec) Len() int { return len(v.Lo) }

// Clone returns a copy of v.
func (v Vec) Clone() Vec {
	return Vec{append([]uint64(nil), v.Lo...), append([]uint64(nil), v.Hi...)}
}

// Slice returns elements [i, j) of v (not a copy).
func (v Vec) Slice(i, j int) Vec { return Vec{v.Lo[i:j], v.Hi[i:j]} }

func check(op string, dst Vec, xs ...Vec) {
	for _, x := range xs {
		if x.Len() != dst.Len() || len(x.Hi) != len(x.Lo) {
			panic(fmt.Sprintf("ring128.%s: length %d, want %d", op, x.Len(), dst.Len()))
		}
	}
}

// Add sets dst = a + b.
func Add(dst, a, b Vec) {
	check("Add", dst, a, b)
	bh := b.Hi[:len(a.Lo)]
	bl := b.Lo[:len(a.Lo)]
	dh, dl := dst.Hi[:len(a.Lo)], dst.Lo[:len(a.Lo)]
	for i, x := range a.Lo {
		lo, c := bits.Add64(x, bl[i], 0)
		dh[i] = a.Hi[i] + bh[i] + c
		dl[i] = lo
	}
}

// Sub sets dst = a - b.
func Sub(dst, a, b Vec) {
	check("Sub", dst, a, b)
	bh := b.Hi[:len(a.Lo)]
	bl := b.Lo[:len(a.Lo)]
	dh, dl := dst.Hi[:len(a.Lo)], dst.Lo[:len(a.Lo)]
	for i, x := range a.Lo {
		lo, c := bits.Sub64(x, bl[i], 0)
		dh[i] = a.Hi[i] - bh[i] - c
		dl[i] = lo
	}
}

// Neg sets dst = -a.
func Neg(dst, a Vec) {
	check("Neg", dst, a)
	for i, x := range a.Lo {
		lo, c := bits.Sub64(0, x, 0)
		dst.Hi[i] = -a.Hi[i] - c
		dst.Lo[i] = lo
	}
}

// mul returns (ahi, alo) * (bhi, blo) mod 2^128.
func mul(alo, ahi, blo, bhi uint64) (lo, hi uint64) {
	hi, lo = bits.Mul64(alo, blo)
	hi += alo*bhi + ahi*blo
	return lo, hi
}

// Mul sets dst = a * b elementwise.
func Mul(dst, a, b Vec) {
	check("Mul", dst, a, b)
	for i, x := range a.Lo {
		dst.Lo[i], dst.Hi[i] = mul(x, a.Hi[i], b.Lo[i], b.Hi[i])
	}
}

// MulU64 sets dst = a * c elementwise, with c zero-extended 64-bit values (len(c) ==
// a.Len(), or 1 to broadcast).
func MulU64(dst, a Vec, c []uint64) {
	check("MulU64", dst, a)
	if len(c) == 1 {
		k := c[0]
		for i, x := range a.Lo {
			hi, lo := bits.Mul64(x, k)
			dst.Hi[i] = hi + a.Hi[i]*k
			dst.Lo[i] = lo
		}
		return
	}
	if len(c) != a.Len() {
		panic(fmt.Sprintf("ring128.MulU64: %d constants for %d elements", len(c), a.Len()))
	}
	for i, x := range a.Lo {
		hi, lo := bits.Mul64(x, c[i])
		dst.Hi[i] = hi + a.Hi[i]*c[i]
		dst.Lo[i] = lo
	}
}

// AddU64 sets dst = a + c elementwise, with c zero-extended (len(c) == a.Len(), or 1).
func AddU64(dst, a Vec, c []uint64) {
	check("AddU64", dst, a)
	at := func(i int) uint64 { return c[i] }
	if len(c) == 1 {
		k := c[0]
		at = func(int) uint64 { return k }
	} else if len(c) != a.Len() {
		panic(fmt.Sprintf("ring128.AddU64: %d constants for %d elements", len(c), a.Len()))
	}
	for i, x := range a.Lo {
		lo, cr := bits.Add64(x, at(i), 0)
		dst.Hi[i] = a.Hi[i] + cr
		dst.Lo[i] = lo
	}
}

// Scalar is one Z_2^128 element.
type Scalar struct{ Lo, Hi uint64 }

// MulScalar sets dst = a * k.
func MulScalar(dst, a Vec, k Scalar) {
	check("MulScalar", dst, a)
	for i, x := range a.Lo {
		dst.Lo[i], dst.Hi[i] = mul(x, a.Hi[i], k.Lo, k.Hi)
	}
}

// Mul returns a * b.
func (a Scalar) Mul(b Scalar) Scalar {
	lo, hi := mul(a.Lo, a.Hi, b.Lo, b.Hi)
	return Scalar{lo, hi}
}

// Add returns a + b.
func (a Scalar) Add(b Scalar) Scalar {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	return Scalar{lo, a.Hi + b.Hi + c}
}

// Sub returns a - b.
func (a Scalar) Sub(b Scalar) Scalar {
	lo, c := bits.Sub64(a.Lo, b.Lo, 0)
	return Scalar{lo, a.Hi - b.Hi - c}
}

// At returns element i.
func (v Vec) At(i int) Scalar { return Scalar{v.Lo[i], v.Hi[i]} }

// Dot returns sum_i a[i] * c[i] with 64-bit coefficients c (zero-extended).
func Dot(a Vec, c []uint64) Scalar {
	if len(c) != a.Len() {
		panic(fmt.Sprintf("ring128.Dot: %d coefficients for %d elements", len(c), a.Len()))
	}
	var lo, hi uint64
	for i, x := range a.Lo {
		h, l := bits.Mul64(x, c[i])
		h += a.Hi[i] * c[i]
		var cr uint64
		lo, cr = bits.Add64(lo, l, 0)
		hi += h + cr
	}
	return Scalar{lo, hi}
}

// Gather returns y with y[i] = x[idx[i]], or 0 where idx[i] < 0.
func Gather(x Vec, idx []int32) Vec {
	y := Make(len(idx))
	for i, j := range idx {
		if j >= 0 {
			y.Lo[i], y.Hi[i] = x.Lo[j], x.Hi[j]
		}
	}
	return y
}

// Concat joins vectors end to end.
func Concat(xs ...Vec) Vec {
	n := 0
	for _, x := range xs {
		n += x.Len()
	}
	y := Vec{make([]uint64, 0, n), make([]uint64, 0, n)}
	for _, x := range xs {
		y.Lo = append(y.Lo, x.Lo...)
		y.Hi = append(y.Hi, x.Hi...)
	}
	return y
}

// SumGroups sums consecutive groups of k elements.
func SumGroups(x Vec, k int) Vec {
	if k <= 0 || x.Len()%k != 0 {
		panic(fmt.Sprintf("ring128.SumGroups: %d elements in groups of %d", x.Len(), k))
	}
	y := Make(x.Len() / k)
	for i := range y.Lo {
		var acc Scalar
		for j := i * k; j < (i+1)*k; j++ {
			acc = acc.Add(x.At(j))
		}
		y.Lo[i], y.Hi[i] = acc.Lo, acc.Hi
	}
	return y
}

// MatMulAdd adds a [m,k] times b [k,n] (row-major) to c [m,n].
func MatMulAdd(c, a, b Vec, m, k, n int) {
	if a.Len() != m*k || b.Len() != k*n || c.Len() != m*n {
		panic(fmt.Sprintf("ring128.MatMulAdd: sizes %d, %d, %d for [%d,%d]x[%d,%d]", a.Len(), b.Len(), c.Len(), m, k, k, n))
	}
	for i := 0; i < m; i++ {
		cl, ch := c.Lo[i*n:(i+1)*n], c.Hi[i*n:(i+1)*n]
		for t := 0; t < k; t++ {
			al, ah := a.Lo[i*k+t], a.Hi[i*k+t]
			if al == 0 && ah == 0 {
				continue
			}
			bl, bh := b.Lo[t*n:(t+1)*n], b.Hi[t*n:(t+1)*n]
			for j := range cl {
				h, l := bits.Mul64(al, bl[j])
				h += al*bh[j] + ah*bl[j]
				var cr uint64
				cl[j], cr = bits.Add64(cl[j], l, 0)
				ch[j] += h + cr
			}
		}
	}
}
