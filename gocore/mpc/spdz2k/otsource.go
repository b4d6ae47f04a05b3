package spdz2k

// The OT-based offline phase of spdz2k (preprocessing "ot"): MAC keys, authenticated
// values, authenticated triples and daBits made by the two parties themselves, secure
// against a malicious party (no dealer). Binary AND triples come from package tinyot.
// newOTSource makes one party's Source; New does not offer it yet (the lead's wiring).
//
// Sources (read, not copied; see also the daBits section):
//   - Cramer, Damgård, Escudero, Scholl, Xing, "SPDZ2k: Efficient MPC mod 2^k for
//     Dishonest Majority", CRYPTO 2018 (below "SPDZ2k"): the authentication protocol
//     Π_[[·]] on top of a vector-OLE functionality F_vOLE^{k,s} (alpha fixed at
//     initialisation), its check (authenticate one extra random value, open a random
//     linear combination, MAC-check it), and the triple protocol Π_Triple (tau random bits
//     a_h per triple, OT products a_h*b, the combination a = sum_h r_h a_h with public
//     random r_h, authentication, and the sacrifice with a second triple sharing b).
//   - Keller, Orsini, Scholl, "MASCOT", CCS 2016: COPEe, the correlated-OT-with-errors
//     protocol that implements F_vOLE from base OTs on the bits of alpha (SPDZ2k uses it
//     over Z_2^{k+s}).
//   - MP-SPDZ's Spdz2kTripleGenerator (tau = 2k + 4s bits per triple) as a reference
//     reading of Π_Triple.
//
// Parameters: k = s = 64, elements of Z_2^128; alpha_i in Z_2^64; tau = 384.
//
// Threat model: two parties, static malicious corruption of either, security with abort
// (errs.Cheating at both parties: every check ends with a verdict exchange). kappa = 128
// (the OT extension and AES); statistical security at least 40 bits per call (below).
//
// # Keys and COPEe (F_vOLE)
//
// Setup, on one malicious OT session (ot.NewSessionMalicious, the KOS-checked extension):
// party 0 receives 64 random OTs from party 1, then party 1 from party 0. The receiver's
// random choice bits ARE its key share alpha_i (uniform in Z_2^64) and it keeps the 64
// seeds k_l^{alpha_l}; the sender keeps both seeds k_l^0, k_l^1 of every OT. Each seed keys
// an AES-CTR stream (package prg). So alpha_i is fixed once, by the base OTs, and every
// later authentication uses the same alpha_i: a party cannot change its key between
// calls (this is why we do not run a fresh Gilboa product per call, where the alpha side
// would choose its bits anew each time and only a check could notice).
//
// Extend (party j authenticates its vector x of n elements under alpha_i, i = 1 - j): for
// l = 0..63 both expand the streams to t_l^0, t_l^1 (j) and t_l^{alpha_l} (i), n elements
// each. Message j -> i: u_l = t_l^0 - t_l^1 + x mod 2^(128-l) for every l (the low word
// whole, the high word at 64 - l bits: 772 bytes per element). i computes q_l = t_l^{alpha_l}
// + alpha_l u_l = t_l^0 + alpha_l x and outputs U = sum_l 2^l q_l; j outputs V = -sum_l 2^l
// t_l^0; U + V = alpha_i x mod 2^128. Secrecy of x: u_l is masked by t_l^{1-alpha_l},
// pseudorandom to i (it never has that seed; the random OTs are maliciously secure).
// Secrecy of alpha_i: i sends nothing. A malicious j may use a different x^(l) in each
// row; then U + V = sum_l 2^l alpha_{i,l} x^(l), an error that depends on bits of alpha_i.
//
// # Authentication with check (SPDZ2k Π_[[·]])
//
// To authenticate a sharing x = x_0 + x_1 (n elements; for an input mask only the owner's
// component is nonzero and only it runs Extend), each party appends one uniform extra
// element to its component; each party j that has a component runs Extend with it (both
// directions in the same round); party i's MAC share is m_i = alpha_i x_i + U_i + V_i.
// Check: (1, 2) a coin (each commits to a 32-byte seed with SHA-256, then reveals) gives
// r_h uniform in Z_2^64; (3) each sends y_i = x_i,extra + sum_h r_h x_i,h (masked by its
// uniform extra element); (4, 5) each commits to z_i = m_i(y) - alpha_i y, then reveals;
// (6) verdict exchange. Honestly z_0 + z_1 = m(y) - alpha y = 0. A party whose rows were
// inconsistent, or who sends a wrong y_i or z_i, passes only if it predicts an expression
// in the bits of the other's alpha and the coin. SPDZ2k proves Π_[[·]] secure with this
// check (an error that matters modulo 2^k passes with probability of the order of the MAC
// check's 2^(-s + log2(s+1)) ~ 2^-57; we follow the paper and did not re-derive its
// bound), at the price of letting the cheater learn the alpha bits it guessed when it is
// not caught (a guess of m bits succeeds with probability 2^-m, and alpha keeps s - m
// unknown bits for the MAC checks). The same holds for a wrong y_i that flips bit 127 of
// y: it passes iff alpha is even.
//
// # Triples (SPDZ2k Π_Triple, for any of the online phase's bilinear maps)
//
// A triple is [A], [B], [C = f(A, B)] for f elementwise, MulSum, a gathered sum with index
// maps or a matrix product. f is listed as product terms ("units"): unit u pairs an entry
// q of A with l entries of B (a matrix product: one unit per entry A[i,p], l = n, B's row
// p; the others: one unit per pair, l = 1), each product adding into an entry of C.
// Party i draws tau = 384 random bits a_i,q,h per entry of A and B_i uniform in Z_2^128.
// Cross terms, on the OT session, party 0 choosing first: the chooser i runs
// RecvCOT128 with the bits a_i,q,h of each unit's entry as choice bits (tau OTs per unit),
// the other runs SendCOT128 with the unit's B_j entries as the correlation (l elements of
// 128 bits): i gets s + a_i,q,h B_j, j gets s. So a_i,q,h B_i + (its receiver outputs) -
// (its sender outputs) are additive shares of a_q,h B with a_q,h = a_0,q,h + a_1,q,h.
// Combine: after a batch's OTs, a coin (commit, reveal) seeds public r_q,h, r'_q,h uniform
// in Z_2^128 for every entry q of the batch (an entry's units are never split between
// batches); A[q] = sum_h r_q,h a_q,h, A'[q] = sum_h r'_q,h a_q,h, and each unit's products
// are combined with the same coefficients and added into C and C' = f(A', B) (local).
// Authenticate the five (above; an entry of A in no product term is a random share).
// Sacrifice: a coin drawn after the authentication gives t in Z_2^64 (after, because a
// party chooses the shares it authenticates: knowing t it could add d to C and t*d to
// C'); open rho = t A - A' (one round); open sigma = t C - C' - f(rho, B) (one round);
// check sigma = 0 together with the MACs of every opened rho and sigma (coin for chi in
// Z_2^64, commit, reveal z_i, verdict: the batched MAC check). Errors E in C and E' in C'
// (fixed before t) with some entry of E nonzero mod 2^64 leave sigma = t E - E' != 0
// except when t E = E' mod 2^128 at that entry, probability at most 2^-64 over t. A
// chooser that uses different bits for the same entry q in two units (possible with
// repeated entries in gathers) makes E = (sum_h r_q,h delta_h) B[r] with a nonzero delta
// in {-1, 0, 1}^tau, i.e. a uniform multiple of B[r], caught as above except with
// probability about 2^-57; the coefficients are drawn after all OTs of q, so the chooser
// cannot pick delta with sum_h r_q,h delta_h = 0.
// Privacy: the OT sender's B_j is protected by the OT; a malicious sender can use wrong
// correlations and learn, through the sacrifice's outcome, bits of the honest chooser's
// a-bits; if it learns m >= 40 bits it passes with probability <= 2^-40, and otherwise the
// honest bits of an entry keep min-entropy >= tau - 40 and (A[q], A'[q]) is a universal
// hash of them with 256 output bits: by the leftover hash lemma (A[q], A'[q]) is
// 2^-((384-40-256)/2) = 2^-44 close to uniform. rho is masked by A' (uniform), sigma is 0
// when nobody cheats. Cost: tau correlated OTs of l 128-bit elements per unit and
// direction, i.e. 384 * 16 bytes = 6 KB of corrections per multiply-accumulate and
// direction, plus five authentications (772 bytes per element and direction).
//
// # daBits (Rotaru and Wood, INDOCRYPT 2019)
//
// Each party inputs random bits in both worlds (private daBits), checked by cut-and-choose
// (64 opened in both worlds) and random buckets (privateDaBits: statistical security 40
// bits by daBitSecurity's bound); the two parties' verified daBits are XORed: in binary
// locally, in arithmetic as b_0 + b_1 - 2 b_0 b_1 with one authenticated triple (DaBits).
// About 12-14 KB per daBit and party, dominated by the triple: correct but expensive; the
// online phase uses them only for B2A of fewer than 4 bits, and edaBits (edabits.go)
// for A2B and wider B2A.
//
// AND triples come from tinyot (WRK17, checked there), their 128-bit MACs and Delta
// truncated to the low 64 bits, for which every MAC relation holds as well.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
	"github.com/qmpc/qmpc/gocore/tinyot"
)

