package freeport

import (
	stdnet "net"
	"strconv"
	"testing"
)

// Addr's ports lie below the ephemeral range and can be listened on.
func TestAddrBelowEphemeralRange(t *testing.T) {
	hi := ephemeralStart()
	seen := map[string]bool{}
	for range 20 {
		addr := Must(t)
		_, p, err := stdnet.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if port < lowest || port >= hi {
			t.Errorf("port %d outside [%d, %d)", port, lowest, hi)
		}
		l, err := stdnet.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listening on %s: %v", addr, err)
		}
		l.Close()
		seen[addr] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 draws gave only %d distinct ports", len(seen))
	}
}

// A port that is taken is never returned.
func TestAddrSkipsTakenPorts(t *testing.T) {
	var held []stdnet.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	taken := map[string]bool{}
	for range 50 {
		addr := Must(t)
		if taken[addr] {
			t.Fatalf("%s returned while held", addr)
		}
		l, err := stdnet.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held, taken[addr] = append(held, l), true
	}
}
