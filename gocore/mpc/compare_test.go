package mpc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
)

func TestLTZAndTruncFloor(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, bound := range []int{1, 2, 8, 20, 33, 63, 64} {
			r := rand.New(rand.NewPCG(uint64(bound), 1))
			x := signedRange(r, bound, 200)
			t.Run(fmt.Sprint("ltz/bound=", bound), func(t *testing.T) {
				got := evalB(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.BShare, error) {
					return mpc.LTZ(p, xs[0], bound)
				})
				want := make([]int64, len(x))
				for i, v := range x {
					if v < 0 {
						want[i] = 1
					}
				}
				checkEq(t, "ltz", got, want, func(i int) string { return fmt.Sprint("x=", x[i]) })
			})
			for _, m := range []int{0, 1, 3, bound / 2, bound - 1, bound, bound + 3} {
				if m < 0 || m > 64 {
					continue
				}
				t.Run(fmt.Sprintf("trunc/bound=%d/m=%d", bound, m), func(t *testing.T) {
					got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
						return mpc.TruncFloor(p, xs[0], m, bound)
					})
					want := make([]int64, len(x))
					for i, v := range x {
						want[i] = v >> uint(min(m, 63)) // arithmetic shift = floor
					}
					checkEq(t, "truncfloor", got, want, func(i int) string { return fmt.Sprint("x=", x[i]) })
				})
			}
		}
	})
}

func TestClamp(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		cases := []struct {
			lo, hi int64
			bound  int
		}{
			{0, 255, 32}, {-128, 127, 32}, {0, 6, 10}, {-5, -5, 16}, {3, 3, 8}, {0, 0, 1},
			{-100, 100, 8},            // covers the whole range: identity
			{200, 300, 8},             // above the whole range: constant
			{-300, -200, 8},           // below: constant
			{-1 << 40, 1 << 40, 50},   // wide
			{1, 1<<62 - 1, 64},        // H near 2^62
			{-(1 << 30), 17, 31},      // asymmetric
			{-128, 127, 8}, {0, 1, 2}, // exactly the range, tiny bounds
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("[%d,%d]/bound=%d", tc.lo, tc.hi, tc.bound), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(tc.bound), uint64(tc.hi)))
				x := signedRange(r, tc.bound, 300)
				for _, e := range []int64{tc.lo - 1, tc.lo, tc.lo + 1, tc.hi - 1, tc.hi, tc.hi + 1} {
					if e >= -1<<(tc.bound-1) && e < 1<<(tc.bound-1) {
						x = append(x, e)
					}
				}
				got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					return mpc.Clamp(p, xs[0], tc.lo, tc.hi, tc.bound)
				})
				want := make([]int64, len(x))
				for i, v := range x {
					want[i] = min(max(v, tc.lo), tc.hi)
				}
				checkEq(t, "clamp", got, want, func(i int) string { return fmt.Sprint("x=", x[i]) })
			})
		}
	})
}

func TestTruncClamp(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, tc := range []struct {
			m      int
			lo, hi int64
			bound  int
		}{
			{8, -128, 127, 32}, {8, 0, 255, 24}, {1, -3, 3, 6}, {20, -1, 0, 20}, {25, -1, 0, 20},
			{3, 0, 6, 12}, {16, -1 << 40, 1 << 40, 64}, {0, 1, 1<<62 - 1, 64}, {5, 100, 200, 10},
			{4, -5, 5, 8}, {62, -1, 0, 64}, {30, -7, 7, 64}, {2, -1 << 62, 1 << 62, 64},
		} {
			t.Run(fmt.Sprintf("m=%d/[%d,%d]/bound=%d", tc.m, tc.lo, tc.hi, tc.bound), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(tc.m), uint64(tc.bound)))
				x := signedRange(r, tc.bound, 300)
				for _, q := range []int64{tc.lo - 1, tc.lo, tc.lo + 1, tc.hi - 1, tc.hi, tc.hi + 1} {
					for _, d := range []int64{0, 1, -1} {
						v := q<<uint(tc.m) + d
						if q>>(62-tc.m) == 0 && v >= -1<<(tc.bound-1) && (tc.bound == 64 || v < 1<<(tc.bound-1)) {
							x = append(x, v)
						}
					}
				}
				got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					return mpc.TruncClamp(p, xs[0], tc.m, tc.lo, tc.hi, tc.bound)
				})
				want := make([]int64, len(x))
				for i, v := range x {
					want[i] = min(max(v>>uint(tc.m), tc.lo), tc.hi)
				}
				checkEq(t, "truncclamp", got, want, func(i int) string { return fmt.Sprint("x=", x[i]) })
			})
		}
	})
}

