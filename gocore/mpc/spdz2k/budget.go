package spdz2k

// The offline budget. spdz2k's OT-based offline phase (otsource.go) is correct but costly:
// several KB per multiply-accumulate and per daBit. So that a user who picks "spdz2k" for a
// model it cannot serve gets a clear error at once instead of hours of offline work,
// Preprocess (mpc.Preprocessor, run by the engine before every inference) predicts, from
// the counted calls of the inference (mpc.Demand), the bytes the offline phase will send
// per party, and refuses a computation above MaxOfflineBytes with an errs.Config error that
// names the prediction and where it goes. The simulated dealer has no budget (its cost is
// not sent by the parties).
//
// With the default offline phase (heSource, hesource.go) the linear layers' triples
// whose HE products send fewer bytes are charged hemat's exact upload and response sizes,
// the authentication of their five vectors and one public key with its proof per key
// pair (PredictOfflineHE); the rest as below. MobileNetV1 0.25_128 is predicted at 17.55
// GB per party (AND triples 10.66 with the edaBits' combining adders since session 12,
// edaBits 4.15, the HE triples' authentication 1.91, HE products 0.78).
//
// The prediction (PredictOffline) follows the OT source's message sizes: Π_Triple sends
// tau correlated OTs of l Z_2^128 elements per unit (16 l bytes of corrections and about 4
// bytes of OT extension per OT) and authenticates five vectors (A, B, C, A', C'). The AND
// triples and the edaBits, most of the bytes of a large model, are counted exactly (the
// conversions' adders are run on the counting protocol with spdz2k's circuits; gates with
// a public operand, which spdz2k computes locally, are not charged; TestPredictedANDTriples
// compares the count with a dealer run's triples) and charged exactly: Preprocess hands
// the counts to the OT source as its plan (plan.go), which makes them in the refills that
// andPlanBytes and edaPlanBytes charge message by message (TestPlannedRefills compares
// them with the bytes sent). daBits (B2A of fewer than 4 bits) are charged per item,
// measured at batch sizes of 2^12 and more (BENCHMARKS.md, "spdz2k's OT-based offline
// phase"). Until session 10 the AND triples and edaBits were charged per item as well,
// measured on large batches, while a run made AND triples call by call (buckets of 4 to 6
// for the online phase's calls, all below 280,000 bits, instead of 3) and edaBits in doubling
// refills that ended with an unused rest: 0.25_128 sent 19.76 GB against 17.54 predicted
// (session 11, issue 14).

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/hemat"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/count"
)

// MaxOfflineBytes is the most the offline phase may send per party for one
// inference by default (20 GB, issue 14's budget for MobileNetV1 0.25_128); above it
// Preprocess refuses the computation before any offline work. A user who accepts more
// sets MaxOfflineEnv.
const MaxOfflineBytes = 20e9

// MaxOfflineEnv names an environment variable that replaces MaxOfflineBytes: the most
// gigabytes (10^9 bytes) the offline phase may send per party for one inference, a
// positive number (e.g. "60" for MobileNetV1 0.5_160, predicted at about 53 GB). It is
// read when a party's endpoint is made (New); every party should set the same value,
// since a party whose budget refuses the inference stops, and its peer then fails with
// a disconnection instead of the budget's message.
const MaxOfflineEnv = "QMPC_SPDZ2K_MAX_OFFLINE_GB"

// maxOffline returns the offline budget in bytes per party: MaxOfflineBytes, or the
// value of MaxOfflineEnv when it is set (getenv is os.Getenv; a parameter for tests).
func maxOffline(getenv func(string) string) (float64, error) {
	v := strings.TrimSpace(getenv(MaxOfflineEnv))
	if v == "" {
		return MaxOfflineBytes, nil
	}
	gb, err := strconv.ParseFloat(v, 64)
	if err != nil || !(gb > 0) || math.IsInf(gb, 0) {
		return 0, errs.New(errs.Config, "spdz2k: %s=%q: want a positive number of GB per party (the default budget is %d)",
			MaxOfflineEnv, v, int64(MaxOfflineBytes/1e9))
	}
	return gb * 1e9, nil
}

