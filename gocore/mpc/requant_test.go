package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// oracleMul is the cleartext rounding of package qnn for one mode.
func oracleMul(mode mpc.RoundMode, x, m int32, shift int) int64 {
	switch mode {
	case mpc.RoundHalfEven:
		return qnn.MulHalfEven64(int64(x), m, shift)
	case mpc.RoundAway:
		return int64(qnn.MultiplyByQuantizedMultiplier(x, m, shift))
	default:
		return int64(qnn.RoundMode(mode).Mul(x, m, shift))
	}
}

// tieAccs returns accumulators in [lo, hi] for which x*m*2^(shift-31) hits exact ties of
// the final rounding of mode (found by search around the targets).
func tieAccs(r *rand.Rand, mode mpc.RoundMode, m int32, shift int, lo, hi int64, k int) []int64 {
	var out []int64
	if m == 0 {
		return nil
	}
	for tries := 0; tries < 40*k && len(out) < k; tries++ {
		var x int64
		if mode == mpc.RoundHalfEven {
			e := 31 - shift
			if e < 1 {
				return out
			}
			// p = x*m == 2^(e-1) mod 2^e: search x near j*2^e/m.
			j := int64(r.IntN(64)) - 32
			x = int64(math.Round((float64(j)*math.Ldexp(1, e) + math.Ldexp(1, e-1)) / float64(m)))
			for dx := int64(-2); dx <= 2; dx++ {
				y := x + dx
				if y < lo || y > hi {
					continue
				}
				p := y * int64(m)
				if p&(1<<e-1) == 1<<(e-1) {
					out = append(out, y)
				}
			}
			continue
		}
		rr := max(-shift, 0)
		if rr == 0 {
			return out
		}
		// t = floor((x*2^l*m + 2^30)/2^31) with t = j*2^r + 2^(r-1)
		j := int64(r.IntN(64)) - 32
		t := j<<rr + 1<<(rr-1)
		x = int64(math.Round(float64(t) * math.Ldexp(1, 31) / float64(m)))
		for dx := int64(-3); dx <= 3; dx++ {
			y := x + dx
			if y < lo || y > hi {
				continue
			}
			tt := (y*int64(m) + 1<<30) >> 31
			if tt&(1<<rr-1) == 1<<(rr-1) {
				out = append(out, y)
			}
		}
	}
	return out
}

type rqCase struct {
	name     string
	mult     []int32
	shift    []int
	round    []mpc.RoundMode
	channel  []int32
	acc      []int64
	accBound int
	zp       int32
	lo, hi   int32
}

func (tc *rqCase) want(clamp bool) []int64 {
	out := make([]int64, len(tc.acc))
	for i, a := range tc.acc {
		c := 0
		if tc.channel != nil {
			c = int(tc.channel[i])
		}
		mode := mpc.RoundAway
		if tc.round != nil {
			mode = tc.round[c]
		}
		y := oracleMul(mode, int32(a), tc.mult[c], tc.shift[c])
		if clamp {
			y = min(max(y+int64(tc.zp), int64(tc.lo)), int64(tc.hi))
		}
		out[i] = y
	}
	return out
}

func (tc *rqCase) run(t *testing.T, name string, clamp bool) {
	t.Helper()
	q := mpc.Requant{Mult: tc.mult, Shift: tc.shift, Round: tc.round, OutZP: tc.zp, ActMin: tc.lo, ActMax: tc.hi}
	got := evalA(t, name, [][]uint64{u64s(tc.acc)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
		if clamp {
			if tc.round == nil {
				return mpc.Requantize(p, xs[0], tc.mult, tc.shift, tc.channel, tc.zp, tc.lo, tc.hi, tc.accBound)
			}
			return mpc.RequantizeRound(p, xs[0], q, tc.channel, tc.accBound)
		}
		if tc.round == nil {
			return mpc.MulQuantizedMultiplier(p, xs[0], tc.mult, tc.shift, tc.channel, tc.accBound)
		}
		return mpc.MulQuantizedMultiplierRound(p, xs[0], q, tc.channel, tc.accBound)
	})
	checkEq(t, tc.name, got, tc.want(clamp), func(i int) string {
		c := 0
		if tc.channel != nil {
			c = int(tc.channel[i])
		}
		mode := mpc.RoundAway
		if tc.round != nil {
			mode = tc.round[c]
		}
		return fmt.Sprintf("acc=%d M=%d shift=%d mode=%v zp=%d [%d,%d]", tc.acc[i], tc.mult[c], tc.shift[c], mode, tc.zp, tc.lo, tc.hi)
	})
}

// perTensorCases covers every shift in [-31, 10] with edge multipliers, edge and tie
// accumulators, for one rounding mode.
func perTensorCases(r *rand.Rand, mode mpc.RoundMode, shifts []int, bounds []int) []rqCase {
	var cases []rqCase
	mults := []int32{1 << 30, math.MaxInt32, 1<<30 + 1, int32(1<<30 + r.IntN(1<<30)), 12345, 0}
	for _, ab := range bounds {
		for _, s := range shifts {
			for _, m := range mults {
				lo, hi := -int64(1)<<(ab-1), int64(1)<<(ab-1)-1
				acc := signedRange(r, ab, 40)
				acc = append(acc, tieAccs(r, mode, m, s, lo, hi, 24)...)
				cases = append(cases, rqCase{
					name: fmt.Sprintf("%v/acc%d/shift%d/M%d", mode, ab, s, m),
					mult: []int32{m}, shift: []int{s}, acc: acc, accBound: ab,
					round: []mpc.RoundMode{mode},
				})
			}
		}
	}
	return cases
}

