// Package net carries protocol messages between computing parties. Protocols see only the
// Conn interface; implementations are in-memory pipes (all parties in one process) and
// framed TCP over mutually authenticated TLS 1.3 (one process per party).
package net

// Conn is one party's endpoint to all other parties of a computation.
//
// Send queues a message for a peer (it may be buffered until Flush or the next Recv);
// Recv blocks until the next message from a peer arrives and returns it, in the order that
// peer sent them. A round is counted each time a party starts receiving after having sent.
// Errors name the peer and are final for the computation.
type Conn interface {
	// ID is this party's index; N the number of parties.
	ID() int
	N() int
	// Send queues msg (the callee may keep it: callers must not modify msg afterwards).
	Send(to int, msg []byte) error
	// Recv returns the next message from peer from.
	Recv(from int) ([]byte, error)
	// Flush pushes queued messages to the network.
	Flush() error
	// Stats returns the traffic counters so far.
	Stats() Stats
	// Close releases the endpoint; pending and later calls fail.
	Close() error
}

// Stats counts one party's traffic.
type Stats struct {
	BytesSent     int64 // payload bytes sent to all peers
	BytesReceived int64
	Messages      int64 // messages sent
	Rounds        int64 // communication rounds (send-then-receive turns)
	// Hops is the length of the longest chain of messages, each sent after the previous
	// one was received, that ends at this party (a Lamport clock: a message carries its
	// sender's count, and receiving it sets this party's count to at least one more).
	// Unlike Rounds it counts a message that depends on one received in the same turn,
	// so the most Hops of any party is the computation's latency in one-way delays. The
	// in-memory pipes, tlsnet.Mesh and the cluster's lanes keep it (their TLS links carry
	// the clock in clock frames). Sub keeps s's Hops in Clock and subtracts Hops, so that
	// a phase's start is Clock - Hops.
	Hops  int64
	Clock int64
}

// Sub returns s - t, for per-layer accounting.
func (s Stats) Sub(t Stats) Stats {
	return Stats{s.BytesSent - t.BytesSent, s.BytesReceived - t.BytesReceived,
		s.Messages - t.Messages, s.Rounds - t.Rounds, s.Hops - t.Hops, s.Clock}
}
