package spdz2k

// Statistical security per inference (issue 14). Every statistical check of spdz2k fails
// to catch a cheater (or, for the privacy terms, lets the view drift from the
// simulation) with a probability bounded by 2^-bits; an inference runs many checks, and
// the union bound over all of them is what a user gets per inference. Preprocess computes
// that union from the inference's plan before any offline work, sizes the offline
// phase's batches and buckets so that it stays at most 2^-StatBits, and refuses (an
// errs.Config error naming the bound) an inference that cannot: the idea of rep3-mal's
// soundness budget (rep3mal/budget.go), here computed ahead from the exact plan instead
// of charged batch by batch.
//
// The checks of one inference: what each is counted per, its count for MobileNetV1
// 0.25_128 with the default offline phase (TestSpdz2kOfflinePrediction prints them) and
// -log2 of its bound (docs/design-notes.md, session 12):
//
//	check (counted per)                                     0.25_128  bits each
//	tinyot AND batch, WRK17 buckets (planned batch)               54  46.14 (2.32M, buckets of 3)
//	private edaBit bucket check (2 per planned refill)            54  48.28 (31,752 buckets of 4)
//	private daBit bucket check (2 per DaBits call)                 0  42 + log2(checks) or more
//	hemat noise flooding (HE response polynomial)                652  56 (privacy)
//	COPEe authentication (triple, input mask, Open, refill)       84  57
//	offline MAC check (triple, refill, daBit call)                82  57
//	online MAC check (2 per Open/OpenB, opened/2^22, client 3)     6  57
//	online binary check (as the online MAC check)                  6  64
//	sacrifice coin t (triple)                                     28  64
//	Π_Triple privacy, leftover hash (Π_Triple triple)              0  63
//	QuickSilver proof (2 per refill)                              54  128 - log2(G+1)
//	KOS check's hash term (OT extension)                        <=830 105
//	tinyot Check (AND call, batch, refill)                      <=367 127
//	hemat proof (2 per HE triple, key pair)                      <=58 128
//
// The first two rows are almost all of the bound; they are sized here. The bucket
// checks (edaBits and daBits) get a share 2^-c of the budget: each check's bucket size is
// the smallest with c + log2(checks) bits (bucketBits). The AND pool gets what is left:
// the smallest bucket size, and then the smallest tinyot batch (from tinyot.DefaultBatch
// in steps of 2^18 up to maxANDBatch) whose batches fit (andSizing). Of the shares c in
// checkShares, planSecurity takes the one whose sizing sends the fewest bytes, then the
// smallest AND batch. The pool also makes the edaBit refills' combining adders' triples,
// which until session 12 were one tinyot batch of their own per refill. 0.25_128
// (session 11: 70 + 51 tinyot batches of about 2^20 and 102 edaBit checks of 2^14
// buckets, about 36.5 bits) gets 54 batches of 2.32M triples in buckets of 3 and 54
// edaBit checks, 52 of them of 31,752 buckets of 4 (refills of up to 2^15): 40.08 bits,
// for the same bytes.
//
// The rows whose count is bounded rather than planned exactly: the online MAC checks run
// at every Open and OpenB (two: the Verify of everything before and the opening's own),
// whenever 2^22 arithmetic openings are pending (maxPending; the opened elements of each
// call are counted), and at the client's input and output; each covers both worlds. The
// privacy of Π_Triple against a malicious OT sender that uses wrong correlations (the
// selective failure of otsource.go's Triples section): it learns m_q of the honest
// party's a-bits of entry q, m = sum m_q in all, and passes the sacrifice with probability
// 2^-m; an entry with m_q leaked bits is 2^-(128 - m_q)/2 from uniform (leftover hash
// lemma, 384 bits hashed to 256), so the distinguishing advantage is at most m 2^-(64 +
// m/2) <= 2^-63.9, charged as 2^-63 per triple.
// The KOS check's guess of m bits of the sender's secret is not a per-check term: the
// guesses of all extensions pass together with probability 2^-m (the session aborts at
// the first failure), and the bits learned lower the computational security only; the
// row is its hash term (N+1)/2^128, N < 2^23. Calls beyond the plan (a plan that
// undercounts; TestPlannedRefills checks that none happen) and the HE keys' own
// generation are outside the plan's bound.

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/hemat"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// StatBits is the statistical security per inference that Preprocess enforces: the
// union bound over every statistical check of one inference is at most 2^-StatBits.
const StatBits = 40

