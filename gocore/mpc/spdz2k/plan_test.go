package spdz2k

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/tinyot"
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

// TestAndTakeBatches: andTake's draws from a pool of several tinyot batches (views inside
// one batch, copies across batches, at offsets off and on word boundaries) are valid AND
// triples with valid MACs, none handed out twice (party 0's MACs of a, random blocks, are
// all distinct), and the pool keeps no batch it has handed out whole.
func TestAndTakeBatches(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batch   int
		calls   []int
		planned int // AND triples in the plan (0: all the calls')
	}{
		{"one batch", 1 << 20, []int{70, 0, 1000, 1}, 0},
		{"across batches", 2048, []int{70, 3000, 0, 1990, 64, 1, 5}, 0},
		{"word-aligned", 2048, []int{64, 1984, 2048, 128}, 0},
		// the plan's last batch releases tinyot's buffers; the next batch maps them again
		{"call beyond the plan", 1024, []int{1000, 1500}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := net.NewPipes(2)
			s := otPair(t, conns)
			total := 0
			for _, n := range tc.calls {
				total += n
			}
			planned := total
			if tc.planned > 0 {
				planned = tc.planned
			}
			for p := range 2 {
				s[p].setPlan(planCounts{ands: int64(planned)}, sizing{andBatch: tc.batch})
			}
			delta := [2]ot.Block{s[0].bin.Delta(), s[1].bin.Delta()}
			seen := map[ot.Block]bool{}
			for _, n := range tc.calls {
				var tr [2][3]tinyot.Bits
				take := func(p int) func() error {
					return func() (err error) {
						tr[p][0], tr[p][1], tr[p][2], err = s[p].andTake(n)
						return err
					}
				}
				mustBoth(t, conns, take(0), take(1))
				for p := range 2 {
					for _, x := range tr[p] {
						if x.N != n || len(x.X) != ring.Words(n) || len(x.M) != n || len(x.K) != n {
							t.Fatalf("party %d: a draw of %d has %d bits, %d words, %d MACs, %d keys", p, n, x.N, len(x.X), len(x.M), len(x.K))
						}
						if n%64 != 0 && x.X[len(x.X)-1]>>(n%64) != 0 {
							t.Fatalf("party %d: bits past %d set", p, n)
						}
					}
				}
				for _, mac := range tr[0][0].M {
					if seen[mac] {
						t.Fatalf("draw of %d: a triple handed out twice", n)
					}
					seen[mac] = true
				}
				bit := func(k, i int) uint64 { return (tr[0][k].X[i/64] ^ tr[1][k].X[i/64]) >> (i % 64) & 1 }
				for i := range n {
					if bit(2, i) != bit(0, i)&bit(1, i) {
						t.Fatalf("draw of %d: triple %d wrong", n, i)
					}
					for k := range 3 {
						for p := range 2 {
							own := -(tr[p][k].X[i/64] >> (i % 64) & 1)
							if tr[p][k].M[i] != xorBlock(tr[1-p][k].K[i], andBlock(delta[1-p], own)) {
								t.Fatalf("draw of %d: triple %d, party %d: MAC relation fails", n, i, p)
							}
						}
					}
				}
			}
			for p := range 2 {
				pl := &s[p].plan
				if pl.andLeft() != 0 || len(pl.andPool) != 0 {
					t.Errorf("party %d: %d triples and %d batches left in the pool", p, pl.andLeft(), len(pl.andPool))
				}
			}
		})
	}
}