// Bytes sent per party by the OT source, per item (BENCHMARKS.md).
const (
	costAuth   = 772    // an authenticated random value (COPEe both ways and the check)
	costMask   = 386    // an input mask (COPEe one way)
	costDaBit  = 15_627 // a daBit (Rotaru-Wood: private daBits, cut-and-choose, buckets, one triple)
	costPerOT  = 4      // OT extension bytes per correlated OT (SoftSpoken k = 4, KOS check)
	costCorrEl = 16     // one Z_2^128 correction of a correlated OT
)

// OfflineCost is a predicted offline cost in bytes sent per party, by correlation.
type OfflineCost map[string]float64

// Total is the sum over correlations.
func (c OfflineCost) Total() float64 {
	t := 0.0
	for _, v := range c {
		t += v
	}
	return t
}

// String lists the parts, largest first, in GB.
func (c OfflineCost) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c[keys[i]] > c[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f GB", k, c[k]/1e9))
	}
	return strings.Join(parts, ", ")
}

// tripleCost is Π_Triple's bytes for units product terms pairing an entry of A with l
// entries of B, with nA, nB, nC entries of A, B and C.
func tripleCost(units, l, nA, nB, nC int64) float64 {
	return float64(units*tripleTau*(costCorrEl*l+costPerOT) + (2*nA+nB+2*nC)*costAuth)
}

// PredictOffline predicts what the OT-based offline phase (preprocessing "ot", every
// triple by Π_Triple) sends per party for the calls counted in d (see the file comment
// for its accuracy).
func PredictOffline(d *mpc.Demand) (OfflineCost, error) { return predictOffline(d, false, nil) }

// PredictOfflineHE is PredictOffline for the default offline phase (heSource, always
// false: each linear layer by HE when that halves its bytes) or for preprocessing "he"
// (always true): hemat's upload and two responses per HE triple (exact: the plans'
// sizes), the authentication of its five vectors, and one public key with its proof per
// party (once per key pair; a key pair serves up to hemat.MaxResponses response
// polynomials). A depthwise convolution's geometry is guessed from the call's sizes
// (square image and kernel, SAME padding); the run recognises it from the index maps.
func PredictOfflineHE(d *mpc.Demand, always bool) (OfflineCost, error) {
	p, err := hemat.NewParams()
	if err != nil {
		return nil, err
	}
	return predictOffline(d, false, &heMode{params: p, always: always})
}

// heMode is how the offline phase makes the linear layers' triples: HE where heCost
// says so (nil: Π_Triple for all).
type heMode struct {
	params *hemat.Params
	always bool
}

// heTriple is the HE cost of a triple for f, or nil for Π_Triple.
func (h *heMode) heTriple(f bilinear) (*hePlan, error) {
	if h == nil {
		return nil, nil
	}
	return heCost(h.params, f, h.always)
}

// guessDepthwise is the depthwise convolution of a GatherMulSum call: C = WLen / K
// channels, a square image of XLen / C pixels and of N / C outputs, a square kernel of K
// taps, stride ceil(H / OH), SAME padding (ok false if the sizes are not of that form).
func guessDepthwise(call mpc.Call) (gatherMul, bool) {
	sq := func(v int) (int, bool) {
		r := int(math.Round(math.Sqrt(float64(v))))
		return r, r*r == v && r > 0
	}
	if call.K < 1 || call.WLen%call.K != 0 {
		return gatherMul{}, false
	}
	C := call.WLen / call.K
	if C < 1 || call.XLen%C != 0 || call.N%C != 0 {
		return gatherMul{}, false
	}
	h, ok1 := sq(call.XLen / C)
	oh, ok2 := sq(call.N / C)
	kh, ok3 := sq(call.K)
	if !ok1 || !ok2 || !ok3 {
		return gatherMul{}, false
	}
	s := (h + oh - 1) / oh
	pad := max((oh-1)*s+kh-h, 0) / 2
	return depthwiseGather(hemat.Depthwise{H: h, W: h, C: C, KH: kh, KW: kh, Stride: s, PadT: pad, PadL: pad, OH: oh, OW: oh}), true
}

