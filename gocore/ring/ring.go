// Package ring implements vector arithmetic over the ring Z_2^64 on []uint64 (uint64
// arithmetic wraps, so every operation is exact mod 2^64), a blocked, parallel matrix
// product (the inner loop of secure convolutions and fully-connected layers), the byte
// encoding of vectors for the network, and bit-slicing: the conversion of n w-bit values to
// w bit planes of Words(n) uint64 words and back.
//
// Elementwise functions write into dst, which may alias an operand; all slices must have the
// same length (they panic otherwise, as a mismatch is a programming error).
package ring

import "fmt"

func checkLen(op string, dst []uint64, xs ...[]uint64) {
	for _, x := range xs {
		if len(x) != len(dst) {
			panic(fmt.Sprintf("ring.%s: length %d, want %d", op, len(x), len(dst)))
		}
	}
}

// Add sets dst[i] = a[i] + b[i].
func Add(dst, a, b []uint64) {
	checkLen("Add", dst, a, b)
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Sub sets dst[i] = a[i] - b[i].
func Sub(dst, a, b []uint64) {
	checkLen("Sub", dst, a, b)
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

// Neg sets dst[i] = -a[i].
func Neg(dst, a []uint64) {
	checkLen("Neg", dst, a)
	for i := range dst {
		dst[i] = -a[i]
	}
}

// Mul sets dst[i] = a[i] * b[i].
func Mul(dst, a, b []uint64) {
	checkLen("Mul", dst, a, b)
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// AddConst sets dst[i] = a[i] + c.
func AddConst(dst, a []uint64, c uint64) {
	checkLen("AddConst", dst, a)
	for i := range dst {
		dst[i] = a[i] + c
	}
}

// MulConst sets dst[i] = a[i] * c.
func MulConst(dst, a []uint64, c uint64) {
	checkLen("MulConst", dst, a)
	for i := range dst {
		dst[i] = a[i] * c
	}
}

// AddPublic sets dst = a + c where c has len(a) elements or one (broadcast).
func AddPublic(dst, a, c []uint64) {
	if len(c) == 1 {
		AddConst(dst, a, c[0])
		return
	}
	Add(dst, a, c)
}

// MulPublic sets dst = a * c (elementwise) where c has len(a) elements or one (broadcast).
func MulPublic(dst, a, c []uint64) {
	if len(c) == 1 {
		MulConst(dst, a, c[0])
		return
	}
	Mul(dst, a, c)
}

// Xor sets dst[i] = a[i] ^ b[i].
func Xor(dst, a, b []uint64) {
	checkLen("Xor", dst, a, b)
	for i := range dst {
		dst[i] = a[i] ^ b[i]
	}
}

// And sets dst[i] = a[i] & b[i].
func And(dst, a, b []uint64) {
	checkLen("And", dst, a, b)
	for i := range dst {
		dst[i] = a[i] & b[i]
	}
}

// Not sets dst[i] = ^a[i].
func Not(dst, a []uint64) {
	checkLen("Not", dst, a)
	for i := range dst {
		dst[i] = ^a[i]
	}
}

// Gather returns y with y[i] = x[idx[i]], or 0 where idx[i] < 0. It panics if an index is
// out of range.
func Gather(x []uint64, idx []int32) []uint64 {
	y := make([]uint64, len(idx))
	for i, j := range idx {
		if j >= 0 {
			y[i] = x[j]
		}
	}
	return y
}

// SumGroups returns y with y[i] = sum_{j<k} x[i*k+j]. len(x) must be a multiple of k >= 1.
func SumGroups(x []uint64, k int) []uint64 {
	if k < 1 || len(x)%k != 0 {
		panic(fmt.Sprintf("ring.SumGroups: length %d is not a multiple of k=%d", len(x), k))
	}
	y := make([]uint64, len(x)/k)
	for i := range y {
		var s uint64
		for _, v := range x[i*k : (i+1)*k] {
			s += v
		}
		y[i] = s
	}
	return y
}

// Concat joins vectors end to end into a new slice.
func Concat(xs ...[]uint64) []uint64 {
	n := 0
	for _, x := range xs {
		n += len(x)
	}
	y := make([]uint64, 0, n)
	for _, x := range xs {
		y = append(y, x...)
	}
	return y
}

// Clone returns a copy of x (nil stays nil).
func Clone(x []uint64) []uint64 {
	if len(x) == 0 {
		return x[:0:0]
	}
	// Appending to nil lets the runtime skip zeroing the memory that the copy overwrites
	// (make would clear it first).
	return append([]uint64(nil), x...)
}