func TestMax(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, bound := range []int{1, 8, 32, 63} {
			r := rand.New(rand.NewPCG(uint64(bound), 2))
			a := signedRange(r, bound, 100)
			b := signedRange(r, bound, 100)
			r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
			b[5] = a[5] // a tie
			got := evalA(t, name, [][]uint64{u64s(a), u64s(b)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
				return mpc.Max(p, xs[0], xs[1], bound)
			})
			want := make([]int64, len(a))
			for i := range a {
				want[i] = max(a[i], b[i])
			}
			checkEq(t, fmt.Sprint("max/bound=", bound), got, want, func(i int) string { return fmt.Sprint(a[i], b[i]) })
		}
	})
}

// groupsInput returns groups of k values in [lo, hi] with many ties (small ranges).
func groupsInput(r *rand.Rand, groups, k int, lo, hi int64) []int64 {
	x := make([]int64, groups*k)
	for i := range x {
		x[i] = lo + r.Int64N(hi-lo+1)
	}
	return x
}

func TestMaxGroupsArgmax(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, tc := range []struct {
			k, bound int
			lo, hi   int64
		}{
			{1, 8, -128, 127}, {2, 8, -128, 127}, {3, 8, -1, 1}, {4, 9, 0, 255}, {9, 8, -128, 127},
			{10, 8, -2, 2}, {7, 32, -1 << 31, 1<<31 - 1}, {1001, 8, -128, 127}, {5, 1, -1, 0},
		} {
			t.Run(fmt.Sprintf("k=%d/bound=%d", tc.k, tc.bound), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(tc.k), uint64(tc.bound)))
				groups := max(1, 600/tc.k)
				x := groupsInput(r, groups, tc.k, tc.lo, tc.hi)
				// all-equal groups and a maximum at the last position
				for j := range tc.k {
					x[j] = tc.lo
					if groups > 1 {
						x[tc.k+j] = tc.lo
					}
				}
				if groups > 1 {
					x[2*tc.k-1] = tc.hi
				}
				wantMax := make([]int64, groups)
				wantArg := make([]int64, groups)
				for g := range groups {
					best := 0
					for j := 1; j < tc.k; j++ {
						if x[g*tc.k+j] > x[g*tc.k+best] {
							best = j
						}
					}
					wantMax[g], wantArg[g] = x[g*tc.k+best], int64(best)
				}
				got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					return mpc.MaxGroups(p, xs[0], tc.k, tc.bound)
				})
				checkEq(t, "maxgroups", got, wantMax, func(i int) string { return fmt.Sprint(x[i*tc.k : (i+1)*tc.k]) })
				got = evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					return mpc.Argmax(p, xs[0], tc.k, tc.bound)
				})
				checkEq(t, "argmax", got, wantArg, func(i int) string { return fmt.Sprint(x[i*tc.k : (i+1)*tc.k]) })
			})
		}
	})
}

// tfliteAvg is TFLite's rounding division of AVERAGE_POOL.
func tfliteAvg(x, d int64) int64 {
	if x > 0 {
		return (x + d/2) / d
	}
	return (x - d/2) / d
}

func TestDivRoundPublicExhaustive(t *testing.T) {
	// every x of a 12-bit range for every divisor in [1, 300], in plain (one call, one
	// group per divisor)
	const bound = 12
	var x, d []int64
	for dv := int64(1); dv <= 300; dv++ {
		for v := int64(-1 << (bound - 1)); v < 1<<(bound-1); v++ {
			x = append(x, v)
			d = append(d, dv)
		}
	}
	got := evalA(t, "plain", [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
		return mpc.DivRoundPublic(p, xs[0], d, bound)
	})
	want := make([]int64, len(x))
	for i := range x {
		want[i] = tfliteAvg(x[i], d[i])
	}
	checkEq(t, "divround", got, want, func(i int) string { return fmt.Sprintf("x=%d d=%d", x[i], d[i]) })
}

