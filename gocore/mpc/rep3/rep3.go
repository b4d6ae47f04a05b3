// Package rep3 implements "rep3": three-party replicated secret sharing over Z_2^64 with
// one semi-honest corruption (honest majority).
//
// Sources: Araki, Furukawa, Lindell, Nof and Ohara, "High-Throughput Semi-Honest Secure
// Three-Party Computation with an Honest Majority", CCS 2016 (sharing, multiplication, PRF
// zero-sharings); Mohassel and Rindal, "ABY3: A Mixed Protocol Framework for Machine
// Learning", CCS 2018 (binary sharing and conversions). MP-SPDZ calls it replicated-ring.
//
// Threat model: three computing parties, at most one of which is corrupted; the corrupted
// party follows the protocol (semi-honest) but tries to learn from what it sees. Inputs and
// intermediate values stay secret; nothing is detected if a party deviates.
//
// Sharing: x = x_0 + x_1 + x_2 (mod 2^64); party i holds the pair (x_i, x_{i+1}) (indices
// mod 3), so each component is known to two parties and any two parties know x. Binary
// shares are the same with XOR in place of + on bit-sliced planes (see package mpc).
//
// Setup (New): party i samples a PRG key s_i (crypto/rand, or Options.Rand in tests) and sends it to party i-1 (one
// message of 16 bytes). Then parties i and i+1 share k_i = s_{i+1}: party i holds k_i ("next"
// key) and k_{i-1} ("prev" key). Every draw from a key is made by both its holders in the
// same order, so their streams stay in lockstep. A zero-sharing is alpha_i = F(k_i) -
// F(k_{i-1}) (XOR for binary): the alphas sum to zero and, to party j, alpha_{j+1} and
// alpha_{j+2} are each masked by F(k_{j+1}), which party j does not know.
//
// Messages (each "one message of n words" is n 64-bit little-endian words):
//   - Mul, MulSum, MatMul: party i sends z_i = (local cross terms) + alpha_i to party i-1,
//     one message of len(output) words, one round. z_i is masked by F(k_i), unknown to
//     party i-1, so it is uniformly random to its receiver. MulSum, MatMul, GatherMulSum
//     and B2A defer that message (deferred.go) to the first method that is not linear;
//     A2BSplitLeaves and A2BSplitArithLeaves replace it by an exchange between the
//     a-holders in their input step.
//   - AND: the same with & and ^, one message of all pairs' planes together, one round.
//   - Input(owner o): x_o = F(k_{o-1}) (known to o and o-1), x_{o+2} = 0, and o sends
//     x_{o+1} = v - x_o to party o+1: one message of n words, masked by F(k_{o-1}), which
//     party o+1 does not hold. Party o-1 receives nothing and holds (0, x_o). The binary
//     input used inside A2B and B2A is the same with XOR.
//   - Open(to): party to-1 sends x_{to-1}, the component party to lacks: one message; it is
//     determined by x and to's own components, so it reveals only x. Open(-1): every party
//     sends its first component to the next.
//   - A2B(w): party 1 holds x_1 and x_2 and inputs y = x_1 + x_2 mod 2^w as a binary share
//     (one message of w bits per element); x_0 is a free binary sharing (known to parties
//     0 and 2); a Sklansky parallel-prefix adder (one AND round for the generate bits,
//     ceil(log2(w-1)) AND rounds for the prefix, only the w low bits) adds them.
//   - A2BSplitLeaves (leaves.go): for half of the elements party 1 (b = x_1 + x_2), for
//     the other half party 0 (b = x_0 + x_1) sends the one-hot vectors of chunks of b
//     (2^K bits per K-bit chunk and element) to party 2, the other a-holder drawing its
//     part from k_0; the two parties that know a (x_0, resp. x_2) select public functions
//     f(a, chunk) from their parts locally and reshare the results with two messages of
//     one bit per leaf and element. One round.
//   - A2BSplitArithLeaves (arith_leaves.go): party 1 inputs one-hot vectors as ring
//     elements to party 2 (a word per entry), parties 0 and 2 compute additive shares of
//     public functions f(a, chunk) in Z_2^64 and reshare them (a word per leaf and
//     element from party 0 to 2 and from 2 to 1). One round.
//   - B2A and Bit2A: with b = b_0 ^ b_1 ^ b_2 (binary components), party 0 knows
//     c = b_0 ^ b_1 and inputs its w bits c_j as ring elements (one message of w words);
//     b_2 is known to parties 1 and 2 and is a free arithmetic sharing, and
//     b = sum_j 2^j (c_j + b2_j - 2 c_j b2_j), whose products are one MulSum (one message
//     of n words per party). The input message is masked by F(k_2), which its receiver
//     (party 1) lacks. The role of party 0 rotates over three ranges of the elements, so
//     each party sends w words for a third of them. Two rounds for any w. B2AAnd(x, c,
//     beta) adds the AND of two one-plane sharings in the same two rounds: three more
//     words per element in the role-0 party's input message (convert.go). ChunkB2A
//     (convert_chunk.go) converts a requantization's output from the A2B operands' chunk
//     kept by A2BSplitLeaves and five binary bits: 4 words and 3 bits per element from
//     the owner of b (parties 1 and 0) and 3 words from party 2, in the rounds of B2A.
//
// Checked variants: every input, product (those inside A2B, B2A and Bit2A included) and
// opening is reported, with this party's components, to an optional Observer
// (observe.go, NewObserved), so that a malicious-secure variant composes rep3 with its
// own checks (mpc.Verifier) instead of copying the conversions. With an Observer the
// conversions take their checked forms (convert_checked.go: ABY3's malicious A2B and
// B2A, without the single-party inputs above, or convert_adder.go's ABY3 bit composition
// for B2A, which a variant selects with SetAdderB2A), whose every step is a reported
// product, a reported opening of a masked value, or local; rep3 itself keeps the cheaper
// forms.
//
// A Protocol is one party's endpoint; its methods must be called by all three parties in
// the same order with the same public arguments. It is not safe for concurrent use.
package rep3

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Name is the protocol's qmpc name.
const Name = "rep3"

