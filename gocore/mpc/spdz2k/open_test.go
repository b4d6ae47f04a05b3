package spdz2k

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
)

// TestOpenHighWord: the Z_2^128 element a party reconstructs in Open has a uniform high
// word, whatever the bits from 64 up of the opened share (the overflow of earlier
// products, which are not part of the value). The opened value is z = a * 2^63 for party
// 0's even input a (so z mod 2^64 = 0, all the value there is), whose 128-bit sum has
// the high word (a >> 1) plus 2^63 times a bit of a's input mask: without the 2^64 t term
// of Open, the receiver would read a's bits 1..63 there. Every run uses fresh randomness
// (parties and dealer). Two cases, to party 1, to party 0 and to both: (1) the same a in
// every run: every bit of the high word must be 1 in about half of the runs (it would be
// constant); (2) a fresh a per run: the high word's low 63 bits never equal a >> 1.
func TestOpenHighWord(t *testing.T) {
	const runs = 128
	for _, to := range []int{1, 0, -1} {
		owner := 0
		if to == 0 {
			owner = 1
		}
		for _, fixed := range []bool{true, false} {
			t.Run(fmt.Sprintf("to=%d/fixed=%v", to, fixed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(to+7), 11))
				a := rng.Uint64() &^ 1
				var ones [64]int
				leaks := 0
				for run := range runs {
					if !fixed {
						a = rng.Uint64() &^ 1
					}
					hi := openedHighWord(t, byte(run), owner, to, a)
					for b := range 64 {
						ones[b] += int(hi >> b & 1)
					}
					if hi&^(1<<63) == a>>1 {
						leaks++
					}
				}
				if leaks != 0 {
					t.Fatalf("in %d of %d runs the receiver's high word held a >> 1", leaks, runs)
				}
				if fixed {
					for b, c := range ones {
						// 4 standard deviations of Binomial(128, 1/2) around 64.
						if c < runs/2-23 || c > runs/2+23 {
							t.Fatalf("bit %d of the high word was 1 in %d of %d runs (a fixed)", b, c, runs)
						}
					}
				}
			})
		}
	}
}

// openedHighWord runs one two-party computation with fresh seeds: owner inputs a, both
// compute z = a * 2^63, open it to party to (-1: both), and it returns the high word of
// the receiver's 128-bit element (party 1's for to = -1) after checking that its low
// word is z mod 2^64 = 0.
func openedHighWord(t *testing.T, seed byte, owner, to int, a uint64) uint64 {
	t.Helper()
	conns := net.NewPipes(2)
	var p [2]*Protocol
	mustBoth(t, conns,
		func() (err error) {
			p[0], err = New(conns[0], mpc.Options{Rand: prg.New(prg.Key{seed, 1, 0x0e}), Preprocessing: PreprocessingDealer})
			return
		},
		func() (err error) {
			p[1], err = New(conns[1], mpc.Options{Rand: prg.New(prg.Key{seed, 2, 0x0e}), Preprocessing: PreprocessingDealer})
			return
		})
	recv := to
	if to < 0 {
		recv = 1
	}
	var hi, lo uint64
	run := func(i int) func() error {
		return func() error {
			var in []uint64
			if i == owner {
				in = []uint64{a}
			}
			x, err := p[i].Input(owner, in, 1)
			if err != nil {
				return err
			}
			z := p[i].MulPublic(x, []uint64{1 << 63})
			v, err := p[i].open128(z, to)
			if err != nil {
				return err
			}
			if i == recv {
				hi, lo = v.Hi[0], v.Lo[0]
			}
			return nil
		}
	}
	mustBoth(t, conns, run(0), run(1))
	if lo != 0 {
		t.Fatalf("opened %#x, want a * 2^63 mod 2^64 = 0", lo)
	}
	return hi
}