// Bounds (-log2) of the checks whose bound does not depend on the sizes (file comment).
const (
	macCheckBits    = 57  // SPDZ2k's batched MAC check, s = 64: 2^-(s - log2(s+1))
	binCheckBits    = 64  // the online binary check
	sacrificeBits   = 64  // Π_Triple's sacrifice: t in Z_2^64
	tripleLHLBits   = 63  // Π_Triple's privacy against a selective-failure OT sender
	tinyotCheckBits = 127 // tinyot's Check: guessing Delta
	kosHashBits     = 105 // KOS's polynomial hash with N < 2^23
	heProofBits     = 128 // hemat's proofs
	heFloodBits     = 56  // hemat's noise flooding, per response polynomial
)

// checkShares are the shares of the budget (-log2) that planSecurity tries for the
// private edaBit and daBit bucket checks together, from half the budget to 1/64.
var checkShares = []float64{41, 41.5, 42, 42.5, 43, 44, 46}

// maxANDBatch is the largest tinyot batch of the AND pool (2^22 triples: about 2.7 GB per
// party while it runs, tinyot.Triples' 650 bytes per triple).
const maxANDBatch = 1 << 22

// andBatchStep is the step of the AND pool's batch sizes from tinyot.DefaultBatch up.
const andBatchStep = 1 << 18

// SecurityTerm is one kind of statistical check of an inference: Count checks, each
// failing with probability at most 2^-Bits.
type SecurityTerm struct {
	Check string
	Count int64
	Bits  float64
}

// Security is the statistical checks of one inference.
type Security []SecurityTerm

// Bits is -log2 of the union bound over every check (+Inf for none).
func (s Security) Bits() float64 {
	p := 0.0
	for _, t := range s {
		p += float64(t.Count) * math.Exp2(-t.Bits)
	}
	return -math.Log2(p)
}

// String lists the terms, largest first: check, count and bits each.
func (s Security) String() string {
	ts := append(Security(nil), s...)
	sort.SliceStable(ts, func(i, j int) bool {
		return float64(ts[i].Count)*math.Exp2(-ts[i].Bits) > float64(ts[j].Count)*math.Exp2(-ts[j].Bits)
	})
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s: %d x %.2f bits", t.Check, t.Count, t.Bits))
	}
	return fmt.Sprintf("%.2f bits (%s)", s.Bits(), strings.Join(parts, "; "))
}

// planChecks is what an inference's plan counts besides the pooled correlations, for
// the bound: calls and elements that run checks.
type planChecks struct {
	opens      int64 // Open and OpenB calls
	pending    int64 // arithmetic elements opened in Beaver products and A2B
	inputs     int64 // Input and Open calls (an input mask each)
	randoms    int64 // Open calls (a random [t] each)
	otTriples  int64 // Π_Triple triples (calls)
	otBatches  int64 // Π_Triple's OT batches (tripleBatch)
	heTriples  int64 // HE triples (calls)
	heKeys     int64 // HE key pairs
	heResps    int64 // HE response polynomials
	andCalls   int64 // online AND calls (a tinyot Check each at most)
	daBitCalls []int // daBits per DaBits call (n * w), one entry per call
}

// sizing is how the OT source makes an inference's plan: the AND pool's tinyot batch
// and bucket size, and the bits each private edaBit or daBit bucket check keeps.
type sizing struct {
	andBatch, andBucket int
	checkBits           float64
}

// equalParts calls f with the size of each of the ceil(n / limit) parts, as equal as
// possible, that make n items: the planned refills of andTake and edaRefill.
func equalParts(n, limit int64, f func(part int)) {
	for n > 0 {
		l := equalPart(n, limit)
		f(int(l))
		n -= l
	}
}

// edaParts calls f with the size of each planned refill of n edaBits (edaRefill).
func edaParts(n int64, f func(gen int)) { equalParts(n, edaBitMin<<edaBitMaxGrow, f) }

// edaAdderANDs is the AND triples the combining adders of the planned refills of n
// edaBits of length m draw from the AND pool.
func edaAdderANDs(n int64, m int) int64 { return n * int64(m-1) }

// bucketBits is the bits each of k private bucket checks keeps so that together they
// keep share bits (at least daBitStatBits).
func bucketBits(k int64, share float64) float64 {
	if k <= 0 {
		return daBitStatBits
	}
	return max(daBitStatBits, share+math.Log2(float64(k)))
}

// bucketFor is the smallest bucket size with bits bits (at least daBitStatBits) of
// statistical security for N buckets and C opened elements (daBitSecurity's bound).
func bucketFor(N, C int, bits float64) int {
	bits = max(bits, daBitStatBits)
	for B := 2; B < 64; B++ {
		if daBitSecurity(N, B, C) >= bits {
			return B
		}
	}
	panic("spdz2k offline: no bucket size")
}

// andParts calls f with the size of each planned tinyot batch of the AND pool (andTake).
func andParts(ands int64, batch int, f func(l int)) { equalParts(ands, int64(batch), f) }