// Protocol is one party of rep3.
type Protocol struct {
	conn       net.Conn
	id         int
	next, prev int      // party ids i+1 and i-1
	gNext      *prg.PRG // key k_i, shared with party i+1
	gPrev      *prg.PRG // key k_{i-1}, shared with party i-1
	obs        Observer // nil, or a checked variant's observer (observe.go)
	eager      bool     // reshare products at once (Unobserved views: their callers read components)
	adderB2A   int      // checked B2A by ABY3's adder for widths >= adderB2A (0: never; SetAdderB2A)
	zeros      []uint64 // zeroWords' words (read only)
}

var _ mpc.Protocol = (*Protocol)(nil)

// Spec is rep3's registry entry (package mpc/registry).
var Spec = mpc.Spec{
	Name: Name, Paper: "replicated-ring",
	Summary:    "3 parties, honest majority, semi-honest: replicated secret sharing over Z_2^64",
	MinParties: 3, MaxParties: 3, DefaultParties: 3,
	Corruption: mpc.HonestMajority, Security: mpc.SemiHonest, Domain: mpc.Ring64,
	Rotatable: true, // shares are (own, next) components; the client's payloads the same
	New:       func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) { return New(conn, opt) },
	NewDealer: func(int) (mpc.Dealer, error) { return Dealer{}, nil },
}

// New sets up party conn.ID() of rep3: it exchanges PRG keys with its neighbours (all three
// parties must call New concurrently). rep3 has no offline phase: it accepts only the
// default preprocessing.
func New(conn net.Conn, opt mpc.Options) (*Protocol, error) {
	if err := mpc.OnlyDefaultPreprocessing(Name, opt); err != nil {
		return nil, err
	}
	if conn == nil || conn.N() != 3 {
		n := 0
		if conn != nil {
			n = conn.N()
		}
		return nil, errs.New(errs.Config, "rep3 needs exactly 3 parties, have %d", n)
	}
	id := conn.ID()
	p := &Protocol{conn: conn, id: id, next: (id + 1) % 3, prev: (id + 2) % 3}
	own, err := prg.ReadKey(opt.Reader())
	if err != nil {
		return nil, fmt.Errorf("rep3 setup: %w", err)
	}
	if err := conn.Send(p.prev, own[:]); err != nil {
		return nil, fmt.Errorf("rep3 setup: %w", err)
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("rep3 setup: %w", err)
	}
	msg, err := conn.Recv(p.next)
	if err != nil {
		return nil, fmt.Errorf("rep3 setup: %w", err)
	}
	if len(msg) != prg.KeySize {
		return nil, errs.New(errs.Party, "rep3 setup: party %d sent a key of %d bytes", p.next, len(msg))
	}
	var nk prg.Key
	copy(nk[:], msg)
	p.gPrev = prg.New(own)
	p.gNext = prg.New(nk)
	return p, nil
}

