// Package pagebuf provides reusable buffers of memory outside the Go heap, backed by
// transparent huge pages where the OS offers them.
//
// A protocol party that keeps large buffers for its lifetime and reuses them (tinyot's
// triple batches, rep3-mal's proof vectors and AND mask words) gains twice from them: a
// buffer of the Go heap is zeroed by Go and first touched page by page (one page fault per
// 4 KB), and it counts towards the heap the garbage collector paces itself by (a larger
// heap goal, more memory first touched). A Buffer is an anonymous mapping instead
// (pages_linux.go: one fault per 2 MB with transparent huge pages in "madvise" or "always"
// mode, and fewer TLB misses on random reads); a buffer of at most one huge page, or on
// other systems any buffer, is a heap slice (pages_other.go).
//
// The memory is not scanned by the garbage collector: only types without pointers may be
// placed in it (Slice). A Buffer's mapping is unmapped by Release, or by a runtime cleanup
// once the Buffer's mapping is unreachable; slices of it must not be used after either.
package pagebuf

import (
	"runtime"
	"unsafe"
)

// Buffer is one reusable buffer: a mapping grown (never shrunk) on demand. The zero
// Buffer is empty and ready to use. A Buffer is not safe for concurrent use.
type Buffer struct{ m *mapping }

// mapping is one buffer from mapPages. If its Buffer is dropped without Release, a
// runtime cleanup unmaps it once the mapping is unreachable (memory outside the Go heap is
// not collected otherwise).
type mapping struct {
	mem     []byte
	unmap   func()
	cleanup runtime.Cleanup
}

// Bytes returns n bytes of the buffer. Their contents are left from earlier use (zero in
// a new mapping). If the buffer holds fewer than n bytes it is replaced by a new mapping
// of at least n (the old one is unmapped: slices of it must no longer be in use).
func (p *Buffer) Bytes(n int) []byte {
	if p.m == nil || cap(p.m.mem) < n {
		p.Release()
		mem, unmap := mapPages(n)
		p.m = &mapping{mem: mem, unmap: unmap}
		if unmap != nil {
			p.m.cleanup = runtime.AddCleanup(p.m, func(f func()) { f() }, unmap)
		}
	}
	return p.m.mem[:n]
}

// Cap is the number of bytes Bytes returns without a new mapping (0 when empty; a
// mapping is rounded up to whole huge pages).
func (p *Buffer) Cap() int {
	if p.m == nil {
		return 0
	}
	return cap(p.m.mem)
}

// Release gives the buffer's memory back to the OS (or the Go heap); the Buffer is empty
// afterwards and may be used again.
func (p *Buffer) Release() {
	if p.m != nil && p.m.unmap != nil {
		p.m.cleanup.Stop()
		p.m.unmap()
	}
	p.m = nil
}

// Slice views the first n*size(T) bytes of p (Bytes: grown if needed, contents left from
// earlier use) as n values of T. T must hold no pointers (the memory is not scanned by
// the garbage collector) and its alignment must divide 8 (a mapping is page aligned, a
// heap fallback 8-byte aligned).
func Slice[T any](p *Buffer, n int) []T {
	var t T
	b := p.Bytes(n * int(unsafe.Sizeof(t)))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}
