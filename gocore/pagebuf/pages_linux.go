//go:build linux

package pagebuf

import "golang.org/x/sys/unix"

// hugePage is the size of a transparent huge page on linux/amd64 (and the usual arm64).
const hugePage = 2 << 20

// Lazy reports whether the pages of a mapped Buffer that are never written cost no
// memory (only address space), so that a Buffer may be sized generously.
const Lazy = true

// maxHeap is the largest size taken from the Go heap instead of a mapping. The first
// touch of a huge page clears all of its 2 MB, which a small buffer of a short-lived
// party (tests make thousands) would pay in full; the Go heap faults in and reuses only
// what is used.
const maxHeap = hugePage

// mapPages returns n bytes of fresh zero memory (its capacity: the whole mapping) and
// the function that frees it: an anonymous private mapping rounded up to whole huge
// pages, with MADV_HUGEPAGE so the kernel backs it with 2 MB pages when transparent huge pages are "madvise" or "always"
// (one page fault and one TLB entry per 2 MB instead of per 4 KB). If the mapping fails
// it falls back to the Go heap (nil unmap), as it does for at most maxHeap bytes.
func mapPages(n int) ([]byte, func()) {
	if n <= maxHeap {
		return make([]byte, n), nil
	}
	size := (n + hugePage - 1) &^ (hugePage - 1)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n), nil
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: 4 KB pages if refused
	return mem[:n], func() { _ = unix.Munmap(mem) }
}
