package mpc_test

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
)

// recordConn logs every message a party receives.
type recordConn struct {
	net.Conn
	mu   sync.Mutex
	msgs [][]byte
}

func (c *recordConn) Recv(from int) ([]byte, error) {
	m, err := c.Conn.Recv(from)
	if err == nil {
		c.mu.Lock()
		c.msgs = append(c.msgs, append([]byte(nil), m...))
		c.mu.Unlock()
	}
	return m, err
}

// noOpen is a protocol whose Open and OpenB fail: the blocks must never reveal anything
// themselves (all their secrecy then rests on the protocol's primitives).
type noOpen struct{ mpc.Protocol }

// Unwrap keeps the protocol's optional extensions (A2BHigh, MaskB, GatherMulSum) on the
// real code path: the blocks find them through mpc.Ext.
func (n noOpen) Unwrap() mpc.Protocol { return n.Protocol }

func (noOpen) Open(mpc.AShare, int) ([]uint64, error) {
	return nil, errors.New("a block called Open")
}

func (noOpen) OpenB(mpc.BShare, int) ([]uint64, error) {
	return nil, errors.New("a block called OpenB")
}

// viewsOf runs f on rep3 parties over recording pipes and returns what each party
// received. Nothing is opened: every message is part of the secure computation.
func viewsOf(t *testing.T, acc []uint64, f func(p mpc.Protocol, x mpc.AShare) error) [][][]byte {
	t.Helper()
	conns := net.NewPipes(3)
	recs := make([]*recordConn, 3)
	ps := make([]mpc.Protocol, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		recs[i] = &recordConn{Conn: conns[i]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps[i], errs[i] = local.NewParty("rep3", recs[i], mpc.Options{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs { // forget the key setup
		r.msgs = nil
	}
	err := local.RunParties(ps, func(p mpc.Protocol) error {
		x, err := inputAcc(p, acc)
		if err != nil {
			return err
		}
		return f(noOpen{p}, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][][]byte, 3)
	for i, r := range recs {
		out[i] = r.msgs
	}
	return out
}

// TestRep3Views checks, for the blocks on rep3, that they never open a value (noOpen),
// that what each party receives looks
// uniformly random even when every secret is 0 (a message carrying a cleartext, or a
// share masked by nothing, would be all zeros or structured there), and that two runs on
// the same secret exchange different messages (fresh randomness).
func TestRep3Views(t *testing.T) {
	const n = 2048
	zeros := make([]uint64, n)
	r := rand.New(rand.NewPCG(1, 1))
	ones := make([]uint64, n)
	for i := range ones {
		ones[i] = uint64(r.IntN(1 << 20))
	}
	blocks := []struct {
		name string
		f    func(p mpc.Protocol, x mpc.AShare) error
	}{
		{"requantize", func(p mpc.Protocol, x mpc.AShare) error {
			_, err := mpc.Requantize(p, x, []int32{1 << 30, 1<<31 - 1}, []int{-3, -9}, channels(n, 2), 5, -128, 127, 24)
			return err
		}},
		{"requantize/maskb/acc32", func(p mpc.Protocol, x mpc.AShare) error {
			_, err := mpc.Requantize(maskRep3{p}, x, []int32{1 << 30, 1<<31 - 1, 1<<30 + 7}, []int{-3, -9, -1}, channels(n, 3), 5, -128, 127, 32)
			return err
		}},
		{"mulquantizedmultiplier", func(p mpc.Protocol, x mpc.AShare) error {
			_, err := mpc.MulQuantizedMultiplier(p, x, []int32{1 << 30}, []int{-5}, nil, 24)
			return err
		}},
		{"argmax", func(p mpc.Protocol, x mpc.AShare) error {
			_, err := mpc.Argmax(p, x, 16, 24)
			return err
		}},
		{"divround", func(p mpc.Protocol, x mpc.AShare) error {
			_, err := mpc.DivRoundPublic(p, x, []int64{4}, 24)
			return err
		}},
	}
	for _, bl := range blocks {
		t.Run(bl.name, func(t *testing.T) {
			a := viewsOf(t, zeros, bl.f)
			b := viewsOf(t, zeros, bl.f)
			c := viewsOf(t, ones, bl.f)
			for id := range 3 {
				if len(a[id]) != len(b[id]) || len(a[id]) != len(c[id]) {
					t.Fatalf("party %d: %d, %d and %d messages in three runs", id, len(a[id]), len(b[id]), len(c[id]))
				}
				for k, m := range a[id] {
					if len(m) < 64 {
						continue
					}
					if string(m) == string(b[id][k]) {
						t.Errorf("party %d message %d (%d bytes) is the same in two runs", id, k, len(m))
					}
					ones := 0
					for _, x := range m {
						ones += bits.OnesCount8(x)
					}
					// mean len*4, sd sqrt(len*2): 8 sd
					dev := float64(ones) - float64(len(m))*4
					if dev*dev > 64*float64(len(m))*2 {
						t.Errorf("party %d message %d (%d bytes) of a zero secret has %d of %d bits set", id, k, len(m), ones, 8*len(m))
					}
				}
			}
		})
	}
}

func channels(n, nc int) []int32 {
	c := make([]int32, n)
	for i := range c {
		c[i] = int32(i % nc)
	}
	return c
}
