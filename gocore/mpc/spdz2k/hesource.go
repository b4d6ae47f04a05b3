package spdz2k

// The linear layers' triples from homomorphic encryption (issue 14): heSource is the OT
// source (otsource.go) whose Triple computes the cross terms of a matrix product or a
// depthwise convolution with package hemat instead of Π_Triple's correlated OTs. Every
// other correlation (keys, COPEe authentication, input masks, elementwise triples, AND
// triples, daBits, edaBits) is the OT source's, and so are the authentication of the
// triple and its sacrifice: heSource only changes how the parties get additive shares of
// C = f(A, B) and of the sacrifice's second product.
//
// Sources: the SPDZ2k triple with sacrifice (Cramer, Damgård, Escudero, Scholl, Xing,
// CRYPTO 2018; otsource.go) with its products computed as in Overdrive / HighGear
// (Keller, Orsini, Scholl, EUROCRYPT 2018: each party encrypts its share of one factor
// under its own key with a proof of plaintext knowledge, the other multiplies by its
// share of the other factor, adds a mask and sends it back), in the matrix form of
// Chen, Kim, Razenshteyn, Rotaru, Song, Wagh (Asiacrypt 2020) and with Cheetah's
// coefficient-encoded layouts; package hemat has the scheme, the proofs (TopGear) and the
// noise flooding.
//
// Threat model: otsource.go's (two parties, static malicious, abort).
//
// # Triple (one bilinear f that hemat can lay out: planFor)
//
// The plan says which factor is encrypted: X (A for a depthwise convolution and for a
// matrix product in the untransposed orientation, B otherwise) and W the other. The
// sacrificed second triple shares X (one upload serves both products): C = f(A, B) and
// C' = f(A, B') if X = A, C' = f(A', B) if X = B. Party i draws X_i, W_i, W'_i uniform in
// Z_2^128. Messages, both parties at once:
//
//  0. Once per key pair (the first HE triple of the session, and whenever the next
//     triple would make more than hemat's ResponseLimit response polynomials under the
//     current keys): i sends its public key b_i = -a_i s_i + e_i (a_i from a seed) with
//     its proof (hemat.MarshalPublicKey, 15.8 MB); j verifies it once
//     (UnmarshalPublicKey) and uses the parsed key for every upload of the key pair. Both
//     count the same public number of response polynomials, so both change keys at the
//     same triple.
//  1. Upload: i sends Enc_i(X_i) in the plan's layout with the proofs of plaintext
//     knowledge (hemat.Encrypt); j verifies them (ReadUpload).
//  2. Responses: j sends, for V = W_j and V = W'_j, Enc_i(f(X_i, V) - R_V) re-randomized
//     and flooded (hemat.Respond), keeping R_V; i decrypts.
//
// Party i's shares: C_i = f(X_i, W_i) + [f(X_i, W_j) - R_j] + R_i (its own mask for the
// other direction), likewise C'_i. Then, as in the OT source: authenticate A, B, C, the
// second factor (A' or B') and C' by COPEe with SPDZ2k's check, and the sacrifice (a coin
// t after the authentication; open rho = t V - V' for the unshared factor V, open sigma
// = t C - C' - f(rho, ...), MAC-check both). A malformed public key, upload or response
// (wrong length, a residue not below its prime) and a failed proof are errs.Cheating.
//
// # Security (why the OT source's argument still holds)
//
// Correctness against a malicious party: whatever it encrypts, responds or
// authenticates, the authenticated values satisfy C = f(A, B) + E and C' = f(A, B') + E'
// (or f(A', B) + E') for errors E, E' fixed before the sacrifice's t; sigma = t E - E'
// is nonzero except with probability 2^-64 per entry of E nonzero mod 2^64 (otsource.go,
// "Triples"), and a wrong opened sigma or rho fails the MAC check.
//
// Privacy of the honest party's shares:
//   - Its upload is RLWE ciphertexts under its own key (IND-CPA) with zero-knowledge
//     proofs, and its public key is pseudorandom with a zero-knowledge proof.
//   - Its response (the responder's view argument: what the decryptor learns is masked)
//     decrypts, under any key and upload that passed their proofs, to f(X_i, W_j) - R'
//     mod 2T with R' = 2 R_j + rho uniform modulo 2T and fresh per response; the rest of
//     the ciphertext is pseudorandom (a fresh encryption of zero under i's key) and the
//     noise is flooded to within 2^-56 per response polynomial (2^-40 per key pair:
//     ResponseLimit) of a distribution independent of W_j (hemat's package doc,
//     "Noise bound"). TestHESourceResponseMasked checks the decryption's distribution.
//   - The factor 2 (hemat's package doc): a proof only pins the encryptor's plaintext
//     modulo 2T, so a malicious encryptor may encrypt m' = 2m + delta with delta a 0/1
//     polynomial. Its decrypted share is then off by e = ceil((delta W_j - rho) / 2) per
//     wanted coefficient (delta W_j the negacyclic product, rho the response's mask bit).
//     Where delta touches a wanted coefficient, e contains +-W_j,l/2 for a coefficient
//     W_j,l that is uniform in Z_2^128 from the cheater's view (W_j and W'_j are the honest
//     party's fresh random triple shares, used only in this triple), so e = 0 mod 2^64
//     with probability at most 2^-63, and the sacrifice aborts except with probability
//     2^-63 + 2^-64; where delta touches no wanted coefficient, e = 0 and nothing changes.
//     Whether the session aborts is thus fixed by the cheater's own choice of delta up to
//     probability 2^-62: it learns nothing about W_j from the abort (no selective failure
//     beyond that), and the session ends at the abort.
//
// # Which bilinears go to HE
//
// planFor lays out matMul (hemat.BestMatMul: both orientations, the fewest bytes for an
// upload and two responses) and a gatherMul whose index maps are exactly those of a
// depthwise convolution over one NHWC image with depth multiplier 1 (recognised:
// depthwiseOf), for hemat.DepthwisePlan. Regular convolutions reach spdz2k as a matMul
// over the gathered (im2col) input, fully-connected layers as a matMul. Elementwise
// products (Mul, MulSum without index maps, and the daBits' and client outputs'
// triples), gathers that are not a depthwise convolution (depth multiplier above 1,
// batches, dilation), a plan with more response polynomials than a key pair allows, and,
// unless preprocessing "he" asks for HE wherever possible, every bilinear whose HE bytes
// (upload and two responses per party) are not at most half Π_Triple's correlated-OT
// bytes (heMargin; tiny layers: an upload carries at least 5.6 MB of proof) use the OT
// source's Π_Triple.

