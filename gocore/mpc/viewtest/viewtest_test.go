package viewtest_test

import (
	"math"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
	"github.com/qmpc/qmpc/gocore/mpc/viewtest"
	"github.com/qmpc/qmpc/gocore/prg"
)

const n = 4096 // elements per secret vector: enough words for every statistical test

// secret returns party owner's secret vector of n elements for s: zeros, or extreme
// values (alternating the most negative int32 and all ones), or nil at other parties.
func secret(p mpc.Protocol, owner int, s viewtest.Secrets) []uint64 {
	if p.ID() != owner {
		return nil
	}
	v := make([]uint64, n)
	if s == viewtest.Extreme {
		for i := range v {
			if i%2 == 0 {
				v[i] = uint64(0xffffffff80000000) // -2^31
			} else {
				v[i] = ^uint64(0)
			}
		}
	}
	return v
}

// inputs shares the owner's (party 0) and the client's (party 1 % N) secrets, declared as
// 64-bit values (mpc.InputRange: the widest public range).
func inputs(p mpc.Protocol, s viewtest.Secrets) (x, y mpc.AShare, err error) {
	client := 1 % p.N()
	if x, err = mpc.InputRange(p, 0, secret(p, 0, s), n, math.MinInt64, math.MaxInt64); err != nil {
		return nil, nil, err
	}
	y, err = mpc.InputRange(p, client, secret(p, client, s), n, math.MinInt64, math.MaxInt64)
	return x, y, err
}

// used multiplies z by itself, so that a product whose resharing the protocol defers
// (rep3: until a method that is not linear) sends it.
func used(p mpc.Protocol, z mpc.AShare) error {
	_, err := p.Mul(z, z)
	return err
}

// mixed returns the sum of both parties' secrets: a share no single party holds in the
// clear, so that conversions and comparisons communicate under every protocol.
func mixed(p mpc.Protocol, s viewtest.Secrets) (mpc.AShare, error) {
	x, y, err := inputs(p, s)
	if err != nil {
		return nil, err
	}
	return p.Add(x, y), nil
}

