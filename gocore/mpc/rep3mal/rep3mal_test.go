package rep3mal_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3mal"
	"github.com/qmpc/qmpc/gocore/net"
)

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

// run runs the circuit under rep3-mal, setup included, with party's messages altered by
// t (party < 0: none; then every party's message sizes are recorded). It returns party
// 0's output (nil if any party failed), the first error, whether a message was altered,
// and each party's message sizes (untampered runs only).
func run(party int, t net.Tamper) (out []uint64, err error, fired bool, sizes [3][]int) {
	conns := net.NewPipes(3)
	var tc *net.Tamperer
	var logs [3]*net.EventLog
	if party >= 0 {
		if tc, err = net.NewTamperer(conns[party], t); err != nil {
			return nil, err, false, sizes
		}
		conns[party] = tc
	} else {
		for i := range conns {
			logs[i] = net.NewEventLog(conns[i])
			conns[i] = logs[i]
		}
	}
	ps, err := local.NewOver(rep3mal.Name, conns, nil)
	if err != nil {
		return nil, err, tc != nil && tc.Tampered(), sizes
	}
	outs := make([][]uint64, 3)
	err = local.RunParties(ps, func(p mpc.Protocol) error {
		o, err := circuit(p)
		outs[p.ID()] = o
		return err
	})
	for i, l := range logs {
		if l != nil {
			sizes[i] = l.Sizes()
		}
	}
	if tc != nil {
		fired = tc.Tampered()
	}
	if err != nil {
		return nil, err, fired, sizes
	}
	return outs[0], nil, fired, sizes
}

// words is the number of 64-bit words of a message of size bytes (at least 1: a shorter
// message's bytes are word 0's).
func words(size int) int { return max((size+7)/8, 1) }

// rep3Output is the circuit's output under rep3 (the semi-honest protocol).
func rep3Output(t *testing.T) []uint64 {
	t.Helper()
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
	return want
}

func TestCircuitBitExact(t *testing.T) {
	want := rep3Output(t)
	got, err, _, sizes := run(-1, net.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rep3-mal %v, rep3 %v", got, want)
	}
	t.Logf("messages per party: %d %d %d", len(sizes[0]), len(sizes[1]), len(sizes[2]))
}

// TestStaleSlabBitExact: the circuit (its B2A by the adder, whose vectors come from the
// slab) is bit-exact and its proofs pass when every word the slab hands out holds stale
// values, different at each party: rep3 writes every mask and scratch word it takes
// before reading it.
func TestStaleSlabBitExact(t *testing.T) {
	want := rep3Output(t)
	var got [3][]uint64
	errs, _ := runParties(t, true, -1, net.Tamper{}, func(p mpc.Protocol) error {
		rep3mal.PoisonSlab(p)
		o, err := circuit(p)
		got[p.ID()] = o
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("party %d: %v", i, err)
		}
	}
	if !slices.Equal(got[0], want) {
		t.Fatalf("rep3-mal with stale slab words %v, rep3 %v", got[0], want)
	}
}

// outcome classifies one tampered run against the honest output.
type outcome int

const (
	detected  outcome = iota // every run that fails names a cheating check
	unchanged                // no error and the output is unchanged (the tamper was harmless)
	wrong                    // no error and a changed output: a security failure
	other                    // an error that is not errs.Cheating
)

func classify(want []uint64, party int, t net.Tamper) (outcome, error) {
	got, err, fired, _ := run(party, t)
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
// offset, a replay of the party's previous message to the same peer. Every altered run must end in
// errs.Cheating at some party; none may return a wrong output.
func TestEveryMessageTampered(t *testing.T) {
	want, err, _, sizes := run(-1, net.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[outcome]int{}
	for party := range 3 {
		for k, size := range sizes[party] {
			for _, tm := range []net.Tamper{
				{Message: k, Word: k % words(size), Xor: 1 << (k % 64)},
				{Message: k, Add: 0x9e3779b97f4a7c15},
				{Message: k, Replay: 1},
			} {
				oc, err := classify(want, party, tm)
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
	t.Logf("messages per party %d %d %d; outcomes: %d detected, %d unchanged, %d wrong, %d other",
		len(sizes[0]), len(sizes[1]), len(sizes[2]), counts[detected], counts[unchanged], counts[wrong], counts[other])
}

// TestRandomTamperSweep: random (party, message, word, xor) over the circuit's messages;
// zero undetected output changes.
func TestRandomTamperSweep(t *testing.T) {
	want, err, _, sizes := run(-1, net.Tamper{})
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
		k := r.IntN(len(sizes[party]))
		tm := net.Tamper{Message: k, Word: r.IntN(words(sizes[party][k])), Xor: r.Uint64() | 1}
		oc, err := classify(want, party, tm)
		counts[oc]++
		if oc == wrong || oc == other {
			t.Errorf("%+v: outcome %d (%v)", tm, oc, err)
		}
	}
	t.Logf("%d random tampers: %d detected, %d unchanged, %d wrong, %d other",
		runs, counts[detected], counts[unchanged], counts[wrong], counts[other])
}