// PreprocessingOT is the preprocessing kind of the OT-based offline phase.
const PreprocessingOT = "ot"

const (
	keyBits   = 64      // alpha_i in Z_2^64 (s = 64)
	tripleTau = 384     // bits a_h per triple (tau = 2k + 4s)
	authChunk = 1 << 13 // elements per COPEe message
)

// otSource is one party's end of the OT-based offline phase.
type otSource struct {
	conn      net.Conn
	id, other int
	sess      *ot.Session
	bin       *tinyot.Party
	rng       *prg.PRG
	alpha     uint64
	recv      [keyBits]*prg.PRG    // COPEe receiver: stream of seed k_l^{alpha_l}
	send      [keyBits][2]*prg.PRG // COPEe sender: streams of both seeds of the peer's OT l

	// beforeAuth, if set (tests only), may change this party's components of A, B, C, A'
	// and C' just before Triple authenticates them: a cheater choosing its shares.
	beforeAuth func(A, B, C, A2, C2 ring128.Vec)
	// daBitInput, if set (tests only), may change the arithmetic values and bits a daBit
	// owner inputs: a cheater inputting inconsistent daBits.
	daBitInput func(x ring128.Vec, bits []uint64)
	// edaBitInput, if set (tests only), may change the arithmetic values and the bits
	// (plane j in words [j*W, (j+1)*W)) a private edaBit owner inputs.
	edaBitInput func(x ring128.Vec, planes []uint64, W int)
	// carryInput, if set (tests only), may change the bits an owner inputs for its
	// proven sums (provenSum: carry c_{j+1} of element i is bit j*n + i, then the 128
	// mask bits).
	carryInput func(in []uint64, n int)
	// edaBitMin, if positive (tests only), replaces the constant edaBitMin: smaller
	// checks with larger buckets.
	edaBitMin int

	// eda holds checked edaBits not yet handed out, by length (edabits.go).
	eda        map[int]*edaPool
	edaRefills map[int]int
	// scratch holds the private edaBit checks' large buffers from one check to the next
	// (edabits.go's edaScratch).
	scratch edaScratch
	// bucketSizes caches the private edaBit checks' bucket sizes (bucketSize).
	bucketSizes map[bucketKey]int
	// checkBits is what each private edaBit or daBit bucket check keeps (at least
	// daBitStatBits), set by the plan (setPlan; security.go).
	checkBits float64
	// plan sizes the AND triple and edaBit refills (plan.go).
	plan offlinePlan
}

