package rep3mal_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3mal"
	"github.com/qmpc/qmpc/gocore/net"
)

// tamper alters the message number msg (0-based, over all sends of the party) that its
// party sends: XOR x into word w, add a to it, or (replay >= 0) send a copy of the
// party's earlier message number replay instead (resized to the original's length).
type tamper struct {
	party, msg, word int
	x, a             uint64
	replay           int
}

type tamperConn struct {
	net.Conn
	t     tamper
	mu    sync.Mutex
	count int
	sent  [][]byte
	fired bool
}

func (c *tamperConn) Send(to int, msg []byte) error {
	c.mu.Lock()
	k := c.count
	c.count++
	if c.t.replay >= 0 {
		c.sent = append(c.sent, msg)
	}
	if k == c.t.msg {
		m := slices.Clone(msg)
		switch {
		case c.t.replay >= 0 && c.t.replay < k:
			old := c.sent[c.t.replay]
			clear(m)
			copy(m, old)
			c.fired = !slices.Equal(m, msg)
		case len(m) >= 8:
			w := c.t.word % (len(m) / 8)
			v := binary.LittleEndian.Uint64(m[8*w:])
			binary.LittleEndian.PutUint64(m[8*w:], (v^c.t.x)+c.t.a)
			c.fired = !slices.Equal(m, msg)
		case len(m) > 0:
			m[c.t.word%len(m)] ^= byte(c.t.x | 1)
			c.fired = true
		}
		msg = m
	}
	c.mu.Unlock()
	return c.Conn.Send(to, msg)
}

// circuit runs every kind of step once: both parties' inputs, Mul, MulSum, MatMul,
// GatherMulSum, A2B, AND, B2A, Bit2A, then Verify and an opening to all.
func circuit(p mpc.Protocol) ([]uint64, error) {
	const n = 12
	x := make([]uint64, n)
	y := make([]uint64, n)
	for i := range x {
		x[i] = uint64(i*37 + 5)
		y[i] = uint64(1000 - i*i)
	}
	var xv, yv []uint64
	if p.ID() == 0 {
		xv = x
	}
	if p.ID() == 1 {
		yv = y
	}
	X, err := p.Input(0, xv, n)
	if err != nil {
		return nil, err
	}
	Y, err := p.Input(1, yv, n)
	if err != nil {
		return nil, err
	}
	m, err := p.Mul(X, Y)
	if err != nil {
		return nil, err
	}
	s, err := p.MulSum(X, Y, 3)
	if err != nil {
		return nil, err
	}
	mm, err := p.MatMul(X, Y, 3, 4, 3) // [3,4] x [4,3]
	if err != nil {
		return nil, err
	}
	g, ok := mpc.Ext[mpc.GatherMulSummer](p)
	if !ok {
		return nil, fmt.Errorf("no GatherMulSum")
	}
	gm, err := g.GatherMulSum(X, []int32{0, 1, -1, 2, 3, 5}, Y, []int32{4, 4, 0, 7, 1, 2}, 2)
	if err != nil {
		return nil, err
	}
	bx, err := p.A2B(m, 20)
	if err != nil {
		return nil, err
	}
	by, err := p.A2B(Y, 20)
	if err != nil {
		return nil, err
	}
	and, err := p.AND([]mpc.BShare{bx}, []mpc.BShare{by})
	if err != nil {
		return nil, err
	}
	back, err := p.B2A(and[0])
	if err != nil {
		return nil, err
	}
	bit, err := p.Bit2A(p.Bits(bx, 3, 1))
	if err != nil {
		return nil, err
	}
	if err := mpc.Verify(p); err != nil {
		return nil, err
	}
	return p.Open(p.Concat(m, s, mm, gm, back, bit), -1)
}

