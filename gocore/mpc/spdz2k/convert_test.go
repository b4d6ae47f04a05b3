package spdz2k

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/net"
)

// TestB2AWidths: B2A of w-bit values (party 0's input, A2B'd to w bits, then B2A) opens
// the values for every path of convert.go: daBits (w < 4), the 64-bit edaBit with the
// carry's prefix products from the offline phase (4 <= w <= 62; 8 is requantization's)
// and the full adder (63, 64), with the dealer and with the OT source, on values that
// make the carry out of plane w-1 and the increment through every high plane happen
// (all ones, 2^w - 1, and random); with the default circuits (the ripple adder) and with
// lowDepth.
func TestB2AWidths(t *testing.T) {
	widths := []int{1, 3, 4, 8, 10, 33, 62, 63, 64}
	for _, pre := range []string{PreprocessingDealer, PreprocessingOT} {
		for _, lowDepth := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lowDepth=%v", pre, lowDepth), func(t *testing.T) { testB2AWidths(t, widths, pre, lowDepth) })
		}
	}
}

func testB2AWidths(t *testing.T, widths []int, pre string, lowDepth bool) {
	{
		{
			if pre == PreprocessingOT && testing.Short() {
				t.Skip("OT source")
			}
			conns := net.NewPipes(2)
			p := newPair(t, conns, pre)
			p[0].lowDepth, p[1].lowDepth = lowDepth, lowDepth
			rng := rand.New(rand.NewPCG(uint64(len(pre)), 3))
			for _, w := range widths {
				vals := []uint64{0, 1, ^uint64(0), 1<<(w-1) | 1}
				for range 60 {
					vals = append(vals, rng.Uint64())
				}
				want := make([]uint64, len(vals))
				for i, v := range vals {
					want[i] = lowBits(v, w)
				}
				var got [2][]uint64
				run := func(i int) func() error {
					return func() error {
						var in []uint64
						if i == 0 {
							in = vals
						}
						x, err := p[i].Input(0, in, len(vals))
						if err != nil {
							return err
						}
						b, err := p[i].A2B(x, w)
						if err != nil {
							return err
						}
						a, err := p[i].B2A(b)
						if err != nil {
							return err
						}
						got[i], err = p[i].Open(a, -1)
						return err
					}
				}
				mustBoth(t, conns, run(0), run(1))
				for i := range 2 {
					if fmt.Sprint(got[i]) != fmt.Sprint(want) {
						t.Fatalf("w = %d, party %d: B2A opened %x, want %x", w, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestB2AEmpty: B2A of no elements (every path) returns an empty share without
// communication errors, with either source.
func TestB2AEmpty(t *testing.T) {
	for _, pre := range []string{PreprocessingDealer, PreprocessingOT} {
		conns := net.NewPipes(2)
		p := newPair(t, conns, pre)
		run := func(i int) func() error {
			return func() error {
				for _, w := range []int{2, 8, 64} {
					a, err := p[i].B2A(p[i].shared(bs(p[i].BPublic(nil, w))))
					if err != nil {
						return err
					}
					if a.Len() != 0 {
						return fmt.Errorf("w = %d: %d elements", w, a.Len())
					}
				}
				return nil
			}
		}
		mustBoth(t, conns, run(0), run(1))
	}
}
