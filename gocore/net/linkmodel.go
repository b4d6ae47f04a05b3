package net

import (
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Event is one Send or Recv of a party on its Conn, in the order the party made them
// (EventLog): the peer, the payload length and the direction.
type Event struct {
	Peer  int
	Bytes int
	Send  bool
}

// EventLog is a Conn that records its party's sends and receives in order (a testing
// and benchmarking aid: LinkTime replays them over emulated links; a sweep of tampers
// picks a word inside a message from Sizes). It copies nothing. Events and Sizes may be
// called from any goroutine once the party has stopped.
type EventLog struct {
	Conn
	events []Event
}

// NewEventLog wraps c.
func NewEventLog(c Conn) *EventLog { return &EventLog{Conn: c} }

// Send records the send and passes msg on.
func (c *EventLog) Send(to int, msg []byte) error {
	c.events = append(c.events, Event{Peer: to, Bytes: len(msg), Send: true})
	return c.Conn.Send(to, msg)
}

// Recv receives and records the message.
func (c *EventLog) Recv(from int) ([]byte, error) {
	m, err := c.Conn.Recv(from)
	if err == nil {
		c.events = append(c.events, Event{Peer: from, Bytes: len(m)})
	}
	return m, err
}

// Len is the number of events so far.
func (c *EventLog) Len() int { return len(c.events) }

// Events returns the events so far, in order.
func (c *EventLog) Events() []Event { return append([]Event{}, c.events...) }

// Sizes returns the lengths of the messages sent so far, in order.
func (c *EventLog) Sizes() []int {
	var s []int
	for _, e := range c.events {
		if e.Send {
			s = append(s, e.Bytes)
		}
	}
	return s
}

// LinkTime replays the parties' events (logs[i]: party i's, from EventLog) over links of
// one-way delay delay and mbit Mbit/s per direction of each ordered pair of parties, as
// tests/bench/delayproxy emulates them, with no computation time: a message leaves once
// its sender has made every earlier event and the link has serialized the earlier
// messages, and arrives delay after its last byte left; a receive completes when the
// message has arrived. It returns when the last party's last event completes: the
// latency of the message pattern alone, propagation and bytes on the critical path
// (the part of a run's wall time that protocol changes move and the machine's load does
// not). An error if the logs do not match (a receive without its send).
func LinkTime(logs [][]Event, delay time.Duration, mbit float64) (time.Duration, error) {
	n := len(logs)
	d := delay.Seconds()
	perByte := 0.0
	if mbit > 0 {
		perByte = 8 / (mbit * 1e6)
	}
	t := make([]float64, n)       // each party's clock
	pos := make([]int, n)         // its next event
	free := make([][]float64, n)  // free[i][j]: when link i -> j has sent everything so far
	arr := make([][][]float64, n) // arr[i][j]: arrival times of i's messages to j, in order
	taken := make([][]int, n)     // taken[i][j]: how many of them j has received
	for i := range n {
		free[i], arr[i], taken[i] = make([]float64, n), make([][]float64, n), make([]int, n)
	}
	for {
		progress := false
		for i := range n {
			for pos[i] < len(logs[i]) {
				e := logs[i][pos[i]]
				j := e.Peer
				if j < 0 || j >= n || j == i {
					return 0, errs.New(errs.Internal, "link time: party %d's event %d names party %d", i, pos[i], j)
				}
				if e.Send {
					dep := max(t[i], free[i][j]) + float64(e.Bytes)*perByte
					free[i][j] = dep
					arr[i][j] = append(arr[i][j], dep+d)
				} else {
					k := taken[j][i]
					if k >= len(arr[j][i]) {
						break // not sent yet
					}
					taken[j][i]++
					t[i] = max(t[i], arr[j][i][k])
				}
				pos[i]++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	end := 0.0
	for i := range n {
		if pos[i] < len(logs[i]) {
			return 0, errs.New(errs.Internal, "link time: party %d waits at event %d for a message never sent", i, pos[i])
		}
		end = max(end, t[i])
	}
	return time.Duration(end * float64(time.Second)), nil
}
