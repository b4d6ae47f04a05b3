package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
)

// fusedProbe exposes a protocol's mpc.Protocol methods and an mpc.A2BSplitter, and
// counts the A2BSplit calls (fused passes taken) and, on party 0, the AND rounds.
type fusedProbe struct {
	mpc.Protocol
	s             mpc.A2BSplitter
	splits, ands  *atomic.Int64
	planes        *atomic.Int64 // if not nil: the AND planes (gates per element) of party 0
	countAndsHere bool
}

func (f fusedProbe) A2BSplit(x mpc.AShare, w int) (mpc.BShare, mpc.BShare, error) {
	if f.countAndsHere {
		f.splits.Add(1)
	}
	return f.s.A2BSplit(x, w)
}

func (f fusedProbe) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	if f.countAndsHere {
		f.ands.Add(1)
		if f.planes != nil {
			for _, x := range a {
				f.planes.Add(int64(x.Width()))
			}
		}
	}
	return f.Protocol.AND(a, b)
}

// LeafSplits is the wrapped protocol's (so that the probe takes the same path).
func (f fusedProbe) LeafSplits() bool { return mpc.HasLeafSplits(f.Protocol) }

// A2BSplitLeaves counts a fused pass, as A2BSplit does.
func (f fusedProbe) A2BSplitLeaves(x mpc.AShare, w, bits int, l *mpc.SplitLeaves) (mpc.BShare, mpc.BShare, []mpc.BShare, error) {
	if f.countAndsHere {
		f.splits.Add(1)
	}
	ls, _ := mpc.Ext[mpc.LeafSplitter](f.Protocol)
	return ls.A2BSplitLeaves(x, w, bits, l)
}

// B2AAnd is the wrapped protocol's.
func (f fusedProbe) B2AAnd(x, c, beta mpc.BShare) (mpc.AShare, error) {
	ls, _ := mpc.Ext[mpc.LeafSplitter](f.Protocol)
	return ls.B2AAnd(x, c, beta)
}

// chunkProbe is a fusedProbe that also exposes the wrapped protocol's mpc.ChunkB2Aer, so
// that the leaf circuit takes the chunk form of its B2A (fusedProbe alone: B2AAnd).
type chunkProbe struct{ fusedProbe }

// ChunkB2A is the wrapped protocol's.
func (f chunkProbe) ChunkB2A(l *mpc.SplitLeaves, sel mpc.BShare, xs []mpc.BShare, ws []uint64, c, beta mpc.BShare) (mpc.AShare, error) {
	cb, ok := mpc.Ext[mpc.ChunkB2Aer](f.Protocol)
	if !ok {
		return nil, fmt.Errorf("%T has no ChunkB2A", f.Protocol)
	}
	return cb.ChunkB2A(l, sel, xs, ws, c, beta)
}

// sumSplit is a test A2BSplitter for any protocol: the operands are A2B(x) and a public
// zero (the fused circuit's result does not depend on how x is split).
type sumSplit struct{ mpc.Protocol }

func (s sumSplit) A2BSplit(x mpc.AShare, w int) (mpc.BShare, mpc.BShare, error) {
	a, err := s.A2B(x, w)
	if err != nil {
		return nil, nil, err
	}
	return a, s.BPublic(make([]uint64, x.Len()), w), nil
}

// fewProbe is a fusedProbe that asks for the circuit with the fewest AND gates
// (mpc.FewANDer).
type fewProbe struct{ fusedProbe }

func (fewProbe) FewANDs() bool { return true }

// runFused runs tc (with the clamp) on name's protocol behind a fusedProbe and returns
// the number of fused passes and of AND rounds of party 0.
func runFused(t *testing.T, name string, tc *rqCase) (splits, ands int64) {
	t.Helper()
	return runFusedForm(t, name, tc, false)
}

// runFusedForm is runFused, with chunk: behind a chunkProbe (the leaf circuit's chunk
// B2A where the protocol has one).
func runFusedForm(t *testing.T, name string, tc *rqCase, chunk bool) (splits, ands int64) {
	t.Helper()
	splits, ands, _ = runFusedProbe(t, name, tc, chunk, false)
	return splits, ands
}

