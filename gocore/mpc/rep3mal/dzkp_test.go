package rep3mal_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3mal"
	"github.com/qmpc/qmpc/gocore/net"
)

// mulCircuit: two inputs, one Mul of n words and one MulSum, Verify, open.
func mulCircuit(p mpc.Protocol, n int) ([]uint64, error) {
	x, y := make([]uint64, n), make([]uint64, n)
	for i := range x {
		x[i], y[i] = uint64(i*i+3), uint64(7*i+1)
	}
	X, err := p.Input(0, x, n)
	if err != nil {
		return nil, err
	}
	Y, err := p.Input(1, y, n)
	if err != nil {
		return nil, err
	}
	m, err := p.Mul(X, Y)
	if err != nil {
		return nil, err
	}
	s, err := p.MulSum(X, Y, n)
	if err != nil {
		return nil, err
	}
	// A [2,6] x [6,5] matrix product (10 outputs) and a convolution-like GatherMulSum: 12
	// outputs e = 3a + b, 5 terms each, x index a + k (-1: padding), y index 5b + k.
	iota := func(k int) []int32 {
		v := make([]int32, k)
		for i := range v {
			v[i] = int32(i)
		}
		return v
	}
	mm, err := p.MatMul(p.Gather(X, iota(12)), p.Gather(Y, iota(30)), 2, 6, 5)
	if err != nil {
		return nil, err
	}
	xi, yi := convIndex()
	g, ok := mpc.Ext[mpc.GatherMulSummer](p)
	if !ok {
		return nil, fmt.Errorf("no GatherMulSum")
	}
	gm, err := g.GatherMulSum(X, xi, Y, yi, 5)
	if err != nil {
		return nil, err
	}
	dxi, dyi := depthwiseIndex()
	dw, err := g.GatherMulSum(X, dxi, Y, dyi, 3)
	if err != nil {
		return nil, err
	}
	if err := mpc.Verify(p); err != nil {
		return nil, err
	}
	return p.Open(p.Concat(m, s, mm, gm, dw), -1)
}

// depthwiseIndex is a depthwise-convolution-like map: 15 outputs e = 3a + b (channel b),
// 3 terms, x index 3(a+k) + b (depends on the channel), y index 3b + k.
func depthwiseIndex() (xi, yi []int32) {
	for a := range 5 {
		for b := range 3 {
			for k := range 3 {
				xi = append(xi, int32(3*(a+k)+b))
				yi = append(yi, int32(3*b+k))
			}
		}
	}
	return xi, yi
}

// convIndex is the index maps of mulCircuit's GatherMulSum.
func convIndex() (xi, yi []int32) {
	for a := range 4 {
		for b := range 3 {
			for k := range 5 {
				x := int32(a + k)
				if (a+k)%4 == 0 {
					x = -1
				}
				xi = append(xi, x)
				yi = append(yi, int32(5*b+k))
			}
		}
	}
	return xi, yi
}

// runParties runs f on the three parties of a rep3-mal instance with the products checked
// by proofs (or by triples), party's messages altered by tm if party >= 0. All parties run
// to the end (the verdict exchange makes them abort together), so that every party's own
// error is kept; it returns them, and the message sizes of an untampered run (party < 0).
func runParties(t *testing.T, proofs bool, party int, tm net.Tamper, f func(p mpc.Protocol) error) (errsOut [3]error, sizes [3][]int) {
	t.Helper()
	conns := net.NewPipes(3)
	var logs [3]*net.EventLog
	if party >= 0 {
		tc, err := net.NewTamperer(conns[party], tm)
		if err != nil {
			t.Fatal(err)
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
		t.Fatal(err)
	}
	for _, p := range ps {
		rep3mal.SetProofs(p, proofs)
	}
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errsOut[p.ID()] = f(p)
		}()
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	for i, l := range logs {
		if l != nil {
			sizes[i] = l.Sizes()
		}
	}
	return errsOut, sizes
}

