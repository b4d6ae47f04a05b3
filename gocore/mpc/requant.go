package mpc

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Exact requantization: TFLite's MultiplyByQuantizedMultiplier (and the other rounding
// modes of LiteRT's kernels, and round-half-even for ONNX Runtime / PyTorch models),
// followed by the output zero point and the activation clamp, on secret accumulators,
// bit for bit equal to the cleartext arithmetic of package qnn.
//
// # The arithmetic
//
// Every mode is one floor division of a linear function of the accumulator, minus a
// correction on exact ties. With l = max(shift, 0), r = max(-shift, 0), x the accumulator
// (x*2^l wrapped to int32 as C does), v = x*2^l*M (exact: |v| < 2^62) and every division a
// floor:
//
//	RoundAway (gemmlowp SaturatingRoundingDoublingHighMul then RoundingDivideByPOT):
//	   t = (v + 2^30) / 2^31 and y = (t + 2^(r-1) - [t<0]) / 2^r for r >= 1 (y = t for r = 0)
//	RoundUp:     y = (t + 2^(r-1)) / 2^r        RoundFloor: y = t / 2^r
//	RoundSingle: y = (v + 2^(30+r)) / 2^(31+r)
//	RoundHalfEven: with p = x*M and e = 31 - shift >= 1,
//	   y = (p + 2^(e-1)) / 2^e - [p mod 2^e == 2^(e-1)] * [p / 2^e even]
//
// SRDHM(a, M) = (a*M + 2^30) / 2^31 holds for M >= 0 (no saturation; verified in
// qnn.TestSRDHMIsFloorFormula), and nested floors combine, (floor(u/2^a) + h) / 2^b =
// (u + h*2^a) / 2^(a+b) for integer h. Hence every mode has the form
//
//	y = floor(w / 2^E) - c,   w = v + C (a public constant C),
//
// with c = 0 except:
//
//   - RoundAway, r >= 1: E = 31+r, C = 2^30 + 2^(30+r), and c = tie AND [q <= 0] where
//     q = floor(w/2^E) and tie = [planes 31..E-1 of w are all zero].
//     Proof: y = floor((w - s*2^31) / 2^E) with s = [t < 0]. Subtracting s*2^31 < 2^E
//     lowers the quotient by one exactly when s = 1 and w mod 2^E < 2^31, i.e. tie. On a
//     tie, w = q*2^E + low with low < 2^31, so t = floor((w - 2^(30+r))/2^31) =
//     q*2^r - 2^(r-1), which is negative iff q <= 0. So s = [q <= 0] whenever it matters.
//   - RoundHalfEven, e >= 1: E = e, C = 2^(e-1), c = tie AND [q odd] with tie = [planes
//     0..E-1 of w all zero] (then p mod 2^e = 2^(e-1) and p / 2^e = q - 1).
//
// # The circuit
//
// One A2B of w (width Bw = the exact signed width of w's range, at most 64) gives
// q's planes [E, Bw) directly; nothing else is added in binary. The tie is an AND tree of
// complemented planes, the conditions come from the same planes, and the correction is
// applied as a conditional decrement, whose borrow pattern is a prefix AND of the
// complemented low planes. With the output clamp (Requantize) the zero point is folded
// into w as zp*2^E before the A2B, so q' = q + zp - actMin is what the planes hold, and
// with H = actMax - actMin and h = bits(H) only the h low planes of the result exist:
//
//	clamp(q' - c, 0, H) = clamp(q', 0, H) - c * [1 <= q' <= H]
//
// (if q' <= 0 both sides are 0, if q' > H both are H since q' - c >= H). With hz = [q' in
// [0, 2^h)] (an AND tree over the planes above h), L the h low planes and bm_j = [L's
// planes below j are 0] (a prefix AND; bm_h = [L == 0]):
//
//	inr = [0 <= q' <= H] = hz & [L <= H]      gtH = [q' > H] = NOT (sign XOR inr)
//	c * [1 <= q' <= H] = tie & hz & D, D = [L <= min(zp-actMin, H)] XOR bm_h (RoundAway)
//	                                     D = [L <= H] XOR bm_h, tie includes q's parity (HalfEven)
//	out_j = (L_j & inr) ^ (tie&hz & D&bm_j) ^ (H_j & gtH)
//
// (at q' = 0 the mux outputs L = 0, as the clamp does; D excludes L = 0 so that the
// correction never applies there). Without a possible correction (zp - actMin < 1 for
// RoundAway, which covers int8 outputs without activation and ReLU-fused outputs, or
// modes without ties) only hz and [L <= H] are computed, and [L <= H] is free when H =
// 2^h - 1.
//
// The comparisons with public constants are carry trees with free leaves. All trees of
// a level share one AND round; after them come at most two more rounds, then one B2A of
// h planes (8 for uint8/int8 outputs). Per element, with Bq = Bw - E: (Bq - h) gates for
// hz, at most 2h for each comparison, h*log2(h)/2 for the prefix and |tie| for the tie
// tree, then 2h + 2 (h + 1 without correction), besides the A2B and the B2A; see
// TestCost for measured counts.
//
// # Per-channel shifts
//
// Elements of different channels may have different E. If the protocol implements
// PublicMasker (a local AND with a public per-element mask), each element's quotient is
// read at its own plane: x_j = XOR over the distinct E of (plane E + j, masked to the
// elements with that E), and the tie planes are masked likewise; w then needs only
// max(E + width of q) bits, which fits 64 even with 32-bit accumulators. Otherwise each
// element's w is multiplied by
// 2^(Emax - E) (a public per-element factor, free), which aligns every quotient at plane
// Emax; only the tie planes differ per element, and those (at most the spread of the
// shifts) are masked per element with BGather. This needs the aligned range to fit in 64
// bits; when it does not, the distinct E values are split into windows that fit, each
// window runs as its own pass (in sequence), and the results are scattered back (local).