// predictOffline is PredictOffline for the conversions' circuits chosen by lowDepth
// (Protocol.lowDepth, convert.go) and the linear layers' triples by he.
func predictOffline(d *mpc.Demand, lowDepth bool, he *heMode) (OfflineCost, error) {
	c, _, err := predictPlan(d, lowDepth, he)
	return c, err
}

// planCounts is what an inference draws of the pooled correlations (plan.go): AND
// triples (ANDTriples, CarryEdaBits' prefix products and the edaBit refills' combining
// adders) and edaBits by length.
type planCounts struct {
	ands int64
	eda  map[int]int64
}

// inferencePlan is an inference's plan: the pooled correlations' counts, the sizing
// that keeps its statistical security and that security (security.go), and
// planSecurity's refusal if no sizing keeps StatBits bits.
type inferencePlan struct {
	counts planCounts
	size   sizing
	sec    Security
	secErr error
}

// predictPlan is predictOffline with the inference's plan: the counts of the pooled
// correlations, which it charges by the refills plan.go makes of them (andPlanBytes,
// edaPlanBytes) with the sizing of planSecurity.
func predictPlan(d *mpc.Demand, lowDepth bool, he *heMode) (OfflineCost, inferencePlan, error) {
	c := OfflineCost{}
	pc := planCounts{eda: map[int]int64{}}
	var ck planChecks
	var ip inferencePlan
	adders := map[[3]int]int64{}
	var heResponses int64 // response polynomials under each party's key
	// heTriple charges an HE triple for f if it has a plan (and reports whether).
	heTriple := func(f bilinear, cnt float64) (bool, error) {
		hp, err := he.heTriple(f)
		if hp == nil || err != nil {
			return false, err
		}
		nA, nB, nC := f.sizes()
		nS := nA // the sacrifice's other factor: A' if B is encrypted, B' if A is
		if hp.plan.EncryptLeft {
			nS = nB
		}
		c["HE products"] += cnt * float64(hp.bytes)
		c["HE triples' authentication"] += cnt * float64(int64(nA+nB+2*nC+nS)*costAuth)
		heResponses += int64(cnt) * int64(2*hp.plan.OutPolys())
		ck.heTriples += int64(cnt)
		return true, nil
	}
	// otTriple counts Π_Triple triples of units product terms with l entries of B each.
	otTriple := func(count, units, l int64) {
		per := max(1, tripleBatchElems/(tripleTau*max(1, l)))
		ck.otTriples += count
		ck.otBatches += count * max(1, (units+per-1)/per)
	}
	for _, call := range d.Calls {
		cnt := float64(call.Count)
		n, k, m := int64(call.N), int64(call.K), int64(call.M)
		ck.online(call)
		switch call.Op {
		case "GatherMulSum":
			if g, ok := guessDepthwise(call); ok && he != nil {
				done, err := heTriple(g, cnt)
				if err != nil {
					return nil, ip, err
				}
				if done {
					continue
				}
			}
		case "MatMul":
			done, err := heTriple(matMul{call.M, call.K, call.N}, cnt)
			if err != nil {
				return nil, ip, err
			}
			if done {
				continue
			}
		}
		switch call.Op {
		case "Input":
			c["input masks"] += cnt * float64(n*costMask)
		case "Mul":
			c["triples"] += cnt * tripleCost(n, 1, n, n, n)
			otTriple(call.Count, n, 1)
		case "MulSum", "GatherMulSum":
			c["triples"] += cnt * tripleCost(n*k, 1, n*k, n*k, n)
			otTriple(call.Count, n*k, 1)
		case "MatMul":
			c["matrix triples"] += cnt * tripleCost(m*k, n, m*k, k*n, m*n)
			otTriple(call.Count, m*k, n)
		case "AND": // pairs with a public operand are local
			pc.ands += call.Count * (n - int64(call.Public))
		case "A2B": // one edaBit per element (a 64-bit one above a2bFullEda) and the adder
			key := [3]int{call.N, call.W, call.Lo}
			ands, ok := adders[key]
			if !ok {
				var err error
				if ands, err = adderANDs(call.N, call.W, call.Lo, lowDepth); err != nil {
					return nil, ip, err
				}
				adders[key] = ands
			}
			m := int64(call.W)
			if call.W > a2bFullEda {
				m = 64
			}
			pc.eda[int(m)] += call.Count * n
			pc.ands += call.Count * ands
		case "B2A":
			if call.W >= b2aEdaMinWidth { // a 64-bit edaBit, its carry products and the adder
				ands, err := rippleB2AANDs(call.W)
				if lowDepth {
					ands, err = b2aANDs(call.W)
				}
				if err != nil {
					return nil, ip, err
				}
				pc.eda[64] += call.Count * n
				pc.ands += call.Count * n * ands
				continue
			}
			c["daBits"] += cnt * float64(n*int64(call.W)*costDaBit)
			ck.daBits(call.Count, n*int64(call.W))
			otTriple(call.Count, n*int64(call.W), 1)
		case "Bit2A":
			c["daBits"] += cnt * float64(n*costDaBit)
			ck.daBits(call.Count, n)
			otTriple(call.Count, n, 1)
		}
	}
	if heResponses > 0 { // the public keys with their proofs, one per key pair
		keys := (heResponses + he.params.ResponseLimit() - 1) / he.params.ResponseLimit()
		c["HE public keys"] = float64(keys) * float64(he.params.PublicKeyBytes())
		ck.heKeys, ck.heResps = keys, heResponses
	}
	for m, n := range pc.eda {
		pc.ands += edaAdderANDs(n, m)
	}
	ip.counts = pc
	ip.sec, ip.size, ip.secErr = planSecurity(pc, ck)
	if ip.secErr != nil {
		ip.size.andBatch, ip.size.andBucket = maxANDBatch, 0
	}
	if pc.ands > 0 {
		c["AND triples"] = float64(andPlanBytes(pc.ands, ip.size.andBatch, ip.size.andBucket))
	}
	for m, n := range pc.eda {
		c["edaBits"] += float64(edaPlanBytes(n, m, ip.size.checkBits))
	}
	return c, ip, nil
}