// newOTSource runs the setup (the malicious OT session and the COPEe base OTs in both
// directions); both parties call it concurrently. rnd supplies local randomness.
func newOTSource(conn net.Conn, rnd io.Reader) (*otSource, error) {
	if conn == nil || conn.N() != 2 {
		return nil, errs.New(errs.Config, "spdz2k offline: needs exactly 2 parties")
	}
	s := &otSource{conn: conn, id: conn.ID(), other: 1 - conn.ID()}
	key, err := prg.ReadKey(rnd)
	if err != nil {
		return nil, errs.New(errs.Config, "spdz2k offline: randomness: %v", err)
	}
	s.rng = prg.New(key)
	if s.sess, err = ot.NewSessionMalicious(conn, s.other, s.rng, ot.DefaultK); err != nil {
		return nil, err
	}
	if s.bin, err = tinyot.NewParty(conn, s.other, s.sess, s.rng); err != nil {
		return nil, err
	}
	for turn := 0; turn < 2; turn++ {
		if turn == s.id { // this party's key: it receives
			c, mc, err := s.sess.RecvRandomOT(keyBits)
			if err != nil {
				return nil, err
			}
			s.alpha = c[0]
			for l := range keyBits {
				s.recv[l] = prg.New(blockKey(mc[l]))
			}
		} else {
			m0, m1, err := s.sess.SendRandomOT(keyBits)
			if err != nil {
				return nil, err
			}
			for l := range keyBits {
				s.send[l] = [2]*prg.PRG{prg.New(blockKey(m0[l])), prg.New(blockKey(m1[l]))}
			}
		}
	}
	return s, nil
}

func blockKey(b ot.Block) prg.Key {
	var k prg.Key
	binary.LittleEndian.PutUint64(k[:8], b[0])
	binary.LittleEndian.PutUint64(k[8:], b[1])
	return k
}

func (s *otSource) Kind() string       { return PreprocessingOT }
func (s *otSource) DealerBytes() int64 { return 0 }
func (s *otSource) Keys() (uint64, uint64) {
	return s.alpha, s.bin.Delta()[0]
}

// rowBytes is the size of COPEe row l for n elements.
func rowBytes(n, l int) int { return 8*n + 8*ring.Words(n*(64-l)) }

// copeeBytes is the size of one Extend message for n elements.
func copeeBytes(n int) int {
	t := 0
	for l := range keyBits {
		t += rowBytes(n, l)
	}
	return t
}

// fill overwrites lo and hi (of one length) with the next words of g: a COPEe row's
// 128-bit PRG outputs, the low words then the high words. The rows of one Extend reuse
// the same buffers (they are dead after their row).
func fill(g *prg.PRG, lo, hi []uint64) {
	g.Fill(lo)
	g.Fill(hi)
}

// copeeSend is the sender's Extend with x: it adds its output V to m and returns the
// message.
func (s *otSource) copeeSend(x, m ring128.Vec) []byte {
	n := x.Len()
	msg := make([]byte, 0, copeeBytes(n))
	buf := make([]uint64, 5*n) // u and the rows' PRG outputs, reused row after row
	u, t0lo, t0hi, t1lo, t1hi := buf[:n:n], buf[n:2*n:2*n], buf[2*n:3*n:3*n], buf[3*n:4*n:4*n], buf[4*n:]
	for l := range keyBits {
		fill(s.send[l][0], t0lo, t0hi)
		fill(s.send[l][1], t1lo, t1hi)
		hmask := ^uint64(0) >> l
		for e := range n {
			lo, b := bits.Sub64(t0lo[e], t1lo[e], 0)
			hi := t0hi[e] - t1hi[e] - b
			lo, c := bits.Add64(lo, x.Lo[e], 0)
			hi += x.Hi[e] + c
			t1lo[e], u[e] = lo, hi&hmask
			sl, sh := shl2(t0lo[e], t0hi[e], l)
			m.Lo[e], b = bits.Sub64(m.Lo[e], sl, 0)
			m.Hi[e] -= sh + b
		}
		msg = append(msg, ring.AsBytes(t1lo)...)
		msg = appendPacked(msg, u, 64-l)
	}
	return msg
}

// copeeRecv is the receiver's Extend: it adds its output U to m. A set padding bit is a
// deviation (errs.Cheating).
func (s *otSource) copeeRecv(msg []byte, m ring128.Vec) error {
	n := m.Len()
	buf := make([]uint64, 4*n) // the row's corrections and PRG outputs, reused row after row
	ulo, uhi, tlo, thi := buf[:n:n], buf[n:2*n:2*n], buf[2*n:3*n:3*n], buf[3*n:]
	off := 0
	for l := range keyBits {
		fill(s.recv[l], tlo, thi)
		getWords(ulo, msg[off:off+8*n])
		off += 8 * n
		pw := ring.Words(n * (64 - l))
		if !unpack(uhi, msg[off:off+8*pw], 64-l) {
			return errs.New(errs.Cheating, "spdz2k offline party %d: COPEe row %d from party %d has set padding bits", s.id, l, s.other)
		}
		off += 8 * pw
		sel := -(s.alpha >> l & 1)
		for e := range n {
			lo, c := bits.Add64(tlo[e], ulo[e]&sel, 0)
			hi := thi[e] + uhi[e]&sel + c
			sl, sh := shl2(lo, hi, l)
			m.Lo[e], c = bits.Add64(m.Lo[e], sl, 0)
			m.Hi[e] += sh + c
		}
	}
	return nil
}

// shl2 returns (lo, hi) << j for 0 <= j < 64.
func shl2(lo, hi uint64, j int) (uint64, uint64) {
	if j == 0 {
		return lo, hi
	}
	return lo << j, hi<<j | lo>>(64-j)
}

// appendPacked appends the values v (each < 2^w, 1 <= w <= 64) packed at w bits,
// little-endian, in whole words.
func appendPacked(out []byte, v []uint64, w int) []byte {
	if w == 64 {
		return append(out, ring.AsBytes(v)...)
	}
	var acc uint64
	n := 0
	for _, x := range v {
		acc |= x << n
		if n+w >= 64 {
			out = binary.LittleEndian.AppendUint64(out, acc)
			acc = x >> (64 - n) // n > 0 here since w < 64
			n += w - 64
		} else {
			n += w
		}
	}
	if n > 0 {
		out = binary.LittleEndian.AppendUint64(out, acc)
	}
	return out
}