// RoundMode selects the rounding of x * M * 2^(shift-31); the first four equal package
// qnn's RoundMode values of the same names (see qnn.RoundMode.Mul), RoundHalfEven is
// qnn.MulHalfEven.
type RoundMode uint8

// Rounding modes.
const (
	RoundAway     RoundMode = iota // TFLite reference MultiplyByQuantizedMultiplier
	RoundUp                        // ruy / NEON vector paths: ties toward +inf after SRDHM
	RoundSingle                    // TFLITE_SINGLE_ROUNDING / XNNPACK: one rounding
	RoundFloor                     // SRDHM then arithmetic shift
	RoundHalfEven                  // ONNX Runtime / PyTorch: one rounding, ties to even
)

func (r RoundMode) String() string {
	switch r {
	case RoundAway:
		return "away"
	case RoundUp:
		return "up"
	case RoundSingle:
		return "single"
	case RoundFloor:
		return "floor"
	case RoundHalfEven:
		return "half-even"
	}
	return fmt.Sprintf("round(%d)", uint8(r))
}

// Requant describes an output requantization: y = clamp(Mul(acc, Mult[c], Shift[c]) +
// OutZP, ActMin, ActMax) for an element of channel c, Mul rounding as Round[c] says.
type Requant struct {
	Mult  []int32     // per channel, >= 0
	Shift []int       // per channel
	Round []RoundMode // per channel; nil means RoundAway everywhere
	// OutZP, ActMin and ActMax are ignored by MulQuantizedMultiplierRound.
	OutZP          int32
	ActMin, ActMax int32
}

// MulQuantizedMultiplier returns, elementwise, TFLite's MultiplyByQuantizedMultiplier(acc[i],
// mult[c], shift[c]) with c = channel[i] (channel nil: c = 0), exactly. acc holds signed
// int32 values with -2^(accBound-1) <= acc < 2^(accBound-1), accBound <= 32; mult >= 0.
// The result is a signed value (two's complement in Z_2^64). Cost: one A2B of the
// product's width (at most 63 bits), a few AND rounds, one B2A of the result's width.
func MulQuantizedMultiplier(p Protocol, acc AShare, mult []int32, shift []int, channel []int32, accBound int) (AShare, error) {
	return MulQuantizedMultiplierRound(p, acc, Requant{Mult: mult, Shift: shift}, channel, accBound)
}

// MulQuantizedMultiplierRound is MulQuantizedMultiplier with a rounding mode per channel
// (q.Round; OutZP and the clamp are not applied). For RoundHalfEven the result is the
// unsaturated value (qnn.MulHalfEven64), which equals qnn.MulHalfEven whenever it fits
// int32.
func MulQuantizedMultiplierRound(p Protocol, acc AShare, q Requant, channel []int32, accBound int) (_ AShare, err error) {
	defer guard(&err, "mpc mulquantizedmultiplierround")
	y, err := requantize(p, acc, q, channel, accBound, false)
	if err != nil {
		return nil, fmt.Errorf("mpc mulquantizedmultiplier: %w", err)
	}
	return y, nil
}

