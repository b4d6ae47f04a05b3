// Package spdz2k implements "spdz2k": two-party computation over Z_2^64 secure against a
// malicious adversary corrupting either party (dishonest majority, security with abort),
// the paper's fifth column (MP-SPDZ's spdz2k-party.x with its Tinier binary part).
//
// Sources:
//   - Cramer, Damgård, Escudero, Scholl, Xing, "SPDZ2k: Efficient MPC mod 2^k for
//     Dishonest Majority", CRYPTO 2018: additive shares of x in Z_2^{k+s} with additive
//     shares of the MAC alpha*x under a global key alpha; partial openings; the batched
//     MAC check with random coefficients in Z_2^s; Beaver multiplication with
//     authenticated triples (Beaver, CRYPTO 1991; the matrix form: Mohassel and Zhang,
//     SecureML, S&P 2017, and Chen, Kim, Razenshteyn, Rotaru, Song, Wagh, "Maliciously
//     secure matrix multiplication", Asiacrypt 2020).
//   - Nielsen, Nordholt, Orlandi, Burra, "A New Approach to Practical Active-Secure
//     Two-Party Computation" (TinyOT), CRYPTO 2012, and Frederiksen, Keller, Orsini,
//     Scholl (Tinier), Asiacrypt 2015: bits shared by XOR, each party's bit authenticated
//     by a pairwise information-theoretic MAC under the other party's global key Delta in
//     GF(2)^64 here (TinyOT uses 128 bits; 64 suffice for the statistical parameter);
//     AND with authenticated bit triples.
//   - Rotaru and Wood, "MArBled Circuits", INDOCRYPT 2019, and Escudero, Ghosh, Keller,
//     Rachuri, Scholl, "Improved Primitives for MPC over Mixed Arithmetic-Binary
//     Circuits" (edaBits), CRYPTO 2020: conversions between the two worlds with a random
//     value whose low bits are also authenticated in binary (edaBits) or random bits
//     authenticated in both (daBits); A2B opens x minus a random value whose bits are
//     known in binary and adds them back with a binary adder.
//
// Parameters: k = 64 (the computation's ring, Z_2^64), s = 64 (statistical parameter of the
// MACs): shares and MACs live in Z_2^128 (package ring128). alpha = alpha_0 + alpha_1
// with alpha_i uniform in [0, 2^64) (so alpha mod 2^64 is uniform given either share).
// Binary MACs: Delta_i uniform in GF(2)^64; the checks compare SHA-256 hashes of the
// MACs.
//
// Sharing: [x] = (x_0, x_1, m_0, m_1) with x_0 + x_1 = x and m_0 + m_1 = alpha*x (mod
// 2^128); only x mod 2^64 is the value (the upper 64 bits are noise that the openings
// mask). Binary <x> = (x_0, x_1) bits with x = x_0 ^ x_1, party i holding its bit x_i,
// the MAC M_i = K_j ^ x_i*Delta_j of it (j = 1 - i) and the key K_i of the other's bit.
// A public binary value is kept as such (flag) and ANDs with it are local.
//
// Threat model: either party may deviate arbitrarily from the protocol. Secrecy: every
// value a party receives is uniformly masked by correlated randomness it does not know
// (below). Integrity: a party that changes a message changes a value whose MAC it
// cannot fix without the other's key; the MAC checks run before any value that depends
// on secrets is opened (Verify, and inside Open and OpenB), and a failed check is an
// errs.Cheating error at both parties (verdict exchange). The probability that a
// change goes undetected is at most 2^-(s - log2(s+1)) ~ 2^-57 per arithmetic MAC check
// (SPDZ2k, Theorem 1 and Lemma 1 with s = 64), and 2^-64 per binary check plus the
// collision probability of SHA-256. Per inference: with its own offline phase, the union
// bound over every statistical check of one inference, online and offline, is at most
// 2^-40 (StatBits): Preprocess computes it from the inference's plan, sizes the AND
// triples' tinyot batches and buckets and the edaBit and daBit bucket checks to keep it,
// and refuses (errs.Config) an inference that cannot (security.go lists the checks;
// MobileNetV1 0.25_128: 40.08 bits, PredictSecurityHE).
//
// Correlated randomness comes from a Source (source.go): by default the two parties'
// own maliciously secure offline phase over OT (otsource.go: KOS-checked OT extension,
// COPEe authentication with SPDZ2k's check, SPDZ2k triples with sacrifice, TinyOT AND
// triples, Rotaru-Wood daBits, edaBits in edabits.go) whose linear layers' triples
// (matrix products, which include the im2col convolutions, and depthwise convolutions)
// have their products computed with homomorphic encryption (hesource.go, package hemat:
// BFV with proofs of plaintext knowledge, then the same COPEe authentication and
// sacrifice) when that sends at most half the bytes of Π_Triple's OTs, or, only when the user
// asks for preprocessing "dealer", a simulated trusted dealer (dealer.go, labelled
// "dealer" in every result). Preprocessing "ot" (every triple by Π_Triple) and "he"
// (HE for every linear layer hemat lays out) select the variants. The registry lists
// "spdz2k" (Spec, the own offline phase; Preprocess refuses a model whose offline phase
// would send more than MaxOfflineBytes per party, budget.go) and "spdz2k-dealer"
// (DealerSpec).
//
// Messages (128-bit elements are 16 bytes; "both" means each party sends one message to
// the other in the same round):
//   - Input(o): o sends d = v - r mod 2^64 (8 bytes per element), r from an input mask
//     whose value only o knows; [x] = [r] + d. d is masked by r, uniform.
//   - Mul, MulSum, MatMul, GatherMulSum (Beaver, authenticated triple [A], [B], [C = f(A,
//     B)]): both send their components of E = X - A and F = Y - B (16 bytes per
//     element), one round; the opened E, F are added to the MAC-check list. They are
//     masked by A and B, uniform in Z_2^128.
//   - AND (TinyOT, authenticated bit triple <a>, <b>, <c = a&b>): both send their bits of
//     d = x ^ a and e = y ^ b for all pairs of the call together (2 bits per gate), one
//     round; the bits' MAC values go into the binary check's hash. Masked by a and b.
//   - A2B(w): with an edaBit [r], <b> (r = b mod 2^w, r's higher bits uniform): both send
//     their components of c = x - r (16 bytes per element), one round, on the MAC-check
//     list; then the binary adder (mpc.AddB; A2BHigh: mpc.AddBHighRipple, a carry tree
//     below lo and a ripple carry above, the fewest AND triples; with lowDepth
//     mpc.AddBHighSparse) adds the public c mod 2^w and b. c is
//     uniform (b masks the low w bits, r's high part the rest).
//   - B2A(w) for w >= 4: with a 64-bit edaBit: y = x + b mod 2^64 by a ripple-carry adder
//     (one AND per plane, 63 rounds of 2 bits per element and gate), y opened (64 bits
//     per element, uniform; MACs hashed), [x] = y - [r]. With lowDepth (not in the
//     registry yet; convert.go): for w <= 62 the prefix products of the edaBit's planes
//     from w on come from the offline phase (Source.CarryEdaBits), Sklansky's adder over
//     the low w planes (1 + ceil(log2 w) rounds) and one AND round c_w & (prefix
//     products) for the high planes; 63 and 64 bits: Sklansky's adder over all
//     planes. Narrower B2A and Bit2A: with w daBits per element: both send their bits of c =
//     x ^ r (w bits per element), one round, MACs hashed; x = sum_j 2^j (c_j + [r_j] - 2
//     c_j [r_j]).
//   - Verify (the batched check of everything since the last one), 5 rounds: (1) both send
//     a commitment to a coin seed and to the hash of the values D = M ^ K ^ b*Delta of
//     every bit opened since the last check, folded in GF(2^64) per word of 64 bits
//     (check.go); (2) both open the commitment:
//     the coefficients chi_j in Z_2^64 come from the two seeds, and the two hashes must
//     be equal; (3) both commit to z_i = sum_j chi_j m_ij - alpha_i * sum_j chi_j y_j; (4)
//     both reveal z_i, check z_0 + z_1 = 0; (5) both send a verdict byte. z_i reveals
//     nothing: z_0 = -z_1 when nobody cheated, and each party can compute its own.
//   - Open(x, to): Verify, then both send their components of y = x + 2^64 t ([t]
//     random), minus an input mask r of party to if to >= 0; the MAC check of y (the five
//     rounds of Verify); the receiver takes y mod 2^64 (plus r). y is uniform except for
//     x mod 2^64 when opened to all, and uniform when opened to one party; the receiver
//     learns x mod 2^64 and nothing of x's bits from 64 up (t masks them).
//   - OpenB(x, to): Verify, then the sending party (both if to < 0) sends its bits and
//     the hash of their MACs; the receiver checks the hash; verdict exchange.
//
// A Protocol is one party's endpoint; its methods must be called by both parties in the
// same order with the same public arguments. It is not safe for concurrent use.
package spdz2k

