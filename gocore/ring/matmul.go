package ring

import (
	"fmt"
	"runtime"
	"sync"
)

// MatMul sets c = a * b where a is [m,k], b is [k,n] and c is [m,n], all row-major, mod 2^64.
// It panics if the lengths do not match the shapes.
//
// On amd64 CPUs with AVX2 the product is computed in 4x4 blocks by an assembly kernel over a
// packed copy of b (panels of four columns, blocked along k); elsewhere row by row in Go.
// Rows are split across GOMAXPROCS goroutines when the product is large.
func MatMul(c, a, b []uint64, m, k, n int) {
	checkMatMul(c, a, b, m, k, n)
	clear(c)
	matMulAdd(c, a, b, m, k, n)
}

// MatMulAdd sets c += a * b with the shapes of MatMul.
func MatMulAdd(c, a, b []uint64, m, k, n int) {
	checkMatMul(c, a, b, m, k, n)
	matMulAdd(c, a, b, m, k, n)
}

func checkMatMul(c, a, b []uint64, m, k, n int) {
	if m < 0 || k < 0 || n < 0 || len(a) != m*k || len(b) != k*n || len(c) != m*n {
		panic(fmt.Sprintf("ring.MatMul: lengths a=%d b=%d c=%d for m=%d k=%d n=%d",
			len(a), len(b), len(c), m, k, n))
	}
}

// parallelWork is the number of multiply-adds above which MatMul splits rows across
// goroutines.
const parallelWork = 1 << 18

// kBlock is the depth of the k blocks of the AVX2 path: a packed panel block then takes
// 8*kBlock words (16 KiB) and four rows of a take 4*kBlock words.
const kBlock = 256

func matMulAdd(c, a, b []uint64, m, k, n int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	avx := useAVX2 && m >= 4 && n >= 4
	var pb []uint64
	if avx {
		pb = packB(b, k, n)
	}
	run := func(r0, r1 int) {
		if avx {
			matMulBlocks(c, a, b, pb, r0, r1, k, n)
		} else {
			matMulRows(c, a, b, r0, r1, k, n)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || m < 8 || m*k*n < parallelWork {
		run(0, m)
		return
	}
	// Split rows in multiples of 4 across the workers.
	blocks := (m + 3) / 4
	workers = min(workers, blocks)
	per := (blocks + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < m; lo += 4 * per {
		hi := min(lo+4*per, m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(lo, hi)
		}()
	}
	wg.Wait()
}

// packB copies the first n/4*4 columns of b into panels for the AVX2 kernel: for each k
// block [p0, p0+kb) and each group q of 4 columns, 8 words per row p of b: b[p][4q..4q+3]
// followed by the same four words shifted right by 32. The panel of (block p0, group q)
// starts at 8*(p0*nq + q*kb).
func packB(b []uint64, k, n int) []uint64 {
	nq := n / 4
	pb := make([]uint64, nq*8*k)
	for p0 := 0; p0 < k; p0 += kBlock {
		kb := min(kBlock, k-p0)
		for p := p0; p < p0+kb; p++ {
			row := b[p*n : p*n+4*nq]
			for q := 0; q < nq; q++ {
				dst := (*[8]uint64)(pb[8*(p0*nq+q*kb+p-p0):])
				src := (*[4]uint64)(row[4*q:])
				dst[0], dst[1], dst[2], dst[3] = src[0], src[1], src[2], src[3]
				dst[4], dst[5], dst[6], dst[7] = src[0]>>32, src[1]>>32, src[2]>>32, src[3]>>32
			}
		}
	}
	return pb
}

// matMulBlocks computes rows [r0, r1) of c += a*b: 4x4 blocks with the AVX2 kernel over the
// packed panels pb, and the leftover rows and columns in Go.
func matMulBlocks(c, a, b, pb []uint64, r0, r1, k, n int) {
	nq := n / 4
	full := r0 + (r1-r0)/4*4
	for p0 := 0; p0 < k; p0 += kBlock {
		kb := min(kBlock, k-p0)
		for i := r0; i < full; i += 4 {
			for q := 0; q < nq; q++ {
				off := 8 * (p0*nq + q*kb)
				kernelAsm(c[i*n+4*q:], n, a[i*k+p0:], k, pb[off:off+8*kb], kb)
			}
		}
	}
	if full < r1 {
		matMulRows(c, a, b, full, r1, k, n)
	}
	// Columns not covered by the panels.
	if j0 := 4 * nq; j0 < n {
		for i := r0; i < full; i++ {
			ai := a[i*k : i*k+k]
			for j := j0; j < n; j++ {
				var s uint64
				for p, x := range ai {
					s += x * b[p*n+j]
				}
				c[i*n+j] += s
			}
		}
	}
}

// matMulRows computes rows [r0, r1) of c += a*b in Go (row by row, axpy inner loop).
func matMulRows(c, a, b []uint64, r0, r1, k, n int) {
	for i := r0; i < r1; i++ {
		ci := c[i*n : (i+1)*n]
		for p, av := range a[i*k : (i+1)*k] {
			bp := b[p*n : (p+1)*n]
			bp = bp[:len(ci)]
			for j := range ci {
				ci[j] += av * bp[j]
			}
		}
	}
}