// unpack reads len(v) values of w bits written by appendPacked; it reports false if a
// padding bit after the last value is set.
func unpack(v []uint64, b []byte, w int) bool {
	if w == 64 {
		getWords(v, b)
		return true
	}
	if rem := len(v) * w % 64; rem != 0 && binary.LittleEndian.Uint64(b[len(b)-8:])>>rem != 0 {
		return false
	}
	mask := uint64(1)<<w - 1
	pos, n := 0, 0
	word := func() uint64 {
		if pos+8 > len(b) {
			return 0
		}
		x := binary.LittleEndian.Uint64(b[pos:])
		pos += 8
		return x
	}
	cur := word()
	for i := range v {
		x := cur >> n
		if n+w >= 64 {
			nxt := word()
			if n > 0 {
				x |= nxt << (64 - n)
			}
			cur = nxt
			n += w - 64
		} else {
			n += w
		}
		v[i] = x & mask
	}
	return true
}

// getWords decodes len(v) little-endian words from b.
func getWords(v []uint64, b []byte) {
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
}

// exchange sends b and receives the peer's message of the same length.
func (s *otSource) exchange(what string, b []byte) ([]byte, error) {
	if err := s.conn.Send(s.other, b); err != nil {
		return nil, err
	}
	if err := s.conn.Flush(); err != nil {
		return nil, err
	}
	return s.recvN(what, len(b))
}

func (s *otSource) recvN(what string, n int) ([]byte, error) {
	msg, err := s.conn.Recv(s.other)
	if err != nil {
		return nil, err
	}
	if len(msg) != n {
		return nil, errs.New(errs.Cheating, "spdz2k offline party %d: %s from party %d: %d bytes, want %d", s.id, what, s.other, len(msg), n)
	}
	return msg, nil
}

// coin returns a PRG keyed by a jointly random seed (commit with SHA-256, reveal); a
// wrong opening of the commitment is errs.Cheating.
func (s *otSource) coin(label string) (*prg.PRG, error) {
	seed := make([]byte, 32)
	s.rng.Read(seed)
	com := sha256.Sum256(append([]byte("spdz2k offline coin "+label), seed...))
	peerCom, err := s.exchange(label+" coin commitment", com[:])
	if err != nil {
		return nil, err
	}
	peerSeed, err := s.exchange(label+" coin", seed)
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(append([]byte("spdz2k offline coin "+label), peerSeed...)); !bytes.Equal(got[:], peerCom) {
		return nil, errs.New(errs.Cheating, "spdz2k offline party %d: %s coin: party %d opened its commitment wrongly", s.id, label, s.other)
	}
	seeds := [2][]byte{seed, peerSeed}
	if s.id == 1 {
		seeds = [2][]byte{peerSeed, seed}
	}
	h := sha256.Sum256(append(append([]byte("spdz2k offline key "+label), seeds[0]...), seeds[1]...))
	var k prg.Key
	copy(k[:], h[:])
	return prg.New(k), nil
}

func scalarBytes(x ring128.Scalar) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, x.Lo)
	binary.LittleEndian.PutUint64(b[8:], x.Hi)
	return b
}

func bytesScalar(b []byte) ring128.Scalar {
	return ring128.Scalar{Lo: binary.LittleEndian.Uint64(b), Hi: binary.LittleEndian.Uint64(b[8:])}
}

// checkZero is the MAC check of one opened value y with this party's MAC share my
// (commit to z_i = my - alpha_i y, reveal, z_0 + z_1 = 0), followed by the verdict
// exchange; failed lists failures found before it.
func (s *otSource) checkZero(label string, y, my ring128.Scalar, failed []string) error {
	z := my.Sub(y.Mul(ring128.Scalar{Lo: s.alpha}))
	open := append(scalarBytes(z), make([]byte, 16)...)
	s.rng.Read(open[16:])
	zc := sha256.Sum256(append([]byte("spdz2k offline z"), open...))
	peerC, err := s.exchange(label+" MAC check commitment", zc[:])
	if err != nil {
		return err
	}
	peerZ, err := s.exchange(label+" MAC check value", open)
	if err != nil {
		return err
	}
	if got := sha256.Sum256(append([]byte("spdz2k offline z"), peerZ...)); !bytes.Equal(got[:], peerC) {
		failed = append(failed, label+" MAC check commitment")
	} else if z.Add(bytesScalar(peerZ)) != (ring128.Scalar{}) {
		failed = append(failed, label+" MACs")
	}
	v := []byte{1}
	if len(failed) > 0 {
		v[0] = 0
	}
	peer, err := s.exchange(label+" verdict", v)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return errs.New(errs.Cheating, "spdz2k offline party %d: check failed: %v (party %d cheated)", s.id, failed, s.other)
	}
	if peer[0] != 1 {
		return errs.New(errs.Cheating, "spdz2k offline party %d: party %d reports a failed check", s.id, s.other)
	}
	return nil
}

// authenticate returns this party's share of the sharing whose component here is x
// (Π_[[·]] with its check). sends[j] says whether party j's component may be nonzero
// (public; a party with sends false must pass zeros and runs no Extend).
func (s *otSource) authenticate(x ring128.Vec, sends [2]bool) (*AShare, error) {
	n := x.Len()
	ext := ring128.Make(n + 1)
	copy(ext.Lo, x.Lo)
	copy(ext.Hi, x.Hi)
	if sends[s.id] {
		ext.Lo[n], ext.Hi[n] = s.rng.Uint64s(1)[0], s.rng.Uint64s(1)[0]
	}
	m := ring128.Make(n + 1)
	ring128.MulScalar(m, ext, ring128.Scalar{Lo: s.alpha})
	for a := 0; a < n+1; a += authChunk {
		b := min(n+1, a+authChunk)
		if sends[s.id] {
			msg := s.copeeSend(ext.Slice(a, b), m.Slice(a, b))
			if err := s.conn.Send(s.other, msg); err != nil {
				return nil, err
			}
			if err := s.conn.Flush(); err != nil {
				return nil, err
			}
		}
		if sends[s.other] {
			msg, err := s.recvN("COPEe corrections", copeeBytes(b-a))
			if err != nil {
				return nil, err
			}
			if err := s.copeeRecv(msg, m.Slice(a, b)); err != nil {
				return nil, err
			}
		}
	}
	// The check: y = x_extra + sum_h r_h x_h, opened, MAC-checked.
	g, err := s.coin("authentication")
	if err != nil {
		return nil, err
	}
	r := g.Uint64s(n)
	y := ring128.Dot(ext.Slice(0, n), r).Add(ext.At(n))
	my := ring128.Dot(m.Slice(0, n), r).Add(m.At(n))
	peer, err := s.exchange("authentication check value", scalarBytes(y))
	if err != nil {
		return nil, err
	}
	y = y.Add(bytesScalar(peer))
	if err := s.checkZero("authentication", y, my, nil); err != nil {
		return nil, err
	}
	return &AShare{x: ext.Slice(0, n), m: m.Slice(0, n)}, nil
}

