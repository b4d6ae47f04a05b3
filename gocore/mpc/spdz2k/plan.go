package spdz2k

// Refills sized by the inference's plan. Preprocess (budget.go) counts, from the
// inference's demand, the AND triples the online phase will draw (ANDTriples and
// CarryEdaBits' prefix products) and the edaBits of each length; the OT source then makes
// them in as few and as equal refills as its memory bounds allow, instead of one tinyot
// batch per AND call and a doubling edaBit pool:
//
//   - AND triples: one pool, refilled in batches of ceil(P / ceil(P / batch)) triples for
//     P planned and not yet made, in buckets of the plan's size (security.go: the
//     smallest bucket, then the smallest batch from 2^20 in steps of 2^18, that keeps the
//     inference's 40 bits; 0.25_128: 54 batches of about 2.32M in buckets of 3). The
//     pool serves the online AND calls, CarryEdaBits' prefix products and the edaBit
//     refills' combining adders (until session 12 a tinyot batch of their own per
//     refill). Per-call batches (before session 11) had buckets of 4 to 6, a third or
//     more bytes per triple. A call beyond the plan makes just what it is missing (a
//     batch of its own, outside the plan's bound).
//   - edaBits of length m: refills of ceil(P_m / ceil(P_m / cap)) for P_m planned (cap =
//     edaBitMin << edaBitMaxGrow = 2^15), so the last refill ends with the plan and no
//     edaBits are left over; beyond the plan the doubling refills of edaTake. Each
//     private check's bucket size keeps the plan's bits (buckets of 4 from 2^15 for
//     0.25_128's 52 checks of 48.3 bits).
//
// The plan is public (both parties count the same demand), so both make the same
// refills with the same sizes.