// andBatchBits is -log2 of the bound of one tinyot batch of l triples made with bucket
// (tinyot.Triples takes at least BucketSize(l, 1)), and that bucket size.
func andBatchBits(l, bucket int) (float64, int) {
	b := max(bucket, tinyot.BucketSize(l, 1))
	return tinyot.SecurityBits(l, b, 1), b
}

// andTerms is the AND pool's terms for ands triples in batches of batch and buckets of
// bucket (one term per batch size).
func andTerms(ands int64, batch, bucket int) Security {
	count := map[int]int64{}
	andParts(ands, batch, func(l int) { count[l]++ })
	var s Security
	for _, l := range sortedKeys(count) {
		bits, b := andBatchBits(l, bucket)
		s = append(s, SecurityTerm{Check: fmt.Sprintf("tinyot AND batch of %d in buckets of %d", l, b), Count: count[l], Bits: bits})
	}
	return s
}

// sortedKeys returns m's keys in increasing order.
func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// andSizing picks the AND pool's batch and bucket size for ands triples whose batches
// may fail with probability at most budget together: the smallest bucket size (at least
// tinyot's BucketSize for one batch), then the smallest batch, from tinyot.DefaultBatch
// in steps of andBatchStep up to maxANDBatch (ok false if none fits with buckets of up
// to 16).
func andSizing(ands int64, budget float64) (batch, bucket int, ok bool) {
	for b := 2; b <= 16; b++ {
		for batch := tinyot.DefaultBatch; batch <= maxANDBatch; batch += andBatchStep {
			if _, tb := andBatchBits(int(equalPart(ands, int64(batch))), b); tb > b {
				continue // tinyot takes larger buckets for batches of this size
			}
			if p := math.Exp2(-andTerms(ands, batch, b).Bits()); p <= budget {
				return batch, b, true
			}
			if int64(batch) >= ands { // one batch: larger ones change nothing
				break
			}
		}
	}
	return 0, 0, false
}

// planSecurity sizes the offline phase for the plan pc and the checks ck (file comment)
// and returns the inference's checks with their bounds; an errs.Config error if no
// sizing keeps StatBits bits. Of the shares of the bucket checks in checkShares it takes
// the one whose sizing sends the fewest bytes for the AND triples and edaBits
// (andPlanBytes, edaPlanBytes), and of equal ones the smallest AND batch (memory).
func planSecurity(pc planCounts, ck planChecks) (Security, sizing, error) {
	var best Security
	var bestSize sizing
	var bestErr error
	bestBytes := int64(-1)
	for _, share := range checkShares {
		sec, sz, err := planSecurityShare(pc, ck, share)
		if err != nil {
			if bestBytes < 0 && bestErr == nil {
				best, bestSize, bestErr = sec, sz, err
			}
			continue
		}
		bytes := andPlanBytes(pc.ands, sz.andBatch, sz.andBucket)
		for m, n := range pc.eda {
			bytes += edaPlanBytes(n, m, sz.checkBits)
		}
		if bestBytes < 0 || bytes < bestBytes || bytes == bestBytes && sz.andBatch < bestSize.andBatch {
			best, bestSize, bestErr, bestBytes = sec, sz, nil, bytes
		}
	}
	return best, bestSize, bestErr
}

