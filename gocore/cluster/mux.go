package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// Lanes: independent channels over one session's mesh.
//
// A session's mesh (one TLS link to every other party) carries several computations at
// once: lane 0, the control lane (the computation's Start, such as the owner's weight
// sharing, then the leader's request agreement), and one lane per concurrent client
// session, each with its own protocol instance (its own keys and randomness streams). Every
// batch of messages a party flushes to a peer on a lane is preceded by a lane header:
//
//	bytes 0-3  lane id, big endian
//	bytes 4-7  number of messages that follow (0 for an abort)
//	byte  8    0: data; 1: abort, and the rest is the reason (the lane ends on every party)
//
// The header and its batch are written by one Link.SendMany, under the link's write lock,
// so batches of different lanes never interleave. One reader goroutine per link moves each
// batch into its lane's inbox without waiting for the lane's user, so a lane that is slow
// to read never holds up another (the inboxes are unbounded, as the links' own queues are;
// a lane's messages are what its protocol sends in one round). The headers travel inside
// the authenticated TLS links; a lane's traffic counters count its messages, not headers.
// Each lane keeps its own Lamport clock (net.Stats.Hops): a batch is sent at the lane's
// clock (the link's clock frame, tlsnet.Link.SendManyAt, read with the header), and
// receiving a message of the batch sets the lane's clock to at least that plus one.

const (
	laneHeaderLen = 9
	laneData      = 0
	laneAbort     = 1
	maxLaneBatch  = 1 << 20 // messages in one batch
)

func laneHeader(id uint32, count int, kind byte, reason string) []byte {
	b := make([]byte, laneHeaderLen, laneHeaderLen+len(reason))
	binary.BigEndian.PutUint32(b, id)
	binary.BigEndian.PutUint32(b[4:], uint32(count))
	b[8] = kind
	return append(b, reason...)
}

// mux runs the lanes of one mesh.
type mux struct {
	mesh *tlsnet.Mesh
	id   int
	step time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	lanes map[uint32]*lane
	ended map[uint32]bool // closed lanes: late messages for them are dropped
	err   error           // the mesh's failure
	done  chan struct{}   // closed when the mesh fails or the mux closes
}

// newMux starts reading mesh's links into lanes; step bounds every lane's wait for a message.
func newMux(mesh *tlsnet.Mesh, step time.Duration) *mux {
	ctx, cancel := context.WithCancel(context.Background())
	m := &mux{mesh: mesh, id: mesh.ID(), step: step, ctx: ctx, cancel: cancel,
		lanes: map[uint32]*lane{}, ended: map[uint32]bool{}, done: make(chan struct{})}
	for j := range mesh.N() {
		if j != m.id {
			m.wg.Add(1)
			go m.read(j)
		}
	}
	return m
}

// close ends every lane with reason and waits for the readers.
func (m *mux) close(reason error) {
	m.fail(reason)
	m.cancel()
	m.wg.Wait()
}

func (m *mux) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.err = err
		close(m.done)
	}
}

// failed returns the mesh's failure, or nil.
func (m *mux) failed() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *mux) read(j int) {
	defer m.wg.Done()
	l := m.mesh.Link(j)
	for {
		h, clock, err := l.RecvAt(m.ctx, 0)
		if err != nil {
			m.fail(err)
			return
		}
		if len(h) < laneHeaderLen || (h[8] == laneData && len(h) != laneHeaderLen) || h[8] > laneAbort {
			m.fail(errs.New(errs.Party, "party %d sent a malformed lane header", j))
			m.mesh.Abort(fmt.Sprintf("party %d sent a malformed lane header", j))
			return
		}
		id, count := binary.BigEndian.Uint32(h), int(binary.BigEndian.Uint32(h[4:]))
		if h[8] == laneAbort {
			if ln := m.get(id, false); ln != nil {
				ln.fail(errs.New(errs.Party, "party %d ended session %d: %s", j, id, string(h[laneHeaderLen:])))
			}
			continue
		}
		if count < 1 || count > maxLaneBatch {
			m.fail(errs.New(errs.Party, "party %d sent a lane batch of %d messages", j, count))
			m.mesh.Abort(fmt.Sprintf("party %d sent a lane batch of %d messages", j, count))
			return
		}
		msgs := make([][]byte, count)
		for k := range msgs {
			if msgs[k], err = l.Recv(m.ctx, 0); err != nil {
				m.fail(err)
				return
			}
		}
		if ln := m.get(id, true); ln != nil {
			ln.deliver(j, msgs, clock)
		}
	}
}