func (s *otSource) randVec(n int) ring128.Vec {
	return ring128.Vec{Lo: s.rng.Uint64s(n), Hi: s.rng.Uint64s(n)}
}

func (s *otSource) InputMask(owner, n int) (ring128.Vec, *AShare, error) {
	if owner < 0 || owner > 1 || n < 0 {
		return ring128.Vec{}, nil, errs.New(errs.Internal, "spdz2k offline: input mask of party %d, %d elements", owner, n)
	}
	var r ring128.Vec
	x := ring128.Make(n)
	if s.id == owner {
		r = s.randVec(n)
		x = r.Clone()
	}
	var sends [2]bool
	sends[owner] = true
	sh, err := s.authenticate(x, sends)
	if err != nil {
		return ring128.Vec{}, nil, err
	}
	return r, sh, nil
}

func (s *otSource) Random(n int) (*AShare, error) {
	return s.authenticate(s.randVec(n), [2]bool{true, true})
}

// termPlan lists the product terms of a bilinear map f(A, B) for Π_Triple: unit u pairs A
// entry aIdx[u] with the l B entries bIdx(u, e), and product e adds into C entry
// cIdx(u, e). Units are sorted by A entry.
type termPlan struct {
	nA, nB, nC, l int
	aIdx          []int
	bIdx, cIdx    func(u, e int) int
}

// planOf returns f's product terms: a matrix product has one unit per entry of A (l = n,
// B's row), a gathered sum one unit per pair (l = 1).
func planOf(f bilinear) (termPlan, error) {
	nA, nB, nC := f.sizes()
	switch g := f.(type) {
	case matMul:
		P := termPlan{nA: nA, nB: nB, nC: nC, l: g.n, aIdx: make([]int, g.m*g.k)}
		for u := range P.aIdx {
			P.aIdx[u] = u
		}
		P.bIdx = func(u, e int) int { return (u%g.k)*g.n + e }
		P.cIdx = func(u, e int) int { return (u/g.k)*g.n + e }
		return P, nil
	case gatherMul:
		pairs := g.xLen
		if g.xIdx != nil {
			pairs = len(g.xIdx)
		}
		xi := func(j int) int {
			if g.xIdx == nil {
				return j
			}
			return int(g.xIdx[j])
		}
		wi := func(j int) int {
			if g.wIdx == nil {
				return j
			}
			return int(g.wIdx[j])
		}
		var js []int // the pairs with both operands, sorted by A entry
		for j := range pairs {
			if xi(j) >= 0 && wi(j) >= 0 {
				js = append(js, j)
			}
		}
		sort.SliceStable(js, func(a, b int) bool { return xi(js[a]) < xi(js[b]) })
		P := termPlan{nA: nA, nB: nB, nC: nC, l: 1, aIdx: make([]int, len(js))}
		for u, j := range js {
			P.aIdx[u] = xi(j)
		}
		P.bIdx = func(u, _ int) int { return wi(js[u]) }
		P.cIdx = func(u, _ int) int { return js[u] / g.k }
		return P, nil
	}
	return termPlan{}, errs.New(errs.Internal, "spdz2k offline: triples for %T", f)
}

// tripleBatchElems bounds tau * l * (units of a batch), the 128-bit elements of one
// batch's correlated OTs (16 MB per array).
const tripleBatchElems = 1 << 20

// Triple returns an authenticated triple [A], [B], [C = f(A, B)] (Π_Triple generalised
// to bilinear maps: tau bits per entry of A, one correlated OT per bit and unit with the
// unit's B entries as the correlation, the combination per entry of A, the sacrifice
// with a second A' and C' = f(A', B)).
func (s *otSource) Triple(f bilinear) (a, b, c *AShare, err error) {
	P, err := planOf(f)
	if err != nil {
		return nil, nil, nil, err
	}
	const tw = tripleTau / 64
	abits := s.rng.Uint64s(P.nA * tw) // bit h of A entry q: word q*tw + h/64
	bv := s.randVec(P.nB)
	// Local accumulators: this party's A, C, A', C' (an entry of A without any product
	// term is a random share).
	A, A2 := s.randVec(P.nA), s.randVec(P.nA)
	C, C2 := ring128.Make(P.nC), ring128.Make(P.nC)
	per := max(1, tripleBatchElems/(tripleTau*max(1, P.l)))
	for u0 := 0; u0 < len(P.aIdx); {
		u1 := min(len(P.aIdx), u0+per)
		for u1 < len(P.aIdx) && P.aIdx[u1] == P.aIdx[u1-1] { // keep an A entry's units together
			u1++
		}
		if err := s.tripleBatch(P, u0, u1, abits, bv, A, A2, C, C2); err != nil {
			return nil, nil, nil, err
		}
		u0 = u1
	}
	if s.beforeAuth != nil {
		s.beforeAuth(A, bv, C, A2, C2)
	}
	t, err := s.authParts(A, bv, C, A2, C2)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.sacrifice(f, t[0], t[1], t[2], t[3], t[4]); err != nil {
		return nil, nil, nil, err
	}
	return t[0], t[1], t[2], nil
}

// authParts authenticates the concatenation of vs (both parties' components, Π_[[·]]
// with its check) and returns each part's share.
func (s *otSource) authParts(vs ...ring128.Vec) ([]*AShare, error) {
	sh, err := s.authenticate(ring128.Concat(vs...), [2]bool{true, true})
	if err != nil {
		return nil, err
	}
	out := make([]*AShare, len(vs))
	o := 0
	for i, v := range vs {
		out[i] = &AShare{x: sh.x.Slice(o, o+v.Len()), m: sh.m.Slice(o, o+v.Len())}
		o += v.Len()
	}
	return out, nil
}

