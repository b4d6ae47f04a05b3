package net

import (
	"testing"
	"time"
)

// TestLinkTime: LinkTime on hand-computed patterns (20 ms, 100 Mbit/s: 125,000 bytes
// take 10 ms to serialize), and on events recorded by EventLog over pipes.
func TestLinkTime(t *testing.T) {
	s := func(to, b int) Event { return Event{Peer: to, Bytes: b, Send: true} }
	r := func(from int) Event { return Event{Peer: from} }
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		logs [][]Event
		want time.Duration
	}{
		{"one message", [][]Event{{s(1, 125000)}, {r(0)}}, 30 * ms},
		{"two on one link queue", [][]Event{{s(1, 125000), s(1, 125000)}, {r(0), r(0)}}, 40 * ms},
		{"two links in parallel", [][]Event{{s(1, 125000), s(2, 125000)}, {r(0)}, {r(0)}}, 30 * ms},
		{"a chain of three hops", [][]Event{{s(1, 0), r(2)}, {r(0), s(2, 0)}, {r(1), s(0, 125000)}}, 70 * ms},
		{"a round: both send, then receive", [][]Event{{s(1, 250000), r(1)}, {s(0, 0), r(0)}}, 40 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LinkTime(tc.logs, 20*ms, 100)
			if err != nil {
				t.Fatal(err)
			}
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := LinkTime([][]Event{{r(1)}, {}}, 20*ms, 100); err == nil {
		t.Fatal("a receive without a send: no error")
	}
	// Recorded: party 0 sends to 1, which forwards to 2: two hops.
	c := NewPipes(3)
	logs := []*EventLog{NewEventLog(c[0]), NewEventLog(c[1]), NewEventLog(c[2])}
	done := make(chan error, 2)
	go func() {
		m, err := logs[1].Recv(0)
		if err == nil {
			err = logs[1].Send(2, m)
		}
		done <- err
	}()
	go func() { _, err := logs[2].Recv(1); done <- err }()
	if err := logs[0].Send(1, make([]byte, 125000)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, err := LinkTime([][]Event{logs[0].Events(), logs[1].Events(), logs[2].Events()}, 20*ms, 100)
	if err != nil || got != 60*ms {
		t.Fatalf("recorded chain: %v, %v; want 60ms", got, err)
	}
}
