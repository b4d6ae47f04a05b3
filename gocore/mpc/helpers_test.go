package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/plain"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/mpc/semi2k"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// protocols lists the protocols every block is tested with: "plain" and "rep3" without
// their mpc.PublicMasker (see runProto), "+mask" with a test implementation of it
// (per-element plane selection).
// "rep3+high" exposes only its mpc.HighA2B (the window passes with pruned adders), and
// "rep3+native" is rep3 with all its optional extensions.
// "semi2k+split" is semi2k whose inputs are split into random components, so that the
// blocks run on shares no party holds in the clear (its inputs are otherwise held by
// their owner, and products of held shares are local); "semi2k-dealer+split" the same
// with trusted-dealer preprocessing.
var protocols = []string{"plain", "rep3", "plain+mask", "rep3+mask", "rep3+high", "rep3+native", "semi2k+split", "semi2k-dealer+split", "rep3-mal", "spdz2k-dealer"}

// splitInput turns semi2k's inputs (held by their owner) into random additive components
// drawn from a PRG both parties share (a test device: it is not a secure sharing).
type splitInput struct {
	mpc.Protocol
	g *prg.PRG
}

func (s splitInput) Input(owner int, vals []uint64, n int) (mpc.AShare, error) {
	if _, err := s.Protocol.Input(owner, vals, n); err != nil {
		return nil, err
	}
	r := s.g.Uint64s(n)
	if s.ID() == owner {
		ring.Sub(r, vals, r)
	}
	return semi2k.FromComponent(r), nil
}

func (s splitInput) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	return s.Protocol.(mpc.PublicMasker).MaskB(x, mask)
}

// highOnly exposes the mpc.Protocol methods and mpc.HighA2B of a protocol.
type highOnly struct {
	mpc.Protocol
	h mpc.HighA2B
}

func (h highOnly) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) { return h.h.A2BHigh(x, w, lo) }

// maskPlain and maskRep3 add MaskB to plain and rep3 through their exported share
// accessors (for XOR sharings masking each component masks the value).
type maskPlain struct{ mpc.Protocol }

func (m maskPlain) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	return plain.FromPlanes(andPlanes(plain.Planes(x), mask), x.Len(), x.Width())
}

type maskRep3 struct{ mpc.Protocol }

func (m maskRep3) MaskB(x mpc.BShare, mask []uint64) mpc.BShare {
	a, b := rep3.BComponents(x)
	return rep3.FromBComponents(andPlanes(a, mask), andPlanes(b, mask), x.Len(), x.Width())
}

// noMask exposes only the mpc.Protocol methods of a protocol.
type noMask struct{ mpc.Protocol }

func andPlanes(planes, mask []uint64) []uint64 {
	out := make([]uint64, len(planes))
	for k := range out {
		out[k] = planes[k] & mask[k%len(mask)]
	}
	return out
}

// runProto is local.Run for the names of protocols.
func runProto(name string, f func(p mpc.Protocol) error) error {
	base, wrap := name, ""
	if i := strings.IndexByte(name, '+'); i >= 0 {
		base, wrap = name[:i], name[i+1:]
	}
	var ps []mpc.Protocol
	var err error
	if b, ok := strings.CutSuffix(base, "-dealer"); ok && !slices.Contains(local.Protocols(), base) {
		ps, err = local.NewWith(b, 0, func(int) mpc.Options { return mpc.Options{Preprocessing: mpc.PreprocessingDealer} })
	} else {
		ps, err = local.New(base, 0)
	}
	if err != nil {
		return err
	}
	if wrap == "" {
		// plain and rep3 implement mpc.PublicMasker; hide it so that the variants without
		// it (the requantization's window passes) stay tested.
		for i, p := range ps {
			ps[i] = noMask{p}
		}
	}
	if wrap == "split" {
		k := prg.NewKey()
		for i, p := range ps {
			ps[i] = splitInput{p, prg.New(k)}
		}
	}
	if wrap == "high" {
		for i, p := range ps {
			ps[i] = highOnly{p, p.(mpc.HighA2B)}
		}
	}
	if wrap == "mask" {
		for i, p := range ps {
			switch base {
			case "plain":
				ps[i] = maskPlain{p}
			case "rep3":
				ps[i] = maskRep3{p}
			}
		}
	}
	return local.RunParties(ps, f)
}

