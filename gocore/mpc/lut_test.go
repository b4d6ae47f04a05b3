package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
)

// lutTables returns test tables of size m: random values of several widths (8-bit signed,
// 8-bit unsigned, wide 64-bit), a constant, and one that differs in a single entry.
func lutTables(r *rand.Rand, m int) map[string][]uint64 {
	ts := map[string][]uint64{}
	mk := func(name string, f func(i int) uint64) {
		t := make([]uint64, m)
		for i := range t {
			t[i] = f(i)
		}
		ts[name] = t
	}
	mk("int8", func(int) uint64 { return uint64(int64(r.IntN(256) - 128)) })
	mk("uint8", func(int) uint64 { return uint64(r.IntN(256)) })
	mk("wide", func(int) uint64 { return r.Uint64() })
	mk("const", func(int) uint64 { return uint64(1<<64 - 7) })
	mk("single", func(i int) uint64 {
		if i == m/3 {
			return 5
		}
		return 0
	})
	mk("identity", func(i int) uint64 { return uint64(i) })
	return ts
}

// lutCase checks LookupTable on every input value of [inLo, inLo+len(table)) (twice, in
// shuffled order) against the table.
func lutCase(t *testing.T, run func(ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error)) ([]uint64, error), inLo int64, table []uint64, r *rand.Rand) {
	t.Helper()
	m := len(table)
	x := make([]int64, 2*m)
	for i := range x {
		x[i] = inLo + int64(i%m)
	}
	r.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
	got, err := run([][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
		return mpc.LookupTable(p, xs[0], inLo, table)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, len(x))
	for i, v := range x {
		want[i] = int64(table[v-inLo])
	}
	checkEq(t, "lookuptable", got, want, func(i int) string { return fmt.Sprint("x=", x[i]) })
}

func TestLookupTable(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		r := rand.New(rand.NewPCG(10, 1))
		run := func(ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error)) ([]uint64, error) {
			return tryEvalA(name, ins, f)
		}
		for _, m := range []int{256, 2, 16, 32} {
			for tname, table := range lutTables(r, m) {
				for _, inLo := range []int64{-int64(m) / 2, 0, 1000} {
					t.Run(fmt.Sprintf("m=%d/%s/inLo=%d", m, tname, inLo), func(t *testing.T) {
						lutCase(t, run, inLo, table, r)
					})
				}
			}
		}
	})
}

// TestLookupTableRegistry runs the int8 lookup under every available protocol of the
// registry with its default number of parties and preprocessing.
func TestLookupTableRegistry(t *testing.T) {
	for _, spec := range registrytest.Protocols() {
		t.Run(spec.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 1))
			run := func(ins [][]uint64, f func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error)) ([]uint64, error) {
				var got []uint64
				err := local.Run(spec.Name, 0, func(p mpc.Protocol) error {
					var v []uint64
					if p.ID() == 0 {
						v = ins[0]
					}
					x, err := p.Input(0, v, len(ins[0]))
					if err != nil {
						return err
					}
					// Add a share from the last party so that no party holds x in the clear.
					last := p.N() - 1
					var z []uint64
					if p.ID() == last {
						z = make([]uint64, len(ins[0]))
					}
					zs, err := p.Input(last, z, len(ins[0]))
					if err != nil {
						return err
					}
					y, err := f(p, []mpc.AShare{p.Add(x, zs)})
					if err != nil {
						return err
					}
					o, err := p.Open(y, -1)
					if p.ID() == 0 {
						got = o
					}
					return err
				})
				return got, err
			}
			tables := lutTables(r, 256)
			for _, tname := range []string{"int8", "uint8", "wide"} {
				t.Run(tname, func(t *testing.T) { lutCase(t, run, -128, tables[tname], r) })
			}
		})
	}
}

// TestLookupTableCost checks the circuit's documented cost for an 8-bit lookup: the cut
// (6 low bits), the AND gates per element and the rounds, counted on plain.
func TestLookupTableCost(t *testing.T) {
	if g, r := mpc.LookupTableCost(8, 8, 6); g != 82 || r != 4 {
		t.Fatalf("LookupTableCost(8, 8, 6) = %d gates, %d rounds; want 82, 4", g, r)
	}
	table := make([]uint64, 256)
	r := rand.New(rand.NewPCG(12, 1))
	for i := range table {
		table[i] = uint64(int64(r.IntN(256) - 128))
	}
	const n = 64
	cnt := countCost(t, n, false, func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
		return mpc.LookupTable(p, x, -128, table)
	})
	if cnt.andGates != 82*n || cnt.andRounds != 4 || len(cnt.a2b) != 1 || cnt.a2b[0] != 8 || len(cnt.b2a) != 1 || cnt.b2a[0] != 8 {
		t.Fatalf("8-bit lookup: %d AND gates for %d elements, %s; want 82 per element, 4 rounds, A2B [8], B2A [8]", cnt.andGates, n, cnt)
	}
}
