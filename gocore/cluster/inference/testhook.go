package inference

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// PauseEnv names the testing aid that lets a fault test know that an inference is under
// way: a party process started with QMPC_TEST_PAUSE_AT_LAYER=K, in its first inference
// that reaches secure layer K (counting from 0, in the order of the per-layer stats),
// flushes what it has sent, writes
//
//	qmpc test hook: party P paused in layer L
//
// to standard error and waits before sending its first message of that layer, until its
// session fails (the test kills or stops it, or the other parties give up on it after one
// step timeout). Only party processes read it (EngineComputation); it is not meant for
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

// pauseConn is the protocol's connection with the PauseEnv hook: it pauses before the
// first message sent while the engine is in layer at or later.
type pauseConn struct {
	net.Conn
	at     int
	id     int
	layer  func() int   // secure layers done in the running inference
	failed func() error // the session's failure, nil while it works
	out    io.Writer
	active bool // an inference is running
	done   bool // paused once already
}

func (c *pauseConn) Send(to int, msg []byte) error {
	if c.active && !c.done {
		if l := c.layer(); l >= c.at {
			c.done = true
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
// message of its protocol connection in the first session that sends it, and no other
// (messages counted from the protocol's set-up in the session, as in a local run; so a
// test sees one cheated request and the parties serving the next ones; the owner's public model, the client's input
// shares and the output shares to the client travel outside that connection and are not
// counted). When the message has been sent it writes
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

// noteTamper writes the TamperEnv line once the session's tampered message was sent.
func (c *engineComp) noteTamper() {
	if c.tamper == nil || c.tamperNoted {
		return
	}
	if r := c.tamper.Report(); r.Reached {
		c.tamperNoted = true
		if c.onTamper != nil {
			c.onTamper()
		}
		fmt.Fprintf(c.hookOut, "qmpc test hook: party %d tampered with message %d (to party %d, %d bytes, altered %v)\n",
			c.id, c.tamper.Spec().Message, r.To, r.Bytes, r.Altered)
	}
}