// Requantize returns clamp(MultiplyByQuantizedMultiplier(acc[i], mult[c], shift[c]) +
// outZP, actMin, actMax) elementwise, with c = channel[i] (channel nil: c = 0), exactly as
// TFLite's quantized kernels finish an output; the result is the quantized value as a
// signed integer in Z_2^64. Bounds as for MulQuantizedMultiplier. The zero point and the
// clamp are fused into the binary circuit, so the only conversion back is one B2A of
// bits(actMax - actMin) planes.
func Requantize(p Protocol, acc AShare, mult []int32, shift []int, channel []int32, outZP int32, actMin, actMax int32, accBound int) (AShare, error) {
	return RequantizeRound(p, acc, Requant{Mult: mult, Shift: shift, OutZP: outZP, ActMin: actMin, ActMax: actMax}, channel, accBound)
}

// RequantizeRound is Requantize with a rounding mode per channel (q.Round).
func RequantizeRound(p Protocol, acc AShare, q Requant, channel []int32, accBound int) (_ AShare, err error) {
	defer guard(&err, "mpc requantizeround")
	y, err := requantize(p, acc, q, channel, accBound, true)
	if err != nil {
		return nil, fmt.Errorf("mpc requantize: %w", err)
	}
	return y, nil
}

// chanParams is the derived public arithmetic of one channel: w = acc*mul + add, the
// quotient at plane e, and the tie planes [tie, e) (tie < 0: no correction).
type chanParams struct {
	mul     uint64 // M*2^l (int32 wrap of acc*2^l applied beforehand), or M*2^-e for left half-even
	add     *big.Int
	e       int
	tie     int
	mode    RoundMode
	wmin    *big.Int // range of acc*mul + add over the accumulator range
	wmax    *big.Int
	leftPre int // l, applied (with int32 wrap) before the pass when wrapping is needed
}

type requantizer struct {
	p        Protocol
	n        int
	chans    []chanParams
	channel  []int32
	clamp    bool
	g        int64  // zp - actMin (clamp only)
	lo       int64  // actMin (clamp only)
	hi       uint64 // H = actMax - actMin (clamp only)
	halfEven bool
}