// NewObserved is New with an Observer that sees every input, product and opening of this
// party (observe.go): the constructor of checked variants.
func NewObserved(conn net.Conn, opt mpc.Options, obs Observer) (*Protocol, error) {
	p, err := New(conn, opt)
	if err != nil {
		return nil, err
	}
	p.obs = obs
	return p, nil
}

func (p *Protocol) Name() string   { return Name }
func (p *Protocol) ID() int        { return p.id }
func (p *Protocol) N() int         { return 3 }
func (p *Protocol) Conn() net.Conn { return p.conn }

// AShare is party i's pair (x_i, x_{i+1}) of an arithmetic sharing, or, while toks is
// not empty, party i's z_i of a 3-out-of-3 sharing whose resharing is deferred (b nil:
// a pending product, deferred.go).
type AShare struct {
	a, b   []uint64
	toks   []*pendToken
	masked bool // pending, as a product made it: a is masked by a fresh zero share
}

// Len is the number of elements.
func (x *AShare) Len() int { return len(x.a) }

// FromComponents makes an arithmetic share from this party's components: a = x_i and b =
// x_{i+1} for party i (the slices are kept, not copied). They must have the same length.
func FromComponents(a, b []uint64) mpc.AShare {
	if len(a) != len(b) {
		panic(fmt.Sprintf("rep3.FromComponents: lengths %d and %d", len(a), len(b)))
	}
	return &AShare{a: a, b: b}
}

// Components returns party i's components (x_i, x_{i+1}) of x (not copies: do not modify).
// x must not be a pending product (deferred.go): only shares of an Unobserved view or of
// an observed protocol, which reshare at once, or shares that a method has settled.
func Components(x mpc.AShare) (a, b []uint64) {
	s := as(x)
	return s.a, s.b
}

// BShare is party i's pair of binary components, each w planes of ring.Words(n) words.
// Padding bits of the last word of a plane are unspecified.
type BShare struct {
	n, w int
	a, b []uint64
}

// Len is the number of elements.
func (x *BShare) Len() int { return x.n }

// Width is the number of bits per element.
func (x *BShare) Width() int { return x.w }

// FromBComponents makes a binary share of n w-bit elements from this party's components
// (bit-sliced planes as in ring.ToPlanes; the slices are kept, not copied).
func FromBComponents(a, b []uint64, n, w int) mpc.BShare {
	if w < 0 || len(a) != w*ring.Words(n) || len(b) != len(a) {
		panic(fmt.Sprintf("rep3.FromBComponents: lengths %d and %d for n=%d w=%d", len(a), len(b), n, w))
	}
	return &BShare{n, w, a, b}
}

// BComponents returns party i's binary components (not copies: do not modify).
func BComponents(x mpc.BShare) (a, b []uint64) {
	s := bs(x)
	return s.a, s.b
}

// as returns x's replicated components; x must not be pending (methods that accept a
// pending product settle it first, or use anyAS).
func as(x mpc.AShare) *AShare {
	s := anyAS(x)
	if s.pending() {
		panic("rep3: a pending product read as a replicated share (settle it first)")
	}
	return s
}

// anyAS returns x, pending or not.
func anyAS(x mpc.AShare) *AShare {
	s, ok := x.(*AShare)
	if !ok {
		panic(fmt.Sprintf("rep3: arithmetic share of type %T", x))
	}
	return s
}

func bs(x mpc.BShare) *BShare {
	s, ok := x.(*BShare)
	if !ok {
		panic(fmt.Sprintf("rep3: binary share of type %T", x))
	}
	return s
}

// scratchWords is the chunk size in which arithmetic masks are drawn.
const scratchWords = 2048

// addZeroShare adds alpha_i = F(k_i) - F(k_{i-1}) to z.
func (p *Protocol) addZeroShare(z []uint64) { p.addZeroShareTo(z, nil, nil) }

// addZeroShareTo is addZeroShare that also keeps the words drawn: F(k_i) in next and
// F(k_{i-1}) in prev (both nil: not kept; else of z's length).
func (p *Protocol) addZeroShareTo(z, next, prev []uint64) {
	var t [scratchWords]uint64
	for lo := 0; lo < len(z); lo += scratchWords {
		hi := min(lo+scratchWords, len(z))
		c := z[lo:hi]
		u := t[:len(c)]
		p.gNext.Fill(u)
		for i := range c {
			c[i] += u[i]
		}
		if next != nil {
			copy(next[lo:hi], u)
		}
		p.gPrev.Fill(u)
		for i := range c {
			c[i] -= u[i]
		}
		if prev != nil {
			copy(prev[lo:hi], u)
		}
	}
}

