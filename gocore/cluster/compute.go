package cluster

import (
	"encoding/json"

	"github.com/qmpc/qmpc/gocore/net"
)

// Computation is what the parties evaluate for clients. A new one is made for every
// session (a formed mesh of all parties); every party calls its methods in the same order.
type Computation interface {
	// Start prepares the session over conn, e.g. the model owner secret-shares the
	// weights. Every party calls it once per session, before any Run.
	Start(conn net.Conn) error
	// Info is the public description a client needs (the leader sends it to clients).
	Info() ([]byte, error)
	// Run evaluates one request: in is what the client sent to this party; out is what
	// this party returns to the client, with its statistics (JSON). An error ends the
	// session (the parties' protocol state may differ afterwards).
	Run(in []byte) (out []byte, stats json.RawMessage, err error)
}

// Idler is an optional Computation extension: work to do between requests, such as a
// protocol's offline phase for the next request. The leader calls NeedsIdle after the
// session starts and after every request, while no request is waiting; if it reports
// true, the leader tells every party to call Idle at the same point (a request that
// arrives meanwhile waits for it).
type Idler interface {
	NeedsIdle() bool
	Idle() error
}

// NewComputation makes a Computation for one session of party id.
type NewComputation func(id int) (Computation, error)
