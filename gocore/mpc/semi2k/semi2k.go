// Package semi2k implements "semi2k": two-party additive secret sharing over Z_2^64 with
// one semi-honest corruption out of two (dishonest majority), in the setting of the
// paper's first column (MP-SPDZ's semi2k): the model owner (party 0) and the client (party
// 1), with no third organisation.
//
// Sources: Beaver, "Efficient Multiparty Protocols Using Circuit Randomization", CRYPTO 1991
// (multiplication triples; the matrix form as in Mohassel and Zhang, SecureML, S&P 2017);
// Goldreich, Micali and Wigderson, STOC 1987 (GMW: XOR sharing, AND with bit triples);
// Gilboa, "Two Party RSA Key Generation", CRYPTO 1999 (products of a party's private value
// with the other's, from one correlated OT per bit); Rotaru and Wood, "MArBled Circuits",
// INDOCRYPT 2019 (daBits: a random bit shared both arithmetically and in binary, for B2A).
//
// Threat model: two computing parties, either of which may be corrupted; the corrupted
// party follows the protocol (semi-honest) and tries to learn from its view. Inputs and
// intermediate values stay secret; nothing is detected if a party deviates.
//
// Sharing: x = x_0 + x_1 (mod 2^64), party i holds x_i. Binary shares: x = x_0 ^ x_1 on
// bit-sliced planes (see package mpc; plane j holds bit j of all n elements). A share may
// be flagged "held by party o": then x_o = x and the other party's component is 0, and both
// parties know the flag (it follows from the public call sequence). Input(o) makes such a
// share with no message; Public is held by party 0; linear operations (Add, Sub, Neg,
// AddPublic, MulPublic, Gather, Concat, SumGroups and their binary counterparts) keep the
// flag when all operands carry the same one, and products of two shares held by the same
// party are computed by it alone. Held shares are how the model owner's weights reach the
// one-sided products below.
//
// Correlated randomness comes from a Source (source.go) and is accounted as offline cost
// (OfflineStats): either the two-party OT-based offline phase over package ot (the
// default, otsource.go), or, only when the user asks for preprocessing "dealer", a trusted
// third party simulated in-process (dealer.go; labelled "dealer" in Preprocessing and in
// every result). Nothing else uses the dealer. Preprocess draws the AND triples and daBits
// of a counted computation ahead in large batches (preprocess.go); product triples and
// one-sided correlations, which depend on shapes and on the owner's weights, are drawn
// just in time by each product.
//
// Design choices (measured on MobileNetV1 0.25_128, one inference: 413k requantized
// outputs, 13.6M multiply-accumulates with the owner's weights, see BENCHMARKS.md):
//   - Linear layers are one-sided products: the weights are the owner's, so the offline
//     cost is one correlated OT per weight bit with a vector correlation of the output
//     size (9 bits x 13.6M MACs x about 60 bits: ~0.9 GB from the client) instead of a
//     Beaver triple per multiply-accumulate (64 OTs each way per MAC: ~100 GB), and online
//     only the client's masked input D (the size of X, not of the MACs) travels.
//   - Exact requantization is binary work: about 177 AND gates per output (A2BHigh of the
//     63-bit scaled accumulator: a carry tree under the quotient's planes, a ripple carry
//     above; ties, zero point and clamp): 73M gates, 47.4M general and 25.6M cross
//     triples (operands held by different parties: the adder's first round; one random
//     OT each instead of two). With SoftSpoken OT a triple costs ~3.9 bytes per party
//     (~0.25 GB in all) but most of the offline CPU. Online an AND costs 2 bits per
//     party (cross: 1).
//   - B2A with daBits (one correlated OT each offline, w bits per element online, one
//     round) rather than a second adder or the cross-term OT of the two parties' bits
//     online (a round trip per conversion): 8-bit results need 8 daBits, 3.3M in all.
//
// Messages (each "n words" is one message of n 64-bit little-endian words; "both" means
// each party sends one message to the other in the same round):
//   - Input(owner): none.
//   - Open(x, to): the other party sends its component (n words), unless x is held by to;
//     to < 0: both send (a share held by o: only o sends). A component is x minus the
//     receiver's own component, so it reveals x and nothing else.
//   - Mul, MulSum, GatherMulSum, MatMul of generic shares (Beaver): with a triple (A, B,
//     C = f(A, B)) for the bilinear map f, both send their components of E = X - A and F =
//     Y - B (len X + len Y words), one round; Z = C + f(E, B) + f(A, F) + [party 0] f(E,
//     F). E and F are masked by the uniformly random A and B, whose other components the
//     receiver never sees.
//   - Products whose operand W is held by party o (the owner's weights) and the other, X,
//     is not held by o, with OT-based preprocessing (one-sided product; W is the second
//     operand, or for MatMul either one, the declared narrower if both are held):
//     offline, the other party q draws a random R of X's shape and the parties obtain
//     additive shares (U, V) of f(R, W) by Gilboa products (one correlated OT per bit of
//     each element of W, o choosing with W's bits, q's correlation f(R, e_r) 2^b); online q
//     sends D = X_q - R (len X words, one message, one round); o sets Z_o = U plus
//     f(X_o + D, W) and q sets Z_q = V. D is masked by R, uniform and never seen by o.
//     The number of bits of W is public: the smallest of 9, 17, 33, 64 that holds W's
//     public range, derived from the range Input was declared with (the tensor type's,
//     mpc.RangedInput) and the public operations since (span.go); 9 for 8-bit weights
//     minus their zero point. It never depends on the values (a width computed from
//     the values leaked their magnitude; the view-test harness caught it).
//   - AND (GMW): with bit triples (a, b, c = a & b), both send d = x ^ a and e = y ^ b for
//     all pairs of the call together (2 bits per gate), one round; z = c ^ d&b ^ e&a ^
//     [party 0] d&e. Pairs held by one party are ANDed by it alone.
//   - A2B(w): x_0 and x_1 are free binary sharings (held by party 0 and party 1); the
//     generic parallel-prefix adder of package mpc (mpc.AddB, Sklansky) adds them with
//     AND: 1 + ceil(log2(w-1)) rounds. A2BHigh(w, lo) (mpc.HighA2B) adds them with
//     mpc.AddBHighRipple: the planes below lo only give their carry (carry tree), the
//     planes above a ripple carry; 151 gates instead of AddB's 363 for the
//     requantization's widths, at about 20 more rounds. Held shares convert locally.
//   - B2A, Bit2A (daBits): with w random bits per element shared both ways (r in binary,
//     [r] arithmetic), both send c = x ^ r (w bits per element), one round; then x = sum_j
//     2^j (c_j + [r_j] - 2 c_j [r_j]), local. c is masked by the uniform r.
//
// A Protocol is one party's endpoint; its methods must be called by both parties in the
// same order with the same public arguments. It is not safe for concurrent use.
package semi2k