// tripleBatch runs the correlated OTs of units [u0, u1) and adds their combined products
// to C and C' (and sets A, A' of their A entries).
func (s *otSource) tripleBatch(P termPlan, u0, u1 int, abits []uint64, bv, A, A2, C, C2 ring128.Vec) error {
	const tw = tripleTau / 64
	U, l := u1-u0, P.l
	nOT := U * tripleTau
	choice := make([]uint64, ring.Words(nOT))
	corr := ring128.Make(nOT * l)
	for u := range U {
		q := P.aIdx[u0+u]
		for h := range tripleTau {
			o := u*tripleTau + h
			choice[o/64] |= (abits[q*tw+h/64] >> (h % 64) & 1) << (o % 64)
			for e := range l {
				r := P.bIdx(u0+u, e)
				corr.Lo[o*l+e], corr.Hi[o*l+e] = bv.Lo[r], bv.Hi[r]
			}
		}
	}
	// Cross terms: party 0 chooses first.
	var got, gave ring128.Vec
	var err error
	for turn := 0; turn < 2; turn++ {
		if turn == s.id {
			got, err = s.sess.RecvCOT128(choice, nOT, l, 128)
		} else {
			gave, err = s.sess.SendCOT128(corr, l, 128)
		}
		if err != nil {
			return err
		}
	}
	// This party's share of a_{q,h} * B[bIdx]: a_i * B_i + got - gave.
	ring128.Sub(got, got, gave)
	for o := range nOT {
		if choice[o/64]>>(o%64)&1 == 1 {
			ring128.Add(got.Slice(o*l, (o+1)*l), got.Slice(o*l, (o+1)*l), corr.Slice(o*l, (o+1)*l))
		}
	}
	// Combine with public coefficients drawn now, after the OTs.
	g, err := s.coin("triple combination")
	if err != nil {
		return err
	}
	coef := make([]uint64, 4*tripleTau)
	for u := range U {
		q := P.aIdx[u0+u]
		if u == 0 || q != P.aIdx[u0+u-1] { // a new A entry: its coefficients
			g.Fill(coef)
			var aq, aq2 ring128.Scalar
			for h := range tripleTau {
				if abits[q*tw+h/64]>>(h%64)&1 == 1 {
					aq = aq.Add(ring128.Scalar{Lo: coef[4*h], Hi: coef[4*h+1]})
					aq2 = aq2.Add(ring128.Scalar{Lo: coef[4*h+2], Hi: coef[4*h+3]})
				}
			}
			A.Lo[q], A.Hi[q], A2.Lo[q], A2.Hi[q] = aq.Lo, aq.Hi, aq2.Lo, aq2.Hi
		}
		for e := range l {
			var cq, cq2 ring128.Scalar
			for h := range tripleTau {
				cv := got.At((u*tripleTau+h)*l + e)
				cq = cq.Add(ring128.Scalar{Lo: coef[4*h], Hi: coef[4*h+1]}.Mul(cv))
				cq2 = cq2.Add(ring128.Scalar{Lo: coef[4*h+2], Hi: coef[4*h+3]}.Mul(cv))
			}
			z := P.cIdx(u0+u, e)
			v, v2 := C.At(z).Add(cq), C2.At(z).Add(cq2)
			C.Lo[z], C.Hi[z], C2.Lo[z], C2.Hi[z] = v.Lo, v.Hi, v2.Lo, v2.Hi
		}
	}
	return nil
}

// sacrifice checks [C] = f([A], [B]) with [C'] = f([A'], [B]): a coin (after the
// authentication, so that no party can choose its authenticated shares knowing t) gives
// t in Z_2^64; open rho = t A - A'; open sigma = t C - C' - f(rho, B); sigma must be 0 and
// every opened value passes the batched MAC check.
func (s *otSource) sacrifice(f bilinear, A, B, C, A2, C2 *AShare) error {
	g, err := s.coin("sacrifice challenge")
	if err != nil {
		return err
	}
	t := ring128.Scalar{Lo: g.Uint64s(1)[0]}
	nA, nC := A.Len(), C.Len()
	rho, mrho := ring128.Make(nA), ring128.Make(nA)
	ring128.MulScalar(rho, A.x, t)
	ring128.Sub(rho, rho, A2.x)
	ring128.MulScalar(mrho, A.m, t)
	ring128.Sub(mrho, mrho, A2.m)
	msg, err := s.exchange("sacrifice rho", vecBytes(rho))
	if err != nil {
		return err
	}
	rhoOpen := bytesVec(msg, nA)
	ring128.Add(rhoOpen, rhoOpen, rho)
	sig, msig := ring128.Make(nC), ring128.Make(nC)
	ring128.MulScalar(sig, C.x, t)
	ring128.Sub(sig, sig, C2.x)
	ring128.MulScalar(msig, C.m, t)
	ring128.Sub(msig, msig, C2.m)
	rb, rbm := ring128.Make(nC), ring128.Make(nC)
	f.apply(rb, rhoOpen, B.x)
	f.apply(rbm, rhoOpen, B.m)
	ring128.Sub(sig, sig, rb)
	ring128.Sub(msig, msig, rbm)
	msg, err = s.exchange("sacrifice sigma", vecBytes(sig))
	if err != nil {
		return err
	}
	sigOpen := bytesVec(msg, nC)
	ring128.Add(sigOpen, sigOpen, sig)
	var failed []string
	for q := range nC {
		if sigOpen.Lo[q] != 0 || sigOpen.Hi[q] != 0 {
			failed = append(failed, "triple sacrifice")
			break
		}
	}
	// The MAC check of every opened rho and sigma (batched, chi in Z_2^64).
	g, err = s.coin("sacrifice check")
	if err != nil {
		return err
	}
	chi := g.Uint64s(nA + nC)
	y := ring128.Dot(rhoOpen, chi[:nA]).Add(ring128.Dot(sigOpen, chi[nA:]))
	my := ring128.Dot(mrho, chi[:nA]).Add(ring128.Dot(msig, chi[nA:]))
	return s.checkZero("sacrifice", y, my, failed)
}

