package local

// A conformance suite run for every protocol in Protocols(): each method of mpc.Protocol is
// checked against the cleartext computed here, with random vectors and edge values.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

func vec(r *rand.Rand, n int) []uint64 {
	edges := []uint64{0, 1, 2, 1 << 63, 1<<63 - 1, ^uint64(0), 255, 256}
	v := make([]uint64, n)
	for i := range v {
		if r.IntN(4) == 0 {
			v[i] = edges[r.IntN(len(edges))]
		} else {
			v[i] = r.Uint64()
		}
	}
	return v
}

func mask(v []uint64, w int) []uint64 {
	out := slices.Clone(v)
	if w < 64 {
		for i := range out {
			out[i] &= 1<<uint(w) - 1
		}
	}
	return out
}

// results collects one value per party.
type results[T any] struct {
	mu sync.Mutex
	m  map[int]T
}

func (r *results[T]) set(id int, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[int]T{}
	}
	r.m[id] = v
}

func eq(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %#x, want %#x (of %d)", what, i, got[i], want[i], len(got))
		}
	}
}

// forEachProtocol runs f for every available protocol, and again as "name+dealer" with
// trusted-dealer preprocessing for those that offer it.
func forEachProtocol(t *testing.T, f func(t *testing.T, name string)) {
	var names []string
	for _, s := range registry.Available() {
		names = append(names, s.Name)
		if s.Dealer {
			names = append(names, s.Name+"+dealer")
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { f(t, name) })
	}
}

// newP is New for the names of forEachProtocol.
func newP(name string) ([]mpc.Protocol, error) {
	if base, ok := strings.CutSuffix(name, "+dealer"); ok {
		return NewWith(base, 0, func(int) mpc.Options { return mpc.Options{Preprocessing: mpc.PreprocessingDealer} })
	}
	return New(name, 0)
}

// runP is Run for the names of forEachProtocol.
func runP(name string, f func(p mpc.Protocol) error) error {
	ps, err := newP(name)
	if err != nil {
		return err
	}
	return RunParties(ps, f)
}

// openAll opens x to everybody and checks that all parties agree.
func openAll(p mpc.Protocol, x mpc.AShare) ([]uint64, error) { return p.Open(x, -1) }

func TestInputOpen(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(1, 1))
		const n = 77
		ps, err := newP(name)
		if err != nil {
			t.Fatal(err)
		}
		np := len(ps)
		in := make([][]uint64, np)
		for i := range in {
			in[i] = vec(r, n)
		}
		var got results[[][]uint64]
		err = RunParties(ps, func(p mpc.Protocol) error {
			var outs [][]uint64
			for owner := range np {
				var vals []uint64
				if p.ID() == owner {
					vals = in[owner]
				}
				x, err := p.Input(owner, vals, n)
				if err != nil {
					return err
				}
				if x.Len() != n {
					return fmt.Errorf("Len %d", x.Len())
				}
				for to := -1; to < np; to++ {
					v, err := p.Open(x, to)
					if err != nil {
						return err
					}
					outs = append(outs, v)
				}
			}
			got.set(p.ID(), outs)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for id := range np {
			k := 0
			for owner := range np {
				for to := -1; to < np; to++ {
					v := got.m[id][k]
					k++
					if to >= 0 && to != id {
						if v != nil {
							t.Fatalf("party %d got %v from Open(to=%d)", id, v, to)
						}
						continue
					}
					eq(t, fmt.Sprintf("party %d: Open(Input(%d), %d)", id, owner, to), v, in[owner])
				}
			}
		}
	})
}

func TestInputErrors(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		err := runP(name, func(p mpc.Protocol) error {
			_, err := p.Input(0, []uint64{1, 2}, 3)
			return err
		})
		if errs.KindOf(err) != errs.Shape {
			t.Fatalf("Input with wrong length: %v", err)
		}
		err = runP(name, func(p mpc.Protocol) error {
			_, err := p.Input(7, nil, 3)
			return err
		})
		if errs.KindOf(err) != errs.Config {
			t.Fatalf("Input from party 7: %v", err)
		}
	})
}