import (
	"fmt"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Name is the protocol's qmpc name.
const Name = "semi2k"

// Spec is semi2k's registry entry (package mpc/registry).
var Spec = mpc.Spec{
	Name: Name, Paper: "semi2k",
	Summary:    "2 parties (model owner and client), dishonest majority, semi-honest: additive sharing over Z_2^64 with an OT-based offline phase",
	MinParties: 2, MaxParties: 2, DefaultParties: 2,
	Corruption: mpc.DishonestMajority, Security: mpc.SemiHonest, Domain: mpc.Ring64,
	Offline: true, Dealer: true,
	New:       func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) { return New(conn, opt) },
	NewDealer: func(int) (mpc.Dealer, error) { return ClientDealer{}, nil },
}

// Kinds of preprocessing, as Preprocessing reports them.
const (
	// PreprocessingOT is the two-party offline phase over oblivious transfer (the default,
	// mpc.PreprocessingDefault).
	PreprocessingOT = "ot"
	// PreprocessingDealer is a trusted third party that makes the correlations (CrypTen's
	// and SPU's default), simulated in-process: only when the user asks for it.
	PreprocessingDealer = mpc.PreprocessingDealer
)

// Used counts the correlated randomness drawn so far, by kind.
type Used struct {
	ANDTriples    int64 // bit triples
	DaBits        int64 // daBits
	TripleWords   int64 // words of Beaver triples (elementwise, gather and matrix: len A + len B)
	OneSidedOTs   int64 // correlated OTs of one-sided products (weights times bits)
	OneSidedWords int64 // words of their vector correlations (multiply-accumulates times bits)
	CrossTriples  int64 // bit triples with a held by party 0 and b by party 1
	// Of those, the ones drawn just in time (not by Preprocess).
	JITANDTriples, JITCrossTriples, JITDaBits int64
}