// blocks is every protocol method that communicates and every protocol-generic block,
// through the protocol's own optional extensions (A2BHigh, MaskB, GatherMulSum).
var blocks = map[string]viewtest.Computation{
	"Input": func(p mpc.Protocol, s viewtest.Secrets) error { _, _, err := inputs(p, s); return err },
	"Mul": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err == nil {
			_, err = p.Mul(x, y)
		}
		return err
	},
	"MulSum": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err == nil {
			var z mpc.AShare
			if z, err = p.MulSum(x, y, 4); err == nil {
				err = used(p, z)
			}
		}
		return err
	},
	"MatMul": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err == nil {
			var z mpc.AShare
			if z, err = p.MatMul(x, y, 64, 64, 64); err == nil {
				err = used(p, z)
			}
		}
		return err
	},
	"GatherMulSum": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err != nil {
			return err
		}
		g, ok := mpc.Ext[mpc.GatherMulSummer](p)
		if !ok {
			return nil
		}
		idx := make([]int32, 2*n)
		for i := range idx {
			idx[i] = int32((i * 7) % n)
		}
		z, err := g.GatherMulSum(x, idx, y, idx, 2)
		if err != nil {
			return err
		}
		return used(p, z)
	},
	"MulSum/A2BSplitLeaves": func(p mpc.Protocol, s viewtest.Secrets) error {
		// A product straight into the leaves (rep3: its terms exchanged, no resharing).
		x, y, err := inputs(p, s)
		if err != nil {
			return err
		}
		l, ok := mpc.Ext[mpc.LeafSplitter](p)
		if !ok || !l.LeafSplits() {
			return nil
		}
		z, err := p.MulSum(x, y, 1)
		if err != nil {
			return err
		}
		eq := make([]uint64, 64)
		for i := range eq {
			eq[i] = 1 << uint(i)
		}
		if _, _, _, err = l.A2BSplitLeaves(z, 64, 0, &mpc.SplitLeaves{Leaves: []mpc.SplitLeaf{
			{Lo: 0, K: 6, SLo: 0, SW: 6, Tab: eq}, {Lo: 58, K: 6, SLo: 58, SW: 6, Tab: eq}}}); err != nil {
			return err
		}
		return used(p, z) // a second consumer: the product's terms sent again
	},
	"MulSum/A2BSplitArithLeaves": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err != nil {
			return err
		}
		l, ok := mpc.Ext[mpc.ArithLeafSplitter](p)
		if !ok || !l.LeafSplits() {
			return nil
		}
		z, err := p.MulSum(x, y, 1)
		if err != nil {
			return err
		}
		tab := make([]uint64, 1<<10)
		for i := range tab {
			tab[i] = uint64(i) * 0x9e3779b97f4a7c15
		}
		_, err = l.A2BSplitArithLeaves(z, 64, []mpc.ArithLeaf{{Lo: 3, K: 5, SLo: 0, SW: 5, Tab: tab}})
		return err
	},
	"A2B/AND/B2A": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, err := mixed(p, s)
		if err != nil {
			return err
		}
		b, err := p.A2B(x, 64)
		if err != nil {
			return err
		}
		if _, err := p.AND([]mpc.BShare{b}, []mpc.BShare{p.NOT(b)}); err != nil {
			return err
		}
		if _, err := p.B2A(p.Bits(b, 0, 40)); err != nil {
			return err
		}
		_, err = p.Bit2A(p.Bits(b, 63, 1))
		return err
	},
	"A2BHigh": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, err := mixed(p, s)
		if err == nil {
			if h, ok := mpc.Ext[mpc.HighA2B](p); ok {
				_, err = h.A2BHigh(x, 48, 20)
			} else {
				_, err = p.A2B(x, 48)
			}
		}
		return err
	},
	"Requantize (round-away and half-even, per channel)": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, err := mixed(p, s)
		if err != nil {
			return err
		}
		acc, err := mpc.TruncFloor(p, x, 33, 64) // a 31-bit signed accumulator from 64-bit secrets
		if err != nil {
			return err
		}
		ch := make([]int32, n)
		for i := range ch {
			ch[i] = int32(i % 4)
		}
		for _, mode := range []mpc.RoundMode{mpc.RoundAway, mpc.RoundHalfEven} {
			q := mpc.Requant{Mult: []int32{1 << 30, 1518500250, 1073741824, 2029539883}, Shift: []int{-7, -9, -1, -12},
				Round: []mpc.RoundMode{mode, mode, mode, mode}, OutZP: -3, ActMin: -128, ActMax: 127}
			if _, err = mpc.RequantizeRound(p, acc, q, ch, 32); err != nil {
				return err
			}
		}
		return nil
	},
	"Requantize (leaf circuit: rep3's leaves and ChunkB2A)": func(p mpc.Protocol, s viewtest.Secrets) error {
		// Per tensor, round-up, [0, 255]: the form MobileNet's layers take (requant_leaves.go).
		x, err := mixed(p, s)
		if err != nil {
			return err
		}
		acc, err := mpc.TruncFloor(p, x, 33, 64)
		if err != nil {
			return err
		}
		q := mpc.Requant{Mult: []int32{1<<30 + 12345}, Shift: []int{-8}, Round: []mpc.RoundMode{mpc.RoundUp},
			OutZP: 0, ActMin: 0, ActMax: 255}
		y, err := mpc.RequantizeRound(p, acc, q, nil, 32)
		if err != nil {
			return err
		}
		return used(p, y) // the pending output's terms sent
	},
	"LookupTable": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, err := mixed(p, s)
		if err != nil {
			return err
		}
		table := make([]uint64, 256)
		for i := range table {
			table[i] = uint64(int64((i*37)%256 - 128))
		}
		_, err = mpc.LookupTable(p, x, -128, table)
		return err
	},
	"Clamp/MaxGroups/Argmax": func(p mpc.Protocol, s viewtest.Secrets) error {
		x, err := mixed(p, s)
		if err != nil {
			return err
		}
		v, err := mpc.TruncFloor(p, x, 40, 64)
		if err != nil {
			return err
		}
		if v, err = mpc.Clamp(p, v, -100, 100, 34); err != nil {
			return err
		}
		if _, err := mpc.MaxGroups(p, v, 4, 10); err != nil {
			return err
		}
		_, err = mpc.Argmax(p, v, 16, 10)
		return err
	},
}