// ANDTriples returns tinyot's triples in the bit-sliced layout (bit i of plane j is
// triple j*n + i), MACs and keys truncated to their low 64 bits, from the pool that the
// plan sizes (plan.go).
func (s *otSource) ANDTriples(n, w int) (a, b, c *BShare, err error) {
	if n < 0 || w < 0 {
		return nil, nil, nil, errs.New(errs.Internal, "spdz2k offline: %d x %d AND triples", n, w)
	}
	ta, tb, tc, err := s.andTake(n * w)
	if err != nil {
		return nil, nil, nil, err
	}
	return toBShare(ta, n, w), toBShare(tb, n, w), toBShare(tc, n, w), nil
}

// toBShare converts n*w tinyot bits (bit j*n+i) to n elements of w planes: planesBShare
// of x's planes (views).
func toBShare(x tinyot.Bits, n, w int) *BShare { return planesBShare(planeViews(x, w, n), n) }

// planesBShare converts the planes x (n bits each) to n elements of len(x) planes (bit i
// of plane j is element i's bit j), MACs and keys truncated to their low 64 bits.
func planesBShare(x []tinyot.Bits, n int) *BShare {
	w, W := len(x), ring.Words(n)
	y := &BShare{n: n, w: w, x: make([]uint64, W*w), m: make([]uint64, n*w), k: make([]uint64, n*w)}
	for j, p := range x {
		yx := y.x[j*W : (j+1)*W]
		copy(yx, p.X)
		ring.MaskTail(yx, n)
		ym, yk := y.m[j*n:(j+1)*n], y.k[j*n:(j+1)*n]
		for i := range n {
			ym[i], yk[i] = p.M[i][0], p.K[i][0]
		}
	}
	return y
}

// daBitStatBits is the statistical security of the daBits' bucket check.
const daBitStatBits = 40

// log2Binom is log2 of the binomial coefficient (n choose k).
func log2Binom(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return (a - b - c) / math.Ln2
}

// daBitOpened is the number of private daBits the cut-and-choose opens.
const daBitOpened = 64

// daBitSecurity is -log2 of the largest probability that a party that made t = u*B of its
// N*B + C private daBits inconsistent keeps one: none of them among the C opened (random),
// and they fill u whole buckets (a bucket mixing good and bad daBits fails its check with
// certainty; one of only bad daBits, inconsistent in the same way, passes):
// binom(M - t, C)/binom(M, C) * binom(N, u)/binom(N*B, u*B) with M = N*B + C.
func daBitSecurity(N, B, C int) float64 {
	M := N*B + C
	best := math.Inf(1)
	for u := 1; u <= N; u++ {
		t := u * B
		opened := log2Binom(M, C) - log2Binom(M-t, C) // grows with u; the rest is >= 0
		if opened >= best {
			break
		}
		best = min(best, opened+log2Binom(N*B, t)-log2Binom(N, u))
	}
	return best
}

// daBitPool is the fewest buckets a private daBit check uses (small calls check a pool
// of this many and keep what they need: with few buckets the bound needs large ones).
const daBitPool = 1 << 10

// pickBits returns the bits idx of x (copies).
func pickBits(x tinyot.Bits, idx []int) tinyot.Bits {
	n := len(idx)
	y := tinyot.Bits{N: n, X: gatherBits(x.X, 0, idx), M: make([]ot.Block, n), K: make([]ot.Block, n)}
	for j, q := range idx {
		y.M[j], y.K[j] = x.M[q], x.K[q]
	}
	return y
}

// pickShare returns the elements idx of x.
func pickShare(x *AShare, idx []int) *AShare {
	i32 := make([]int32, len(idx))
	for j, q := range idx {
		i32[j] = int32(q)
	}
	return &AShare{x: ring128.Gather(x.x, i32), m: ring128.Gather(x.m, i32)}
}

// privateDaBits returns want daBits whose bits party owner chose (Rotaru and Wood,
// INDOCRYPT 2019: input in both worlds, check by cut-and-choose and random buckets, as
// for triples in Furukawa, Lindell, Nof, Weinstein, Eurocrypt 2017): the owner inputs
// N*B + C random bits in both worlds (arithmetic: authenticate with only its component;
// binary: tinyot Input), N = max(want, daBitPool), C = daBitOpened. A coin then permutes
// them; C are opened in both worlds and must agree and be bits (this catches an owner
// that made most of them inconsistent in the same way, which buckets alone cannot); the
// others form N buckets of B; in each, for the first
// daBit d_1 and every other d_j, the binary c = b_1 xor b_j is opened and the arithmetic
// [b_1] - [b_j] (c = 0) or [b_1] + [b_j] - 1 (c = 1) is opened and must be 0, with the
// batched MAC check and tinyot's Check. A consistent daBit (arithmetic value = binary bit
// in {0, 1}) passes with any consistent partner; an inconsistent d_1 passes only with
// partners inconsistent in the same way, so the owner keeps a bad daBit only if its bad
// ones fill whole buckets (daBitSecurity). Privacy: c is masked by the discarded b_j,
// uniform when the owner is honest (the peer learns nothing about b_1); the opened
// arithmetic values are 0.
func (s *otSource) privateDaBits(owner, want int) (tinyot.Bits, *AShare, error) {
	N := max(want, daBitPool)
	B := bucketFor(N, daBitOpened, s.checkBits)
	M := N*B + daBitOpened
	var bitsIn []uint64
	x := ring128.Make(M)
	if s.id == owner {
		bitsIn = s.rng.Uint64s(ring.Words(M))
		if M%64 != 0 {
			bitsIn[len(bitsIn)-1] &= 1<<(M%64) - 1
		}
		for j := range M {
			x.Lo[j] = bitsIn[j/64] >> (j % 64) & 1
		}
		if s.daBitInput != nil {
			s.daBitInput(x, bitsIn)
		}
	}
	var sends [2]bool
	sends[owner] = true
	arith, err := s.authenticate(x, sends)
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	bin, err := s.bin.Input(s.id == owner, bitsIn, M)
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	perm, err := s.coinPerm("daBit buckets", M)
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	opened, keep, firsts, others := buckets(perm, N, B, want)
	c, err := s.bin.Open(tinyot.Xor(pickBits(bin, firsts), pickBits(bin, others)))
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	ob, err := s.bin.Open(pickBits(bin, opened))
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	// The binary openings are checked before anything depends on them (a wrong c would
	// make the arithmetic check open b_1 - b_j + 1 or the like).
	if err := s.bin.Check(); err != nil {
		return tinyot.Bits{}, nil, err
	}
	d1, dj := pickShare(arith, firsts), pickShare(arith, others)
	y, my := ring128.Make(len(firsts)), ring128.Make(len(firsts))
	for q := range firsts {
		if c[q/64]>>(q%64)&1 == 0 { // b_1 - b_j
			v, m := d1.x.At(q).Sub(dj.x.At(q)), d1.m.At(q).Sub(dj.m.At(q))
			y.Lo[q], y.Hi[q], my.Lo[q], my.Hi[q] = v.Lo, v.Hi, m.Lo, m.Hi
			continue
		}
		// b_1 + b_j - 1: party 0 subtracts the public 1, every MAC share alpha_i * 1.
		v, m := d1.x.At(q).Add(dj.x.At(q)), d1.m.At(q).Add(dj.m.At(q)).Sub(ring128.Scalar{Lo: s.alpha})
		if s.id == 0 {
			v = v.Sub(ring128.Scalar{Lo: 1})
		}
		y.Lo[q], y.Hi[q], my.Lo[q], my.Hi[q] = v.Lo, v.Hi, m.Lo, m.Hi
	}
	oa := pickShare(arith, opened)
	y, my = ring128.Concat(y, oa.x), ring128.Concat(my, oa.m)
	msg, err := s.exchange("daBit checks", vecBytes(y))
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	yOpen := bytesVec(msg, y.Len())
	ring128.Add(yOpen, yOpen, y)
	var failed []string
	nb := len(firsts)
	for q := range nb {
		if yOpen.Lo[q] != 0 || yOpen.Hi[q] != 0 {
			failed = append(failed, "daBit bucket check")
			break
		}
	}
	for q := range opened {
		if yOpen.Lo[nb+q] != ob[q/64]>>(q%64)&1 || yOpen.Hi[nb+q] != 0 {
			failed = append(failed, "daBit cut-and-choose")
			break
		}
	}
	g, err := s.coin("daBit MAC check")
	if err != nil {
		return tinyot.Bits{}, nil, err
	}
	chi := g.Uint64s(yOpen.Len())
	if err := s.checkZero("daBit buckets", ring128.Dot(yOpen, chi), ring128.Dot(my, chi), failed); err != nil {
		return tinyot.Bits{}, nil, err
	}
	return pickBits(bin, keep), pickShare(arith, keep), nil
}