// arith runs f on each party with a shared x and y (inputs of parties 0 and 1, n elements)
// and checks the opened result against want.
func TestArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	const n = 131
	x, y := vec(r, n), vec(r, n)
	c := vec(r, n)
	idx := make([]int32, 90)
	for i := range idx {
		idx[i] = int32(r.IntN(n+1)) - 1
	}
	apply := func(f func(a, b uint64) uint64) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = f(x[i], y[i])
		}
		return out
	}
	gathered := make([]uint64, len(idx))
	for i, j := range idx {
		if j >= 0 {
			gathered[i] = x[j]
		}
	}
	sumGroups := func(v []uint64, k int) []uint64 {
		out := make([]uint64, len(v)/k)
		for i := range v {
			out[i/k] += v[i]
		}
		return out
	}
	cases := []struct {
		name string
		f    func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error)
		want []uint64
	}{
		{"Add", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Add(a, b), nil },
			apply(func(a, b uint64) uint64 { return a + b })},
		{"Sub", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Sub(a, b), nil },
			apply(func(a, b uint64) uint64 { return a - b })},
		{"Neg", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Neg(a), nil },
			apply(func(a, b uint64) uint64 { return -a })},
		{"Public", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Add(a, p.Public(c)), nil },
			func() []uint64 {
				o := slices.Clone(x)
				for i := range o {
					o[i] += c[i]
				}
				return o
			}()},
		{"AddPublic", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.AddPublic(a, c), nil },
			func() []uint64 {
				o := slices.Clone(x)
				for i := range o {
					o[i] += c[i]
				}
				return o
			}()},
		{"AddPublic1", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) {
			return p.AddPublic(a, []uint64{^uint64(0)}), nil
		},
			apply(func(a, b uint64) uint64 { return a - 1 })},
		{"MulPublic", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.MulPublic(a, c), nil },
			func() []uint64 {
				o := slices.Clone(x)
				for i := range o {
					o[i] *= c[i]
				}
				return o
			}()},
		{"MulPublic1", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.MulPublic(a, []uint64{3}), nil },
			apply(func(a, b uint64) uint64 { return 3 * a })},
		{"Gather", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Gather(a, idx), nil }, gathered},
		{"Concat", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) {
			return p.Concat(p.Gather(a, []int32{0, 1}), b, p.Gather(a, nil)), nil
		}, append([]uint64{x[0], x[1]}, y...)},
		{"SumGroups", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.SumGroups(a, n), nil },
			sumGroups(x, n)},
		{"Mul", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Mul(a, b) },
			apply(func(a, b uint64) uint64 { return a * b })},
		{"MulSquare", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.Mul(a, a) },
			apply(func(a, b uint64) uint64 { return a * a })},
		{"MulSum1", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.MulSum(a, b, 1) },
			apply(func(a, b uint64) uint64 { return a * b })},
		{"MulSum131", func(p mpc.Protocol, a, b mpc.AShare) (mpc.AShare, error) { return p.MulSum(a, b, n) },
			sumGroups(apply(func(a, b uint64) uint64 { return a * b }), n)},
	}
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, tc := range cases {
			var got results[[]uint64]
			err := runP(name, func(p mpc.Protocol) error {
				var xv, yv []uint64
				if p.ID() == 0 {
					xv = x
				}
				if p.ID() == 1%p.N() {
					yv = y
				}
				a, err := p.Input(0, xv, n)
				if err != nil {
					return err
				}
				b, err := p.Input(1%p.N(), yv, n)
				if err != nil {
					return err
				}
				z, err := tc.f(p, a, b)
				if err != nil {
					return err
				}
				v, err := openAll(p, z)
				got.set(p.ID(), v)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for id, v := range got.m {
				eq(t, fmt.Sprintf("%s party %d", tc.name, id), v, tc.want)
			}
		}
	})
}

func TestMulSumMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, s := range [][3]int{{1, 1, 1}, {4, 9, 5}, {33, 72, 17}, {70, 3, 70}} {
			m, k, n := s[0], s[1], s[2]
			a, b := vec(r, m*k), vec(r, k*n)
			want := make([]uint64, m*n)
			for i := range m {
				for j := range n {
					for q := range k {
						want[i*n+j] += a[i*k+q] * b[q*n+j]
					}
				}
			}
			// MulSum over rows of a and columns of b, laid out as groups of k.
			bt := make([]uint64, 0, m*n*k)
			at := make([]uint64, 0, m*n*k)
			for i := range m {
				for j := range n {
					at = append(at, a[i*k:(i+1)*k]...)
					for q := range k {
						bt = append(bt, b[q*n+j])
					}
				}
			}
			var got, got2 results[[]uint64]
			err := runP(name, func(p mpc.Protocol) error {
				var av, bv []uint64
				if p.ID() == 0 {
					av = a
				}
				if p.ID() == p.N()-1 {
					bv = b
				}
				x, err := p.Input(0, av, m*k)
				if err != nil {
					return err
				}
				y, err := p.Input(p.N()-1, bv, k*n)
				if err != nil {
					return err
				}
				z, err := p.MatMul(x, y, m, k, n)
				if err != nil {
					return err
				}
				v, err := p.Open(z, -1)
				if err != nil {
					return err
				}
				got.set(p.ID(), v)
				ia := make([]int32, 0, len(at))
				ib := make([]int32, 0, len(bt))
				for i := range m {
					for j := range n {
						for q := range k {
							ia = append(ia, int32(i*k+q))
							ib = append(ib, int32(q*n+j))
						}
					}
				}
				z2, err := p.MulSum(p.Gather(x, ia), p.Gather(y, ib), k)
				if err != nil {
					return err
				}
				v2, err := p.Open(z2, -1)
				got2.set(p.ID(), v2)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for id := range got.m {
				eq(t, fmt.Sprintf("MatMul %v party %d", s, id), got.m[id], want)
				eq(t, fmt.Sprintf("MulSum %v party %d", s, id), got2.m[id], want)
			}
		}
		// Shape errors.
		err := runP(name, func(p mpc.Protocol) error {
			_, err := p.MatMul(p.Public(make([]uint64, 6)), p.Public(make([]uint64, 6)), 2, 3, 3)
			return err
		})
		if errs.KindOf(err) != errs.Shape {
			t.Fatalf("MatMul with bad shapes: %v", err)
		}
		err = runP(name, func(p mpc.Protocol) error {
			_, err := p.Mul(p.Public(make([]uint64, 6)), p.Public(make([]uint64, 5)))
			return err
		})
		if errs.KindOf(err) != errs.Shape {
			t.Fatalf("Mul with bad shapes: %v", err)
		}
	})
}

func TestBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, w := range []int{1, 8, 32, 64} {
			for _, n := range []int{1, 64, 100} {
				x, y, c := vec(r, n), vec(r, n), vec(r, n)
				idx := make([]int32, n+30)
				for i := range idx {
					idx[i] = int32(r.IntN(n+1)) - 1
				}
				type out struct{ xor, not, and, and2, pubxor, bits, join, gather, open0, a2b, b2a []uint64 }
				var got results[out]
				err := runP(name, func(p mpc.Protocol) error {
					var xv, yv []uint64
					if p.ID() == 0 {
						xv = x
					}
					if p.ID() == 1%p.N() {
						yv = y
					}
					xa, err := p.Input(0, xv, n)
					if err != nil {
						return err
					}
					ya, err := p.Input(1%p.N(), yv, n)
					if err != nil {
						return err
					}
					xb, err := p.A2B(xa, w)
					if err != nil {
						return err
					}
					yb, err := p.A2B(ya, w)
					if err != nil {
						return err
					}
					if xb.Len() != n || xb.Width() != w {
						return fmt.Errorf("A2B shape (%d,%d)", xb.Len(), xb.Width())
					}
					var o out
					open := func(s mpc.BShare) []uint64 {
						if err != nil {
							return nil
						}
						var v []uint64
						v, err = p.OpenB(s, -1)
						return v
					}
					o.xor = open(p.XOR(xb, yb))
					o.not = open(p.NOT(xb))
					ands, err := p.AND([]mpc.BShare{xb, p.NOT(xb)}, []mpc.BShare{yb, p.BPublic(c, w)})
					if err != nil {
						return err
					}
					o.and = open(ands[0])
					o.and2 = open(ands[1])
					o.pubxor = open(p.XOR(xb, p.BPublic(c, w)))
					lo := w / 3
					hi := w - lo
					o.bits = open(p.Bits(xb, lo, hi-lo))
					o.join = open(p.JoinBits(p.Bits(yb, 0, w/2), p.Bits(xb, 0, w-w/2)))
					o.gather = open(p.BGather(xb, idx))
					if err != nil {
						return err
					}
					if o.open0, err = p.OpenB(xb, 0); err != nil {
						return err
					}
					ba, err := p.B2A(xb)
					if err != nil {
						return err
					}
					if o.a2b, err = p.Open(ba, -1); err != nil {
						return err
					}
					b1, err := p.Bit2A(p.Bits(xb, w-1, 1))
					if err != nil {
						return err
					}
					if o.b2a, err = p.Open(b1, -1); err != nil {
						return err
					}
					got.set(p.ID(), o)
					return nil
				})
				if err != nil {
					t.Fatalf("w=%d n=%d: %v", w, n, err)
				}
				m := uint64(1)<<uint(w) - 1
				if w == 64 {
					m = ^uint64(0)
				}
				want := out{}
				lo := w / 3
				hi := w - lo
				for i := range n {
					want.xor = append(want.xor, (x[i]^y[i])&m)
					want.not = append(want.not, ^x[i]&m)
					want.and = append(want.and, x[i]&y[i]&m)
					want.and2 = append(want.and2, ^x[i]&c[i]&m)
					want.pubxor = append(want.pubxor, (x[i]^c[i])&m)
					want.bits = append(want.bits, mask([]uint64{x[i] >> uint(lo)}, hi-lo)[0])
					join := mask([]uint64{y[i]}, w/2)[0] | mask([]uint64{x[i]}, w-w/2)[0]<<uint(w/2)
					want.join = append(want.join, join)
					want.a2b = append(want.a2b, x[i]&m)
					want.b2a = append(want.b2a, x[i]>>uint(w-1)&1)
				}
				for _, j := range idx {
					v := uint64(0)
					if j >= 0 {
						v = x[j] & m
					}
					want.gather = append(want.gather, v)
				}
				for id, o := range got.m {
					tag := fmt.Sprintf("w=%d n=%d party %d", w, n, id)
					eq(t, tag+" XOR", o.xor, want.xor)
					eq(t, tag+" NOT", o.not, want.not)
					eq(t, tag+" AND", o.and, want.and)
					eq(t, tag+" AND(NOT,public)", o.and2, want.and2)
					eq(t, tag+" XOR public", o.pubxor, want.pubxor)
					eq(t, tag+" Bits", o.bits, want.bits)
					eq(t, tag+" JoinBits", o.join, want.join)
					eq(t, tag+" BGather", o.gather, want.gather)
					eq(t, tag+" B2A(A2B)", o.a2b, want.a2b)
					eq(t, tag+" Bit2A", o.b2a, want.b2a)
					if id == 0 {
						eq(t, tag+" OpenB(to=0)", o.open0, want.a2b)
					} else if o.open0 != nil {
						t.Fatalf("%s: OpenB(to=0) gave %v", tag, o.open0)
					}
				}
			}
		}
	})
}