// get returns lane id, making it if create (a peer's messages may arrive before this
// party opens the lane); nil for a closed lane.
func (m *mux) get(id uint32, create bool) *lane {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended[id] {
		return nil
	}
	ln := m.lanes[id]
	if ln == nil && create {
		n := m.mesh.N()
		ln = &lane{m: m, id: id, inbox: make([][]stampedMsg, n), notify: make(chan struct{}, 1), done: make(chan struct{}),
			pending: make([][][]byte, n), sentTo: make([]bool, n), peer: make([]laneCounters, n)}
		m.lanes[id] = ln
	}
	return ln
}

// open returns lane id for this party's use.
func (m *mux) open(id uint32) (*lane, error) {
	if ln := m.get(id, true); ln != nil {
		return ln, nil
	}
	return nil, errs.New(errs.Internal, "party %d: session %d was closed already", m.id, id)
}

func (m *mux) drop(id uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.lanes, id)
	m.ended[id] = true
}

type laneCounters struct {
	bytesSent, bytesRecv, msgsSent, msgsRecv, rounds atomic.Int64
}

// lane is one party's net.Conn on one lane. Like tlsnet.Mesh, sends are queued until Flush
// or the next Recv, and one goroutine at a time uses it.
type lane struct {
	m  *mux
	id uint32

	mu     sync.Mutex
	inbox  [][]stampedMsg // per peer
	err    error          // the lane's end
	notify chan struct{}
	done   chan struct{}

	pending   [][][]byte
	sentSince bool
	sentTo    []bool
	rounds    atomic.Int64
	hops      atomic.Int64 // the lane's Lamport clock, written only by the lane's user
	peer      []laneCounters
}

// stampedMsg is a received message with its sender's lane clock when it was sent.
type stampedMsg struct {
	msg   []byte
	clock int64
}

var _ net.Conn = (*lane)(nil)

func (ln *lane) deliver(from int, msgs [][]byte, clock int64) {
	ln.mu.Lock()
	for _, m := range msgs {
		ln.inbox[from] = append(ln.inbox[from], stampedMsg{m, clock})
	}
	ln.mu.Unlock()
	select {
	case ln.notify <- struct{}{}:
	default:
	}
}

// fail ends the lane (the first error is kept).
func (ln *lane) fail(err error) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.err == nil {
		ln.err = err
		close(ln.done)
	}
}

// Err returns why the lane ended, or the mesh's failure, or nil while both work.
func (ln *lane) Err() error {
	ln.mu.Lock()
	err := ln.err
	ln.mu.Unlock()
	if err != nil {
		return err
	}
	return ln.m.failed()
}

// Lane is the lane's number (0: the session's control lane; request lanes from 1, the
// same at every party).
func (ln *lane) Lane() uint32 { return ln.id }

// Done is closed when the lane ends (not when the mesh fails: see mux.done).
func (ln *lane) Done() <-chan struct{} { return ln.done }

// Abort ends the lane on every party: the others' waits on it fail with reason.
func (ln *lane) Abort(reason string) {
	ln.fail(errs.New(errs.Party, "party %d ended session %d: %s", ln.m.id, ln.id, reason))
	if len(reason) > 4096 {
		reason = reason[:4096]
	}
	h := laneHeader(ln.id, 0, laneAbort, reason)
	for j := range ln.m.mesh.N() {
		if j != ln.m.id {
			ln.m.mesh.Link(j).Send(h) // best effort: a failed link fails the whole mesh anyway
		}
	}
	ln.m.drop(ln.id)
}

// ID is this party's index.
func (ln *lane) ID() int { return ln.m.id }

// N is the number of parties.
func (ln *lane) N() int { return ln.m.mesh.N() }

func (ln *lane) check(peer int) error {
	if peer < 0 || peer >= ln.N() || peer == ln.m.id {
		return errs.New(errs.Internal, "party %d: no link to party %d", ln.m.id, peer)
	}
	return ln.Err()
}