// DaBits returns n*w random bits in both worlds: each party's verified private daBits
// (privateDaBits), combined by XOR: binary locally, arithmetic as b_0 + b_1 - 2 b_0 b_1
// with an authenticated triple (Beaver: E = b_0 - A and F = b_1 - B opened and
// MAC-checked). Neither party knows b = b_0 xor b_1: each b_i is uniform and secret to the
// other. Cost per daBit: B private daBits per party (B = bucketFor(n*w, daBitOpened, 40) or more as the plan demands: 5 for calls of
// up to 2^13 daBits, calls of fewer than 2^10 checking a pool of 2^10; 4 from 2^14, 3 from
// 2^19) plus the 64 opened, and one triple (about 11.6 KB per party).
func (s *otSource) DaBits(n, w int) (*BShare, *AShare, error) {
	if n < 0 || w < 0 {
		return nil, nil, errs.New(errs.Internal, "spdz2k offline: %d x %d daBits", n, w)
	}
	N := n * w
	if N == 0 {
		return toBShare(tinyot.NewBits(0), n, w), &AShare{x: ring128.Make(0), m: ring128.Make(0)}, nil
	}
	b0, a0, err := s.privateDaBits(0, N)
	if err != nil {
		return nil, nil, err
	}
	b1, a1, err := s.privateDaBits(1, N)
	if err != nil {
		return nil, nil, err
	}
	ta, tb, tc, err := s.Triple(gatherMul{xLen: N, wLen: N, k: 1})
	if err != nil {
		return nil, nil, err
	}
	e, f := ring128.Make(N), ring128.Make(N)
	ring128.Sub(e, a0.x, ta.x)
	ring128.Sub(f, a1.x, tb.x)
	me, mf := ring128.Make(N), ring128.Make(N)
	ring128.Sub(me, a0.m, ta.m)
	ring128.Sub(mf, a1.m, tb.m)
	msg, err := s.exchange("daBit Beaver openings", vecBytes(ring128.Concat(e, f)))
	if err != nil {
		return nil, nil, err
	}
	ef := bytesVec(msg, 2*N)
	ring128.Add(ef, ef, ring128.Concat(e, f))
	E, F := ef.Slice(0, N), ef.Slice(N, 2*N)
	g, err := s.coin("daBit Beaver check")
	if err != nil {
		return nil, nil, err
	}
	chi := g.Uint64s(2 * N)
	if err := s.checkZero("daBit Beaver", ring128.Dot(ef, chi), ring128.Dot(ring128.Concat(me, mf), chi), nil); err != nil {
		return nil, nil, err
	}
	// prod = C + E*B + F*A + E*F; b = b_0 + b_1 - 2 prod.
	px, pm, t := tc.x.Clone(), tc.m.Clone(), ring128.Make(N)
	for _, pr := range [][3]ring128.Vec{{E, tb.x, px}, {F, ta.x, px}, {E, tb.m, pm}, {F, ta.m, pm}} {
		ring128.Mul(t, pr[0], pr[1])
		ring128.Add(pr[2], pr[2], t)
	}
	ring128.Mul(t, E, F)
	if s.id == 0 {
		ring128.Add(px, px, t)
	}
	ring128.MulScalar(t, t, ring128.Scalar{Lo: s.alpha})
	ring128.Add(pm, pm, t)
	ax, am := ring128.Make(N), ring128.Make(N)
	ring128.Add(ax, a0.x, a1.x)
	ring128.Add(am, a0.m, a1.m)
	two := ring128.Scalar{Lo: 2}
	ring128.MulScalar(px, px, two)
	ring128.MulScalar(pm, pm, two)
	ring128.Sub(ax, ax, px)
	ring128.Sub(am, am, pm)
	return toBShare(tinyot.Xor(b0, b1), n, w), &AShare{x: ax, m: am}, nil
}
