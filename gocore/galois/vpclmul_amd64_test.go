package galois

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestHasVPCLMULQDQ: the CPUID probe agrees with the kernel's flag list on Linux.
func TestHasVPCLMULQDQ(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("compares with /proc/cpuinfo")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	var flags []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = strings.Fields(v)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	want := false
	for _, f := range flags {
		want = want || f == "vpclmulqdq"
	}
	if HasVPCLMULQDQ != want {
		t.Fatalf("HasVPCLMULQDQ = %v, /proc/cpuinfo lists vpclmulqdq: %v", HasVPCLMULQDQ, want)
	}
}
