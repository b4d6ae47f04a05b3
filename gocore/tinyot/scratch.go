package tinyot

import (
	"runtime"
	"unsafe"

	"github.com/qmpc/qmpc/gocore/ot"
)

// batchScratch holds triplesBatch's large buffers between batches (session 14, issue
// 14): the six Delta-COT outputs, the leaky triples' records lt, the check values V, the
// bucket permutation and its labels, 214 bytes per leaky triple of the largest batch so
// far (1.5 GB per party at spdz2k's batches of 2.4 M triples in buckets of 3), kept until
// Release. Reuse is the point: a fresh buffer is zeroed by Go and faulted in page by page
// on every batch. The buffers come from mapPages, which backs them with transparent huge
// pages where the OS offers them (pages_linux.go; the bucket pass's random reads of lt
// then stop missing the TLB), and with the Go heap elsewhere (pages_other.go).
type batchScratch struct {
	lt, v, perm, labels pages
	// cot holds the six Delta-COT outputs of a batch (MACs and keys of x, y and r, 96
	// bytes per leaky triple and the KOS check's rows), written in place by the ot
	// package's Into variants.
	cot pages
}

// pages is one reusable buffer: a mapping from mapPages grown (never shrunk) on demand.
type pages struct{ m *mapping }

// mapping is one buffer from mapPages. If its Party is dropped without Release, a runtime
// cleanup unmaps it once the mapping is unreachable (memory outside the Go heap is not
// collected otherwise); the slices triplesBatch views it through live only while the
// Party does.
type mapping struct {
	mem     []byte
	unmap   func()
	cleanup runtime.Cleanup
}

// bytes returns n bytes of the buffer (contents left from earlier use; zero when new).
func (p *pages) bytes(n int) []byte {
	if p.m == nil || len(p.m.mem) < n {
		p.release()
		mem, unmap := mapPages(n)
		p.m = &mapping{mem: mem, unmap: unmap}
		if unmap != nil {
			p.m.cleanup = runtime.AddCleanup(p.m, func(f func()) { f() }, unmap)
		}
	}
	return p.m.mem[:n]
}

// release gives the buffer back to the OS (or the Go heap).
func (p *pages) release() {
	if p.m != nil && p.m.unmap != nil {
		p.m.cleanup.Stop()
		p.m.unmap()
	}
	p.m = nil
}

// asSlice views b's first n*size(T) bytes as n values of T: T must hold no pointers (the
// memory may not be Go's) and b must be aligned for T (mapPages' buffers are page
// aligned, or 8-byte aligned on the heap).
func asSlice[T any](b []byte, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

func leakySlice(p *pages, n int) []leaky {
	return asSlice[leaky](p.bytes(n*int(unsafe.Sizeof(leaky{}))), n)
}

func blockSlice(p *pages, n int) []ot.Block { return asSlice[ot.Block](p.bytes(16*n), n) }

func int32Slice(p *pages, n int) []int32 { return asSlice[int32](p.bytes(4*n), n) }

func uint16Slice(p *pages, n int) []uint16 { return asSlice[uint16](p.bytes(2*n), n) }

// Release frees the buffers Party keeps between batches of Triples (214 bytes per leaky
// triple of the largest batch so far, scratch.go). The next batch allocates them
// again. A caller that is done making triples for a while (spdz2k after its offline
// phase) calls it to give the memory back; Party works the same either way.
func (p *Party) Release() {
	s := &p.scratch
	for _, b := range []*pages{&s.lt, &s.v, &s.perm, &s.labels, &s.cot} {
		b.release()
	}
}