// runMul runs mulCircuit with the products checked by proofs (or by triples), party's
// messages altered by tm if party >= 0; it returns every party's error and the message
// sizes of an untampered run.
func runMul(t *testing.T, proofs bool, party int, tm net.Tamper, n int) (first error, errsOut [3]error, sizes [3][]int) {
	t.Helper()
	var want []uint64
	errsOut, sizes = runParties(t, proofs, party, tm, func(p mpc.Protocol) error {
		o, err := mulCircuit(p, n)
		if err == nil && p.ID() == 0 {
			want = o
		}
		return err
	})
	for _, err := range errsOut {
		if err != nil && first == nil {
			first = err
		}
	}
	if party < 0 && want != nil {
		x := func(i int) uint64 { return uint64(i*i + 3) }
		y := func(i int) uint64 { return uint64(7*i + 1) }
		var sum uint64
		for i := range n {
			if want[i] != x(i)*y(i) {
				t.Fatalf("product %d wrong", i)
			}
			sum += x(i) * y(i)
		}
		if want[n] != sum {
			t.Fatal("sum of products wrong")
		}
		for i := range 2 {
			for j := range 5 {
				var v uint64
				for k := range 6 {
					v += x(6*i+k) * y(5*k+j)
				}
				if want[n+1+5*i+j] != v {
					t.Fatalf("matrix product (%d,%d) wrong", i, j)
				}
			}
		}
		xi, yi := convIndex()
		for e := range 12 {
			var v uint64
			for k := range 5 {
				if q := xi[5*e+k]; q >= 0 {
					v += x(int(q)) * y(int(yi[5*e+k]))
				}
			}
			if want[n+11+e] != v {
				t.Fatalf("gathered product %d wrong", e)
			}
		}
		dxi, dyi := depthwiseIndex()
		for e := range 15 {
			var v uint64
			for k := range 3 {
				v += x(int(dxi[3*e+k])) * y(int(dyi[3*e+k]))
			}
			if want[n+23+e] != v {
				t.Fatalf("depthwise product %d wrong", e)
			}
		}
	}
	return first, errsOut, sizes
}

// TestProofCatchesWrongProduct: each party in turn sends a wrong Mul, MatMul or
// GatherMulSum message (its z_i plus 2^63, or plus 1, in one word): the proof of that party's products fails (its
// verifiers name it) and every party aborts with errs.Cheating; without the alteration
// all proofs verify. The same alterations are caught by the triple check (the fallback).
func TestProofCatchesWrongProduct(t *testing.T) {
	const n = 37
	for _, proofs := range []bool{true, false} {
		_, errs0, sizes := runMul(t, proofs, -1, net.Tamper{}, n)
		for i, err := range errs0 {
			if err != nil {
				t.Fatalf("proofs=%v: honest party %d: %v", proofs, i, err)
			}
		}
		for party := range 3 {
			for _, words := range []int{n, 10, 12, 15} { // Mul, MatMul, convolution, depthwise
				k := -1
				for i, s := range sizes[party] {
					if s == 8*words { // the last such is the product's reshare (the first may be an input)
						k = i
					}
				}
				if k < 0 {
					t.Fatalf("party %d sent no message of %d words", party, words)
				}
				for _, tm := range []net.Tamper{{Message: k, Word: 5, Add: 1 << 63}, {Message: k, Word: words - 1, Add: 1}} {
					_, got, _ := runMul(t, proofs, party, tm, n)
					named := false
					for i, err := range got {
						if errs.KindOf(err) != errs.Cheating {
							t.Fatalf("proofs=%v, prover %d, %+v: party %d: %v", proofs, party, tm, i, err)
						}
						want := "product check"
						if proofs {
							want = fmt.Sprintf("product proof (party %d's proof", party)
						}
						named = named || strings.Contains(err.Error(), want)
					}
					if !named {
						t.Fatalf("proofs=%v, prover %d, %d words: no party names the failed check: %v", proofs, party, words, got)
					}
				}
			}
		}
	}
}

