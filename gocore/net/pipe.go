package net

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/errs"
)

// ErrClosed is wrapped by the errors of a Conn whose own endpoint, or whose peer's
// endpoint, was closed. Runners use errors.Is(err, ErrClosed) to tell failures induced by
// shutting a computation down from the failure that caused it.
var ErrClosed = errors.New("connection closed")

// NewPipes connects n parties in one process and returns their endpoints (conns[i].ID() ==
// i). Each ordered pair of parties has an unbounded in-memory queue, so Send never blocks;
// Recv blocks until a message arrives.
//
// Ownership: Send does not copy msg: the receiver's Recv returns the very buffer, so the
// sender must not modify msg afterwards (as net.Conn requires of every caller) and the
// receiver must treat it as read-only too unless it knows that the sender no longer reads
// it (the sender may keep msg, e.g. as part of its own state).
//
// Counters are those a socket would give: BytesSent and BytesReceived count payload bytes,
// Messages counts Send calls, and Rounds counts the Recv calls made after at least one Send
// since the previous Recv (so a batch of sends followed by receives is one round, as for
// tlsnet.Mesh); Hops is a Lamport clock over the messages (see Stats).
//
// Close of any endpoint makes its own pending and later calls fail, and makes every pending
// and later Recv from it (once the messages it sent before closing are consumed) fail with
// an errs.Party error that names the closed party and wraps ErrClosed. Nothing hangs.
func NewPipes(n int) []Conn {
	h := &hub{
		n:      n,
		queues: make([][][]tagged, n),
		closed: make([]bool, n),
		conds:  make([]*sync.Cond, n),
	}
	conns := make([]Conn, n)
	for i := range n {
		h.queues[i] = make([][]tagged, n)
		h.conds[i] = sync.NewCond(&h.mu)
		conns[i] = &pipe{id: i, h: h}
	}
	return conns
}

// hub holds the queues of all parties: queues[to][from] is the FIFO of messages from from
// to to; conds[to] wakes party to's Recv.
type hub struct {
	mu     sync.Mutex
	n      int
	queues [][][]tagged
	closed []bool
	conds  []*sync.Cond
}

// tagged is a queued message with its sender's hop count when it was sent.
type tagged struct {
	msg  []byte
	hops int64
}

type pipe struct {
	id int
	h  *hub

	sentSince bool // only touched by the owning party's goroutine
	bytesSent atomic.Int64
	bytesRecv atomic.Int64
	msgs      atomic.Int64
	rounds    atomic.Int64
	hops      atomic.Int64 // written only by the owning party's goroutine
}

func (p *pipe) ID() int { return p.id }
func (p *pipe) N() int  { return p.h.n }

func (p *pipe) checkPeer(peer int) error {
	if peer < 0 || peer >= p.h.n || peer == p.id {
		return errs.New(errs.Internal, "party %d: no pipe to party %d (of %d)", p.id, peer, p.h.n)
	}
	return nil
}

// Send appends msg (not a copy) to party to's queue.
func (p *pipe) Send(to int, msg []byte) error {
	if err := p.checkPeer(to); err != nil {
		return err
	}
	h := p.h
	h.mu.Lock()
	if h.closed[p.id] {
		h.mu.Unlock()
		return errs.New(errs.Party, "party %d: send to party %d: %w (own endpoint)", p.id, to, ErrClosed)
	}
	h.queues[to][p.id] = append(h.queues[to][p.id], tagged{msg, p.hops.Load()})
	h.conds[to].Broadcast()
	h.mu.Unlock()
	p.bytesSent.Add(int64(len(msg)))
	p.msgs.Add(1)
	p.sentSince = true
	return nil
}

// Recv waits for the next message from party from.
func (p *pipe) Recv(from int) ([]byte, error) {
	if err := p.checkPeer(from); err != nil {
		return nil, err
	}
	if p.sentSince {
		p.rounds.Add(1)
		p.sentSince = false
	}
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if h.closed[p.id] {
			return nil, errs.New(errs.Party, "party %d: receive from party %d: %w (own endpoint)", p.id, from, ErrClosed)
		}
		if q := h.queues[p.id][from]; len(q) > 0 {
			m := q[0]
			q[0] = tagged{}
			h.queues[p.id][from] = q[1:]
			p.bytesRecv.Add(int64(len(m.msg)))
			if m.hops+1 > p.hops.Load() {
				p.hops.Store(m.hops + 1)
			}
			return m.msg, nil
		}
		if h.closed[from] {
			return nil, errs.New(errs.Party, "party %d: receive from party %d: %w by party %d", p.id, from, ErrClosed, from)
		}
		h.conds[p.id].Wait()
	}
}

// Flush does nothing: pipe messages are delivered by Send.
func (p *pipe) Flush() error { return nil }

// Stats returns the counters; safe to call from any goroutine.
func (p *pipe) Stats() Stats {
	return Stats{
		BytesSent:     p.bytesSent.Load(),
		BytesReceived: p.bytesRecv.Load(),
		Messages:      p.msgs.Load(),
		Rounds:        p.rounds.Load(),
		Hops:          p.hops.Load(),
		Clock:         p.hops.Load(),
	}
}

// Close closes this endpoint and wakes every waiting Recv. Closing twice is allowed.
func (p *pipe) Close() error {
	h := p.h
	h.mu.Lock()
	h.closed[p.id] = true
	h.queues[p.id] = make([][]tagged, h.n) // drop what nobody will read
	for _, c := range h.conds {
		c.Broadcast()
	}
	h.mu.Unlock()
	return nil
}

// RunPair runs f0 and f1, the two parties of a two-party protocol over conns[0] and
// conns[1], concurrently. A party that fails closes its connection, so that the other's
// pending Recv fails instead of waiting forever. It returns both errors (tests compare
// what each party saw, e.g. that the honest one reports the cheater).
func RunPair(conns []Conn, f0, f1 func() error) (e0, e1 error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if e0 = f0(); e0 != nil {
			conns[0].Close()
		}
	}()
	go func() {
		defer wg.Done()
		if e1 = f1(); e1 != nil {
			conns[1].Close()
		}
	}()
	wg.Wait()
	return e0, e1
}
