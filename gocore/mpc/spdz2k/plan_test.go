package spdz2k

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/net"
)

// TestPlannedRefills: with a plan, the AND triples and edaBits the calls draw come from
// refills in equal parts that end with the plan (the pools are empty after the last
// call), and party 0 sends exactly what the budget charges for them (andPlanBytes,
// edaPlanBytes); the draws are valid (verifyEdaBits, and the AND relation).
func TestPlannedRefills(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int   // tinyot batch (AND triples)
		m     int   // edaBit length (0: AND triples)
		calls []int // draws
	}{
		{"AND one batch", 1 << 20, 0, []int{1000, 3000, 1}},
		{"AND three batches", 4096, 0, []int{5000, 100, 4900}},
		{"edaBits m=8 one refill", 0, 8, []int{100, 200}},
		{"edaBits m=64 below edaBitMin", 0, 64, []int{60, 40}},
		{"edaBits m=2 two refills", 0, 2, []int{7000, 13000, 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := net.NewPipes(2)
			s := otPair(t, conns)
			total := 0
			for _, n := range tc.calls {
				total += n
			}
			for p := range 2 {
				if tc.batch > 0 {
					s[p].bin.Batch = tc.batch
				}
				if tc.m == 0 {
					s[p].setPlan(int64(total), nil)
				} else {
					s[p].setPlan(0, map[int]int64{tc.m: int64(total)})
				}
			}
			before := conns[0].Stats().BytesSent
			for _, n := range tc.calls {
				if tc.m == 0 {
					var a, b, c [2]*BShare
					mustBoth(t, conns,
						func() (err error) { a[0], b[0], c[0], err = s[0].ANDTriples(n, 1); return },
						func() (err error) { a[1], b[1], c[1], err = s[1].ANDTriples(n, 1); return })
					for i := range n {
						x := (a[0].x[i/64] ^ a[1].x[i/64]) & (b[0].x[i/64] ^ b[1].x[i/64])
						if (x^c[0].x[i/64]^c[1].x[i/64])>>(i%64)&1 != 0 {
							t.Fatalf("AND triple %d wrong", i)
						}
					}
					continue
				}
				var bin [2]*BShare
				var arith [2]*AShare
				mustBoth(t, conns,
					func() (err error) { bin[0], arith[0], err = s[0].EdaBits(n, tc.m); return },
					func() (err error) { bin[1], arith[1], err = s[1].EdaBits(n, tc.m); return })
				if _, err := verifyEdaBits(s, n, tc.m, bin, arith); err != nil {
					t.Fatal(err)
				}
			}
			got := conns[0].Stats().BytesSent - before
			var want int64
			left := s[0].plan.andLeft()
			if tc.m == 0 {
				want = andPlanBytes(int64(total), s[0].bin.Batch)
			} else {
				want, left = edaPlanBytes(int64(total), tc.m), s[0].eda[tc.m].len()
			}
			if got != want || left != 0 {
				t.Errorf("party 0 sent %d bytes, budget %d; %d left in the pool", got, want, left)
			}
			t.Logf("%d bytes (%.1f per item), %d refills", got, float64(got)/float64(total), s[0].edaRefills[tc.m])
		})
	}
}