// runFusedProbe is runFusedForm that also returns party 0's AND planes, with few: behind a
// fewProbe.
func runFusedProbe(t *testing.T, name string, tc *rqCase, chunk, few bool) (splits, ands, planes int64) {
	t.Helper()
	var sc, ac, pc atomic.Int64
	q := mpc.Requant{Mult: tc.mult, Shift: tc.shift, Round: tc.round, OutZP: tc.zp, ActMin: tc.lo, ActMax: tc.hi}
	got, err := tryEval(name, [][]uint64{u64s(tc.acc)}, func(p mpc.Protocol, xs []mpc.AShare) ([]uint64, error) {
		s, ok := mpc.Ext[mpc.A2BSplitter](p)
		if !ok {
			s = sumSplit{p}
		}
		fp := fusedProbe{Protocol: p, s: s, splits: &sc, ands: &ac, planes: &pc, countAndsHere: p.ID() == 0}
		var pp mpc.Protocol = fp
		switch {
		case chunk:
			pp = chunkProbe{fp}
		case few:
			pp = fewProbe{fp}
		}
		y, err := mpc.RequantizeRound(pp, xs[0], q, tc.channel, tc.accBound)
		if err != nil {
			return nil, err
		}
		return p.Open(y, -1)
	})
	if err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	checkEq(t, tc.name, got, tc.want(true), func(i int) string {
		c := 0
		if tc.channel != nil {
			c = int(tc.channel[i])
		}
		return fmt.Sprintf("acc=%d M=%d shift=%d zp=%d [%d,%d]", tc.acc[i], tc.mult[c], tc.shift[c], tc.zp, tc.lo, tc.hi)
	})
	return sc.Load(), ac.Load(), pc.Load()
}

// TestRequantizeFused: the fused adder-and-clamp circuit (mpc.A2BSplitter) against the
// cleartext kernels, per tensor and per channel with one shift, for every rounding mode,
// accumulators at the int32 edges and at ties, zero points at the ends of the int8 and
// uint8 ranges, clamp ranges 2^h - 1 for several h, and shifts of both signs (positive
// shifts of 32-bit accumulators wrap first). Where the fused pass applies (no tie
// correction possible, q' wider than h bits) it must be taken, and with TFLite's
// quotient planes 34 <= E < 64 it takes at most 7 AND rounds.
func TestRequantizeFused(t *testing.T) {
	type act struct{ zp, lo, hi int32 }
	acts := []act{
		{0, 0, 255}, {255, 0, 255}, {-128, -128, 127}, {127, -128, 127}, {0, -128, 127},
		{5, 5, 20}, {-3, -3, -2}, {100000, -3, 4}, {-100000, 0, 63},
	}
	modes := []mpc.RoundMode{mpc.RoundAway, mpc.RoundUp, mpc.RoundSingle, mpc.RoundFloor}
	shifts := []int{-31, -20, -12, -8, -5, -1, 0, 1, 4, 10}
	for _, name := range []string{"plain", "rep3+native"} {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			fused := 0
			for _, mode := range modes {
				for _, s := range shifts {
					for ai, a := range acts {
						if name != "plain" && ai%3 != 0 && s%2 != 0 {
							continue // a subset on rep3: plain checks the circuit
						}
						// channels: edge multipliers and accumulator bounds, one shift
						var cs []rqCase
						for _, m := range []int32{1 << 30, math.MaxInt32, int32(1<<30 + r.IntN(1<<30)), 12345} {
							for _, ab := range []int{32, 20, 9} {
								lo, hi := -int64(1)<<(ab-1), int64(1)<<(ab-1)-1
								acc := signedRange(r, ab, 24)
								acc = append(acc, tieAccs(r, mode, m, s, lo, hi, 12)...)
								cs = append(cs, rqCase{mult: []int32{m}, shift: []int{s}, acc: acc, accBound: ab,
									round: []mpc.RoundMode{mode}})
							}
						}
						tc := batchCases("", cs)
						tc.zp, tc.lo, tc.hi = a.zp, a.lo, a.hi
						tc.name = fmt.Sprintf("%v/shift%d/zp=%d/[%d,%d]", mode, s, a.zp, a.lo, a.hi)
						splits, ands := runFused(t, name, &tc)
						h := 0
						for uint64(a.hi-a.lo)>>uint(h) != 0 {
							h++
						}
						tieFix := mode == mpc.RoundAway && s < 0 && a.zp-a.lo >= 1
						wide := s >= -12 // q' has more than h planes
						if wide && uint64(a.hi-a.lo) == 1<<uint(h)-1 && splits != 1 {
							t.Errorf("%s: fused pass not taken", tc.name)
						}
						if splits == 1 {
							fused++
							// the carry into E after 6 rounds, then the select; for E
							// just above 32 the zero test's tree takes one more round
							want := int64(7)
							if E := 31 - s; E < 34 {
								want = 8
							}
							if tieFix {
								want += 3 // the tie test, [L <= k] and the decrement
							}
							if s < 0 && ands > want {
								t.Errorf("%s: %d AND rounds, want %d", tc.name, ands, want)
							}
						}
					}
				}
			}
			if fused == 0 {
				t.Fatal("no case took the fused pass")
			}
			// Per-channel shifts in one call: one circuit per quotient plane, same rounds.
			for _, mode := range modes {
				var cs []rqCase
				for _, s := range []int{-12, -9, -8, -5, -1, 0, 1, 4} {
					for _, m := range []int32{1 << 30, math.MaxInt32, int32(1<<30 + r.IntN(1<<30))} {
						acc := signedRange(r, 32, 30)
						acc = append(acc, tieAccs(r, mode, m, s, math.MinInt32, math.MaxInt32, 8)...)
						cs = append(cs, rqCase{mult: []int32{m}, shift: []int{s}, acc: acc, accBound: 32,
							round: []mpc.RoundMode{mode}})
					}
				}
				// and a small layer (a few elements per shift: one aligned circuit, or
				// word-padded groups where the tie correction applies)
				var small []rqCase
				for k, c := range cs {
					if k%3 == 0 {
						c.acc = []int64{c.acc[0], c.acc[5], c.acc[len(c.acc)-1]}
						c.accBound = 12
						for i, a := range c.acc {
							c.acc[i] = a >> 20
						}
						small = append(small, c)
					}
				}
				for _, a := range []act{{0, 0, 255}, {10, 0, 255}} {
					tc := batchCases("", small)
					tc.zp, tc.lo, tc.hi = a.zp, a.lo, a.hi
					tc.name = fmt.Sprintf("%v/small per-channel/zp=%d/[%d,%d]", mode, a.zp, a.lo, a.hi)
					if splits, _ := runFused(t, name, &tc); splits != 1 {
						t.Errorf("%s: fused pass not taken", tc.name)
					}
				}
				tc := batchCases("", cs)
				for _, a := range []act{{0, 0, 255}, {-128, -128, 127}, {5, 5, 20}} {
					tc.zp, tc.lo, tc.hi = a.zp, a.lo, a.hi
					tc.name = fmt.Sprintf("%v/per-channel shifts/zp=%d/[%d,%d]", mode, a.zp, a.lo, a.hi)
					splits, ands := runFused(t, name, &tc)
					if splits != 1 {
						t.Errorf("%s: fused pass not taken", tc.name)
					}
					if ands > 8 {
						t.Errorf("%s: %d AND rounds, want at most 8", tc.name, ands)
					}
				}
			}
		})
	}
}

