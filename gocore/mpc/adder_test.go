package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
)

func maskW(v uint64, w int) uint64 {
	if w >= 64 {
		return v
	}
	return v & (1<<uint(w) - 1)
}

func signExt(v uint64, w int) int64 {
	if w >= 64 {
		return int64(v)
	}
	s := uint(64 - w)
	return int64(v<<s) >> s
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestBinaryArithmetic(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, w := range []int{1, 2, 3, 5, 8, 13, 32, 63, 64} {
			t.Run(fmt.Sprint("w=", w), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(w), 7))
				const n = 150
				a, b := make([]uint64, n), make([]uint64, n)
				edges := []uint64{0, 1, ^uint64(0), 1 << 63, 1<<63 - 1, 2}
				for i := range a {
					a[i], b[i] = r.Uint64(), r.Uint64()
					if i < len(edges)*len(edges) {
						a[i], b[i] = edges[i%len(edges)], edges[i/len(edges)]
					}
					if i%17 == 0 {
						b[i] = a[i] // equal operands
					}
				}
				k := r.Uint64()
				ops := []struct {
					name string
					f    func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error)
					want func(x, y uint64) uint64
				}{
					{"add", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.AddB(p, x, y) },
						func(x, y uint64) uint64 { return maskW(x+y, w) }},
					{"sub", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.SubB(p, x, y) },
						func(x, y uint64) uint64 { return maskW(x-y, w) }},
					{"addpublic", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.AddPublicB(p, x, k) },
						func(x, y uint64) uint64 { return maskW(x+k, w) }},
					{"less", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.LessB(p, x, y) },
						func(x, y uint64) uint64 { return b2u(maskW(x, w) < maskW(y, w)) }},
					{"lesssigned", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.LessSignedB(p, x, y) },
						func(x, y uint64) uint64 { return b2u(signExt(x, w) < signExt(y, w)) }},
					{"lepublic", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) { return mpc.LEPublicB(p, x, maskW(k, w)) },
						func(x, y uint64) uint64 { return b2u(maskW(x, w) <= maskW(k, w)) }},
					{"lepublic-a", func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) {
						return mpc.LEPublicB(p, x, maskW(a[3], w))
					}, func(x, y uint64) uint64 { return b2u(maskW(x, w) <= maskW(a[3], w)) }},
				}
				for _, op := range ops {
					got := evalB2(t, name, a, b, w, op.f)
					for i := range a {
						if want := op.want(a[i], b[i]); got[i] != want {
							t.Fatalf("%s(%#x, %#x) = %#x, want %#x", op.name, maskW(a[i], w), maskW(b[i], w), got[i], want)
						}
					}
				}
			})
		}
	})
}

// TestAddBHigh checks the high planes of a sum (prefix network, ripple carry and the
// pruned full-width prefix network) for
// several low planes.
func TestAddBHigh(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, w := range []int{2, 3, 8, 33, 63, 64} {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			const n = 70
			a, b := make([]uint64, n), make([]uint64, n)
			for i := range a {
				a[i], b[i] = r.Uint64(), r.Uint64()
				if i%5 == 0 {
					b[i] = -a[i] + uint64(i%3) // carries through every plane
				}
			}
			for _, lo := range []int{1, w / 3, w / 2, w - 1} {
				if lo < 1 {
					continue
				}
				adders := map[string]func(mpc.Protocol, mpc.BShare, mpc.BShare, int) (mpc.BShare, error){
					"prefix": mpc.AddBHigh, "ripple": mpc.AddBHighRipple, "sparse prefix": mpc.AddBHighSparse}
				for kind, add := range adders {
					got := evalB2(t, name, a, b, w, func(p mpc.Protocol, x, y mpc.BShare) (mpc.BShare, error) {
						return add(p, x, y, lo)
					})
					for i := range a {
						if want := maskW(a[i]+b[i], w) >> uint(lo); got[i] != want {
							t.Fatalf("w=%d lo=%d: high planes of %#x + %#x = %#x (%s), want %#x", w, lo, a[i], b[i], got[i], kind, want)
						}
					}
				}
			}
		}
	})
}
