package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
)

// TestMoveOps: every data-movement op on shares (a public index map) equals the cleartext
// evaluator, with int8 inputs and with a float input whose TRANSPOSE and QUANTIZE the
// client runs before sharing.
func TestMoveOps(t *testing.T) {
	for _, floatIn := range []bool{false, true} {
		g := tflitetest.Movement(floatIn, 3)
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		pl, err := makePlan(g)
		if err != nil {
			t.Fatal(err)
		}
		if wantHead := map[bool]int{false: 0, true: 2}[floatIn]; len(pl.head) != wantHead {
			t.Errorf("float input %v: head %v, want %d ops", floatIn, pl.head, wantHead)
		}
		r := rand.New(rand.NewPCG(5, 6))
		for _, p := range protocols {
			name := p
			if floatIn {
				name += "/float-input"
			}
			t.Run(name, func(t *testing.T) {
				res := checkSecure(t, g, randomInputs(g, r), p)
				moves := 0
				for _, l := range res.Layers {
					if l.Op < 0 { // input sharing, output opening
						continue
					}
					op := g.Ops[l.Op]
					if !model.IsMove(op.Kind) {
						continue
					}
					moves++
					for party, n := range l.BytesSent {
						if n != 0 || l.Rounds != 0 {
							t.Errorf("%v: party %d sent %d bytes in %d rounds, want none", op.Kind, party, n, l.Rounds)
						}
					}
				}
				if want := 11 - map[bool]int{false: 0, true: 1}[floatIn]; moves != want {
					t.Errorf("%d data-movement layers on shares, want %d", moves, want)
				}
			})
		}
	}
}