// Left returns the AND triples and daBits drawn by Preprocess and not used yet.
func (p *Protocol) Left() (andTriples, daBits int64) {
	return 64 * int64(len(p.pool.a)), 64 * int64(len(p.pool.bin))
}

// Protocol is one party of semi2k.
type Protocol struct {
	conn    net.Conn
	id      int
	other   int
	src     Source
	kind    string
	offline mpc.PhaseStats
	used    Used
	pool    pools // correlations drawn ahead by Preprocess
}

var _ mpc.Protocol = (*Protocol)(nil)

// New sets up party conn.ID() of semi2k; both parties must call it concurrently. With
// the default preprocessing the OT source runs its base OTs here; with
// mpc.PreprocessingDealer the parties set up the simulated dealer (dealer.go).
func New(conn net.Conn, opt mpc.Options) (*Protocol, error) {
	if conn == nil || conn.N() != 2 {
		n := 0
		if conn != nil {
			n = conn.N()
		}
		return nil, errs.New(errs.Config, "semi2k needs exactly 2 parties, have %d", n)
	}
	rnd := opt.Reader()
	p := &Protocol{conn: conn, id: conn.ID(), other: 1 - conn.ID()}
	err := p.offlineDo(func() (err error) {
		switch opt.Preprocessing {
		case mpc.PreprocessingDealer:
			p.kind = PreprocessingDealer
			var d *TrustedDealer
			if d, err = simulatedDealer(conn, rnd); err == nil {
				p.src, err = d.Source(p.id)
			}
			return err
		case mpc.PreprocessingDefault:
			p.kind = PreprocessingOT
			p.src, err = newOTSource(conn, rnd)
			return err
		}
		return errs.New(errs.Config, "semi2k: preprocessing %q: want \"\" (the OT-based offline phase) or %q", opt.Preprocessing, mpc.PreprocessingDealer)
	})
	if err != nil {
		return nil, fmt.Errorf("semi2k setup: %w", err)
	}
	return p, nil
}

func (p *Protocol) Name() string   { return Name }
func (p *Protocol) ID() int        { return p.id }
func (p *Protocol) N() int         { return 2 }
func (p *Protocol) Conn() net.Conn { return p.conn }

// Preprocessing returns the kind of correlated randomness in use: "ot" (the two-party
// offline phase) or "dealer" (the simulated trusted dealer).
func (p *Protocol) Preprocessing() string { return p.kind }

// OfflineStats returns the cumulative offline cost so far: seconds and messages spent
// making correlated randomness, including the base OTs at setup; with the dealer, the
// bytes the dealer would send this party count as received. It implements
// mpc.OfflineReporter.
func (p *Protocol) OfflineStats() mpc.PhaseStats {
	s := p.offline
	if d, ok := p.src.(interface{ dealerBytes() int64 }); ok {
		s.Net.BytesReceived += d.dealerBytes()
	}
	return s
}