// TestDivRoundPublicNonNeg: every x of [0, 2^12) for every divisor in [1, 300] in plain,
// and edge values (0, the top of the range, ties k*d + d/2) for several bounds in every
// protocol, against TFLite's rounding.
func TestDivRoundPublicNonNeg(t *testing.T) {
	const bound = 12
	var x, d []int64
	for dv := int64(1); dv <= 300; dv++ {
		for v := int64(0); v < 1<<bound; v++ {
			x = append(x, v)
			d = append(d, dv)
		}
	}
	got := evalA(t, "plain", [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
		return mpc.DivRoundPublicNonNeg(p, xs[0], d, bound)
	})
	want := make([]int64, len(x))
	for i := range x {
		want[i] = tfliteAvg(x[i], d[i])
	}
	checkEq(t, "divround nonneg", got, want, func(i int) string { return fmt.Sprintf("x=%d d=%d", x[i], d[i]) })

	forEachProtocol(t, func(t *testing.T, name string) {
		for _, tc := range []struct {
			bound int
			ds    []int64
		}{
			{12, []int64{16}}, {12, []int64{4, 6, 9, 16}}, {1, []int64{1, 2, 3}}, {23, []int64{2, 7, 1 << 20}}, {40, []int64{16, 1 << 20}},
		} {
			r := rand.New(rand.NewPCG(uint64(tc.bound), 99))
			top := int64(1)<<tc.bound - 1
			x := []int64{0, 1, top, top - 1}
			for len(x) < 300 {
				if len(x)%3 == 0 {
					dv := tc.ds[r.IntN(len(tc.ds))]
					if v := int64(r.IntN(50))*dv + dv/2; v <= top {
						x = append(x, v)
						continue
					}
				}
				x = append(x, int64(r.Uint64N(uint64(top)+1)))
			}
			dd := make([]int64, len(x))
			for i := range dd {
				dd[i] = tc.ds[i%len(tc.ds)]
			}
			got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
				return mpc.DivRoundPublicNonNeg(p, xs[0], dd, tc.bound)
			})
			want := make([]int64, len(x))
			for i := range x {
				want[i] = tfliteAvg(x[i], dd[i])
			}
			checkEq(t, fmt.Sprintf("bound=%d", tc.bound), got, want, func(i int) string { return fmt.Sprintf("x=%d d=%d", x[i], dd[i]) })
		}
	})
}

func TestDivRoundPublic(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, tc := range []struct {
			bound int
			ds    []int64
		}{
			{18, []int64{49}}, {18, []int64{4, 6, 9}}, {8, []int64{1, 2, 3, 255, 256, 1000}},
			{24, []int64{2, 7, 1 << 20, 1<<23 - 1}}, {32, []int64{2, 4, 1 << 20}}, {1, []int64{1, 2, 5}}, {20, []int64{1}},
		} {
			t.Run(fmt.Sprintf("bound=%d/d=%v", tc.bound, tc.ds), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(tc.bound), uint64(len(tc.ds))))
				x := signedRange(r, tc.bound, 400)
				d := make([]int64, len(x))
				for i := range d {
					d[i] = tc.ds[r.IntN(len(tc.ds))]
				}
				// ties: x = +-(k*d + d/2) for even d
				for i := 20; i < len(x); i += 7 {
					k := int64(r.IntN(50))
					v := k*d[i] + d[i]/2
					if r.IntN(2) == 0 {
						v = -v
					}
					if v >= -1<<(tc.bound-1) && v < 1<<(tc.bound-1) {
						x[i] = v
					}
				}
				dd := d
				if len(tc.ds) == 1 {
					dd = tc.ds
				}
				got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					return mpc.DivRoundPublic(p, xs[0], dd, tc.bound)
				})
				want := make([]int64, len(x))
				for i := range x {
					want[i] = tfliteAvg(x[i], d[i])
				}
				checkEq(t, "divround", got, want, func(i int) string { return fmt.Sprintf("x=%d d=%d", x[i], d[i]) })
			})
		}
	})
}