// adderANDs counts the AND triples of A2B's adder (mpc.AddB, or highAdder for lo > 0)
// on n elements of w bits, by running it on the counting protocol: its AND gates
// less those with a public operand (the opened c's planes), which spdz2k computes
// locally.
func adderANDs(n, w, lo int, lowDepth bool) (int64, error) {
	cp := count.New(0, 2)
	x, err := cp.Input(0, make([]uint64, n), n)
	if err != nil {
		return 0, err
	}
	b, err := cp.A2B(x, w)
	if err != nil {
		return 0, err
	}
	cp.Take()
	if lo == 0 {
		_, err = mpc.AddB(cp, cp.BPublic(make([]uint64, n), w), b)
	} else {
		_, err = highAdder(cp, cp.BPublic(make([]uint64, n), w), b, lo, lowDepth)
	}
	if err != nil {
		return 0, err
	}
	return secretANDs(cp.Take()), nil
}

// secretANDs is the AND gates of d without a public operand (the AND triples spdz2k
// uses for them).
func secretANDs(d *mpc.Demand) int64 {
	var t int64
	for _, c := range d.Calls {
		if c.Op == "AND" {
			t += int64(c.N-c.Public) * c.Count
		}
	}
	return t
}

// Preprocess checks the offline budget of the inference counted in d (mpc.Preprocessor):
// with the OT source, a prediction above the budget (MaxOfflineBytes, or MaxOfflineEnv's
// value) is an errs.Config error. spdz2k
// draws its correlations just in time, so nothing else happens here.
func (p *Protocol) Preprocess(d *mpc.Demand) error {
	if d == nil {
		return nil
	}
	var he *heMode
	var ots *otSource
	switch s := p.src.(type) {
	case *otSource:
		ots = s
	case *heSource:
		he, ots = &heMode{params: s.params, always: s.always}, s.otSource
	default: // the dealer: no budget
		return nil
	}
	c, ip, err := predictPlan(d, p.lowDepth, he)
	if err != nil {
		return fmt.Errorf("spdz2k: predicting the offline cost: %w", err)
	}
	if t := c.Total(); t > p.maxOffline {
		return errs.New(errs.Config, "spdz2k: this model's offline phase (%s) would send about %.0f GB per party per inference (%s), "+
			"more than the %.3g GB budget; set %s on every party to allow more, or use a smaller model, spdz2k-dealer (a simulated trusted dealer, outside the threat model), "+
			"or another threat model (rep3-mal: three parties, malicious; semi2k: two parties, semi-honest)",
			p.src.Kind(), t/1e9, c, p.maxOffline/1e9, MaxOfflineEnv)
	}
	// The statistical security per inference (security.go): refused if no sizing keeps
	// StatBits bits; else the source makes the plan with that sizing.
	return ots.usePlan(ip)
}

