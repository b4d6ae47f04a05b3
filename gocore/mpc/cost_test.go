package mpc_test

import (
	"fmt"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// counter counts the protocol calls of the generic blocks (on party 0 of plain).
type counter struct {
	mpc.Protocol
	andRounds, andGates int // p.AND calls, and bit-gates (planes x elements)
	a2b, b2a            []int
	bit2a, mul          int
}

func (c *counter) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	c.andRounds++
	for _, x := range a {
		c.andGates += x.Width() * x.Len()
	}
	return c.Protocol.AND(a, b)
}

func (c *counter) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	c.a2b = append(c.a2b, w)
	return c.Protocol.A2B(x, w)
}

func (c *counter) B2A(x mpc.BShare) (mpc.AShare, error) {
	c.b2a = append(c.b2a, x.Width())
	return c.Protocol.B2A(x)
}

func (c *counter) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	c.bit2a++
	return c.Protocol.Bit2A(x)
}

func (c *counter) Mul(a, b mpc.AShare) (mpc.AShare, error) {
	c.mul++
	return c.Protocol.Mul(a, b)
}

func (c *counter) String() string {
	return fmt.Sprintf("A2B widths %v, AND rounds %d, B2A widths %v, Bit2A %d, Mul %d", c.a2b, c.andRounds, c.b2a, c.bit2a, c.mul)
}

// maskCounter is a counter whose protocol has MaskB.
type maskCounter struct {
	*counter
	m maskPlain
}

func (c maskCounter) MaskB(x mpc.BShare, mask []uint64) mpc.BShare { return c.m.MaskB(x, mask) }

func countCost(t *testing.T, n int, withMask bool, f func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error)) *counter {
	t.Helper()
	var cnt *counter
	err := local.Run("plain", 1, func(p mpc.Protocol) error {
		x := p.Public(make([]uint64, n))
		cnt = &counter{Protocol: p}
		var q mpc.Protocol = cnt
		if withMask {
			q = maskCounter{cnt, maskPlain{p}}
		}
		_, err := f(q, x)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cnt
}

// TestCost records the cost of the blocks in the configurations the engine uses and fails
// if a change makes them more expensive than the documented budget (AND gates per element
// of the generic circuits, beyond the protocol's A2B and B2A).
func TestCost(t *testing.T) {
	const n = 1024
	m, s := qnn.QuantizeMultiplier(0.0037) // shift -8
	pc := make([]int32, 16)
	ps := make([]int, 16)
	for c := range pc {
		pc[c], ps[c] = qnn.QuantizeMultiplier(0.0004 * float64(c+1))
	}
	cases := []struct {
		name      string
		f         func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error)
		maxGates  int // per element
		maxRounds int // AND rounds
		mask      bool
	}{
		{"requantize/int8/per-tensor/acc24", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{m}, []int{s}, nil, -128, -128, 127, 24)
		}, 20, 4, false},
		{"requantize/uint8/zp=128/per-tensor/acc24", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{m}, []int{s}, nil, 128, 0, 255, 24)
		}, 70, 5, false},
		{"requantize/int8/relu6/per-channel/acc24", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, pc, ps, channels(n, 16), -10, -10, 90, 24)
		}, 30, 6, false},
		{"requantize/int8/per-channel/acc32", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, pc, ps, channels(n, 16), 3, -128, 127, 32)
		}, 80, 20, false},
		{"requantize/int8/per-channel/acc32/maskb", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, pc, ps, channels(n, 16), 3, -128, 127, 32)
		}, 80, 7, true},
		{"requantize/int8/per-channel/acc24/maskb", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, pc, ps, channels(n, 16), -10, -10, 90, 24)
		}, 70, 6, true},
		{"mulquantizedmultiplier/per-tensor/acc24", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.MulQuantizedMultiplier(p, x, []int32{m}, []int{s}, nil, 24)
		}, 60, 6, false},
		{"truncfloor/bound40/m16", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.TruncFloor(p, x, 16, 40)
		}, 0, 0, false},
		{"clamp/[0,255]/bound32", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Clamp(p, x, 0, 255, 32)
		}, 35, 6, false},
		{"divround/d=49/bound20", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.DivRoundPublic(p, x, []int64{49}, 20)
		}, 0, 0, false},
		{"divround/d=4/bound20", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.DivRoundPublic(p, x, []int64{4}, 20)
		}, 110, 7, false},
	}
	for _, tc := range cases {
		c := countCost(t, n, tc.mask, tc.f)
		gates := c.andGates / n
		t.Logf("%-45s %3d AND gates/elem; %s", tc.name, gates, c)
		if gates > tc.maxGates || c.andRounds > tc.maxRounds {
			t.Errorf("%s: %d gates/elem, %d AND rounds: budget %d, %d", tc.name, gates, c.andRounds, tc.maxGates, tc.maxRounds)
		}
	}
}