func requantize(p Protocol, acc AShare, q Requant, channel []int32, accBound int, clamp bool) (AShare, error) {
	n := acc.Len()
	nc := len(q.Mult)
	if nc == 0 || len(q.Shift) != nc || (q.Round != nil && len(q.Round) != nc) {
		return nil, errs.New(errs.Internal, "%d multipliers, %d shifts, %d rounding modes", nc, len(q.Shift), len(q.Round))
	}
	if channel != nil && len(channel) != n {
		return nil, errs.New(errs.Shape, "%d channel indices for %d accumulators", len(channel), n)
	}
	for i, c := range channel {
		if c < 0 || int(c) >= nc {
			return nil, errs.New(errs.Internal, "element %d: channel %d out of range [0,%d)", i, c, nc)
		}
	}
	// Accumulators are int32 (TFLite), except that round-half-even requantizations (ONNX
	// Runtime / PyTorch ADD: RNE((A*a + B*b) / 2^R)) take wider exact sums, as long as
	// |acc * M| stays below 2^62.
	maxBound := 32
	if allHalfEven(q) {
		maxM := int32(0)
		for _, m := range q.Mult {
			maxM = max(maxM, m)
		}
		maxBound = max(32, 62-bitLen(uint64(maxM)))
	}
	if accBound < 1 || accBound > maxBound {
		return nil, errs.New(errs.Internal, "accumulator bound %d bits not in [1,%d]", accBound, maxBound)
	}
	rq := &requantizer{p: p, n: n, channel: channel, clamp: clamp}
	if clamp {
		if q.ActMin > q.ActMax {
			return nil, errs.New(errs.Model, "activation range [%d,%d] is empty", q.ActMin, q.ActMax)
		}
		rq.lo = int64(q.ActMin)
		rq.hi = uint64(int64(q.ActMax) - int64(q.ActMin))
		rq.g = int64(q.OutZP) - int64(q.ActMin)
	}
	amin := big.NewInt(-1 << (accBound - 1))
	amax := big.NewInt(1<<(accBound-1) - 1)
	// Does some channel need acc*2^l wrapped to int32 first?
	wrap := false
	nHE := 0
	for c := range nc {
		mode := RoundAway
		if q.Round != nil {
			mode = q.Round[c]
		}
		if mode > RoundHalfEven {
			return nil, errs.New(errs.Internal, "channel %d: unknown rounding mode %d", c, mode)
		}
		if q.Mult[c] < 0 {
			return nil, errs.New(errs.Model, "channel %d: negative multiplier %d", c, q.Mult[c])
		}
		if mode == RoundHalfEven {
			nHE++
		} else if l := q.Shift[c]; l > 0 && accBound+l > 32 {
			wrap = true
		}
	}
	if nHE > 0 && nHE < nc {
		return nil, errs.New(errs.Internal, "round-half-even cannot be mixed with other rounding modes in one call")
	}
	rq.halfEven = nHE > 0
	if wrap {
		amin, amax = big.NewInt(-1<<31), big.NewInt(1<<31-1)
	}
	rq.chans = make([]chanParams, nc)
	for c := range nc {
		mode := RoundAway
		if q.Round != nil {
			mode = q.Round[c]
		}
		cp, err := deriveChan(q.Mult[c], q.Shift[c], mode)
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", c, err)
		}
		if wrap {
			cp.mul = uint64(q.Mult[c]) // the pre-pass applies 2^l
		}
		m := new(big.Int).SetUint64(cp.mul)
		cp.wmin = new(big.Int).Add(new(big.Int).Mul(amin, m), cp.add)
		cp.wmax = new(big.Int).Add(new(big.Int).Mul(amax, m), cp.add)
		rq.chans[c] = cp
	}
	if wrap {
		var err error
		acc, err = rq.wrapLeft(acc)
		if err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return p.Public([]uint64{}), nil
	}
	if clamp && rq.hi == 0 {
		// A single output value: no secret computation needed.
		return p.Public(broadcast(uint64(rq.lo), n)), nil
	}
	if y, ok, err := rq.fusedPass(acc); ok {
		return y, err
	}
	if y, ok, err := rq.selectPass(acc); ok {
		return y, err
	}
	all := make([]int, 0, n)
	for i := range n {
		all = append(all, i)
	}
	return rq.windows(acc, all)
}

// deriveChan turns (M, shift, mode) into w = acc*mul + add, quotient plane e and the tie.
func deriveChan(m int32, shift int, mode RoundMode) (chanParams, error) {
	cp := chanParams{mode: mode, tie: -1, add: new(big.Int)}
	if mode == RoundHalfEven {
		e := 31 - shift
		switch {
		case e > 62:
			return cp, errs.New(errs.Model, "shift %d out of range for round-half-even", shift)
		case e < 0:
			if -e > 31 {
				return cp, errs.New(errs.Model, "shift %d out of range for round-half-even", shift)
			}
			cp.mul = uint64(m) << uint(-e)
		case e == 0:
			cp.mul = uint64(m)
		default:
			cp.mul = uint64(m)
			cp.e = e
			cp.add.Lsh(big.NewInt(1), uint(e-1))
			cp.tie = 0
		}
		return cp, nil
	}
	if shift > 31 || shift < -31 {
		return cp, errs.New(errs.Model, "shift %d out of range [-31,31]", shift)
	}
	l, r := max(shift, 0), max(-shift, 0)
	cp.leftPre = l
	cp.mul = uint64(m) << uint(l)
	cp.e = 31 + r
	pow := func(k int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(k)) }
	switch mode {
	case RoundAway:
		cp.add = pow(30)
		if r >= 1 {
			cp.add.Add(cp.add, pow(30+r))
			cp.tie = 31
		}
	case RoundUp:
		cp.add = pow(30)
		if r >= 1 {
			cp.add.Add(cp.add, pow(30+r))
		}
	case RoundSingle:
		cp.add = pow(30 + r)
	case RoundFloor:
		cp.add = pow(30)
	}
	return cp, nil
}

