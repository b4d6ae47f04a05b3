package cluster

import (
	"encoding/json"

	"github.com/qmpc/qmpc/gocore/net"
)

// Computation is what the parties evaluate for clients. A new one is made for every
// session (a formed mesh of all parties); every party calls its methods in the same order.
type Computation interface {
	// Start prepares the session over conn (the session's control channel), e.g. the model
	// owner secret-shares the weights. Every party calls it once per session, before any
	// Lane.
	Start(conn net.Conn) error
	// Info is the public description a client needs (the leader sends it to clients).
	Info() ([]byte, error)
	// Lane makes the computation of one of the session's concurrent lanes over its own
	// channel conn: its own protocol instance (own keys and randomness streams, own offline
	// phase) using what Start prepared. Every party calls it at the same point of the
	// lane; lanes run concurrently with each other.
	Lane(conn net.Conn) (Lane, error)
}

// Lane evaluates requests, one at a time, on one lane of a session.
type Lane interface {
	// Run evaluates one request: in is what the client sent to this party; out is what
	// this party returns to the client, with its statistics (JSON). An error ends the lane
	// (the parties' protocol state may differ afterwards), not the session.
	Run(in []byte) (out []byte, stats json.RawMessage, err error)
	// Close releases the lane's state.
	Close()
}

// ClientConn is a running request's channel to its client (ClientLane).
type ClientConn interface {
	// RoundTrip sends msg to the client and returns the client's reply. It fails if the
	// client aborts the request, disconnects or the lane ends meanwhile.
	RoundTrip(msg []byte) ([]byte, error)
}

// ClientLane is an optional Lane extension for computations whose requests exchange
// messages with the client while they run (an interactive client protocol such as
// mpc.ClientIO's input). The party calls RunClient instead of Run; the client answers
// the rounds with Session.RunRounds.
type ClientLane interface {
	RunClient(in []byte, client ClientConn) (out []byte, stats json.RawMessage, err error)
}

// Idler is an optional Lane extension: work to do between requests, such as a protocol's
// offline phase for the next request. The leader calls NeedsIdle after the lane starts
// and after every request, while no request is waiting; if it reports true, the leader
// tells every party to call Idle at the same point of the lane (a request given to the
// lane meanwhile waits for it).
type Idler interface {
	NeedsIdle() bool
	Idle() error
}

// NewComputation makes a Computation for one session of party id.
type NewComputation func(id int) (Computation, error)
