package spdz2k

import (
	"math"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// TestPlanSecurity: planSecurity sizes the offline phase of the given plans (the counts
// Preprocess computes for MobileNetV1 0.25_128 and the digits CNN with the default offline
// phase, session 12, and a tiny plan with daBits) so that the union bound over the
// inference's checks keeps StatBits bits, and no cheaper sizing would: one bucket less in
// the AND batches, the next smaller AND batch, or one bucket less in any private edaBit
// or daBit check falls below the bound. Every AND batch keeps at least its own 40 bits.
// A plan with too many online checks is refused (errs.Config).
func TestPlanSecurity(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pc            planCounts
		ck            planChecks
		batch, bucket int // the expected AND sizing
		refused       bool
	}{
		{"0.25_128", planCounts{ands: 125_364_377, eda: map[int]int64{14: 256, 64: 825_554}},
			planChecks{opens: 1, pending: 1_395_161, inputs: 1, randoms: 1, heTriples: 28, heKeys: 1, heResps: 652, andCalls: 166},
			1<<21 + 1<<18, 3, false},
		{"digits", planCounts{ands: 372_842, eda: map[int]int64{11: 768, 64: 2_324}},
			planChecks{opens: 1, pending: 10_778, inputs: 1, randoms: 1, otTriples: 5, otBatches: 5, heTriples: 2, heKeys: 1, heResps: 6, andCalls: 15, daBitCalls: []int{512, 256}},
			1 << 20, 3, false},
		{"tiny", planCounts{ands: 5_000, eda: map[int]int64{64: 100}},
			planChecks{opens: 1, pending: 500, inputs: 1, randoms: 1, otTriples: 3, otBatches: 3, andCalls: 5, daBitCalls: []int{16}},
			1 << 20, 4, false},
		{"2^16 openings", planCounts{ands: 5_000}, planChecks{opens: 1 << 16}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec, sz, err := planSecurity(tc.pc, tc.ck)
			t.Logf("%v; AND batch %d, buckets of %d; bucket checks %.2f bits each", sec, sz.andBatch, sz.andBucket, sz.checkBits)
			if tc.refused {
				if errs.KindOf(err) != errs.Config || sec.Bits() >= StatBits {
					t.Fatalf("want a refusal below %d bits, got %v (%.2f bits)", StatBits, err, sec.Bits())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sec.Bits() < StatBits {
				t.Fatalf("%.2f bits per inference", sec.Bits())
			}
			if sz.andBatch != tc.batch || sz.andBucket != tc.bucket {
				t.Errorf("AND batch %d, buckets of %d; want %d, %d", sz.andBatch, sz.andBucket, tc.batch, tc.bucket)
			}
			// The same checks with the AND pool sized otherwise.
			others := math.Exp2(-sec.Bits()) - math.Exp2(-andTerms(tc.pc.ands, sz.andBatch, sz.andBucket).Bits())
			with := func(batch, bucket int) float64 {
				return -math.Log2(others + math.Exp2(-andTerms(tc.pc.ands, batch, bucket).Bits()))
			}
			andParts(tc.pc.ands, sz.andBatch, func(l int) {
				if bits, _ := andBatchBits(l, sz.andBucket); bits < StatBits {
					t.Errorf("AND batch of %d: %.2f bits", l, bits)
				}
			})
			// One bucket less (where tinyot would take it for a batch of this size).
			if _, b := andBatchBits(int(min(tc.pc.ands, int64(sz.andBatch))), sz.andBucket-1); b != sz.andBucket-1 {
				t.Logf("tinyot takes at least buckets of %d here", b)
			} else if bits := with(sz.andBatch, sz.andBucket-1); bits >= StatBits {
				t.Errorf("buckets of %d would keep %.2f bits", sz.andBucket-1, bits)
			}
			if sz.andBatch > 1<<20 && int64(sz.andBatch-andBatchStep) < tc.pc.ands {
				if bits := with(sz.andBatch-andBatchStep, sz.andBucket); bits >= StatBits {
					t.Errorf("batches of %d would keep %.2f bits", sz.andBatch-andBatchStep, bits)
				}
			}
			// The bucket checks: each at its bits, none with one bucket less.
			for m, n := range tc.pc.eda {
				edaParts(n, func(gen int) {
					N := max(gen, edaBitMin)
					B := bucketFor(N, edaBitOpened, sz.checkBits)
					if daBitSecurity(N, B, edaBitOpened) < sz.checkBits || daBitSecurity(N, B-1, edaBitOpened) >= sz.checkBits {
						t.Errorf("edaBits m=%d: %d buckets of %d for %.2f bits", m, N, B, sz.checkBits)
					}
				})
			}
			for _, n := range tc.ck.daBitCalls {
				N := max(n, daBitPool)
				if B := bucketFor(N, daBitOpened, sz.checkBits); daBitSecurity(N, B, daBitOpened) < sz.checkBits {
					t.Errorf("daBits: %d buckets of %d for %.2f bits", N, B, sz.checkBits)
				}
			}
		})
	}
}

// TestSecurityBits: the union bound of a few terms.
func TestSecurityBits(t *testing.T) {
	for _, tc := range []struct {
		s    Security
		want float64
	}{
		{Security{{"a", 1, 40}}, 40},
		{Security{{"a", 2, 41}}, 40},
		{Security{{"a", 1, 41}, {"b", 2, 42}}, 40},
		{Security{{"a", 1024, 50}, {"b", 0, 1}}, 40},
	} {
		if got := tc.s.Bits(); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%v: %.4f bits, want %.4f", tc.s, got, tc.want)
		}
	}
	if got := (Security{}).Bits(); !math.IsInf(got, 1) {
		t.Errorf("no checks: %v bits", got)
	}
}

// TestPreprocessSecurity: the plan Preprocess computes (predictPlan) hands the sizing of
// planSecurity to the OT source (usePlan: tinyot's batch and bucket size, the bucket
// checks' bits), or refuses an inference whose checks cannot keep StatBits bits with an
// errs.Config error naming the bound, before any offline work.
func TestPreprocessSecurity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opens   int64
		refused bool
	}{
		{"one output", 1, false},
		{"2^16 outputs", 1 << 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &otSource{bin: &tinyot.Party{Batch: tinyot.DefaultBatch}}
			d := &mpc.Demand{Calls: []mpc.Call{{Op: "AND", N: 5000, Count: 1}, {Op: "Open", N: 1, Party: 1, Count: tc.opens}}}
			_, ip, err := predictPlan(d, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = s.usePlan(ip)
			if tc.refused {
				if errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), "2^-40") {
					t.Fatalf("got %v, want a Config error naming 2^-40", err)
				}
				if s.plan.ands != 0 {
					t.Errorf("a refused plan was set: %d AND triples", s.plan.ands)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, sz, _ := planSecurity(planCounts{ands: 5000}, planChecks{opens: 1, inputs: 1, randoms: 1, andCalls: 1})
			if s.plan.ands != 5000 || s.bin.Batch != sz.andBatch || s.bin.Bucket != sz.andBucket || s.checkBits != sz.checkBits || sz.andBucket != 4 {
				t.Errorf("plan %d ANDs, batch %d, bucket %d, bits %.2f; want 5000 in the sizing %+v (buckets of 4)", s.plan.ands, s.bin.Batch, s.bin.Bucket, s.checkBits, sz)
			}
		})
	}
}