// run runs the circuit under rep3-mal with tamper t (t.party < 0: none), setup
// included; it returns party 0's output (nil if any party failed), the first error,
// whether the tamper altered a message, and each party's number of messages.
func run(t tamper) (out []uint64, err error, fired bool, msgs [3]int64) {
	conns := net.NewPipes(3)
	var tc *tamperConn
	if t.party >= 0 {
		tc = &tamperConn{Conn: conns[t.party], t: t}
		conns[t.party] = tc
	}
	outs := make([][]uint64, 3)
	var wg sync.WaitGroup
	errsOf := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := rep3mal.New(conns[i], mpc.Options{})
			if err == nil {
				outs[i], err = circuit(p)
			}
			msgs[i] = conns[i].Stats().Messages
			if err != nil {
				errsOf[i] = err
				for _, c := range conns { // nobody waits forever
					c.Close()
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	for _, e := range errsOf {
		if e != nil && (err == nil || errors.Is(err, net.ErrClosed)) {
			err = e
		}
	}
	if tc != nil {
		fired = tc.fired
	}
	if err != nil {
		return nil, err, fired, msgs
	}
	return outs[0], nil, fired, msgs
}

func TestCircuitBitExact(t *testing.T) {
	var want []uint64
	err := local.Run("rep3", 3, func(p mpc.Protocol) error {
		o, err := circuit(p)
		if p.ID() == 0 {
			want = o
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err, _, msgs := run(tamper{party: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rep3-mal %v, rep3 %v", got, want)
	}
	t.Logf("messages per party: %v", msgs)
}

// outcome classifies one tampered run against the honest output.
type outcome int

const (
	detected  outcome = iota // every run that fails names a cheating check
	unchanged                // no error and the output is unchanged (the tamper was harmless)
	wrong                    // no error and a changed output: a security failure
	other                    // an error that is not errs.Cheating
)

func classify(want []uint64, t tamper) (outcome, error) {
	got, err, fired, _ := run(t)
	if !fired && err == nil {
		return unchanged, nil
	}
	switch {
	case err != nil && errs.KindOf(err) == errs.Cheating:
		return detected, err
	case err != nil:
		return other, err
	case slices.Equal(got, want):
		return unchanged, fmt.Errorf("altered but undetected")
	}
	return wrong, nil
}

// TestEveryMessageTampered alters every message of every party (setup, inputs,
// products' reshares, the conversions' products, the check's own triples, coin, openings,
// hashes and verdicts, and the output opening) in three ways: a flipped bit, an added
// offset, a replay of the party's previous message. Every altered run must end in
// errs.Cheating at some party; none may return a wrong output.
func TestEveryMessageTampered(t *testing.T) {
	want, err, _, msgs := run(tamper{party: -1})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[outcome]int{}
	for party := range 3 {
		for k := range int(msgs[party]) {
			for _, tm := range []tamper{
				{party: party, msg: k, word: k, x: 1 << (k % 64), replay: -1},
				{party: party, msg: k, word: 0, a: 0x9e3779b97f4a7c15, replay: -1},
				{party: party, msg: k, replay: k - 1},
			} {
				oc, err := classify(want, tm)
				counts[oc]++
				switch oc {
				case wrong:
					t.Errorf("party %d message %d (%+v): wrong output without an error", party, k, tm)
				case other:
					t.Errorf("party %d message %d (%+v): error that is not a cheating report: %v", party, k, tm, err)
				case unchanged:
					if err != nil {
						t.Logf("party %d message %d (%+v): %v", party, k, tm, err)
					}
				}
			}
		}
	}
	t.Logf("messages per party %v; outcomes: %d detected, %d unchanged, %d wrong, %d other",
		msgs, counts[detected], counts[unchanged], counts[wrong], counts[other])
}

// TestRandomTamperSweep: random (party, message, word, xor) over the circuit's messages;
// zero undetected output changes.
func TestRandomTamperSweep(t *testing.T) {
	want, err, _, msgs := run(tamper{party: -1})
	if err != nil {
		t.Fatal(err)
	}
	runs := 3000
	if testing.Short() {
		runs = 600
	}
	r := rand.New(rand.NewPCG(7, 9))
	counts := map[outcome]int{}
	for range runs {
		party := r.IntN(3)
		tm := tamper{party: party, msg: r.IntN(int(msgs[party])), word: r.IntN(1 << 20), x: r.Uint64() | 1, replay: -1}
		oc, err := classify(want, tm)
		counts[oc]++
		if oc == wrong || oc == other {
			t.Errorf("%+v: outcome %d (%v)", tm, oc, err)
		}
	}
	t.Logf("%d random tampers: %d detected, %d unchanged, %d wrong, %d other",
		runs, counts[detected], counts[unchanged], counts[wrong], counts[other])
}
