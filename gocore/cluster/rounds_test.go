package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// roundComp is a test computation with a client round (ClientLane): each party sends the
// client its request payload plus its id, and returns the client's reply to it.
type roundComp struct {
	id int
	// failFirst, if set, makes that party's first request fail before its round.
	failFirst *atomic.Int32
}

func (c *roundComp) Start(net.Conn) error        { return nil }
func (c *roundComp) Info() ([]byte, error)       { return []byte(`{}`), nil }
func (c *roundComp) Lane(net.Conn) (Lane, error) { return c, nil }
func (c *roundComp) Close()                      {}
func (c *roundComp) Run([]byte) ([]byte, json.RawMessage, error) {
	return nil, nil, errs.New(errs.Internal, "Run without a client")
}

func (c *roundComp) RunClient(in []byte, client ClientConn) ([]byte, json.RawMessage, error) {
	if c.failFirst != nil && c.failFirst.CompareAndSwap(int32(c.id), -1) {
		return nil, nil, errs.New(errs.Party, "party %d fails before its round", c.id)
	}
	reply, err := client.RoundTrip(append(append([]byte{}, in...), byte(c.id)))
	if err != nil {
		return nil, nil, err
	}
	return reply, json.RawMessage(`{}`), nil
}

// TestClusterClientRounds: a request with a client round (RunRounds) gives every party the
// client's answer to all parties' messages; a client that aborts the round gets its own
// error back, and a party that fails before its round fails the request at once; either
// way the next request is served.
func TestClusterClientRounds(t *testing.T) {
	const n = 3
	cfg, _ := testConfig(t, n, 5*time.Second)
	var fail atomic.Int32
	fail.Store(-1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, n)
	for i := range n {
		p, err := NewParty(PartyOptions{Config: cfg, ID: i, Logger: quietLogger(),
			Computation: func(id int) (Computation, error) { return &roundComp{id: id, failFirst: &fail}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- p.Run(ctx) }()
	}
	defer func() {
		cancel()
		for range n {
			<-done
		}
	}()
	c, err := NewClient(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	// The reply to party j: every party's message, then j.
	answer := func(msgs [][]byte) ([][]byte, error) {
		out := make([][]byte, len(msgs))
		for j := range msgs {
			for _, m := range msgs {
				out[j] = append(out[j], m...)
			}
			out[j] = append(out[j], byte(100+j))
		}
		return out, nil
	}
	run := func(rounds RoundFunc) ([][]byte, error) {
		s, err := c.Connect(ctx)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err = s.Info(ctx); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		outs, _, err := s.RunRounds(ctx, [][]byte{{'a'}, {'b'}, {'c'}}, rounds)
		return outs, err
	}
	check := func() {
		t.Helper()
		outs, err := run(answer)
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range outs {
			if want := "a\x00b\x01c\x02" + string(rune(100+j)); string(o) != want {
				t.Fatalf("party %d returned %q, want %q", j, o, want)
			}
		}
	}
	check()

	// The client aborts the round: its error comes back as is.
	_, err = run(func([][]byte) ([][]byte, error) { return nil, errs.New(errs.Cheating, "the client's check failed") })
	if errs.KindOf(err) != errs.Cheating || !strings.Contains(err.Error(), "the client's check failed") {
		t.Fatalf("aborted round: %v", err)
	}
	check()

	// Party 2 fails before its round: the others' round is abandoned at once.
	fail.Store(2)
	start := time.Now()
	_, err = run(answer)
	if err == nil || !strings.Contains(err.Error(), "party 2 fails before its round") {
		t.Fatalf("failed party: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the failed request took %v (the step is 5 s)", d)
	}
	check()

	// A request without a RoundFunc to a computation with a round fails (and names it).
	if _, err = run(nil); err == nil || !strings.Contains(err.Error(), "client round") {
		t.Fatalf("no RoundFunc: %v", err)
	}
	check()
}