// batchCases joins per-tensor cases into one per-channel call (channel = case index), so
// that a protocol run checks many of them at once, and with mixed shifts.
func batchCases(name string, cs []rqCase) rqCase {
	out := rqCase{name: name, accBound: 1}
	for k, c := range cs {
		out.mult = append(out.mult, c.mult[0])
		out.shift = append(out.shift, c.shift[0])
		out.round = append(out.round, c.round[0])
		out.accBound = max(out.accBound, c.accBound)
		for _, a := range c.acc {
			out.acc = append(out.acc, a)
			out.channel = append(out.channel, int32(k))
		}
	}
	return out
}

func allShifts() []int {
	var s []int
	for i := -31; i <= 10; i++ {
		s = append(s, i)
	}
	return s
}

func TestMulQuantizedMultiplierPerTensor(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, mode := range []mpc.RoundMode{mpc.RoundAway, mpc.RoundUp, mpc.RoundSingle, mpc.RoundFloor} {
			shifts := allShifts()
			bounds := []int{32, 20, 9}
			if name != "plain" {
				shifts = []int{-31, -30, -12, -8, -5, -1, 0, 1, 3, 10}
				bounds = []int{32, 17}
			}
			cs := perTensorCases(r, mode, shifts, bounds)
			if mode == mpc.RoundAway {
				// the exported per-tensor entry point, a few cases one by one
				for _, c := range cs[:3] {
					c.round = nil
					c.run(t, name, false)
				}
			}
			for _, c := range cs {
				if name == "plain" {
					c.run(t, name, false)
				}
			}
			// all shifts of this mode in one per-channel call (exercises alignment and windows)
			b := batchCases(fmt.Sprintf("%v/batched", mode), cs)
			b.run(t, name, false)
		}
	})
}

func TestMulHalfEven(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(5, 6))
		var shifts []int
		for s := -31; s <= 31; s++ {
			shifts = append(shifts, s)
		}
		bounds := []int{32, 12}
		if name != "plain" {
			shifts, bounds = []int{-31, -12, -8, -1, 0, 1, 20, 30, 31}, []int{32}
		}
		cs := perTensorCases(r, mpc.RoundHalfEven, shifts, bounds)
		b := batchCases("half-even/batched", cs)
		b.run(t, name, false)
		b.lo, b.hi, b.zp = -128, 127, 3
		b.run(t, name, true)
	})
}

func TestRequantize(t *testing.T) {
	type act struct {
		zp, lo, hi int32
	}
	acts := []act{
		{0, 0, 255}, {128, 0, 255}, {37, 37, 255}, {5, 5, 60}, {255, 0, 255}, // uint8: none, relu, relu6-like
		{0, -128, 127}, {-128, -128, 127}, {-5, -5, 127}, {10, -20, 40}, {127, -128, 127}, // int8
		{3, 3, 3},                          // degenerate range
		{-7, -1000, 1000}, {100000, -3, 2}, // wide and shifted ranges
	}
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(8, 9))
		modes := []mpc.RoundMode{mpc.RoundAway, mpc.RoundUp, mpc.RoundSingle, mpc.RoundFloor}
		acts := acts
		if name != "plain" { // a subset: the plain run checks the circuit, rep3 the protocol
			modes = modes[:2]
			acts = []act{acts[0], acts[6], acts[8], acts[12]}
		}
		for _, mode := range modes {
			shifts := []int{-31, -20, -12, -9, -8, -7, -3, -1, 0, 1, 2, 10}
			cs := perTensorCases(r, mode, shifts, []int{32, 20})
			b := batchCases(fmt.Sprintf("%v/batched", mode), cs)
			for _, a := range acts {
				b.zp, b.lo, b.hi = a.zp, a.lo, a.hi
				b.name = fmt.Sprintf("%v/zp=%d/[%d,%d]", mode, a.zp, a.lo, a.hi)
				b.run(t, name, true)
			}
		}
	})
}

// TestRequantizeMixed: per-channel multipliers with different shifts and rounding modes
// mixed in one call (LiteRT's vector/tail schedules), typical conv accumulators.
func TestRequantizeMixed(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(10, 11))
		const nc, n = 16, 3000
		tc := rqCase{name: "mixed", accBound: 24, zp: -3, lo: -128, hi: 127}
		for c := range nc {
			m, s := qnn.QuantizeMultiplier(math.Ldexp(0.5+r.Float64()/2, -r.IntN(12)-1))
			tc.mult = append(tc.mult, m)
			tc.shift = append(tc.shift, s)
			mode := mpc.RoundAway
			if c >= 12 {
				mode = mpc.RoundUp
			}
			tc.round = append(tc.round, mode)
		}
		tc.acc = signedRange(r, 24, n)
		for i := range n {
			tc.channel = append(tc.channel, int32(r.IntN(nc)))
			if i%3 == 0 { // small accumulators, so that outputs are not all clamped
				tc.acc[i] = int64(r.IntN(1<<14)) - 1<<13
			}
		}
		tc.run(t, name, true)
		tc.run(t, name, false)
		tc.round = nil
		tc.run(t, name, true)
	})
}