// xorZeroShare XORs alpha_i = F(k_i) ^ F(k_{i-1}) into z.
func (p *Protocol) xorZeroShare(z []uint64) {
	p.gNext.XorInto(z)
	p.gPrev.XorInto(z)
}

// xorZeroShareTo is xorZeroShare that also keeps the words drawn: F(k_i) in next and
// F(k_{i-1}) in prev (of z's length; the streams advance as in xorZeroShare).
func (p *Protocol) xorZeroShareTo(z, next, prev []uint64) {
	p.gNext.Fill(next)
	p.gPrev.Fill(prev)
	for i := range z {
		z[i] ^= next[i] ^ prev[i]
	}
}

// send sends words to party to. v must not be modified afterwards (the Conn may keep it).
// Empty vectors are not sent (lengths are public, so the receiver expects nothing).
func (p *Protocol) send(to int, v []uint64) error {
	if len(v) == 0 {
		return nil
	}
	if err := p.conn.Send(to, ring.AsBytes(v)); err != nil {
		return err
	}
	return p.conn.Flush()
}

// recv receives n words from party from. The result must be treated as read-only: over
// in-memory pipes it is the sender's own buffer, which the sender may keep (a reshared z
// is the sender's first component), unless every party drops what it sends at that step.
func (p *Protocol) recv(from, n int) ([]uint64, error) {
	if n == 0 {
		return []uint64{}, nil
	}
	msg, err := p.conn.Recv(from)
	if err != nil {
		return nil, err
	}
	v, err := ring.AsWords(msg, n)
	if err != nil {
		return nil, errs.New(errs.Party, "party %d: from party %d: %v", p.id, from, err)
	}
	return v, nil
}

// reshare turns the 3-out-of-3 sharing z (this party's z_i) into a replicated one.
// Checked variants and their Unobserved views (p.defers() false) use Araki et al.'s
// resharing: party i sends z_i to party i-1 and receives z_{i+1} from party i+1; z
// becomes the first component and must not be modified afterwards. The plain protocol
// splits the words in two halves that travel in opposite directions (reshareSplit), so
// that every one of the six directed links carries half a word per element instead of
// three links carrying one: the same bytes and the same round, half the time on a link
// of limited bandwidth.
func (p *Protocol) reshare(z []uint64) (a, b []uint64, err error) {
	if p.defers() {
		return p.reshareSplit(z)
	}
	if err := p.send(p.prev, z); err != nil {
		return nil, nil, err
	}
	b, err = p.recv(p.next, len(z))
	if err != nil {
		return nil, nil, err
	}
	return z, b, nil
}

// reshareSplit is the resharing of z with its words [0, h) (h = ceil(len/2)) sent to
// party i-1, as in reshare (x_i = z_i: party i holds (z_i, z_{i+1})), and its words [h,
// len) sent to party i+1: there the components are shifted, x_{i+1} = z_i, and party i
// holds (z_{i-1}, z_i), received from party i-1 and its own. Both are replicated
// sharings of the same values (x_0 + x_1 + x_2 = z_0 + z_1 + z_2). Security: z_i
// carries the zero share F(k_i) - F(k_{i-1}) (XOR for binary words); party i-1 lacks
// k_i and party i+1 lacks k_{i-1}, so either receiver sees a word masked by a PRF output
// it lacks, as in Araki et al.'s resharing. z is not modified (a and b are new).
func (p *Protocol) reshareSplit(z []uint64) (a, b []uint64, err error) {
	n := len(z)
	h := n - n/2
	if err := p.send(p.prev, z[:h:h]); err != nil {
		return nil, nil, err
	}
	if err := p.send(p.next, z[h:]); err != nil {
		return nil, nil, err
	}
	fromNext, err := p.recv(p.next, h)
	if err != nil {
		return nil, nil, err
	}
	fromPrev, err := p.recv(p.prev, n-h)
	if err != nil {
		return nil, nil, err
	}
	a, b = make([]uint64, n), make([]uint64, n)
	copy(a, z[:h])
	copy(a[h:], fromPrev)
	copy(b, fromNext)
	copy(b[h:], z[h:])
	return a, b, nil
}

func checkParty(op string, i int, allowAll bool) error {
	if (allowAll && i < 0) || (i >= 0 && i < 3) {
		return nil
	}
	return errs.New(errs.Config, "rep3 %s: party %d out of range [0,3)", op, i)
}