import (
	"errors"
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/hemat"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// PreprocessingHE is the OT offline phase with the linear layers' triples from
// homomorphic encryption wherever hemat can lay them out (heSource with always set).
// The default ("") is heSource choosing HE per bilinear when it halves the bytes; PreprocessingOT
// is the OT source alone.
const PreprocessingHE = "he"

// heSource is the OT source with Triple by hemat for the bilinears planFor lays out.
type heSource struct {
	*otSource
	params *hemat.Params
	// always: HE for every bilinear hemat can lay out; otherwise only when its bytes are
	// at most 1/heMargin of Π_Triple's.
	always bool
	sk     *hemat.SecretKey
	peer   *hemat.PublicKey // the peer's parsed key (it counts the responses made under it)
	keys   int              // key pairs generated so far
	plans  map[string]*hePlan
	// heTriples counts the triples made by HE (tests).
	heTriples int

	// beforeUpload, if set (tests only), may change the copy of this party's factor X_i
	// that it encrypts; beforeRespond the copies of W_i and W'_i it multiplies by (a
	// cheater whose products do not match the shares it authenticates).
	beforeUpload  func(x ring128.Vec)
	beforeRespond func(w, w2 ring128.Vec)
	// sending, if set (tests only), may change a message of kind "public key", "upload"
	// or "responses" just before it is sent (a cheater altering it on the wire).
	sending func(kind string, msg []byte)
}

// heExchange sends this party's message of the given kind and receives the peer's.
func (s *heSource) heExchange(kind string, msg []byte) ([]byte, error) {
	if s.sending != nil {
		s.sending(kind, msg)
	}
	return s.exchange("HE "+kind, msg)
}

// hePlan is the HE layout of one bilinear (nil plan: Π_Triple).
type hePlan struct {
	plan *hemat.Plan
	// bytes is what one party sends for the triple's products: the upload and two
	// responses.
	bytes int
}

// newHESource runs the OT source's setup; the key pairs come with the first HE triple.
func newHESource(s *otSource, always bool) (*heSource, error) {
	p, err := hemat.NewParams()
	if err != nil {
		return nil, err
	}
	return &heSource{otSource: s, params: p, always: always, plans: map[string]*hePlan{}}, nil
}

func (s *heSource) Kind() string { return PreprocessingHE }

// swapped is f with its factors exchanged: swapped{f}.apply(out, w, x) = f(x, w). The
// sacrifice varies its second argument's partner: with swapped it checks C = f(A, B)
// against C' = f(A, B').
type swapped struct{ f bilinear }

func (g swapped) sizes() (int, int, int) {
	x, w, o := g.f.sizes()
	return w, x, o
}

func (g swapped) apply(out, x, w ring128.Vec) { g.f.apply(out, w, x) }

// planFor returns the HE plan of f, or nil for Π_Triple (file comment).
func (s *heSource) planFor(f bilinear) (*hePlan, error) {
	key := ""
	switch g := f.(type) {
	case matMul:
		key = fmt.Sprintf("matmul %d %d %d", g.m, g.k, g.n)
	case gatherMul:
		if g.xIdx == nil || g.wIdx == nil {
			return nil, nil
		}
		d, ok := depthwiseOf(g)
		if !ok {
			return nil, nil
		}
		key = fmt.Sprintf("depthwise %+v", d)
	default:
		return nil, nil
	}
	if hp, ok := s.plans[key]; ok {
		return hp, nil
	}
	hp, err := heCost(s.params, f, s.always)
	if err != nil {
		return nil, err
	}
	s.plans[key] = hp
	return hp, nil
}

// heMargin is how many times fewer bytes than Π_Triple's OTs an HE triple must send to
// be chosen by default: HE costs more CPU per byte saved (the digits CNN's
// fully-connected layer, [1,128]x[128,10], sends 8.0 MB either way and takes 4.7 s of
// wall time by HE against 1.0 s by OT, BENCHMARKS.md).
const heMargin = 2

// heCost lays out f (a matMul, or a gatherMul that depthwiseOf recognises) and returns
// its plan, or nil when Π_Triple is to be used (no layout, too many response polynomials
// for one key pair, or, unless always, not heMargin times fewer bytes than Π_Triple's
// OTs).
func heCost(p *hemat.Params, f bilinear, always bool) (*hePlan, error) {
	var pl *hemat.Plan
	var err error
	switch g := f.(type) {
	case matMul:
		c, e := p.BestMatMul(g.m, g.k, g.n, 2)
		if e != nil {
			return nil, nil // no layout (hemat's accumulation bound): Π_Triple
		}
		pl, err = c.Plan()
	case gatherMul:
		d, ok := depthwiseOf(g)
		if !ok {
			return nil, nil
		}
		if pl, err = hemat.DepthwisePlan(d); errs.KindOf(err) == errs.Shape {
			return nil, nil // an image too large for one polynomial: Π_Triple
		}
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if int64(2*pl.OutPolys()) > p.ResponseLimit() {
		return nil, nil
	}
	hp := &hePlan{plan: pl, bytes: p.UploadBytes(pl) + 2*p.ResponseBytes(pl)}
	if !always && float64(heMargin*hp.bytes) > otProductBytes(f) {
		return nil, nil
	}
	return hp, nil
}

// otProductBytes is what Π_Triple's correlated OTs for f send per party (tripleCost
// without the authentication, which both ways share).
func otProductBytes(f bilinear) float64 {
	switch g := f.(type) {
	case matMul:
		return tripleCost(int64(g.m*g.k), int64(g.n), 0, 0, 0)
	case gatherMul:
		units := int64(g.xLen)
		if g.xIdx != nil {
			units = int64(len(g.xIdx))
		}
		return tripleCost(units, 1, 0, 0, 0)
	}
	return math.Inf(1)
}

// depthwiseOf recognises a depthwise convolution (depth multiplier 1, one image, equal
// strides, no dilation) from gatherMul's index maps: it tries the geometries the sizes
// allow and accepts one only if its index maps (the engine's, hemat's Depthwise layout)
// equal g's entry for entry.
func depthwiseOf(g gatherMul) (hemat.Depthwise, bool) {
	k := g.k
	if g.xIdx == nil || g.wIdx == nil || k < 1 || g.wLen%k != 0 {
		return hemat.Depthwise{}, false
	}
	C := g.wLen / k
	n := len(g.xIdx) / k
	if C < 1 || g.xLen%C != 0 || n%C != 0 || len(g.xIdx) != n*k || n == 0 {
		return hemat.Depthwise{}, false
	}
	hw, ohw := g.xLen/C, n/C
	// taps of output 0, channel 0: x index ((dy - PadT) W + dx - PadL) C or -1; w index
	// (dy KW + dx) C
	for kh := 1; kh <= k; kh++ {
		if k%kh != 0 {
			continue
		}
		kw := k / kh
		for h := 1; h <= hw; h++ {
			if hw%h != 0 {
				continue
			}
			w := hw / h
			for oh := 1; oh <= ohw; oh++ {
				if ohw%oh != 0 {
					continue
				}
				ow := ohw / oh
				for s := 1; s <= max(h, w); s++ {
					for pt := 0; pt < kh; pt++ {
						for pl := 0; pl < kw; pl++ {
							d := hemat.Depthwise{H: h, W: w, C: C, KH: kh, KW: kw, Stride: s, PadT: pt, PadL: pl, OH: oh, OW: ow}
							if depthwiseMatches(g, d, true) && depthwiseMatches(g, d, false) {
								return d, true
							}
						}
					}
				}
			}
		}
	}
	return hemat.Depthwise{}, false
}

// depthwiseMatches compares g's index maps with d's: only channel 0 of the first and
// last output positions if quick, else every entry.
func depthwiseMatches(g gatherMul, d hemat.Depthwise, quick bool) bool {
	k := d.KH * d.KW
	for oy := 0; oy < d.OH; oy++ {
		for ox := 0; ox < d.OW; ox++ {
			if quick && !((oy == 0 && ox == 0) || (oy == d.OH-1 && ox == d.OW-1)) {
				continue
			}
			for c := 0; c < d.C && !(quick && c > 0); c++ {
				base := ((oy*d.OW+ox)*d.C + c) * k
				for dy := 0; dy < d.KH; dy++ {
					for dx := 0; dx < d.KW; dx++ {
						y, x := oy*d.Stride+dy-d.PadT, ox*d.Stride+dx-d.PadL
						q := int32(-1)
						if y >= 0 && y < d.H && x >= 0 && x < d.W {
							q = int32((y*d.W+x)*d.C + c)
						}
						j := base + dy*d.KW + dx
						if g.xIdx[j] != q || g.wIdx[j] != int32((dy*d.KW+dx)*d.C+c) {
							return false
						}
					}
				}
			}
		}
	}
	return true
}

// Triple is the OT source's for bilinears without an HE plan and the file comment's
// protocol for the others.
func (s *heSource) Triple(f bilinear) (a, b, c *AShare, err error) {
	hp, err := s.planFor(f)
	if err != nil {
		return nil, nil, nil, err
	}
	if hp == nil {
		return s.otSource.Triple(f)
	}
	pl := hp.plan
	if err := s.ensureKeys(int64(2 * pl.OutPolys())); err != nil {
		return nil, nil, nil, err
	}
	_, _, nC := f.sizes()
	encLeft := pl.EncryptLeft
	X, W, W2 := s.randVec(pl.EncLen()), s.randVec(pl.PlainLen()), s.randVec(pl.PlainLen())
	enc := X
	if s.beforeUpload != nil {
		enc = X.Clone()
		s.beforeUpload(enc)
	}
	// 1. the uploads
	up, err := s.sk.Encrypt(pl, enc, s.rng)
	if err != nil {
		return nil, nil, nil, err
	}
	msg, err := s.heExchange("upload", up)
	if err != nil {
		return nil, nil, nil, err
	}
	peerUp, err := s.params.ReadUpload(pl, s.peer, msg)
	if err != nil {
		return nil, nil, nil, s.peerFault("upload", err)
	}
	// 2. the responses: the triple's and the sacrifice's plaintext factor
	mul, mul2 := W, W2
	if s.beforeRespond != nil {
		mul, mul2 = W.Clone(), W2.Clone()
		s.beforeRespond(mul, mul2)
	}
	resp, mask, err := s.params.Respond(peerUp, mul, s.rng)
	if err != nil {
		return nil, nil, nil, err
	}
	resp2, mask2, err := s.params.Respond(peerUp, mul2, s.rng)
	if err != nil {
		return nil, nil, nil, err
	}
	msg, err = s.heExchange("responses", append(resp, resp2...))
	if err != nil {
		return nil, nil, nil, err
	}
	rb := s.params.ResponseBytes(pl)
	got, err := s.sk.Decrypt(pl, msg[:rb])
	if err != nil {
		return nil, nil, nil, s.peerFault("response", err)
	}
	got2, err := s.sk.Decrypt(pl, msg[rb:])
	if err != nil {
		return nil, nil, nil, s.peerFault("response", err)
	}
	// this party's shares: f(X_i, W_i) + (f(X_i, W_j) - R_j) + R_i
	L, R, L2, R2 := X, W, X, W2
	if !encLeft {
		L, R, L2, R2 = W, X, W2, X
	}
	C, C2 := ring128.Make(nC), ring128.Make(nC)
	f.apply(C, L, R)
	f.apply(C2, L2, R2)
	ring128.Add(C, C, got)
	ring128.Add(C, C, mask)
	ring128.Add(C2, C2, got2)
	ring128.Add(C2, C2, mask2)
	s.heTriples++
	// authenticate A, B, C, the sacrifice's other factor and C', then the sacrifice
	second, sf := L2, bilinear(f) // X = B: the sacrifice's A' (otSource's order)
	if encLeft {
		second, sf = R2, swapped{f} // X = A: B', checked as swapped (B, A)
	}
	if s.beforeAuth != nil {
		s.beforeAuth(L, R, C, second, C2)
	}
	t, err := s.authParts(L, R, C, second, C2)
	if err != nil {
		return nil, nil, nil, err
	}
	if encLeft { // sacrifice(swapped f, B, A, C, B', C')
		err = s.sacrifice(sf, t[1], t[0], t[2], t[3], t[4])
	} else {
		err = s.sacrifice(sf, t[0], t[1], t[2], t[3], t[4])
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return t[0], t[1], t[2], nil
}

// ensureKeys makes a new key pair (both parties, one exchange of public keys with their
// proofs) before the first HE triple and whenever the next triple's responses would
// exceed the response limit under the current keys. Both parties respond with the same
// plans, so the counts under the two keys are equal and both change keys together.
func (s *heSource) ensureKeys(responses int64) error {
	if s.peer != nil && s.peer.Responses()+responses <= s.params.ResponseLimit() {
		return nil
	}
	sk, pk, err := s.params.KeyGen(s.rng)
	if err != nil {
		return err
	}
	msg, err := s.heExchange("public key", s.params.MarshalPublicKey(pk))
	if err != nil {
		return err
	}
	peer, err := s.params.UnmarshalPublicKey(msg)
	if err != nil {
		return s.peerFault("public key", err)
	}
	s.sk, s.peer = sk, peer
	s.keys++
	return nil
}

// peerFault makes a hemat error about the peer's message an errs.Cheating error: a
// failed proof already is one; a malformed message (errs.Party: a residue not below its
// prime) is the peer's deviation as well, since every length is public and checked.
func (s *heSource) peerFault(what string, err error) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Cheating {
		return err
	}
	return errs.New(errs.Cheating, "spdz2k offline party %d: HE %s from party %d: %v", s.id, what, s.other, err)
}

// depthwiseGather is the gatherMul of depthwise convolution d, with the index maps the
// engine makes (engine/index.go, depth multiplier 1) and depthwiseOf recognises.
func depthwiseGather(d hemat.Depthwise) gatherMul {
	xIdx, wIdx := d.IndexMaps()
	return gatherMul{xLen: d.H * d.W * d.C, wLen: d.KH * d.KW * d.C, xIdx: xIdx, wIdx: wIdx, k: d.KH * d.KW}
}
