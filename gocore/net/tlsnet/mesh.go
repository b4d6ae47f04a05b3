package tlsnet

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// Mesh is one computing party's net.Conn over TLS links to every other party. Sends are
// queued until Flush or the next Recv; each Recv waits at most Options.Timeout for the
// message. It keeps the Lamport clock of net.Stats.Hops as the in-memory pipes do: its
// messages carry its clock in the links' clock frames (Link.SendManyAt), and receiving
// one sets its clock to at least the sender's plus one.
type Mesh struct {
	id    int
	links []*Link
	opt   Options

	pending   [][][]byte
	sentSince bool
	sentTo    []bool // per peer: sent since the last receive from it
	rounds    atomic.Int64
	hops      atomic.Int64 // written only by the goroutine that uses the mesh
	closed    atomic.Bool
}

var _ net.Conn = (*Mesh)(nil)

// NewMesh makes party id's endpoint from links: links[j] connects to party j, and
// links[id] is nil.
func NewMesh(id int, links []*Link, opt Options) (*Mesh, error) {
	if id < 0 || id >= len(links) || links[id] != nil {
		return nil, errs.New(errs.Internal, "mesh: party %d of %d must have a nil link to itself", id, len(links))
	}
	for j, l := range links {
		if j != id && (l == nil || l.Peer() != j) {
			return nil, errs.New(errs.Internal, "mesh: link %d missing or to the wrong peer", j)
		}
	}
	return &Mesh{id: id, links: links, opt: opt.WithDefaults(), pending: make([][][]byte, len(links)), sentTo: make([]bool, len(links))}, nil
}

// ID is this party's index.
func (m *Mesh) ID() int { return m.id }

// N is the number of parties.
func (m *Mesh) N() int { return len(m.links) }

// Link returns the link to party j (nil for j == ID()).
func (m *Mesh) Link(j int) *Link { return m.links[j] }

func (m *Mesh) check(peer int) error {
	if peer < 0 || peer >= len(m.links) || peer == m.id {
		return errs.New(errs.Internal, "party %d: no link to party %d", m.id, peer)
	}
	if m.closed.Load() {
		return errs.New(errs.Party, "party %d: connection closed", m.id)
	}
	return nil
}

// Send queues msg for party to.
func (m *Mesh) Send(to int, msg []byte) error {
	if err := m.check(to); err != nil {
		return err
	}
	m.pending[to] = append(m.pending[to], msg)
	m.sentSince = true
	m.sentTo[to] = true
	return nil
}

// Flush writes the queued messages.
func (m *Mesh) Flush() error {
	for j, q := range m.pending {
		if len(q) == 0 {
			continue
		}
		m.pending[j] = nil
		if err := m.links[j].SendManyAt(q, m.hops.Load()); err != nil {
			return fmt.Errorf("party %d: %w", m.id, err)
		}
	}
	return nil
}

// Recv flushes, then waits at most Options.Timeout for the next message from party from.
func (m *Mesh) Recv(from int) ([]byte, error) {
	if err := m.check(from); err != nil {
		return nil, err
	}
	if err := m.Flush(); err != nil {
		return nil, err
	}
	if m.sentSince {
		m.rounds.Add(1)
		m.sentSince = false
	}
	if m.sentTo[from] {
		m.links[from].rounds.Add(1)
		m.sentTo[from] = false
	}
	msg, clock, err := m.links[from].RecvAt(context.Background(), m.opt.Timeout)
	if err != nil {
		return nil, fmt.Errorf("party %d: %w", m.id, err)
	}
	if clock+1 > m.hops.Load() {
		m.hops.Store(clock + 1)
	}
	return msg, nil
}

// Stats sums the links' counters.
func (m *Mesh) Stats() net.Stats {
	var s net.Stats
	for _, l := range m.links {
		if l != nil {
			s.BytesSent += l.bytesSent.Load()
			s.BytesReceived += l.bytesRecv.Load()
			s.Messages += l.msgsSent.Load()
		}
	}
	s.Rounds = m.rounds.Load()
	s.Hops = m.hops.Load()
	s.Clock = s.Hops
	return s
}

// PeerStats returns each link's counters (nil entry skipped for this party).
func (m *Mesh) PeerStats() []LinkStats {
	var out []LinkStats
	for _, l := range m.links {
		if l != nil {
			out = append(out, l.Stats())
		}
	}
	return out
}

// Err returns the first failed link's error, or nil.
func (m *Mesh) Err() error {
	for _, l := range m.links {
		if l != nil {
			if err := l.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Abort closes every link, telling the peers reason.
func (m *Mesh) Abort(reason string) {
	m.closed.Store(true)
	for _, l := range m.links {
		if l != nil {
			l.Close(reason)
		}
	}
}

// Close closes every link.
func (m *Mesh) Close() error {
	m.Abort("party closed the session")
	return nil
}