import (
	"fmt"
	"os"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// Name is the protocol's qmpc name; DealerName is its variant with trusted-dealer
// preprocessing.
const (
	Name       = "spdz2k"
	DealerName = "spdz2k-dealer"
)

// Spec is spdz2k's registry entry (package mpc/registry).
var Spec = mpc.Spec{
	Name: Name, Paper: "spdz2k",
	Summary: "2 parties (model owner and client), dishonest majority, malicious with abort: SPDZ2k MACs over Z_2^128 " +
		"and TinyOT bits, with a malicious offline phase (OT, linear layers' products by HE; costly: a model whose offline phase would send more than 20 GB per party is refused unless " + MaxOfflineEnv + " allows more)",
	MinParties: 2, MaxParties: 2, DefaultParties: 2,
	Corruption: mpc.DishonestMajority, Security: mpc.MaliciousAbort, Domain: mpc.Ring64,
	Offline: true, Dealer: true, Sources: []string{PreprocessingOT, PreprocessingHE},
	New:       func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) { return New(conn, opt) },
	NewClient: newClient,
}

// DealerSpec is the registry entry of spdz2k's online phase with the simulated trusted
// dealer (package mpc/registry). It is a separate name so that a user gets the dealer
// only by asking for it; its online phase is spdz2k's, and it serves models whose OT-based
// offline phase is beyond the budget (budget.go).
var DealerSpec = mpc.Spec{
	Name: DealerName,
	Summary: "spdz2k's online phase (2 parties, malicious with abort: SPDZ2k MACs over Z_2^128, TinyOT bits) " +
		"with a simulated trusted dealer for every correlation; the dealer is outside the threat model",
	MinParties: 2, MaxParties: 2, DefaultParties: 2,
	Corruption: mpc.DishonestMajority, Security: mpc.MaliciousAbort, Domain: mpc.Ring64,
	Offline: true, Dealer: true,
	New: func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) {
		if opt.Preprocessing == mpc.PreprocessingDefault {
			opt.Preprocessing = mpc.PreprocessingDealer
		}
		p, err := New(conn, opt)
		if p != nil {
			p.name = DealerName
		}
		return p, err
	},
	NewClient: newClient,
}

