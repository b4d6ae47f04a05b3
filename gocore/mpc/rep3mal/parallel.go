package rep3mal

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/qmpc/qmpc/gocore/pagebuf"
)

// parallel splits [0, n) into at most GOMAXPROCS contiguous ranges of at least grain
// items (below that the work is done on the calling goroutine), runs f on each in its own goroutine and returns the results in the ranges'
// order. A party's prover and verifier work is a sum of independent parts (the lift's
// block positions, the folds' records and components, a step's points), so the ranges'
// results are combined by the caller in a fixed order and the proof's messages do not
// depend on the split.
func parallel[T any](n, grain int, f func(lo, hi int) T) []T {
	w := min(runtime.GOMAXPROCS(0), n/grain)
	if w <= 1 {
		return []T{f(0, n)}
	}
	out := make([]T, w)
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f(lo, hi)
		}()
	}
	wg.Wait()
	return out
}

// arena keeps a party's large proof vectors from one check batch to the next (they are
// dropped when the batch's proof ends), so that a batch neither allocates nor faults in
// tens of MB afresh. Its buffers are outside the Go heap (pagebuf: huge pages where the OS
// offers them; E must hold no pointers), so that they neither count towards the heap the
// garbage collector paces itself by nor are first touched 4 KB at a time. Not safe for
// concurrent use; reset before each batch.
type arena[E any] struct {
	bufs []pagebuf.Buffer
	used int
}

func (a *arena[E]) reset() { a.used = 0 }

// get returns a zeroed slice of length n and capacity at least c (c >= n), valid until
// the next reset.
func (a *arena[E]) get(n, c int) []E {
	b := a.getDirty(n, c)
	clear(b)
	return b
}

// getDirty is get without the zeroing: the slice holds an earlier batch's values, for a
// caller that writes every entry. A buffer too small for c is replaced by one of at least
// twice its size (pages of a mapping never written cost nothing; a new mapping is faulted
// in again), so that batches of growing sizes map a slot O(log) times.
func (a *arena[E]) getDirty(n, c int) []E {
	if a.used == len(a.bufs) {
		a.bufs = append(a.bufs, pagebuf.Buffer{})
	}
	b := &a.bufs[a.used]
	var e E
	if need := c * int(unsafe.Sizeof(e)); b.Cap() < need {
		b.Bytes(max(need, 2*b.Cap()))
	}
	a.used++
	return pagebuf.Slice[E](b, c)[:n]
}