// TestRequantizeFusedFewANDs: the fused circuit with the fewest AND gates (mpc.FewANDer,
// rep3-mal's choice: a ripple-carry adder) against the cleartext kernels, per tensor and
// per channel, for every rounding mode, zero points at the ends of the ranges and shifts
// of both signs, on plain and on rep3-mal (its checked A2B operands); it must take fewer
// than half the AND gates of the least-depth circuit wherever the accumulators are 32
// bits wide and no tie correction applies (that case keeps the least-depth circuit).
func TestRequantizeFusedFewANDs(t *testing.T) {
	type act struct{ zp, lo, hi int32 }
	acts := []act{{0, 0, 255}, {-128, -128, 127}, {127, -128, 127}, {5, 5, 20}, {-100000, 0, 63}}
	modes := []mpc.RoundMode{mpc.RoundAway, mpc.RoundUp, mpc.RoundSingle, mpc.RoundFloor}
	shifts := []int{-20, -8, -5, 0, 4}
	for _, name := range []string{"plain", "rep3-mal+native"} {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(23, 24))
			fewer := 0
			for mi, mode := range modes {
				for si, s := range shifts {
					for ai, a := range acts {
						if name != "plain" && (mi+si+ai)%4 != 0 {
							continue // a subset on rep3-mal: plain checks the circuit
						}
						var cs []rqCase
						for _, m := range []int32{1 << 30, math.MaxInt32, int32(1<<30 + r.IntN(1<<30))} {
							for _, ab := range []int{32, 12} {
								lo, hi := -int64(1)<<(ab-1), int64(1)<<(ab-1)-1
								acc := signedRange(r, ab, 16)
								acc = append(acc, tieAccs(r, mode, m, s, lo, hi, 8)...)
								cs = append(cs, rqCase{mult: []int32{m}, shift: []int{s}, acc: acc, accBound: ab,
									round: []mpc.RoundMode{mode}})
							}
						}
						tc := batchCases("", cs)
						tc.zp, tc.lo, tc.hi = a.zp, a.lo, a.hi
						tc.name = fmt.Sprintf("%v/shift%d/zp=%d/[%d,%d]", mode, s, a.zp, a.lo, a.hi)
						fs, _, fp := runFusedProbe(t, name, &tc, false, true)
						ds, _, dp := runFusedProbe(t, name, &tc, false, false)
						if fs != ds {
							t.Errorf("%s: %d fused passes with the fewest ANDs, %d without", tc.name, fs, ds)
						}
						tieFix := mode == mpc.RoundAway && s < 0 && a.zp-a.lo >= 1
						if fs == 1 && !tieFix {
							if 2*fp >= dp {
								t.Errorf("%s: %d AND planes with the fewest ANDs, %d without", tc.name, fp, dp)
							}
							fewer++
						}
					}
				}
			}
			if fewer == 0 {
				t.Fatal("no case took the circuit with the fewest ANDs")
			}
			// Per-channel shifts in one call (groups by quotient plane).
			var cs []rqCase
			for _, s := range []int{-12, -9, -5, 0, 4} {
				for _, m := range []int32{1 << 30, math.MaxInt32} {
					acc := signedRange(r, 32, 20)
					cs = append(cs, rqCase{mult: []int32{m}, shift: []int{s}, acc: acc, accBound: 32,
						round: []mpc.RoundMode{mpc.RoundUp}})
				}
			}
			tc := batchCases("", cs)
			tc.zp, tc.lo, tc.hi = 0, 0, 255
			tc.name = "per-channel shifts"
			if fs, _, _ := runFusedProbe(t, name, &tc, false, true); fs != 1 {
				t.Errorf("%s: fused pass not taken", tc.name)
			}
		})
	}
}

