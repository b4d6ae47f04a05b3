package ring

import (
	"fmt"
	"runtime"
	"sync"
)

// MatMul sets c = a * b where a is [m,k], b is [k,n] and c is [m,n], all row-major, mod 2^64.
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

func matMulAdd(c, a, b []uint64, m, k, n int) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || m < 2 || m*k*n < parallelWork {
		matMulRows(c, a, b, 0, m, k, n)
		return
	}
	workers = min(workers, m)
	var wg sync.WaitGroup
	chunk := (m + workers - 1) / workers
	for lo := 0; lo < m; lo += chunk {
		hi := min(lo+chunk, m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			matMulRows(c, a, b, lo, hi, k, n)
		}()
	}
	wg.Wait()
}

// matMulRows computes rows [r0, r1) of c += a*b.
func matMulRows(c, a, b []uint64, r0, r1, k, n int) {
	for i := r0; i < r1; i++ {
		ci := c[i*n : (i+1)*n]
		ai := a[i*k : (i+1)*k]
		for p, av := range ai {
			if av == 0 {
				continue
			}
			bp := b[p*n : (p+1)*n]
			for j := range ci {
				ci[j] += av * bp[j]
			}
		}
	}
}