// BenchmarkProducts: one Mul of 2^18 words and its check (all three parties in this
// process), by proofs and by bucket-verified triples.
func BenchmarkProducts(b *testing.B) {
	const n = 1 << 18
	for _, proofs := range []bool{true, false} {
		b.Run(fmt.Sprintf("proofs=%v", proofs), func(b *testing.B) {
			for b.Loop() {
				ps, err := local.NewOver(rep3mal.Name, net.NewPipes(3), nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range ps {
					rep3mal.SetProofs(p, proofs)
				}
				err = local.RunParties(ps, func(p mpc.Protocol) error {
					var x []uint64
					if p.ID() == 0 {
						x = make([]uint64, n)
						for i := range x {
							x[i] = uint64(i) * 0x9e3779b97f4a7c15
						}
					}
					X, err := p.Input(0, x, n)
					if err != nil {
						return err
					}
					if _, err := p.Mul(X, X); err != nil {
						return err
					}
					return mpc.Verify(p)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// andCircuit: two inputs of n values, A2B of both (the adder's AND words), then one AND
// of their 13 low bit planes, Verify, and the opened AND.
func andCircuit(p mpc.Protocol, n int) ([]uint64, error) {
	x, y := make([]uint64, n), make([]uint64, n)
	for i := range x {
		x[i], y[i] = uint64(i*i*977+3), uint64(0x9e3779b97f4a7c15*uint64(i+1))
	}
	X, err := p.Input(0, x, n)
	if err != nil {
		return nil, err
	}
	Y, err := p.Input(1, y, n)
	if err != nil {
		return nil, err
	}
	bx, err := p.A2B(X, 64)
	if err != nil {
		return nil, err
	}
	by, err := p.A2B(Y, 64)
	if err != nil {
		return nil, err
	}
	z, err := p.AND([]mpc.BShare{p.Bits(bx, 0, andPlanes)}, []mpc.BShare{p.Bits(by, 0, andPlanes)})
	if err != nil {
		return nil, err
	}
	if err := mpc.Verify(p); err != nil {
		return nil, err
	}
	return p.OpenB(z[0], -1)
}

const andPlanes = 13

// runAND runs andCircuit with party's messages altered by tm (party < 0: none, and the
// output is compared with x & y on the low 13 bits); it returns every party's error and
// the message sizes of an untampered run.
func runAND(t *testing.T, party int, tm net.Tamper, n int) (errsOut [3]error, sizes [3][]int) {
	t.Helper()
	conns := net.NewPipes(3)
	var logs [3]*net.EventLog
	if party >= 0 {
		tc, err := net.NewTamperer(conns[party], tm)
		if err != nil {
			t.Fatal(err)
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
		t.Fatal(err)
	}
	var out []uint64
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := andCircuit(p, n)
			errsOut[p.ID()] = err
			if err == nil && p.ID() == 0 {
				out = o
			}
		}()
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	for i, l := range logs {
		if l != nil {
			sizes[i] = l.Sizes()
		}
	}
	if party < 0 && errsOut[0] == nil {
		for i := range n {
			x, y := uint64(i*i*977+3), uint64(0x9e3779b97f4a7c15*uint64(i+1))
			if want := x & y & (1<<andPlanes - 1); out[i] != want {
				t.Fatalf("AND %d: %#x, want %#x", i, out[i], want)
			}
		}
	}
	return errsOut, sizes
}

// TestProofCatchesWrongAND: each party in turn sends a wrong AND word (one bit flipped,
// or all bits of one word) in the reshare of the explicit AND: the AND proof of that
// party fails (its verifiers name it) and every party aborts with errs.Cheating before
// the AND is opened; without the alteration all proofs verify and the output is x & y.
func TestProofCatchesWrongAND(t *testing.T) {
	const n = 37
	errs0, sizes := runAND(t, -1, net.Tamper{}, n)
	for i, err := range errs0 {
		if err != nil {
			t.Fatalf("honest party %d: %v", i, err)
		}
	}
	for party := range 3 {
		// The AND's reshare: 13 planes of one word (37 values), the last message of that
		// size before the proofs' first message (the lifts': 665 elements of GF(2^64), and
		// as many of GR if there are arithmetic products); the opening of the AND after
		// them has the same size.
		k := -1
		for i, s := range sizes[party] {
			if s >= 8*665 {
				break
			}
			if s == 8*andPlanes {
				k = i
			}
		}
		if k < 0 {
			t.Fatalf("party %d sent no message of %d words: %v", party, andPlanes, sizes[party])
		}
		for _, tm := range []net.Tamper{{Message: k, Word: 3, Xor: 1 << 17}, {Message: k, Word: andPlanes - 1, Xor: ^uint64(0)}, {Message: k, Word: 0, Xor: 1}} {
			got, _ := runAND(t, party, tm, n)
			named := false
			for i, err := range got {
				if errs.KindOf(err) != errs.Cheating {
					t.Fatalf("prover %d, %+v: party %d: %v", party, tm, i, err)
				}
				named = named || strings.Contains(err.Error(), fmt.Sprintf("AND proof (party %d's proof of its AND words", party))
			}
			if !named {
				t.Fatalf("prover %d, %+v: no party names the AND proof: %v", party, tm, got)
			}
		}
	}
}

// BenchmarkANDWords: A2B of 2^16 values, then one AND of its 2^16 words (2^22 bit
// gates), each checked (all three parties in this process), by the proofs and by
// bucket-verified triples.
func BenchmarkANDWords(b *testing.B) {
	const n = 1 << 10 // values of 64 bits: 64 planes of n/64 words
	for _, proofs := range []bool{true, false} {
		b.Run(fmt.Sprintf("proofs=%v", proofs), func(b *testing.B) {
			for b.Loop() {
				ps, err := local.NewOver(rep3mal.Name, net.NewPipes(3), nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range ps {
					rep3mal.SetProofs(p, proofs)
				}
				err = local.RunParties(ps, func(p mpc.Protocol) error {
					var x []uint64
					if p.ID() == 0 {
						x = make([]uint64, 64*n)
						for i := range x {
							x[i] = uint64(i) * 0x9e3779b97f4a7c15
						}
					}
					X, err := p.Input(0, x, 64*n)
					if err != nil {
						return err
					}
					bx, err := p.A2B(X, 64)
					if err != nil {
						return err
					}
					if err := mpc.Verify(p); err != nil {
						return err
					}
					if _, err := p.AND([]mpc.BShare{bx}, []mpc.BShare{bx}); err != nil {
						return err
					}
					return mpc.Verify(p)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestB2AInputCaught: the checked B2A's t = b0 b1 in the product form (Bit2A's, and every
// width's under rep3-mal-wan; here set for all widths) is party 0's input (its one message of
// n*w words to party 1, rep3/convert_checked.go). A wrong t_1 on the way (plus 1, or one
// bit flipped, in one word) fails party 0's product proof, which its verifiers (parties 1
// and 2) name, and every party aborts with errs.Cheating; with proofs off the triple
// check catches it. (A party 0 that keeps the wrong t itself, a consistent lie, leaves
// its product claim false: rep3's TestB2AProductClaims.)
func TestB2AInputCaught(t *testing.T) {
	const tWords = 12 * 20 // the circuit's B2A: 12 values of 20 bits
	for _, proofs := range []bool{true, false} {
		runCircuit, sizes := circuitRuns(t, proofs, 0)
		k := onlyMessage(t, sizes[0], tWords, "party 0", "the B2A input")
		for _, tm := range []net.Tamper{{Message: k, Word: 7, Add: 1}, {Message: k, Word: tWords - 1, Xor: 2}} {
			got := runCircuit(0, tm)
			named := false
			for i, err := range got {
				if errs.KindOf(err) != errs.Cheating {
					t.Fatalf("proofs=%v, %+v: party %d: %v", proofs, tm, i, err)
				}
				want := "product check"
				if proofs {
					want = "product proof (party 0's proof"
				}
				named = named || strings.Contains(err.Error(), want)
			}
			if !named {
				t.Fatalf("proofs=%v, %+v: no party names the failed check: %v", proofs, tm, got)
			}
		}
	}
}

// TestB2AAdderCaught: the circuit's B2A (12 values of 20 bits) takes ABY3's adder
// (rep3/convert_adder.go), whose opening of y = x - r_1 - r_2 sends one message of 64
// words (one per plane) from party 2 to party 0 and from party 1 to party 2. A bit flipped
// or a word offset in it is named by the opening check (the receiver's hash differs from
// the component's other holder's), a flipped bit in a ripple step's reshare (the AND
// words of one plane, one word) by an AND proof or, with proofs off, the triple check;
// every party aborts with errs.Cheating.
func TestB2AAdderCaught(t *testing.T) {
	const openWords = 64
	for _, proofs := range []bool{true, false} {
		runCircuit, sizes := circuitRuns(t, proofs, -1)
		// The opening: the one 64-word message of parties 1 and 2; the ripple: party 0's
		// one-word messages (its reshares of the ripple's ANDs, 62 in a row).
		type target struct {
			party int
			tm    net.Tamper
			want  string
		}
		var targets []target
		for _, party := range []int{1, 2} {
			k := onlyMessage(t, sizes[party], openWords, fmt.Sprintf("party %d", party), "the adder's opening")
			targets = append(targets, target{party, net.Tamper{Message: k, Word: 5, Xor: 1 << 3}, "opening check"},
				target{party, net.Tamper{Message: k, Word: openWords - 1, Add: 1 << 40}, "opening check"})
		}
		run := 0
		for i, s := range sizes[0] {
			if s == 8 {
				run++
			} else {
				run = 0
			}
			if run == 30 { // a ripple step in the middle of the 62
				want := "product check"
				if proofs {
					want = "AND proof"
				}
				targets = append(targets, target{0, net.Tamper{Message: i, Word: 0, Xor: 1 << 7}, want})
				break
			}
		}
		if len(targets) != 5 {
			t.Fatalf("proofs=%v: no run of one-word messages from party 0 (the ripple)", proofs)
		}
		for _, tg := range targets {
			got := runCircuit(tg.party, tg.tm)
			named := false
			for i, err := range got {
				if errs.KindOf(err) != errs.Cheating {
					t.Fatalf("proofs=%v, party %d, %+v: party %d: %v", proofs, tg.party, tg.tm, i, err)
				}
				named = named || strings.Contains(err.Error(), tg.want)
			}
			if !named {
				t.Fatalf("proofs=%v, party %d, %+v: no party names the %s: %v", proofs, tg.party, tg.tm, tg.want, got)
			}
		}
	}
}

// circuitRuns returns a runner of the circuit under rep3-mal with the products checked by
// proofs (or by triples), B2A by the adder from width adder on (-1: rep3-mal's default),
// and party's messages altered by tm, and the message sizes of an honest run, which must
// succeed.
func circuitRuns(t *testing.T, proofs bool, adder int) (func(party int, tm net.Tamper) [3]error, [3][]int) {
	t.Helper()
	run := func(party int, tm net.Tamper) ([3]error, [3][]int) {
		return runParties(t, proofs, party, tm, func(p mpc.Protocol) error {
			if adder >= 0 {
				rep3mal.SetAdderB2A(p, adder)
			}
			_, err := circuit(p)
			return err
		})
	}
	errs0, sizes := run(-1, net.Tamper{})
	for i, err := range errs0 {
		if err != nil {
			t.Fatalf("proofs=%v: honest party %d: %v", proofs, i, err)
		}
	}
	return func(party int, tm net.Tamper) [3]error { e, _ := run(party, tm); return e }, sizes
}

// onlyMessage returns the index of the one message of n words among a party's message
// sizes (in bytes); who and what name them in failures.
func onlyMessage(t *testing.T, sizes []int, n int, who, what string) int {
	t.Helper()
	k := -1
	for i, s := range sizes {
		if s == 8*n {
			if k >= 0 {
				t.Fatalf("%s sent two messages of %d words (%d and %d)", who, n, k, i)
			}
			k = i
		}
	}
	if k < 0 {
		t.Fatalf("%s sent no message of %d words (%s)", who, n, what)
	}
	return k
}