func TestANDTruthTable(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		// All four input combinations, secret (A2B of inputs) and public operands.
		a := []uint64{0, 0, 1, 1}
		b := []uint64{0, 1, 0, 1}
		var got results[[][]uint64]
		err := runP(name, func(p mpc.Protocol) error {
			var av, bv []uint64
			if p.ID() == 0 {
				av, bv = a, b
			}
			xa, err := p.Input(0, av, 4)
			if err != nil {
				return err
			}
			ya, err := p.Input(0, bv, 4)
			if err != nil {
				return err
			}
			xb, err := p.A2B(xa, 1)
			if err != nil {
				return err
			}
			yb, err := p.A2B(ya, 1)
			if err != nil {
				return err
			}
			zs, err := p.AND([]mpc.BShare{xb, xb, p.BPublic(a, 1)}, []mpc.BShare{yb, p.BPublic(b, 1), yb})
			if err != nil {
				return err
			}
			var outs [][]uint64
			for _, z := range zs {
				v, err := p.OpenB(z, -1)
				if err != nil {
					return err
				}
				outs = append(outs, v)
			}
			got.set(p.ID(), outs)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, outs := range got.m {
			for k, v := range outs {
				eq(t, fmt.Sprintf("party %d AND #%d", id, k), v, []uint64{0, 0, 0, 1})
			}
		}
	})
}

// TestEmpty runs every communicating method on empty vectors.
func TestEmpty(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		err := runP(name, func(p mpc.Protocol) error {
			var v []uint64
			if p.ID() == 0 {
				v = []uint64{}
			}
			x, err := p.Input(0, v, 0)
			if err != nil {
				return err
			}
			if x, err = p.Mul(x, x); err != nil {
				return err
			}
			if x, err = p.MatMul(x, x, 0, 0, 0); err != nil {
				return err
			}
			b, err := p.A2B(x, 8)
			if err != nil {
				return err
			}
			bs, err := p.AND([]mpc.BShare{b}, []mpc.BShare{b})
			if err != nil {
				return err
			}
			if x, err = p.B2A(bs[0]); err != nil {
				return err
			}
			o, err := p.Open(x, -1)
			if err != nil {
				return err
			}
			ob, err := p.OpenB(b, -1)
			if err != nil {
				return err
			}
			if len(o) != 0 || len(ob) != 0 || o == nil {
				return fmt.Errorf("opened %v %v", o, ob)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestMaskB: both protocols implement mpc.PublicMasker, and masking a binary share masks
// the opened value.
func TestMaskB(t *testing.T) {
	for _, name := range Protocols() {
		t.Run(name, func(t *testing.T) {
			vals := []uint64{0xff, 0x0f, 0xf0, 0xaa, 0x55}
			mask := []uint64{0b10110}
			err := runP(name, func(p mpc.Protocol) error {
				m, ok := p.(mpc.PublicMasker)
				if !ok {
					return fmt.Errorf("%s does not implement mpc.PublicMasker", name)
				}
				var in []uint64
				if p.ID() == 0 {
					in = vals
				}
				x, err := p.Input(0, in, len(vals))
				if err != nil {
					return err
				}
				b, err := p.A2B(x, 8)
				if err != nil {
					return err
				}
				got, err := p.OpenB(m.MaskB(b, mask), -1)
				if err != nil {
					return err
				}
				for i, v := range vals {
					want := uint64(0)
					if mask[0]>>i&1 == 1 {
						want = v
					}
					if got[i] != want {
						return fmt.Errorf("element %d: got %#x want %#x", i, got[i], want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
