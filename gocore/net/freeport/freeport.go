// Package freeport gives tests loopback addresses that other programs on the machine are
// unlikely to take before the test listens on them.
//
// Asking the kernel for port 0 and closing the listener again, the usual way, returns a
// port from the ephemeral range, the range the kernel also draws from for every outgoing
// connection. On a busy machine (parallel test packages making connections) such a port
// can be handed to a client socket in the gap before the test listens on it again; the
// test then fails with "address already in use". Addr draws instead from the ports below
// the ephemeral range, which outgoing connections never receive, and checks that the port
// can be bound.
package freeport

import (
	"fmt"
	"math/rand/v2"
	stdnet "net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// lowest is the lowest port Addr draws (below it lie many registered services' ports).
const lowest = 20000

// ephemeralStart is the start of the kernel's ephemeral port range, or 32768 (Linux's
// default) where it cannot be read.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil || lo <= lowest+1000 {
		return 32768
	}
	return lo
}

// Addr returns "127.0.0.1:port" for a port outside the ephemeral range that could be bound
// just now, or an error if none of many tries could.
func Addr() (string, error) {
	hi := ephemeralStart()
	var last error
	for range 200 {
		port := lowest + rand.IntN(hi-lowest)
		l, err := stdnet.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			last = err
			continue
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			return "", fmt.Errorf("freeport: closing %s: %w", addr, err)
		}
		return addr, nil
	}
	return "", fmt.Errorf("freeport: no free port in [%d, %d) after 200 tries: %w", lowest, hi, last)
}

// Must is Addr for tests: it fails t if no port is free.
func Must(t testing.TB) string {
	t.Helper()
	addr, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