// b2aANDs counts the AND triples per element of B2A of w >= b2aEdaMinWidth bits
// (convert.go), on the counting protocol with b2aEda's operands: for w <= 62 Sklansky's
// adder of the w secret planes and a public zero plane each, the 62 - w offline prefix
// products of the edaBit's planes and the 63 - w gates of the increment; for 63 and 64
// bits Sklansky's adder over 64 planes (x's planes from w up public zeros).
func b2aANDs(w int) (int64, error) {
	cp := count.New(0, 2)
	secret := func(w int) (mpc.BShare, error) {
		x, err := cp.Input(0, make([]uint64, 1), 1)
		if err != nil {
			return nil, err
		}
		return cp.A2B(x, w)
	}
	bw, extra := w, int64(62-w)+int64(63-w)
	if w >= 63 {
		bw, extra = 64, 0
	}
	x, err := secret(w)
	if err != nil {
		return 0, err
	}
	b, err := secret(bw)
	if err != nil {
		return 0, err
	}
	cp.Take()
	zero := func(k int) mpc.BShare { return cp.BPublic(make([]uint64, 1), k) }
	switch {
	case w < 63:
		x, b = cp.JoinBits(x, zero(1)), cp.JoinBits(b, zero(1))
	case w == 63:
		x = cp.JoinBits(x, zero(1))
	}
	if _, err := mpc.AddB(cp, x, b); err != nil {
		return 0, err
	}
	return secretANDs(cp.Take()) + extra, nil
}

// rippleB2AANDs counts the AND triples per element of B2A of w >= b2aEdaMinWidth bits
// with rippleB2AAdder (convert.go), on the counting protocol.
func rippleB2AANDs(w int) (int64, error) {
	cp := count.New(0, 2)
	x, err := cp.Input(0, make([]uint64, 1), 1)
	if err != nil {
		return 0, err
	}
	xb, err := cp.A2B(x, w)
	if err != nil {
		return 0, err
	}
	b, err := cp.A2B(x, 64)
	if err != nil {
		return 0, err
	}
	cp.Take()
	if _, err := rippleB2AAdder(cp, xb, b); err != nil {
		return 0, err
	}
	return secretANDs(cp.Take()), nil
}
