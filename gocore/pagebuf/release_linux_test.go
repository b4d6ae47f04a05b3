//go:build linux

package pagebuf

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// mapped reports whether /proc/self/maps lists a mapping that starts at addr.
func mapped(t *testing.T, addr uintptr) bool {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	return strings.Contains(string(b), fmt.Sprintf("\n%x-", addr)) || strings.HasPrefix(string(b), fmt.Sprintf("%x-", addr))
}

// TestRelease: a buffer's mapping is unmapped by release, and by the runtime cleanup
// when its holder is dropped without release (a party dropped without releasing its buffers).
func TestRelease(t *testing.T) {
	var p Buffer
	addr := uintptr(unsafe.Pointer(&p.Bytes(3 << 20)[0]))
	if !mapped(t, addr) {
		t.Fatalf("mapping at %x not listed", addr)
	}
	p.Release()
	if mapped(t, addr) {
		t.Fatalf("mapping at %x still listed after release", addr)
	}
	q := &Buffer{}
	addr = uintptr(unsafe.Pointer(&q.Bytes(3 << 20)[0]))
	q = nil
	for i := 0; i < 50 && mapped(t, addr); i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if mapped(t, addr) {
		t.Fatalf("mapping at %x still listed after its holder was dropped", addr)
	}
	_ = q
}