// wrapLeft replaces acc[i] by int32(acc[i] * 2^l) (C's wrapping int32 shift) for the
// channels with a left shift: A2B of 32 bits of acc*2^l, then the signed value back. This
// is the one ring-specific decomposition (the wrap is arithmetic mod 2^32 of a value of up
// to 63 bits): a field protocol would decompose all of acc*2^l (a2bSigned) and keep the
// low 32 planes.
func (rq *requantizer) wrapLeft(acc AShare) (AShare, error) {
	p := rq.p
	f := make([]uint64, rq.n)
	for i := range f {
		f[i] = 1 << uint(rq.chans[rq.chanOf(i)].leftPre)
	}
	x, err := p.A2B(p.MulPublic(acc, f), 32)
	if err != nil {
		return nil, fmt.Errorf("int32 wrap of acc<<shift: a2b: %w", err)
	}
	y, err := signedB2A(p, x)
	if err != nil {
		return nil, fmt.Errorf("int32 wrap of acc<<shift: %w", err)
	}
	return y, nil
}

func (rq *requantizer) chanOf(i int) int {
	if rq.channel == nil {
		return 0
	}
	return int(rq.channel[i])
}

// signedB2A converts a w-bit two's complement binary share to an arithmetic share of its
// signed value: flipping the sign plane adds 2^(w-1) (offset binary), so B2A gives x +
// 2^(w-1), and the offset is subtracted locally.
func signedB2A(p Protocol, x BShare) (AShare, error) {
	w := x.Width()
	c := &circ{p, x.Len()}
	pl := c.planes(x)
	pl[w-1] = c.not(pl[w-1])
	y, err := p.B2A(c.join(pl))
	if err != nil {
		return nil, fmt.Errorf("b2a: %w", err)
	}
	return p.AddPublic(y, []uint64{-(uint64(1) << uint(w-1))}), nil
}