// Send queues msg for party to.
func (ln *lane) Send(to int, msg []byte) error {
	if err := ln.check(to); err != nil {
		return err
	}
	ln.pending[to] = append(ln.pending[to], msg)
	ln.sentSince = true
	ln.sentTo[to] = true
	return nil
}

// Flush writes the queued messages, one header and batch per peer.
func (ln *lane) Flush() error {
	if err := ln.Err(); err != nil {
		return err
	}
	for j, q := range ln.pending {
		if len(q) == 0 {
			continue
		}
		ln.pending[j] = nil
		batch := make([][]byte, 0, len(q)+1)
		batch = append(append(batch, laneHeader(ln.id, len(q), laneData, "")), q...)
		if err := ln.m.mesh.Link(j).SendManyAt(batch, ln.hops.Load()); err != nil {
			return fmt.Errorf("party %d: %w", ln.m.id, err)
		}
		c := &ln.peer[j]
		for _, msg := range q {
			c.bytesSent.Add(int64(len(msg)))
		}
		c.msgsSent.Add(int64(len(q)))
	}
	return nil
}

// Recv flushes, then waits at most the step timeout for the next message from party from.
func (ln *lane) Recv(from int) ([]byte, error) {
	return ln.recv(context.Background(), from, ln.m.step)
}

// recv is Recv with a context and a bound (0: wait until a message arrives or the lane,
// the mesh or ctx ends).
func (ln *lane) recv(ctx context.Context, from int, timeout time.Duration) ([]byte, error) {
	if err := ln.check(from); err != nil {
		return nil, err
	}
	if err := ln.Flush(); err != nil {
		return nil, err
	}
	if ln.sentSince {
		ln.rounds.Add(1)
		ln.sentSince = false
	}
	if ln.sentTo[from] {
		ln.peer[from].rounds.Add(1)
		ln.sentTo[from] = false
	}
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	for {
		ln.mu.Lock()
		err := ln.err
		if err == nil && len(ln.inbox[from]) > 0 {
			m := ln.inbox[from][0]
			ln.inbox[from][0] = stampedMsg{}
			ln.inbox[from] = ln.inbox[from][1:]
			ln.mu.Unlock()
			ln.peer[from].bytesRecv.Add(int64(len(m.msg)))
			ln.peer[from].msgsRecv.Add(1)
			if m.clock+1 > ln.hops.Load() {
				ln.hops.Store(m.clock + 1)
			}
			return m.msg, nil
		}
		ln.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-ln.notify:
		case <-ln.done:
		case <-ln.m.done:
			return nil, fmt.Errorf("party %d: %w", ln.m.id, ln.m.failed())
		case <-tc:
			return nil, errs.New(errs.Party, "party %d: %s sent no message for %v (stalled)", ln.m.id, tlsnet.PeerName(from), timeout)
		case <-ctx.Done():
			return nil, errs.New(errs.Cancelled, "waiting for %s: %w", tlsnet.PeerName(from), ctx.Err())
		}
	}
}

// Stats sums the lane's counters over its peers.
func (ln *lane) Stats() net.Stats {
	var s net.Stats
	for j := range ln.peer {
		c := &ln.peer[j]
		s.BytesSent += c.bytesSent.Load()
		s.BytesReceived += c.bytesRecv.Load()
		s.Messages += c.msgsSent.Load()
	}
	s.Rounds = ln.rounds.Load()
	s.Hops = ln.hops.Load()
	s.Clock = s.Hops
	return s
}

// PeerStats returns the lane's counters per peer.
func (ln *lane) PeerStats() []tlsnet.LinkStats {
	var out []tlsnet.LinkStats
	for j := range ln.peer {
		if j == ln.m.id {
			continue
		}
		c := &ln.peer[j]
		out = append(out, tlsnet.LinkStats{Peer: j, BytesSent: c.bytesSent.Load(), BytesReceived: c.bytesRecv.Load(),
			MessagesSent: c.msgsSent.Load(), MessagesRecv: c.msgsRecv.Load(), Rounds: c.rounds.Load()})
	}
	return out
}

// Close ends the lane on this party only (its peers close theirs at the same point).
func (ln *lane) Close() error {
	ln.fail(errs.New(errs.Party, "party %d: session %d closed", ln.m.id, ln.id))
	ln.m.drop(ln.id)
	return nil
}
