package spdz2k

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/net"
)

// TestPlannedRefills: with a plan, the AND triples and edaBits the calls draw come from
// refills in equal parts that end with the plan (the pools are empty after the last
// call), and party 0 sends exactly what the budget charges for them (andPlanBytes,
// edaPlanBytes, and the AND pool's triples of the edaBit refills' adders) with the
// plan's sizing (batch, bucket, bits of the bucket checks); the draws are valid
// (verifyEdaBits, and the AND relation).
func TestPlannedRefills(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  sizing // the plan's sizing
		m     int    // edaBit length (0: AND triples)
		calls []int  // draws
	}{
		{"AND one batch", sizing{andBatch: 1 << 20}, 0, []int{1000, 3000, 1}},
		{"AND three batches", sizing{andBatch: 4096}, 0, []int{5000, 100, 4900}},
		{"AND three batches buckets of 6", sizing{andBatch: 4096, andBucket: 6}, 0, []int{5000, 100, 4900}},
		{"edaBits m=8 one refill", sizing{andBatch: 1 << 20}, 8, []int{100, 200}},
		{"edaBits m=64 below edaBitMin", sizing{andBatch: 1 << 20}, 64, []int{60, 40}},
		{"edaBits m=64 below edaBitMin, 50 bits", sizing{andBatch: 1 << 20, checkBits: 50}, 64, []int{60, 40}},
		{"edaBits m=2 two refills", sizing{andBatch: 1 << 20}, 2, []int{20000, 13000, 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := net.NewPipes(2)
			s := otPair(t, conns)
			total := 0
			for _, n := range tc.calls {
				total += n
			}
			pc := planCounts{ands: int64(total)}
			if tc.m > 0 {
				pc = planCounts{ands: edaAdderANDs(int64(total), tc.m), eda: map[int]int64{tc.m: int64(total)}}
			}
			for p := range 2 {
				s[p].setPlan(pc, tc.size)
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
			left := s[0].plan.andLeft()
			want := andPlanBytes(pc.ands, tc.size.andBatch, tc.size.andBucket)
			if tc.m > 0 {
				want += edaPlanBytes(int64(total), tc.m, tc.size.checkBits)
				left += s[0].eda[tc.m].len()
			}
			if got != want || left != 0 {
				t.Errorf("party 0 sent %d bytes, budget %d; %d left in the pool", got, want, left)
			}
			t.Logf("%d bytes (%.1f per item), %d refills", got, float64(got)/float64(total), s[0].edaRefills[tc.m])
		})
	}
}
