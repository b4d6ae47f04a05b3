//go:build !linux

package pagebuf

// Lazy reports whether the pages of a Buffer that are never written cost no memory: not
// here, where a Buffer is a heap slice.
const Lazy = false

// mapPages returns n bytes of fresh zero memory from the Go heap (huge pages are linux
// only, pages_linux.go); the garbage collector frees it.
func mapPages(n int) ([]byte, func()) { return make([]byte, n), nil }
