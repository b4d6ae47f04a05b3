package inference

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// PauseEnv names the testing aid that lets a fault test know that an inference is under
// way: a party process started with QMPC_TEST_PAUSE_AT_LAYER=K, in its first inference
// that reaches secure layer K (counting from 0, in the order of the per-layer stats; with
// concurrent sessions, the first of any lane), flushes what it has sent, writes
//
//	qmpc test hook: party P paused in layer L
//
// to standard error and waits before sending its first message of that layer, until its
// lane or session fails (the test kills or stops it, its client disconnects, or the other
// parties give up on it after one step timeout). Only party processes read it (EngineComputation); it is not meant for
// deployments.
const PauseEnv = "QMPC_TEST_PAUSE_AT_LAYER"

// pauseFromEnv returns the layer of PauseEnv, or -1 when unset.
func pauseFromEnv() (int, error) {
	s := os.Getenv(PauseEnv)
	if s == "" {
		return -1, nil
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 0 {
		return -1, errs.New(errs.Config, "%s=%q: want a layer number 0, 1, ...", PauseEnv, s)
	}
	return k, nil
}

// pauseConn is a lane's protocol connection with the PauseEnv hook: it pauses before the
// first message sent while the engine is in layer at or later, once per process (fired).
type pauseConn struct {
	net.Conn
	at     int
	id     int
	layer  func() int   // secure layers done in the running inference
	failed func() error // the lane's failure, nil while it works
	out    io.Writer
	fired  *atomic.Bool // shared by the process's lanes
	active bool         // an inference is running on this lane
}

func (c *pauseConn) Send(to int, msg []byte) error {
	if c.active && !c.fired.Load() {
		if l := c.layer(); l >= c.at && c.fired.CompareAndSwap(false, true) {
			c.Conn.Flush() // the others receive everything of the layers before
			fmt.Fprintf(c.out, "qmpc test hook: party %d paused in layer %d\n", c.id, l)
			for c.failed() == nil {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	return c.Conn.Send(to, msg)
}

// TamperEnv names the testing aid that makes a party process cheat: a party started with
// QMPC_TEST_TAMPER set to a net.ParseTamper spec (e.g. "message=40,xor=1") alters that
// message of its protocol connection, counted as in a local run (from the protocol's
// set-up, then the weights' sharing, then the session's requests; the owner's public
// model, the client's input shares and the output shares to the client travel outside
// the protocol and are not counted). In a cluster the weights are shared under the
// session's first protocol instance and each lane (concurrent client session) runs its
// own instance: a message after the weights' sharing is counted on every lane opened
// before the alteration fired, as if its requests followed the sharing, so the first lane
// to reach it alters it and the next requests on that lane are not altered (lanes opened
// at the same time may each alter one request). A lane of a protocol whose shares are bound
// to its instance's MAC keys (mpc.KeyedShares: spdz2k) shares the weights again under its
// own instance, so its messages are counted exactly as a local run's. When the message has
// been sent it writes
//
//	qmpc test hook: party P tampered with message K (to party J, B bytes, altered true)
//
// to standard error. It simulates a cheating party for tests and demonstrations; only
// party processes read it (EngineComputation); it is not meant for deployments.
const TamperEnv = "QMPC_TEST_TAMPER"

// tamperFromEnv returns the alteration of TamperEnv, or nil when unset.
func tamperFromEnv() (*net.Tamper, error) {
	s := os.Getenv(TamperEnv)
	if s == "" {
		return nil, nil
	}
	t, err := net.ParseTamper(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TamperEnv, err)
	}
	return &t, nil
}

// tamperHook is the TamperEnv aid on one protocol connection.
type tamperHook struct {
	t       *net.Tamperer
	message int // the index as TamperEnv gave it (local-run numbering)
	id      int
	out     io.Writer
	fired   *atomic.Bool // shared by the process's sessions and lanes
	noted   bool
}

// newTamperHook wraps conn so that its message at (counted on conn) is altered as spec says.
func newTamperHook(conn net.Conn, spec net.Tamper, at, id int, out io.Writer, fired *atomic.Bool) (*tamperHook, error) {
	local := spec
	local.Message = at
	t, err := net.NewTamperer(conn, local)
	if err != nil {
		return nil, err
	}
	// Lanes made before the alteration (a spare lane) have hooks too: only the first to
	// reach its message alters it, so that the process cheats once.
	t.ShareOnce(fired)
	return &tamperHook{t: t, message: spec.Message, id: id, out: out, fired: fired}, nil
}

// note writes the TamperEnv line once the tampered message was sent.
func (h *tamperHook) note() {
	if h == nil || h.noted {
		return
	}
	if r := h.t.Report(); r.Reached {
		h.noted = true
		h.fired.Store(true)
		fmt.Fprintf(h.out, "qmpc test hook: party %d tampered with message %d (to party %d, %d bytes, altered %v)\n",
			h.id, h.message, r.To, r.Bytes, r.Altered)
	}
}

// ClientTamperEnv names the testing aid that makes a party process alter what it sends to
// the client: a party started with QMPC_TEST_TAMPER_CLIENT set to a net.ParseTamper spec
// with xor or add (e.g. "message=1,word=0,xor=1") alters that message of the protocol's
// client side in the first request that sends it, counting the party's protocol messages
// to the client from 0 in each request: with an interactive client protocol
// (mpc.ClientIO, e.g. spdz2k) message 0 is the input round and 1 the output; with a
// one-way one (mpc.External) the messages are the output shares of each output tensor,
// in order. When the message has been sent it writes
//
//	qmpc test hook: party P tampered with client message K (B bytes, altered true)
//
// to standard error. It simulates a party that lies to the client, for tests; only party
// processes read it (EngineComputation); it is not meant for deployments.
const ClientTamperEnv = "QMPC_TEST_TAMPER_CLIENT"

// clientTamper is the ClientTamperEnv aid of one party process (nil: off).
type clientTamper struct {
	t     net.Tamper
	id    int
	out   io.Writer
	fired atomic.Bool
}

func clientTamperFromEnv() (*clientTamper, error) {
	s := os.Getenv(ClientTamperEnv)
	if s == "" {
		return nil, nil
	}
	t, err := net.ParseTamper(s)
	if err == nil && t.Replay > 0 {
		err = errs.New(errs.Config, "replay is not supported (xor or add)")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ClientTamperEnv, err)
	}
	return &clientTamper{t: t}, nil
}

// clientMessages counts one request's messages to the client for the ClientTamperEnv aid.
type clientMessages struct {
	h    *clientTamper
	sent int
}

// request starts counting a request's messages (nil when the aid is off or has fired).
func (h *clientTamper) request(id int, out io.Writer) *clientMessages {
	if h == nil || h.fired.Load() {
		return nil
	}
	h.id, h.out = id, out
	return &clientMessages{h: h}
}

// alter returns the message to send to the client in place of b.
func (c *clientMessages) alter(b []byte) []byte {
	if c == nil {
		return b
	}
	k := c.sent
	c.sent++
	if k != c.h.t.Message || !c.h.fired.CompareAndSwap(false, true) {
		return b
	}
	out := c.h.t.Apply(b)
	fmt.Fprintf(c.h.out, "qmpc test hook: party %d tampered with client message %d (%d bytes, altered %v)\n",
		c.h.id, k, len(b), len(out) != len(b) || string(out) != string(b))
	return out
}

// roundTrip is client's RoundTrip with the outgoing message passed through alter.
func (c *clientMessages) roundTrip(client cluster.ClientConn) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) { return client.RoundTrip(c.alter(b)) }
}
