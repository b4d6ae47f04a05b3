package inference

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

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