// Used returns the correlated randomness drawn so far, by kind.
func (p *Protocol) Used() Used { return p.used }

// Verify does nothing: semi2k is semi-honest.
func (p *Protocol) Verify() error { return nil }

// offlineDo runs f, which draws correlated randomness, and accounts its time and traffic
// as offline.
func (p *Protocol) offlineDo(f func() error) error {
	start, before := time.Now(), p.conn.Stats()
	err := f()
	p.offline = p.offline.Add(mpc.PhaseStats{Seconds: time.Since(start).Seconds(), Net: p.conn.Stats().Sub(before)})
	return err
}

// AShare is party i's component x_i of an arithmetic sharing; held >= 0 means the share is
// held in the clear by that party (its component is x, the other's 0).
type AShare struct {
	v    []uint64
	held int
	r    span // public range of the values of a held share (see span)
}

// Len is the number of elements.
func (x *AShare) Len() int { return len(x.v) }

// FromComponent makes an arithmetic share from this party's additive component (kept,
// not copied).
func FromComponent(v []uint64) mpc.AShare { return &AShare{v: v, held: -1} }

// Component returns this party's additive component of x (not a copy: do not modify).
func Component(x mpc.AShare) []uint64 { return as(x).v }

// Held returns the party that holds x in the clear, or -1.
func Held(x mpc.AShare) int { return as(x).held }

// BShare is party i's XOR component of a binary sharing: w planes of ring.Words(n) words.
// Padding bits of the last word of a plane are unspecified.
type BShare struct {
	n, w int
	v    []uint64
	held int
}

// Len is the number of elements.
func (x *BShare) Len() int { return x.n }

// Width is the number of bits per element.
func (x *BShare) Width() int { return x.w }

// BComponent returns this party's XOR component planes of x (not a copy: do not modify).
func BComponent(x mpc.BShare) []uint64 { return bs(x).v }

func as(x mpc.AShare) *AShare {
	s, ok := x.(*AShare)
	if !ok {
		panic(fmt.Sprintf("semi2k: arithmetic share of type %T", x))
	}
	return s
}

func bs(x mpc.BShare) *BShare {
	s, ok := x.(*BShare)
	if !ok {
		panic(fmt.Sprintf("semi2k: binary share of type %T", x))
	}
	return s
}

// sameHeld returns the common holder of shares with holders hs, or -1.
func sameHeld(hs ...int) int {
	if len(hs) == 0 {
		return -1
	}
	for _, h := range hs[1:] {
		if h != hs[0] {
			return -1
		}
	}
	return hs[0]
}

// send sends words to the other party. v must not be modified afterwards. Empty vectors
// are not sent (lengths are public).
func (p *Protocol) send(v []uint64) error {
	if len(v) == 0 {
		return nil
	}
	if err := p.conn.Send(p.other, ring.AsBytes(v)); err != nil {
		return err
	}
	return p.conn.Flush()
}

// recv receives n words from the other party (read-only: over pipes it is the sender's
// buffer).
func (p *Protocol) recv(n int) ([]uint64, error) {
	if n == 0 {
		return []uint64{}, nil
	}
	msg, err := p.conn.Recv(p.other)
	if err != nil {
		return nil, err
	}
	v, err := ring.AsWords(msg, n)
	if err != nil {
		return nil, errs.New(errs.Party, "party %d: from party %d: %v", p.id, p.other, err)
	}
	return v, nil
}

// exchange sends v and receives the other party's vector of the same length (one round).
func (p *Protocol) exchange(v []uint64) ([]uint64, error) {
	if err := p.send(v); err != nil {
		return nil, err
	}
	return p.recv(len(v))
}

func checkParty(op string, i int, allowAll bool) error {
	if (allowAll && i < 0) || (i >= 0 && i < 2) {
		return nil
	}
	return errs.New(errs.Config, "semi2k %s: party %d out of range [0,2)", op, i)
}