// planSecurityShare is planSecurity with share bits for the bucket checks.
func planSecurityShare(pc planCounts, ck planChecks, share float64) (Security, sizing, error) {
	var s Security
	add := func(check string, count int64, bits float64) {
		if count > 0 {
			s = append(s, SecurityTerm{Check: check, Count: count, Bits: bits})
		}
	}
	// The bucket checks: two per edaBit refill and per DaBits call.
	var refills int64
	type refill struct{ gen, m int }
	var eda []refill
	for _, m := range sortedKeys(pc.eda) {
		edaParts(pc.eda[m], func(gen int) { eda = append(eda, refill{gen, m}); refills++ })
	}
	sz := sizing{checkBits: bucketBits(2*refills+2*int64(len(ck.daBitCalls)), share)}
	edaChecks, daChecks, maxM := map[int]int64{}, map[int]int64{}, map[int]int{}
	for _, r := range eda {
		N := max(r.gen, edaBitMin)
		edaChecks[N] += 2
		maxM[N] = max(maxM[N], r.m)
	}
	var qsGates int64 // the largest proven sum's gates
	for _, N := range sortedKeys(edaChecks) {
		B := bucketFor(N, edaBitOpened, sz.checkBits)
		add(fmt.Sprintf("private edaBit check of %d buckets of %d", N, B), edaChecks[N], daBitSecurity(N, B, edaBitOpened))
		qsGates = max(qsGates, int64(maxM[N]-1)*int64(N)*int64(B-1))
	}
	for _, n := range ck.daBitCalls {
		daChecks[max(n, daBitPool)] += 2
	}
	for _, N := range sortedKeys(daChecks) {
		B := bucketFor(N, daBitOpened, sz.checkBits)
		add(fmt.Sprintf("private daBit check of %d buckets of %d", N, B), daChecks[N], daBitSecurity(N, B, daBitOpened))
	}
	// The checks of fixed bounds.
	triples := ck.otTriples + ck.heTriples + int64(len(ck.daBitCalls))
	online := 2*ck.opens + (ck.pending+maxPending-1)/maxPending + 3
	add("online MAC check", online, macCheckBits)
	add("online binary check", online, binCheckBits)
	add("COPEe authentication check", triples+ck.inputs+ck.randoms+2*refills+2*int64(len(ck.daBitCalls)), macCheckBits)
	add("offline MAC check", triples+2*refills+3*int64(len(ck.daBitCalls)), macCheckBits)
	add("sacrifice coin", triples, sacrificeBits)
	add("Π_Triple privacy", ck.otTriples+int64(len(ck.daBitCalls)), tripleLHLBits)
	add("QuickSilver proof", 2*refills, 128-math.Log2(float64(qsGates+1)))
	var andBatches int64 // an upper bound for the counts below (batches of 2^20)
	andParts(pc.ands, tinyot.DefaultBatch, func(int) { andBatches++ })
	add("tinyot Check", ck.andCalls+andBatches+3*refills+2*int64(len(ck.daBitCalls)), tinyotCheckBits)
	add("KOS hash term", 6*andBatches+4*refills+2*ck.otBatches+4*int64(len(ck.daBitCalls))+2, kosHashBits)
	add("hemat proof", 2*ck.heTriples+2*ck.heKeys, heProofBits)
	add("hemat noise flooding", ck.heResps, heFloodBits)
	// The AND pool: what is left.
	left := math.Exp2(-StatBits) - math.Exp2(-s.Bits())
	if pc.ands > 0 {
		if left > 0 {
			var ok bool
			if sz.andBatch, sz.andBucket, ok = andSizing(pc.ands, left); ok {
				s = append(s, andTerms(pc.ands, sz.andBatch, sz.andBucket)...)
				return s, sz, nil
			}
		}
		s = append(s, andTerms(pc.ands, maxANDBatch, 16)...)
	} else if left > 0 {
		return s, sz, nil
	}
	return s, sz, errs.New(errs.Config, "spdz2k: this inference's statistical checks fail with probability above 2^-%d even with the largest batches and buckets: "+
		"%v; split the model or the batch of inputs into shorter inferences", StatBits, s)
}

// online counts the online checks and openings of call (planChecks).
func (ck *planChecks) online(call mpc.Call) {
	n, k, m := int64(call.N), int64(call.K), int64(call.M)
	switch call.Op {
	case "Input":
		ck.inputs += call.Count
	case "Open": // a random [t], and an input mask when opened to one party
		ck.opens += call.Count
		ck.randoms += call.Count
		ck.inputs += call.Count
	case "OpenB":
		ck.opens += call.Count
	case "Mul":
		ck.pending += call.Count * 2 * n
	case "MulSum":
		ck.pending += call.Count * 2 * n * k
	case "GatherMulSum":
		ck.pending += call.Count * int64(call.XLen+call.WLen)
	case "MatMul":
		ck.pending += call.Count * (m*k + k*n)
	case "A2B":
		ck.pending += call.Count * n
	case "AND":
		ck.andCalls += call.Count
	}
}

// daBits counts count DaBits calls of n daBits each.
func (ck *planChecks) daBits(count, n int64) {
	for range count {
		ck.daBitCalls = append(ck.daBitCalls, int(n))
	}
}

// PredictSecurity returns the statistical checks of the inference counted in d, with
// their bounds, as Preprocess sizes them for the OT-based offline phase (preprocessing
// "ot"); the error is Preprocess's refusal if no sizing keeps StatBits bits.
func PredictSecurity(d *mpc.Demand) (Security, error) { return predictSecurity(d, nil) }

// PredictSecurityHE is PredictSecurity for the default offline phase (always false) or
// preprocessing "he" (always true), as PredictOfflineHE.
func PredictSecurityHE(d *mpc.Demand, always bool) (Security, error) {
	p, err := hemat.NewParams()
	if err != nil {
		return nil, err
	}
	return predictSecurity(d, &heMode{params: p, always: always})
}

// predictSecurity is PredictSecurity with the linear layers' triples by he.
func predictSecurity(d *mpc.Demand, he *heMode) (Security, error) {
	_, ip, err := predictPlan(d, false, he)
	if err != nil {
		return nil, err
	}
	return ip.sec, ip.secErr
}