func newClient(n int) (mpc.Client, error) {
	if n != 2 {
		return nil, errs.New(errs.Config, "spdz2k needs exactly 2 parties, have %d", n)
	}
	return Client{}, nil
}

// maxPending is the number of opened ring elements after which the MAC check runs
// without waiting for Verify (it bounds the memory of the check list).
const maxPending = 1 << 22

// Protocol is one party of spdz2k.
type Protocol struct {
	name  string
	conn  net.Conn
	id    int
	other int
	src   Source
	alpha uint64   // alpha_i
	delta uint64   // Delta_i
	rng   *prg.PRG // local randomness (coin seeds, commitment nonces)
	// padOut and padIn are the public padding streams of this party's and the other's
	// bit messages (binary.go).
	padOut, padIn *prg.PRG
	offline       mpc.PhaseStats
	check         checker
	// lowDepth selects the conversions' least-depth circuits (A2BHigh by a pruned
	// Sklansky network, B2A with offline carry products) instead of the fewest AND
	// triples (convert.go).
	lowDepth bool
	// trace is the file of the offline trace (OfflineTraceEnv), or "".
	trace string
	// maxOffline is the offline budget in bytes per party per inference (budget.go).
	maxOffline float64
}

var (
	_ mpc.Protocol        = (*Protocol)(nil)
	_ mpc.Verifier        = (*Protocol)(nil)
	_ mpc.GatherMulSummer = (*Protocol)(nil)
)