// TestProtocolsPassTheHarness: every available secure protocol of the registry, every
// block, with the protocol's own offline phase and, where it has one, with trusted-dealer
// preprocessing. plain has no secrecy and must fail it (the harness is not blind).
func TestProtocolsPassTheHarness(t *testing.T) {
	type variant struct {
		spec mpc.Spec
		pre  string
	}
	var vs []variant
	for _, spec := range registrytest.Protocols() {
		vs = append(vs, variant{spec, mpc.PreprocessingDefault})
		if spec.Dealer {
			vs = append(vs, variant{spec, mpc.PreprocessingDealer})
		}
	}
	for _, v := range vs {
		spec, label := v.spec, v.spec.Name
		if v.pre != "" {
			label += "+" + v.pre
		}
		for name, c := range blocks {
			t.Run(label+"/"+name, func(t *testing.T) {
				rep, err := viewtest.Check(viewtest.Config{Protocol: spec.Name, Preprocessing: v.pre}, c)
				if spec.Security == mpc.NoSecurity {
					if err == nil && name != "GatherMulSum" && name != "A2BHigh" && !strings.Contains(name, "Leaves") {
						t.Fatalf("plain sends cleartext, yet passed: %v", rep)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range rep.Words {
					if w == 0 && name != "Input" && !strings.Contains(name, "Leaves") {
						t.Errorf("party %d received nothing to test", i)
					}
				}
				t.Log(rep)
			})
		}
	}
}

// Planted leaks: wrappers around rep3 that leak as a buggy protocol would. Each must fail.

// sendsWord: Mul also sends the owner's secret input words to the next party.
type sendsWord struct{ mpc.Protocol }

func (w sendsWord) Unwrap() mpc.Protocol { return w.Protocol }
func (w sendsWord) Input(owner int, vals []uint64, k int) (mpc.AShare, error) {
	c := w.Conn()
	next := (w.ID() + 1) % w.N()
	if w.ID() == owner {
		c.Send(next, words(vals))
	}
	if (owner+1)%w.N() == w.ID() {
		if _, err := c.Recv(owner); err != nil {
			return nil, err
		}
	}
	return w.Protocol.Input(owner, vals, k)
}

// reusesMask: Input also sends each value masked with the same pad every call.
type reusesMask struct{ mpc.Protocol }

func (w reusesMask) Unwrap() mpc.Protocol { return w.Protocol }
func (w reusesMask) Input(owner int, vals []uint64, k int) (mpc.AShare, error) {
	c := w.Conn()
	next := (w.ID() + 1) % w.N()
	if w.ID() == owner {
		pad := prg.New(prg.Key{7}).Uint64s(k) // the same pad every call: the bug
		m := make([]uint64, k)
		for i := range m {
			m[i] = vals[i] + pad[i]
		}
		c.Send(next, words(m))
	}
	if (owner+1)%w.N() == w.ID() {
		if _, err := c.Recv(owner); err != nil {
			return nil, err
		}
	}
	return w.Protocol.Input(owner, vals, k)
}

func words(v []uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		for j := range 8 {
			b[8*i+j] = byte(x >> (8 * j))
		}
	}
	return b
}

func TestPlantedLeaksFail(t *testing.T) {
	twoInputs := func(p mpc.Protocol, s viewtest.Secrets) error {
		x, y, err := inputs(p, s)
		if err != nil {
			return err
		}
		if _, err := p.Input(0, secret(p, 0, s), n); err != nil { // a second input: the pad repeats
			return err
		}
		_, err = p.Mul(x, y)
		return err
	}
	for _, tc := range []struct {
		name string
		wrap func(mpc.Protocol) mpc.Protocol
		want string
	}{
		{"unmasked word", func(p mpc.Protocol) mpc.Protocol { return sendsWord{p} }, "received words"},
		{"reused mask", func(p mpc.Protocol) mpc.Protocol { return reusesMask{p} }, "differences of messages"},
		{"block opens a bit", nil, "opened"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := twoInputs
			if tc.wrap == nil { // a buggy block: it opens the lowest bit of a product
				c = func(p mpc.Protocol, s viewtest.Secrets) error {
					x, y, err := inputs(p, s)
					if err != nil {
						return err
					}
					z, err := p.Mul(x, y)
					if err != nil {
						return err
					}
					b, err := p.A2B(z, 1)
					if err != nil {
						return err
					}
					_, err = p.OpenB(b, -1)
					return err
				}
			}
			_, err := viewtest.Check(viewtest.Config{Protocol: "rep3", Wrap: tc.wrap}, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a leak found by %q", err, tc.want)
			}
			t.Log(err)
		})
	}
	if _, err := viewtest.Check(viewtest.Config{Protocol: "rep3"}, twoInputs); err != nil {
		t.Fatalf("the same computation without a planted leak: %v", err)
	}
}
