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

// NewComputation makes a Computation for one session of party id.
type NewComputation func(id int) (Computation, error)