func forEachProtocol(t *testing.T, f func(t *testing.T, name string)) {
	for _, name := range protocols {
		t.Run(name, func(t *testing.T) { f(t, name) })
	}
}

// evalA inputs the vectors ins (party 0 owns them), applies f and opens its result to all
// parties; it checks that every party opened the same values and returns them.
func evalA(t *testing.T, name string, ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error)) []uint64 {
	t.Helper()
	got, err := tryEvalA(name, ins, f)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func tryEvalA(name string, ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error)) ([]uint64, error) {
	return tryEval(name, ins, func(p mpc.Protocol, xs []mpc.AShare) ([]uint64, error) {
		y, err := f(p, xs)
		if err != nil {
			return nil, err
		}
		return p.Open(y, -1)
	})
}

// tryEval inputs ins (party 0 owns them), runs f, which computes and opens a result to
// all parties, and checks that every party opened the same values.
func tryEval(name string, ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) ([]uint64, error)) ([]uint64, error) {
	var mu sync.Mutex
	outs := map[int][]uint64{}
	err := runProto(name, func(p mpc.Protocol) error {
		xs := make([]mpc.AShare, len(ins))
		for i, in := range ins {
			var v []uint64
			if p.ID() == 0 {
				v = in
			}
			x, err := p.Input(0, v, len(in))
			if err != nil {
				return err
			}
			xs[i] = x
		}
		v, err := f(p, xs)
		if err != nil {
			return err
		}
		mu.Lock()
		outs[p.ID()] = v
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	ref := outs[0]
	for id, v := range outs {
		if len(v) != len(ref) {
			return nil, fmt.Errorf("party %d opened %d values, party 0 %d", id, len(v), len(ref))
		}
		for i := range v {
			if v[i] != ref[i] {
				return nil, fmt.Errorf("party %d opened %#x at %d, party 0 %#x", id, v[i], i, ref[i])
			}
		}
	}
	return ref, nil
}

// evalB is evalA for a binary result (opened with OpenB).
func evalB(t *testing.T, name string, ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.BShare, error)) []uint64 {
	t.Helper()
	got, err := tryEval(name, ins, func(p mpc.Protocol, xs []mpc.AShare) ([]uint64, error) {
		y, err := f(p, xs)
		if err != nil {
			return nil, err
		}
		return p.OpenB(y, -1)
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// evalB2 is evalB of a binary operation f on the w-bit A2B of both inputs.
func evalB2(t *testing.T, name string, a, b []uint64, w int, f func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error)) []uint64 {
	t.Helper()
	return evalB(t, name, [][]uint64{a, b}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.BShare, error) {
		x, err := p.A2B(xs[0], w)
		if err != nil {
			return nil, err
		}
		y, err := p.A2B(xs[1], w)
		if err != nil {
			return nil, err
		}
		return f(p, x, y)
	})
}

func u64s(v []int64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = uint64(x)
	}
	return out
}

func checkEq(t *testing.T, what string, got []uint64, want []int64, in func(i int) string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if got[i] != uint64(want[i]) {
			if bad < 10 {
				t.Errorf("%s: element %d (%s): got %d, want %d", what, i, in(i), int64(got[i]), want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d wrong", what, bad, len(want))
	}
}

// signedRange returns n values in [-2^(b-1), 2^(b-1)): the edges first, then random.
func signedRange(r *rand.Rand, b, n int) []int64 {
	lo, hi := -int64(1)<<(b-1), int64(1)<<(b-1)-1
	edges := []int64{0, 1, -1, 2, -2, lo, lo + 1, hi, hi - 1}
	var out []int64
	for _, e := range edges {
		if e >= lo && e <= hi && len(out) < n {
			out = append(out, e)
		}
	}
	for len(out) < n {
		if b >= 64 {
			out = append(out, int64(r.Uint64()))
		} else {
			out = append(out, lo+int64(r.Uint64N(uint64(1)<<b)))
		}
	}
	return out
}