// New sets up party conn.ID() of spdz2k; both parties must call it concurrently.
func New(conn net.Conn, opt mpc.Options) (*Protocol, error) {
	if conn == nil || conn.N() != 2 {
		n := 0
		if conn != nil {
			n = conn.N()
		}
		return nil, errs.New(errs.Config, "spdz2k needs exactly 2 parties, have %d", n)
	}
	budget, err := maxOffline(os.Getenv)
	if err != nil {
		return nil, err
	}
	key, err := prg.ReadKey(opt.Reader())
	if err != nil {
		return nil, errs.New(errs.Config, "spdz2k: randomness: %v", err)
	}
	p := &Protocol{name: Name, conn: conn, id: conn.ID(), other: 1 - conn.ID(), rng: prg.New(key),
		padOut: prg.New(padKey(conn.ID())), padIn: prg.New(padKey(1 - conn.ID())), maxOffline: budget}
	p.check.reset()
	p.trace = os.Getenv(OfflineTraceEnv)
	err = p.offlineDo("setup", 0, 0, func() (err error) {
		switch opt.Preprocessing {
		case mpc.PreprocessingDealer:
			p.src, err = simulatedDealer(conn, p.rng)
			return err
		case PreprocessingOT:
			p.src, err = newOTSource(conn, p.rng)
			return err
		case mpc.PreprocessingDefault, PreprocessingHE:
			s, err := newOTSource(conn, p.rng)
			if err != nil {
				return err
			}
			p.src, err = newHESource(s, opt.Preprocessing == PreprocessingHE)
			return err
		}
		return errs.New(errs.Config, "spdz2k: preprocessing %q: want \"\" (the OT-based offline phase, linear layers by HE where that halves their bytes), %q (all by OT), %q (linear layers by HE wherever possible) or %q",
			opt.Preprocessing, PreprocessingOT, PreprocessingHE, mpc.PreprocessingDealer)
	})
	if err != nil {
		return nil, fmt.Errorf("spdz2k setup: %w", err)
	}
	p.alpha, p.delta = p.src.Keys()
	return p, nil
}

func (p *Protocol) Name() string   { return p.name }
func (p *Protocol) ID() int        { return p.id }
func (p *Protocol) N() int         { return 2 }
func (p *Protocol) Conn() net.Conn { return p.conn }

// SameKeys reports whether shares made by other are valid under p's MAC keys
// (mpc.KeyedShares): the same party of an instance with the same alpha_i and Delta_i.
func (p *Protocol) SameKeys(other mpc.Protocol) bool {
	q, ok := mpc.Ext[*Protocol](other)
	return ok && q.id == p.id && q.alpha == p.alpha && q.delta == p.delta
}

// Preprocessing returns the kind of correlated randomness in use.
func (p *Protocol) Preprocessing() string { return p.src.Kind() }

// OfflineStats returns the cumulative offline cost (mpc.OfflineReporter); with the
// dealer, the bytes the dealer would send this party count as received.
func (p *Protocol) OfflineStats() mpc.PhaseStats {
	s := p.offline
	s.Net.BytesReceived += p.src.DealerBytes()
	return s
}