import (
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// offlinePlan is what the rest of the current inference will draw and no refill has made
// yet: AND triples and edaBits by length.
type offlinePlan struct {
	ands int64
	eda  map[int]int64
	// andPool holds the AND triples made, batch by batch (a, b, c of each): those of the
	// first batch from andUsed on and all of the later batches are not yet handed out.
	// The batches stay as tinyot made them (no copy of a batch into one pool).
	andPool [][3]tinyot.Bits
	andUsed int
}

// andLeft is the number of AND triples in the pool not yet handed out.
func (p *offlinePlan) andLeft() int {
	t := -p.andUsed
	for _, b := range p.andPool {
		t += b[0].N
	}
	return t
}

// edaLeft is the number of planned edaBits (of every length) that no refill has made yet.
func (p *offlinePlan) edaLeft() int64 {
	var t int64
	for _, n := range p.eda {
		t += n
	}
	return t
}

// equalPart is the size of the first of ceil(p / limit) refills that make p items in
// parts as equal as possible (0 for p <= 0).
func equalPart(p, limit int64) int64 {
	if p <= 0 {
		return 0
	}
	k := (p + limit - 1) / limit
	return (p + k - 1) / k
}

// setPlan records the plan of the next inference: pc.ands AND triples and pc.eda[m]
// edaBits of length m, less what the pools already hold, and the sizing that keeps the
// inference's statistical security (security.go): the AND pool's tinyot batch and bucket
// size, and the bits of each private edaBit and daBit bucket check.
func (s *otSource) setPlan(pc planCounts, sz sizing) {
	s.plan.ands = max(pc.ands-int64(s.plan.andLeft()), 0)
	s.plan.eda = map[int]int64{}
	for m, n := range pc.eda {
		s.plan.eda[m] = max(n-int64(s.eda[m].len()), 0)
	}
	if sz.andBatch > 0 {
		s.bin.Batch, s.bin.Bucket = sz.andBatch, sz.andBucket
	}
	s.checkBits = sz.checkBits
}

// usePlan sets the plan ip of the next inference (setPlan), or returns its refusal:
// planSecurity's errs.Config error when no sizing keeps StatBits bits.
func (s *otSource) usePlan(ip inferencePlan) error {
	if ip.secErr != nil {
		return ip.secErr
	}
	s.setPlan(ip.counts, ip.size)
	return nil
}

// andTake returns n AND triples from the pool, refilling it by the plan (file comment):
// each refill is one tinyot batch of the next equal part of the plan, whatever the calls'
// sizes, or, beyond the plan, what the call is missing. The triples are views of the
// pool's batches when they lie in one batch (the callers read them: toBShare copies, the
// adders' And read them), else a copy of the n triples (tinyot Concat); a batch leaves
// the pool when its last triple is handed out. When the plan's last batch is made,
// tinyot's batch buffers are released (Party.Release: about 860 MB per party that would
// otherwise wait for the next inference or the source's garbage collection).
func (s *otSource) andTake(n int) (a, b, c tinyot.Bits, err error) {
	pl := &s.plan
	for have := pl.andLeft(); have < n; have = pl.andLeft() {
		gen := int64(n - have)
		planned := pl.ands > 0
		if planned {
			gen = equalPart(pl.ands, int64(s.bin.Batch))
			pl.ands -= gen
		}
		// An AND batch is the offline phase's largest live set (about 1.5 GB per party at
		// 0.25_128's 2.32 M triples): the edaBit checks' scratch (edabits.go) is dropped
		// first, so the two never add up (the next check allocates it again).
		s.scratch = edaScratch{}
		ta, tb, tc, err := s.bin.Triples(int(gen))
		if err != nil {
			return a, b, c, err
		}
		if planned && pl.ands == 0 {
			s.bin.Release()
		}
		pl.andPool = append(pl.andPool, [3]tinyot.Bits{ta, tb, tc})
	}
	var out [3]tinyot.Bits
	if n == 0 {
		for i := range out {
			out[i] = tinyot.NewBits(0)
		}
		return out[0], out[1], out[2], nil
	}
	if first := pl.andPool[0]; pl.andUsed+n <= first[0].N {
		for i, t := range first {
			out[i] = bitsView(t, pl.andUsed, pl.andUsed+n)
		}
		pl.andUsed += n
	} else { // across batches: copy the n triples
		var parts [3][]tinyot.Bits
		for need := n; need > 0; {
			t := pl.andPool[0]
			l := min(need, t[0].N-pl.andUsed)
			for i := range parts {
				parts[i] = append(parts[i], bitsView(t[i], pl.andUsed, pl.andUsed+l))
			}
			need -= l
			pl.andUsed += l
			if pl.andUsed == t[0].N {
				pl.dropBatch()
			}
		}
		for i := range out {
			out[i] = tinyot.Concat(parts[i]...)
		}
	}
	if len(pl.andPool) > 0 && pl.andUsed == pl.andPool[0][0].N {
		pl.dropBatch()
	}
	return out[0], out[1], out[2], nil
}

// dropBatch removes the pool's first batch (all handed out), letting its memory go.
func (p *offlinePlan) dropBatch() {
	p.andPool[0] = [3]tinyot.Bits{}
	p.andPool, p.andUsed = p.andPool[1:], 0
}

// edaRefill is the size of the next refill of the edaBit pool of length m that misses
// missing edaBits after refills earlier refills: the next equal part of the plan while
// it lasts, then edaTake's doubling rule.
func (s *otSource) edaRefill(m, missing, refills int) int {
	limit := s.edaMin() << edaBitMaxGrow
	if p := s.plan.eda[m]; p > 0 {
		gen := int(equalPart(p, int64(limit)))
		s.plan.eda[m] = p - int64(gen)
		return gen
	}
	return min(max(missing, s.edaMin()<<min(refills, edaBitMaxGrow)), limit)
}

// andPlanBytes is what party 0 sends to make ands AND triples in the refills of andTake
// with tinyot batches of batch and buckets of bucket (at least tinyot's BucketSize(l, 1)
// for a batch of l; tinyot's exact bytes per batch and the Check of each call; party 1
// sends 112 bytes less per batch).
func andPlanBytes(ands int64, batch, bucket int) int64 {
	var t int64
	andParts(ands, batch, func(l int) {
		_, b := andBatchBits(l, bucket)
		t += tinyot.BatchBytes(l, b, ot.DefaultK, true) + tinyot.CheckBytes(true)
	})
	return t
}

// edaPlanBytes is what party 0 sends to make n edaBits of length m in the refills of
// edaRefill, each private check keeping bits bits; their combining adders' AND triples
// come from the AND pool (andPlanBytes of edaAdderANDs).
func edaPlanBytes(n int64, m int, bits float64) int64 {
	var t int64
	buckets := map[int]int{}
	edaParts(n, func(gen int) {
		N := max(gen, edaBitMin)
		if _, ok := buckets[N]; !ok {
			buckets[N] = bucketFor(N, edaBitOpened, bits)
		}
		t += edaRefillBytes(gen, N, buckets[N], m)
	})
	return t
}

// edaRefillBytes is what party 0 sends in one refill of gen edaBits of length m (edaTake:
// two private edaBit checks of N buckets of B, one as owner and one as verifier, and the
// adder that combines them, without its AND triples), message by message as edabits.go
// lists them.
func edaRefillBytes(gen, N, B, m int) int64 {
	const (
		coin      = 64      // commitment and seed
		checkZero = 32 + 32 // commitment, value and nonce
		verdict   = 1
	)
	k := ot.DefaultK
	M, nb := N*B+edaBitOpened, N*(B-1)
	var copee int64
	for a := 0; a < M+1; a += authChunk {
		copee += int64(copeeBytes(min(M+1, a+authChunk) - a))
	}
	// Both checks: the authentication's coin, check value and MAC check; the permutation
	// coin; the sum proof's coin; the openings of the sums and of the opened edaBits; the
	// tinyot Check; the arithmetic openings and their MAC check.
	both := int64(coin+16+checkZero+verdict) + coin + tinyot.OpenBytes(m*nb) + tinyot.OpenBytes(m*edaBitOpened) +
		tinyot.CheckBytes(true) + int64(16*(nb+edaBitOpened)) + coin + checkZero + verdict
	if m > 1 {
		both += coin
	}
	// The owner's: COPEe corrections, the bits' input, the carries' input and the proof.
	owner := copee + tinyot.AuthenticateBytes(m*M, k)
	if m > 1 {
		owner += tinyot.AuthenticateBytes((m-1)*nb+qsMaskBits, k) + 32
	}
	t := 2*both + owner
	if m > 1 { // the combination: ripple-carry adder on the two parties' edaBits (its triples from the AND pool)
		t += int64(m-1)*tinyot.OpenBytes(2*gen) + tinyot.CheckBytes(true)
	}
	return t
}
