//go:build !linux

package pagebuf

// mapPages returns n bytes of fresh zero memory from the Go heap (huge pages are linux
// only, pages_linux.go); the garbage collector frees it.
func mapPages(n int) ([]byte, func()) { return make([]byte, n), nil }
