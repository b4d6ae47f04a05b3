package net

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
)

func TestPipesOrderAndStats(t *testing.T) {
	c := NewPipes(3)
	for i, x := range c {
		if x.ID() != i || x.N() != 3 {
			t.Fatalf("conn %d: ID %d N %d", i, x.ID(), x.N())
		}
	}
	msg := []byte("abc")
	if err := c[0].Send(1, msg); err != nil {
		t.Fatal(err)
	}
	if err := c[0].Send(1, []byte("de")); err != nil {
		t.Fatal(err)
	}
	if err := c[0].Send(2, []byte("f")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"abc", "de"} {
		got, err := c[1].Recv(0)
		if err != nil || string(got) != want {
			t.Fatalf("Recv = %q, %v; want %q", got, err, want)
		}
		if i == 0 && &got[0] != &msg[0] {
			t.Fatal("Send copied the message (pipes hand the sender's buffer over)")
		}
	}
	if got, err := c[2].Recv(0); err != nil || string(got) != "f" {
		t.Fatalf("Recv = %q, %v", got, err)
	}
	// Party 0 receives after sending: one round; a second Recv without a Send is not a
	// new round.
	go func() {
		c[1].Send(0, []byte("gh"))
		c[2].Send(0, []byte("i"))
	}()
	if _, err := c[0].Recv(1); err != nil {
		t.Fatal(err)
	}
	if _, err := c[0].Recv(2); err != nil {
		t.Fatal(err)
	}
	s := c[0].Stats()
	// Hops: "gh" and "i" were each sent after receiving one message of party 0, so
	// party 0's chain is two messages long although it counts one round.
	if s != (Stats{BytesSent: 6, BytesReceived: 3, Messages: 3, Rounds: 1, Hops: 2, Clock: 2}) {
		t.Fatalf("party 0 stats %+v", s)
	}
	if s := c[1].Stats(); s != (Stats{BytesSent: 2, BytesReceived: 5, Messages: 1, Rounds: 0, Hops: 1, Clock: 1}) {
		t.Fatalf("party 1 stats %+v", s)
	}
	if err := c[0].Send(0, nil); errs.KindOf(err) != errs.Internal {
		t.Fatalf("send to self: %v", err)
	}
	if _, err := c[0].Recv(3); errs.KindOf(err) != errs.Internal {
		t.Fatalf("recv from 3: %v", err)
	}
}

// TestPipesHops: a one-way message (party 1 to 2) that party 2 forwards to party 0 in the
// same turn as party 0's own message to party 1: one round each, three hops for party 0
// (the chain 0 -> 1 -> 2 -> 0), and Sub keeps the end clock.
func TestPipesHops(t *testing.T) {
	c := NewPipes(3)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c[0].Send(1, []byte("a")))
	before := c[0].Stats()
	_, err := c[1].Recv(0)
	must(err)
	must(c[1].Send(2, []byte("b")))
	_, err = c[2].Recv(1)
	must(err)
	must(c[2].Send(0, []byte("c")))
	_, err = c[0].Recv(2)
	must(err)
	s := c[0].Stats()
	if s.Rounds != 1 || s.Hops != 3 {
		t.Fatalf("party 0: %d rounds, %d hops; want 1 and 3", s.Rounds, s.Hops)
	}
	if d := s.Sub(before); d.Hops != 3 || d.Clock != 3 || d.Clock-d.Hops != before.Clock {
		t.Fatalf("Sub: %+v", d)
	}
}

func TestPipesCloseUnblocks(t *testing.T) {
	c := NewPipes(3)
	var wg sync.WaitGroup
	errc := make([]error, 3)
	// Parties 1 and 2 wait on party 0; party 0 waits on party 1.
	for i, from := range []int{1, 0, 0} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errc[i] = c[i].Recv(from)
		}()
	}
	time.Sleep(20 * time.Millisecond)
	c[0].Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after Close")
	}
	for i, err := range errc {
		if errs.KindOf(err) != errs.Party || !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "party 0") {
			t.Fatalf("party %d: %v", i, err)
		}
	}
	// Later calls fail too, without blocking.
	if _, err := c[2].Recv(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("later Recv: %v", err)
	}
	if err := c[0].Send(1, []byte{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	// Messages sent before Close are still delivered.
	c[1].Send(2, []byte("x"))
	c[1].Close()
	if got, err := c[2].Recv(1); err != nil || string(got) != "x" {
		t.Fatalf("queued message: %q %v", got, err)
	}
	if _, err := c[2].Recv(1); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "party 1") {
		t.Fatalf("after drain: %v", err)
	}
}

func BenchmarkPipes(b *testing.B) {
	c := NewPipes(2)
	msg := make([]byte, 8<<20)
	b.Run("msg=8MB", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			c[0].Send(1, msg)
			c[1].Recv(0)
		}
	})
}