func TestErrors(t *testing.T) {
	bad := []struct {
		name string
		f    func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error)
	}{
		{"requantize bound", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{1 << 30}, []int{0}, nil, 0, 0, 255, 33)
		}},
		{"requantize negative multiplier", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{-1}, []int{0}, nil, 0, 0, 255, 32)
		}},
		{"requantize channel", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{1 << 30}, []int{0}, []int32{0, 1, 0, 0}, 0, 0, 255, 32)
		}},
		{"requantize shapes", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{1 << 30}, []int{0}, []int32{0}, 0, 0, 255, 32)
		}},
		{"requantize range", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.Requantize(p, x, []int32{1 << 30}, []int{0}, nil, 0, 10, 5, 32)
		}},
		{"clamp range", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.Clamp(p, x, 3, 2, 8) }},
		{"divround too wide", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.DivRoundPublic(p, x, []int64{7}, 40)
		}},
		{"divround divisor", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
			return mpc.DivRoundPublic(p, x, []int64{0}, 8)
		}},
		{"argmax groups", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.Argmax(p, x, 3, 8) }},
		{"maxgroups bound", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.MaxGroups(p, x, 2, 64) }},
		{"trunc shift", func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.TruncFloor(p, x, -1, 8) }},
	}
	for _, tc := range bad {
		_, err := tryEvalA("plain", [][]uint64{{1, 2, 3, 4}}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
			return tc.f(p, xs[0])
		})
		if err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

func TestEmpty(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		blocks := map[string]func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error){
			"requantize": func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
				return mpc.Requantize(p, x, []int32{1 << 30, 1 << 30}, []int{-3, -5}, []int32{}, 0, -128, 127, 32)
			},
			"mulqm": func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
				return mpc.MulQuantizedMultiplier(p, x, []int32{1 << 30}, []int{-3}, nil, 32)
			},
			"truncfloor": func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.TruncFloor(p, x, 3, 16) },
			"clamp":      func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.Clamp(p, x, 0, 255, 16) },
			"maxgroups":  func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.MaxGroups(p, x, 4, 16) },
			"argmax":     func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) { return mpc.Argmax(p, x, 4, 16) },
			"divround": func(p mpc.Protocol, x mpc.AShare) (mpc.AShare, error) {
				return mpc.DivRoundPublic(p, x, []int64{}, 16)
			},
		}
		for bn, f := range blocks {
			got, err := tryEvalA(name, [][]uint64{{}}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) { return f(p, xs[0]) })
			if err != nil || len(got) != 0 {
				t.Errorf("%s on 0 elements: %v, %v", bn, got, err)
			}
		}
	})
}

// TestDivRoundAverage: every sum of d uint8 values, for divisors whose arithmetic fits
// two leaf chunks (rep3+native: arithmetic leaves and one product, two rounds) and others (the
// A2B path), against TFLite's rounding, in every protocol; in rep3 the input is also a
// pending product (its terms go to the leaves without a resharing).
func TestDivRoundAverage(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, name string) {
		for _, d := range []int64{2, 3, 16, 25} {
			for _, pending := range []bool{false, true} {
				var x []int64
				for v := int64(0); v <= 255*d; v += 1 + int64(d/8) {
					x = append(x, v)
				}
				x = append(x, 255*d)
				var rounds int64
				got := evalA(t, name, [][]uint64{u64s(x)}, func(p mpc.Protocol, xs []mpc.AShare) (mpc.AShare, error) {
					in := xs[0]
					if pending {
						ones := make([]uint64, len(x))
						for i := range ones {
							ones[i] = 1
						}
						var err error
						if in, err = p.MulSum(in, p.Public(ones), 1); err != nil {
							return nil, err
						}
					}
					before := p.Conn().Stats()
					y, err := mpc.DivRoundAverage(p, in, []int64{d}, 8, 8+5)
					if r := p.Conn().Stats().Sub(before).Rounds; p.ID() == 0 {
						rounds = r
					}
					return y, err
				})
				want := make([]int64, len(x))
				for i := range x {
					want[i] = tfliteAvg(x[i], d)
				}
				checkEq(t, fmt.Sprintf("d=%d pending=%v", d, pending), got, want, func(i int) string { return fmt.Sprintf("x=%d", x[i]) })
				if name == "rep3+native" && d == 16 && rounds > 2 {
					t.Errorf("d=16: %d rounds, want at most 2 (arithmetic leaves and one product)", rounds)
				}
			}
		}
	})
}