// TestRequantizeLeaves: rep3's leaf form of the fused pass (mpc.LeafSplitter) at the
// outputs' edges: accumulators whose quotient q' = q + zp - actMin lies at -2..2 and
// H-2..H+2 (the clamp's corners, where the branch cE = 0 and cE & beta differ), and at
// the accumulator range's ends (q' - 1 must not wrap), for uint8, int8 and 4-bit
// outputs and quotient planes E from 31 to 50; and its AND rounds: 4 after the leaves'
// round (the carry into E over at most 16 chunks, then the selects), against 7.
func TestRequantizeLeaves(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	type act struct{ zp, lo, hi int32 }
	// {-2048, 0, 255} with M = 2^30 and shift -19: q' = q - 2048 spans exactly [-2^12, 0]
	// (the least signed width), so the branch cE = 0 would wrap at acc = -2^31 without the
	// extra plane.
	for _, a := range []act{{0, 0, 255}, {-128, -128, 127}, {3, 0, 15}, {-5, -128, 127}, {-2048, 0, 255}} {
		for _, s := range []int{0, -3, -5, -8, -12, -19} {
			var cs []rqCase
			for _, m := range []int32{1 << 30, math.MaxInt32, int32(1<<30 + r.IntN(1<<30))} {
				for _, ab := range []int{32, 24} {
					if a.zp == -2048 && (m != 1<<30 || ab != 32) {
						continue
					}
					lo, hi := -int64(1)<<(ab-1), int64(1)<<(ab-1)-1
					acc := []int64{lo, lo + 1, lo + 2, lo + 3, hi - 1, hi, 0, -1, 1}
					E := 31 - s
					for _, q := range []int64{-2, -1, 0, 1, 2, int64(a.hi-a.lo) - 2, int64(a.hi-a.lo) - 1, int64(a.hi - a.lo), int64(a.hi-a.lo) + 1, int64(a.hi-a.lo) + 2} {
						// acc*m/2^E ~ q - (zp - actMin)
						x := (q - int64(a.zp-a.lo)) << uint(E) / int64(m)
						for d := int64(-2); d <= 2; d++ {
							if v := x + d; v >= lo && v <= hi {
								acc = append(acc, v)
							}
						}
					}
					cs = append(cs, rqCase{mult: []int32{m}, shift: []int{s}, acc: acc, accBound: ab, round: []mpc.RoundMode{mpc.RoundUp}})
				}
			}
			tc := batchCases("", cs)
			tc.zp, tc.lo, tc.hi = a.zp, a.lo, a.hi
			tc.name = fmt.Sprintf("shift%d/zp=%d/[%d,%d]", s, a.zp, a.lo, a.hi)
			for _, chunk := range []bool{false, true} { // B2AAnd of the output planes; ChunkB2A
				splits, ands := runFusedForm(t, "rep3+native", &tc, chunk)
				if splits != 1 {
					t.Errorf("%s (chunk %v): fused pass not taken", tc.name, chunk)
				}
				if ands > 4 {
					t.Errorf("%s (chunk %v): %d AND rounds, want 4", tc.name, chunk, ands)
				}
			}
		}
	}
}