// OfflineTraceEnv names an environment variable: if it holds a file path, every party
// of spdz2k appends one line per draw of correlated randomness to that file (party,
// what, n, w, bytes sent, rounds, seconds), to see where the offline bytes go (a
// debugging aid; the lines of both parties of one process interleave).
const OfflineTraceEnv = "QMPC_SPDZ2K_OFFLINE_TRACE"

// offlineDo runs f, which draws correlated randomness for what (n elements of w bits),
// and accounts it as offline.
func (p *Protocol) offlineDo(what string, n, w int, f func() error) error {
	start, before := time.Now(), p.conn.Stats()
	err := f()
	st := mpc.PhaseStats{Seconds: time.Since(start).Seconds(), Net: p.conn.Stats().Sub(before)}
	p.offline = p.offline.Add(st)
	if p.trace != "" {
		traceLine(p.trace, fmt.Sprintf("%d\t%s\t%d\t%d\t%d\t%d\t%.3f\n", p.id, what, n, w, st.Net.BytesSent, st.Net.Rounds, st.Seconds))
	}
	return err
}

// traceLine appends line to the file path (errors are ignored: a debugging aid).
func traceLine(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	_, _ = f.WriteString(line)
	_ = f.Close()
}

// AShare is party i's share of an authenticated arithmetic sharing: its component x_i
// and its MAC share m_i, in Z_2^128.
type AShare struct {
	x, m ring128.Vec
}

// Len is the number of elements.
func (x *AShare) Len() int { return x.x.Len() }

func as(x mpc.AShare) *AShare {
	s, ok := x.(*AShare)
	if !ok {
		panic(fmt.Sprintf("spdz2k: arithmetic share of type %T", x))
	}
	return s
}

// send sends b to the other party and flushes.
func (p *Protocol) send(b []byte) error {
	if err := p.conn.Send(p.other, b); err != nil {
		return err
	}
	return p.conn.Flush()
}

// recv receives one message of exactly n bytes from the other party.
func (p *Protocol) recv(what string, n int) ([]byte, error) {
	msg, err := p.conn.Recv(p.other)
	if err != nil {
		return nil, err
	}
	if len(msg) != n {
		return nil, errs.New(errs.Cheating, "spdz2k party %d: %s from party %d: %d bytes, want %d", p.id, what, p.other, len(msg), n)
	}
	return msg, nil
}

// exchange sends b and receives the other's message of the same length (one round).
func (p *Protocol) exchange(what string, b []byte) ([]byte, error) {
	if err := p.send(b); err != nil {
		return nil, err
	}
	return p.recv(what, len(b))
}

// vecBytes encodes a ring128 vector (low words, then high words).
func vecBytes(v ring128.Vec) []byte {
	b := make([]byte, 16*v.Len())
	ring.PutBytes(b[:8*v.Len()], v.Lo)
	ring.PutBytes(b[8*v.Len():], v.Hi)
	return b
}

// bytesVec decodes vecBytes.
func bytesVec(b []byte, n int) ring128.Vec {
	lo, _ := ring.FromBytes(b[:8*n], n)
	hi, _ := ring.FromBytes(b[8*n:], n)
	return ring128.Vec{Lo: lo, Hi: hi}
}

// exchangeVec sends this party's component v and returns the sum with the other's
// (a partial opening, one round).
func (p *Protocol) exchangeVec(what string, v ring128.Vec) (ring128.Vec, error) {
	if v.Len() == 0 {
		return ring128.Make(0), nil
	}
	msg, err := p.exchange(what, vecBytes(v))
	if err != nil {
		return ring128.Vec{}, err
	}
	y := bytesVec(msg, v.Len())
	ring128.Add(y, y, v)
	return y, nil
}

func checkParty(op string, i int, allowAll bool) error {
	if (allowAll && i < 0) || (i >= 0 && i < 2) {
		return nil
	}
	return errs.New(errs.Config, "spdz2k %s: party %d out of range [0,2)", op, i)
}