func broadcast(v uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// signedWidth returns the least B >= 1 with -2^(B-1) <= lo and hi < 2^(B-1).
func signedWidth(lo, hi *big.Int) int {
	b := 1
	for {
		lim := new(big.Int).Lsh(big.NewInt(1), uint(b-1))
		if hi.Cmp(lim) < 0 && new(big.Int).Neg(lim).Cmp(lo) <= 0 {
			return b
		}
		b++
	}
}

// floorShift returns floor(x / 2^e).
func floorShift(x *big.Int, e int) *big.Int { return new(big.Int).Rsh(x, uint(e)) }

// layout returns the aligned plane of the quotient, the width of w and the width of the
// quotient x = q (+ g with the clamp) for the elements of the given channels, and ok =
// false when w does not fit 64 bits. With fold, g*2^emax is part of w; without, w holds
// q (width bw - emax) and g is added to the planes in binary, giving bx planes.
func (rq *requantizer) layout(chans []int, fold bool) (emax, bw, bx int, ok bool) {
	for _, c := range chans {
		emax = max(emax, rq.chans[c].e)
	}
	var xmin, xmax *big.Int
	for _, c := range chans {
		cp := &rq.chans[c]
		// quotient range floor(w/2^e) (alignment does not change it)
		a, b := floorShift(cp.wmin, cp.e), floorShift(cp.wmax, cp.e)
		if xmin == nil || a.Cmp(xmin) < 0 {
			xmin = a
		}
		if xmax == nil || b.Cmp(xmax) > 0 {
			xmax = b
		}
	}
	if !rq.clamp {
		xmin.Sub(xmin, big.NewInt(1)) // room for the decrement
		bx = signedWidth(xmin, xmax)
		return emax, emax + bx, bx, emax+bx <= 64
	}
	bq := signedWidth(xmin, xmax)
	g := big.NewInt(rq.g)
	bx = signedWidth(new(big.Int).Add(xmin, g), new(big.Int).Add(xmax, g))
	if fold {
		bw = emax + bx
	} else {
		bw = emax + bq
	}
	return emax, bw, bx, bw <= 64
}

// windows runs one pass over the elements if their aligned range fits 64 bits, and
// otherwise splits the distinct quotient planes in two and recurses.
func (rq *requantizer) windows(acc AShare, elems []int) (AShare, error) {
	seen := make([]bool, len(rq.chans))
	for _, i := range elems {
		seen[rq.chanOf(i)] = true
	}
	var chans []int
	for c, ok := range seen {
		if ok {
			chans = append(chans, c)
		}
	}
	if _, _, _, ok := rq.layout(chans, true); ok || len(elems) == 0 {
		return rq.pass(acc, elems, chans, true)
	}
	if _, _, _, ok := rq.layout(chans, false); ok && rq.clamp {
		return rq.pass(acc, elems, chans, false)
	}
	es := map[int]bool{}
	for _, c := range chans {
		es[rq.chans[c].e] = true
	}
	if len(es) < 2 {
		_, bw, _, _ := rq.layout(chans, false)
		return nil, errs.New(errs.Model, "requantization needs %d-bit intermediates (more than 64)", bw)
	}
	ev := make([]int, 0, len(es))
	for e := range es {
		ev = append(ev, e)
	}
	sort.Ints(ev)
	split := ev[len(ev)/2]
	// Local positions and global ids of the two halves.
	var idx [2][]int32
	var part [2][]int
	for k, i := range elems {
		h := 0
		if rq.chans[rq.chanOf(i)].e >= split {
			h = 1
		}
		idx[h] = append(idx[h], int32(k))
		part[h] = append(part[h], i)
	}
	p := rq.p
	pos := make([]int32, len(elems))
	parts := make([]AShare, 0, 2)
	off := 0
	for h := range 2 {
		for k, l := range idx[h] {
			pos[l] = int32(off + k)
		}
		y, err := rq.windows(p.Gather(acc, idx[h]), part[h])
		if err != nil {
			return nil, err
		}
		parts = append(parts, y)
		off += len(idx[h])
	}
	return p.Gather(p.Concat(parts...), pos), nil
}

// pass requantizes acc, whose element k is global element elems[k], in one A2B; fold
// says whether the clamp's offset g is part of w or added to the quotient's planes.
func (rq *requantizer) pass(acc AShare, elems []int, chans []int, fold bool) (AShare, error) {
	p := rq.p
	n := len(elems)
	emax, bw, bx, _ := rq.layout(chans, fold)
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	// Per-channel aligned factor and constant, then per element.
	als := make([]struct{ mul, add uint64 }, len(rq.chans))
	for _, c := range chans {
		cp := &rq.chans[c]
		k := uint(emax - cp.e)
		a := new(big.Int).Lsh(cp.add, k)
		if rq.clamp && fold {
			a.Add(a, new(big.Int).Lsh(big.NewInt(rq.g), uint(emax)))
		}
		a.Mod(a, mod)
		als[c] = struct{ mul, add uint64 }{cp.mul << k, a.Uint64()}
	}
	var mulV, addV []uint64
	if len(chans) == 1 || rq.uniform(chans, als) {
		a := als[chans[0]]
		mulV, addV = []uint64{a.mul}, []uint64{a.add}
	} else {
		mulV, addV = make([]uint64, n), make([]uint64, n)
		for k, i := range elems {
			a := als[rq.chanOf(i)]
			mulV[k], addV[k] = a.mul, a.add
		}
	}
	// Only the planes from the lowest tie plane up are used.
	lowest := emax
	for _, ch := range chans {
		if cp := &rq.chans[ch]; cp.tie >= 0 {
			lowest = min(lowest, cp.tie+emax-cp.e)
		}
	}
	w := p.AddPublic(p.MulPublic(acc, mulV), addV)
	wb, err := a2bSigned(p, w, bw, lowest) // planes [lowest, bw) of w's two's complement
	if err != nil {
		return nil, fmt.Errorf("a2b of %d bits: %w", bw, err)
	}
	c := &circ{p, n}
	wp := make([]bit, bw)
	for j := lowest; j < bw; j++ {
		wp[j] = bit{s: p.Bits(wb, j-lowest, 1)}
	}
	x := wp[emax:]
	if rq.clamp && !fold {
		// x = q + g in binary, q sign-extended to bx planes (a public addend: free
		// generate gates, ceil(log2(bx)) rounds).
		for len(x) < bx {
			x = append(x, x[len(x)-1])
		}
		x, err = c.addBits(x[:bx], constBits(uint64(rq.g), bx), false)
		if err != nil {
			return nil, fmt.Errorf("zero point: %w", err)
		}
	}
	var tie []bit
	if !rq.clamp || rq.corrK() >= 0 {
		tie = rq.tieLeaves(c, wp, elems, emax, x)
	}
	if rq.clamp {
		return rq.finishClamp(c, x, tie)
	}
	return rq.finishSigned(c, x, tie)
}

// uniform reports whether all channels have the same aligned factor and constant.
func (rq *requantizer) uniform(chans []int, als []struct{ mul, add uint64 }) bool {
	a := als[chans[0]]
	for _, c := range chans[1:] {
		if als[c] != a {
			return false
		}
	}
	return true
}

// tieLeaves returns the leaves of the tie AND tree (nil: no element can tie). Element k
// ties when the planes [tie+align, emax) of w are zero; planes below an element's own tie
// start are masked out for it (BGather with -1), elements without a tie get a 0 leaf,
// and for round-half-even q's parity is a leaf.
func (rq *requantizer) tieLeaves(c *circ, wp []bit, elems []int, emax int, x []bit) []bit {
	p := rq.p
	n := len(elems)
	start := make([]int, n) // first tie plane, or emax+1 for none
	lmin, lmax := emax+1, -1
	allTie := true
	for k, i := range elems {
		cp := &rq.chans[rq.chanOf(i)]
		if cp.tie < 0 {
			start[k] = emax + 1
			allTie = false
			continue
		}
		s := cp.tie + emax - cp.e
		start[k] = s
		lmin, lmax = min(lmin, s), max(lmax, s)
	}
	if lmax < 0 {
		return nil
	}
	var leaves []bit
	for j := lmin; j < emax; j++ {
		pl := wp[j]
		if j < lmax {
			idx := make([]int32, n)
			for k := range idx {
				if start[k] <= j {
					idx[k] = int32(k)
				} else {
					idx[k] = -1
				}
			}
			pl = bit{s: p.BGather(pl.s, idx)}
		}
		leaves = append(leaves, c.not(pl))
	}
	if !allTie {
		allowed := make([]uint64, n)
		for k := range allowed {
			if start[k] <= emax {
				allowed[k] = 1
			}
		}
		leaves = append(leaves, bit{s: p.BPublic(allowed, 1)})
	}
	if rq.halfEven {
		// q = x - g: parity of q is x_0 XOR g_0.
		leaves = append(leaves, c.xor(x[0], bit{v: rq.clamp && rq.g&1 == 1}))
	}
	return leaves
}

// finishSigned outputs q - c as a signed arithmetic share (no clamp).
func (rq *requantizer) finishSigned(c *circ, x []bit, tieLeaves []bit) (AShare, error) {
	bx := len(x)
	if tieLeaves == nil {
		return signedB2A(c.p, c.join(x))
	}
	nx := make([]bit, bx)
	for j := range x {
		nx[j] = c.not(x[j])
	}
	pre := newPrefixAnd(nx) // pre.out[j] = [planes 0..j of q are zero]
	var tie bit
	if err := c.runAll(newAndTree(tieLeaves, &tie), pre); err != nil {
		return nil, fmt.Errorf("tie and prefix: %w", err)
	}
	cor := tie
	if !rq.halfEven {
		// RoundAway: c = tie & [q <= 0], [q <= 0] = sign XOR [q == 0].
		cond := c.xor(x[bx-1], pre.out[bx-1])
		b := &batch{}
		b.and(&cor, tie, cond)
		if err := c.run(b); err != nil {
			return nil, fmt.Errorf("correction: %w", err)
		}
	}
	// q - c: plane j flips iff c and planes below j are zero.
	flip := make([]bit, bx)
	b := &batch{}
	flip[0] = cor
	for j := 1; j < bx; j++ {
		b.and(&flip[j], cor, pre.out[j-1])
	}
	if err := c.run(b); err != nil {
		return nil, fmt.Errorf("decrement: %w", err)
	}
	out := make([]bit, bx)
	for j := range x {
		out[j] = c.xor(x[j], flip[j])
	}
	return signedB2A(c.p, c.join(out))
}

// finishClamp outputs actMin + clamp(q' - c, 0, H) (see the file comment).
func (rq *requantizer) finishClamp(c *circ, x []bit, tieLeaves []bit) (AShare, error) {
	y, err := clampBits(c, x, rq.hi, tieLeaves, rq.corrK())
	if err != nil {
		return nil, err
	}
	a, err := c.p.B2A(c.join(y))
	if err != nil {
		return nil, fmt.Errorf("b2a: %w", err)
	}
	return c.p.AddPublic(a, []uint64{uint64(rq.lo)}), nil
}

// corrK returns the bound K of the correction term D = [L <= K] XOR bm_h: min(g, H) for
// RoundAway (q <= 0 iff q' <= g), H for half-even; K < 0 means no element can need the
// correction inside the clamp range.
func (rq *requantizer) corrK() int64 {
	if rq.halfEven {
		return int64(rq.hi)
	}
	if rq.g < 1 {
		return -1
	}
	return min(rq.g, int64(rq.hi))
}

// clampBits returns the h = bits(H) planes of clamp(x - cor, 0, H) for the signed planes x,
// where cor = tie & [1 <= x <= K] (tie = AND of tieLeaves; tieLeaves nil or K < 0: cor =
// 0). Rounds: the depth of the trees, then two.
func clampBits(c *circ, x []bit, H uint64, tieLeaves []bit, K int64) ([]bit, error) {
	h := 0
	for H>>uint(h) != 0 {
		h++
	}
	if h == 0 {
		return nil, nil
	}
	bx := len(x)
	sgn := x[bx-1]
	xs := func(j int) bit {
		if j < bx {
			return x[j]
		}
		return sgn
	}
	// hz = [x in [0, 2^h)]: planes h..bx-1 (including the sign) all zero.
	var hzLeaves []bit
	for j := h; j < bx; j++ {
		hzLeaves = append(hzLeaves, c.not(x[j]))
	}
	if bx <= h {
		hzLeaves = append(hzLeaves, c.not(sgn))
	}
	L := make([]bit, h)
	for j := range h {
		L[j] = xs(j)
	}
	// Set 1: hz, [L <= H], and for the correction the prefix bm, the tie and [L <= K].
	var hz, ltH, ltK, tie bit
	steps := []stepper{newAndTree(hzLeaves, &hz), c.lePublic(L, H, &ltH)}
	corr := tieLeaves != nil && K >= 0
	var pre *prefixAnd
	if corr {
		nL := make([]bit, h)
		for j := range h {
			nL[j] = c.not(L[j])
		}
		pre = newPrefixAnd(nL)
		steps = append(steps, pre, newAndTree(tieLeaves, &tie))
		if uint64(K) != H {
			steps = append(steps, c.lePublic(L, uint64(K), &ltK))
		}
	}
	if err := c.runAll(steps...); err != nil {
		return nil, fmt.Errorf("clamp comparisons: %w", err)
	}
	// Round A: inr = [0 <= x <= H] = hz & [L <= H] (x = 0 outputs L = 0 like the clamp);
	// the correction's tie & hz and D & bm_j, D = [1 <= L <= K] = [L <= K] ^ [L == 0].
	var inr, th bit
	var dj []bit
	b := &batch{}
	b.and(&inr, hz, ltH)
	if corr {
		if uint64(K) == H {
			ltK = ltH
		}
		bmh := pre.out[h-1] // [L == 0]
		D := c.xor(ltK, bmh)
		b.and(&th, tie, hz)
		dj = make([]bit, h)
		for j := range h {
			bm := one // planes below j are zero
			if j > 0 {
				bm = pre.out[j-1]
			}
			b.and(&dj[j], D, bm)
		}
	}
	if err := c.run(b); err != nil {
		return nil, fmt.Errorf("clamp select: %w", err)
	}
	gtH := c.not(c.xor(sgn, inr)) // x > H  <=>  not (x < 0 or 0 <= x <= H)
	// Round B: the mux and the decrement.
	o := make([]bit, h)
	f := make([]bit, h)
	b = &batch{}
	for j := range h {
		b.and(&o[j], L[j], inr)
		if corr {
			b.and(&f[j], th, dj[j])
		} else {
			f[j] = zero
		}
	}
	if err := c.run(b); err != nil {
		return nil, fmt.Errorf("clamp mux: %w", err)
	}
	out := make([]bit, h)
	for j := range h {
		out[j] = c.xor(o[j], f[j])
		if H>>uint(j)&1 == 1 {
			out[j] = c.xor(out[j], gtH)
		}
	}
	return out, nil
}

// allHalfEven reports whether every channel of q rounds half to even.
func allHalfEven(q Requant) bool {
	if q.Round == nil {
		return false
	}
	for _, r := range q.Round {
		if r != RoundHalfEven {
			return false
		}
	}
	return true
}

// bitLen is the number of bits of x (0 for 0).
func bitLen(x uint64) int {
	n := 0
	for x != 0 {
		n++
		x >>= 1
	}
	return n
}
