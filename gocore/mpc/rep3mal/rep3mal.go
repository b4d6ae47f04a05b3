// Package rep3mal implements "rep3-mal": three-party replicated secret sharing over Z_2^64
// secure against one malicious party, with abort (honest majority). The honest parties
// and the client either get the correct output, bit for bit the same as rep3's, or an
// errs.Cheating error before any value that depends on secrets is opened.
//
// Construction: rep3 (Araki, Furukawa, Lindell, Nof, Ohara, CCS 2016; package rep3) with
// every step checked afterwards, in the style of "compute semi-honestly, then verify"
// (Lindell and Nof, "A Framework for Constructing Fast MPC over Arithmetic Circuits with
// Malicious Adversaries and an Honest-Majority", CCS 2017; MP-SPDZ's ps-rep-ring, the
// paper's setting, verifies the same way). rep3 runs unchanged except that its
// conversions take their checked forms (rep3/convert_checked.go: ABY3's malicious A2B and
// B2A, where every step is a product or local; B2A's t = b_0 b_1, which party 0 holds
// both factors of, is party 0's input, reported and proven as the product it is; B2A of
// two or more bits by ABY3's bit composition instead, rep3/convert_adder.go: x - r_1 - r_2
// by a binary adder, 125 AND gates per element and no ring product, opened to the two
// holders of its component), and it reports every product and opening to this package
// (rep3.Observer). This package adds:
//
//   - Product proofs (dzkp.go, dot.go, andproof.go, zk.go), the default. Every product a
//     party sends is proven correct by that party in a distributed zero-knowledge proof
//     whose verifiers are the other two parties (Boyle, Gilboa, Ishai, Nof, CCS 2019):
//     the arithmetic ones (Mul, MulSum, and MatMul and the GatherMulSum of convolutions,
//     those inside the checked conversions included) over Z_2^64 through the Galois ring
//     GR(2^64, 56) (the same authors, Asiacrypt 2020; package galois), the AND words (the
//     binary products of A2B's adders, comparisons and B2A) over GF(2^64), the bits
//     embedded in the field as in the CCS 2019 paper's Boolean case (andproof.go). The
//     proof's messages grow with the logarithm of the number of products, not with the
//     number: each prover's statement is compressed to one inner product by random
//     coefficients (from the ring's exceptional set; any field element for GF(2^64)), a
//     first multilinear step divides its length by 2^7 (for AND words by 2^6: 64 words of 64 bit
//     lanes become 64 field elements, one per lane), and compression steps with public
//     coins, each halving the length, do the rest; a dot product (a MatMul or convolution output) is one gate whatever its
//     length. The steps that do not depend on the algebra are written once (zk.go), and
//     the two proofs of a batch run in the same rounds. The statement needs each
//     product's zero-share words (rep3.MaskObserver). Soundness, zero knowledge and the
//     messages are argued in dzkp.go and andproof.go.
//   - Elementwise product check by triples (bucket.go), kept in code as the fallback when
//     proofs are switched off (Protocol.proofs, for tests): the elementwise products and
//     AND words are verified with multiplication triples (a, b, c = ab): open rho
//     = x - a and sigma = y - b (uniform: masked by a and b) and test z - c - sigma*a -
//     rho*b - rho*sigma = 0, which is z's error minus the triple's. The triples are made by
//     rep3's own (semi-honest) product and verified by cut-and-choose and bucketing
//     (Furukawa, Lindell, Nof, Pinkas, Eurocrypt 2017; Araki et al., S&P 2017): after a
//     random permutation, C triples are opened and the rest form buckets of B, each
//     bucket's first triple checked against the others by the same test. No random scalar
//     is used, so the argument holds over Z_2^64 (Eerikson et al., ITC 2020); B is the
//     smallest size whose exact combinatorial bound is at most 2^-46 for the batch.
//   - Matrix product check by sacrifice (check.go), for MatMul and GatherMulSum products
//     that lack the factored form of dot.go (none in the engine's plans) or when proofs
//     are off: with a uniformly random
//     sharing a, c = f(a, y) is computed by rep3 (its errors fixed before the challenge),
//     then the coin gives tau, rho = tau*x - a is opened and tau*z - c - f(rho, y) = 0 is
//     tested. If z = f(x,y) + E and c = f(a,y) + E', the tested value is tau*E - E': over a
//     field the classic sacrifice (Damgard, Pastro, Smart, Zakarias, CRYPTO 2012). Over
//     Z_2^64 one test catches E != 0 only with probability 1/2 (tau*2^63 vanishes for even
//     tau: Cramer, Damgard, Escudero, Scholl, Xing, "SPDZ2k", CRYPTO 2018, section 1), so it
//     is repeated D = 46 times with independent a and tau. The smaller operand (for a
//     convolution, the weights) is the one masked. rho is uniform (masked by a, which no
//     single party knows); the tested value depends on the adversary's errors and the
//     public tau only.
//   - Coin (check.go). The permutation, tau and the hashes' salt come from a
//     commit-then-reveal coin toss among the three parties (SHA-256 commitments to 32-byte
//     seeds), after all triples and sacrificed products of the batch are sent: a cheater
//     cannot choose its errors knowing them.
//   - Opening check. In rep3 a value opened to party r arrives as the component x_{r-1}
//     from party r-1; party r+1 holds the same component and sends a SHA-256 hash of
//     every such component to r, which compares it with what it received (Araki et al.,
//     S&P 2017, "compare views"). The zero test of the checked values works the same
//     way: party i sends H(v_i + v_{i+1}) to party i+1, which compares it with H(-v_{i+2})
//     from its own copy. With one corrupted party every component has an honest holder,
//     so honest parties compare honest copies.
//   - Inputs. rep3's input has no room for inconsistency: the owner's first component is
//     drawn by a PRG key the owner shares with its predecessor, the second is sent to its
//     successor, the third is zero; a party that later uses another copy than the one it
//     sent or drew makes products and openings wrong, which the checks above catch. The
//     shares an outside client deals (ImportShares) are cross-checked by hashes between
//     the two holders of each component; outputs exported to an outside client reach it
//     from both holders of each component and Dealer.Reconstruct compares them.
//
// Statistical security: per check batch, a wrong arithmetic product passes the proofs
// with probability at most 3 * 100 * 2^-56 < 2^-47.7 (three provers; per prover (1 + 2s
// + 2R + 5)/2^56 with s = 7 lift variables and R <= 40 variables folded after the lift
// (one per halving step): the Schwartz-Zippel
// bound over the exceptional set of 2^56 points, dzkp.go), a wrong AND word the AND proofs
// at most 3 * 100 * 2^-64 < 2^-55.7 (the same bound over the field GF(2^64), andproof.go),
// and a wrong product of the sacrifice (if any runs: none in the engine's plans) at most
// 2^-46. A batch thus errs with probability below 2^-47.7 + 2^-55.7 + 2^-46 < 2^-45.6,
// and a run of up to 24 check batches (MobileNetV1 0.25_128 has 2) keeps 40 bits (2^-41.0),
// plus the collision and commitment terms of SHA-256. Without sacrificed products (the
// engine's plans) a batch errs below 2^-47.7, and 40 bits hold for up to 217 batches (the
// MobileNetV1 1.0_224 chain has 20). (With proofs switched off, a test
// setting, the triple checks of the elementwise products and of the AND words, 2^-46
// each, take the proofs' place.) The bound is enforced (budget.go): each batch adds its
// terms above (in units of 2^-64: 300 * 2^8 for the arithmetic proofs, 300 for the AND
// proofs, 2^18 per triple check or sacrifice) to the total since the last release (a
// verified opening, or an export of output shares to the client: one inference in the
// engine's plans), and the batch that would take the total past 2^-40 is refused before
// any of its messages is sent, with an errs.Config error naming the limit; the refusal is
// final for the party (the refused batch's products stay unchecked, so nothing may be
// opened after it). All parties record the same products, so all refuse at the same
// batch. So each inference keeps 40 bits; a protocol instance that serves T inferences
// (a cluster's lane) errs below T * 2^-40 over its lifetime (union bound). Computational assumptions: those
// of rep3 (AES-based PRG) and SHA-256.
//
// When: the checks of products and openings made so far run in Verify, which the engine
// calls after the weights are shared and before anything is opened or exported (mpc
// phases.go); to bound memory, a batch is also checked as soon as the recorded products
// reach batchWords (its failure is reported by the next Verify: nothing is opened in
// between). Open and OpenB run the opening check of what they opened before returning.
//
// Messages, in addition to rep3's, per check batch (default path, proofs on; zk.go runs
// the two proofs in the same rounds, each round one message to the next party carrying
// both proofs' parts, masked as additive (GR) or XOR (GF(2^64)) shares, and a coin):
//   - lift: to the next party the prover's values off the grid, 2059 GR elements (56
//     words each, about 922 KB; only if the batch has Mul or MulSum products) and 665
//     GF(2^64) elements (5.3 KB; only if it has AND words); the round's coin (a 32-byte
//     commitment to each peer with the message, the 32-byte seed to each peer after it);
//   - compression steps, ceil(log2) of the longer proof's vectors plus one: to the next
//     party h(0) and h(inf) of each proof still compressing (2 x 56 words, 2 words), and
//     the round's coin;
//   - last step: M, N, h(0), h(inf) of each proof (4 x 56 + 4 words) to the next party and
//     the round's coin, then each verifier's shares of f(r), g(r), h(r) (3 x 56 + 3 words)
//     to the other verifier of each proof (one message to each peer);
//   - the sacrificed matrix products if any (D times their output size) and the openings
//     of their rho (D times the masked operand);
//   - the batch coin (two messages of 32 bytes to each peer), the salted hashes (one
//     message of 64 bytes to the next party and one of 32 bytes to the previous one) and a
//     one-byte verdict to each peer.
//
// With proofs off, the triples of the elementwise products and AND words (one rep3 product
// or AND of N*B + C words each) and the openings of the C triples and of the buckets' and
// products' rho and sigma replace the proofs' messages.
//
// Cost: the proofs add about 0.9 MB per party and batch, nearly all the arithmetic lift
// (MobileNetV1 0.25_128: 20.8 MB per party, rep3's 23.1 MB; 45.5 MB before B2A took the
// adder); their work is about
// (3^7 - 2^7)/2^7 ring-by-word products per elementwise output, 56 word products per
// product term for the verifiers' folds, the GR compression steps on vectors of 2/128 of the
// terms, and for the AND words bit-sliced extensions (XOR and AND on words) with one
// carry-less product per word and lift point (on amd64 one AVX2 and PCLMULQDQ pass per
// point, lift_amd64.s), a 64 x 64 bit transpose and byte-table look-ups per 64 words for
// the folds, and GF(2^64) steps on one element per AND word (products and folds reduced
// in PCLMULQDQ kernels). BENCHMARKS.md has the measured totals per layer
// (docs/design-notes.md).
//
// Fewer AND gates (this changes the circuit, hence the messages and rounds, not the
// proofs): Protocol implements mpc.FewANDer, so requantization builds its fused
// adder-and-clamp circuit with a ripple-carry adder (one AND per plane: c_{j+1} = c_j ^
// (a_j ^ c_j) & (b_j ^ c_j)) instead of the least-depth carry network: with the checked
// full-adder layer about 150 AND gates per requantized value instead of about 416
// (MobileNetV1 0.25_128: 0.97 M instead of 2.66 M AND words per party), in about 65
// AND rounds per requantization instead of 8 (2151 rounds for the model instead of
// 533). Every AND word is proven, while a round in one process costs little. The same
// holds for B2A (8-bit outputs): ABY3's adder form (rep3.SetAdderB2A, adderB2AWidth) has
// 125 AND gates per element in 64 rounds, where the product form proves 16 ring terms per
// element in 2 rounds; an AND gate's proof costs 1/30 to 1/50 of a ring term's, so
// MobileNetV1 0.25_128 takes about 40 % less CPU and half the bytes in 3818 rounds
// instead of 2122 (BENCHMARKS.md, issue 9, session 12). Over a
// WAN the least-depth circuit is the better choice (it is rep3's): the registry's
// "rep3-mal-wan" (WANSpec) is the same protocol, checks and security with that circuit
// and B2A's product form (two rounds): 657 rounds instead of 3818 for MobileNetV1
// 0.25_128, at about 2x the CPU and 3x the bytes (1.4x and 1.3x against session 11's
// rep3-mal, which had the product form too); the three parties must use the same variant
// (their messages differ).
//
// Implementation (none of it changes a message): the lifts lay a record's outputs out
// block-minor (output t*2^s + l, so that the 2^s blocks of a position are contiguous
// words) and extend four block positions side by side (on YMM registers: lift_amd64.s);
// terms and components that are zero (the checked conversions' single-component operands)
// are neither extended nor multiplied, and a component that is zero in a whole record is
// neither gathered by the prover nor folded by the verifiers; psi_t times the words of
// four positions is a look-up in their 16 subset sums, and the prover's lift keeps eight
// groups' products so that each point's sum stays in registers across them
// (galois.Elem.AddSubsetSums; the grid claims and the dot records likewise); the
// verifiers fold a component whose values at a block position are all 0 or one power of
// two 2^j (the checked conversions' bits and shifted bits) as 2^j times a sum of grid
// weights taken four blocks at a time from their 16 subset sums (galois.NibbleTable);
// products by an element of the exceptional set (the challenges, psi, gamma, the dot
// records' v) are additions under the bit mask of its coefficients
// (galois.Wide.MulAddBits) instead of word products; the GR halving steps pair adjacent
// entries, so that a component zero in whole records stays zero through the steps in
// known ranges, which neither the prover nor the verifiers read, and the prover skips
// the products with a zero factor; the lifts, the folds and the GR
// compression steps are sums of independent parts, split among GOMAXPROCS goroutines of
// the party (parallel.go) and added in a fixed order; the proofs' large vectors come from
// per-party arenas reused by every batch (held for the party's lifetime: about the
// largest batch's bases), and the products' mask words and the B2A adders' vectors from
// a slab reused likewise (maskslab.go, through rep3.MaskBuffers and rep3.Scratch); both
// are outside the Go heap (pagebuf). The galois kernels have AVX-512 forms and, for
// processors with AVX2 only, four-lane forms (the prover's lift and the grid claims sum four points or
// blocks that share psi in the lanes of one register: galois.AddSubsetSums4).
package rep3mal

import (
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/galois"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// Name is the protocol's qmpc name; WANName is its variant with requantization's
// least-depth circuit (WANSpec).
const (
	Name    = "rep3-mal"
	WANName = "rep3-mal-wan"
)

// D is the number of repetitions of the sacrifice check: a wrong matrix product passes
// with probability at most 2^-D per batch.
const D = securityBits

// adderB2AWidth is the least width whose B2A takes ABY3's adder (rep3.SetAdderB2A: 125
// AND gates per element, proven over GF(2^64)) instead of the products t = b0 b1 and the
// MulSum (2w ring terms per element): by the cost model of the design notes (issue 9,
// session 12), an AND gate's proof costs 1/30 to 1/50 of a ring term's, so the adder is
// cheaper from about w = 2 on. Bit2A (w = 1) keeps the products.
const adderB2AWidth = 2

// batchWords bounds the recorded operand words (x, y and z of all recorded products)
// before a batch is checked without waiting for Verify.
const batchWords = 1 << 22

// Spec is rep3-mal's registry entry.
var Spec = mpc.Spec{
	Name: Name, Paper: "ps-rep-ring",
	Summary:    "3 parties, honest majority, malicious with abort: rep3 with every product and opening checked (40-bit statistical security per inference)",
	MinParties: 3, MaxParties: 3, DefaultParties: 3,
	Corruption: mpc.HonestMajority, Security: mpc.MaliciousAbort, Domain: mpc.Ring64,
	New:       func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) { return New(conn, opt) },
	NewDealer: func(int) (mpc.Dealer, error) { return Dealer{}, nil },
}

// WANSpec is the registry entry of rep3-mal with requantization's least-depth circuit
// (rep3's) instead of its fewest-AND circuit and B2A by ring products (two rounds) instead
// of ABY3's adder (64): the same protocol, checks and security, about 6x fewer rounds for
// more work to prove (more CPU and bytes). It is for links whose
// round trip costs more than the extra proof work (a WAN); in one process or on a LAN
// rep3-mal is faster.
var WANSpec = mpc.Spec{
	Name: WANName, // a variant of the paper's ps-rep-ring column, not a column of its own
	Summary: "rep3-mal with requantization's least-depth circuit and B2A by ring products: about 6x fewer rounds for about 2x the CPU " +
		"and 3x the bytes (for high-latency links; same security)",
	MinParties: 3, MaxParties: 3, DefaultParties: 3,
	Corruption: mpc.HonestMajority, Security: mpc.MaliciousAbort, Domain: mpc.Ring64,
	New: func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) {
		p, err := New(conn, opt)
		if p != nil {
			p.name, p.fewANDs = WANName, false
			p.Protocol.SetAdderB2A(0) // B2A's two rounds, not the adder's 64
		}
		return p, err
	},
	NewDealer: func(int) (mpc.Dealer, error) { return Dealer{}, nil },
}

// Protocol is one party of rep3-mal: rep3's methods (with checked conversions) plus the
// checks. It is not safe for concurrent use.
type Protocol struct {
	*rep3.Protocol                // observed: reports to rec
	raw            *rep3.Protocol // the same party, unobserved: the check's own products
	rec            *recorder
	opt            mpc.Options
	name           string // Name or WANName
	// fewANDs selects requantization's circuit (mpc.FewANDer): the fewest AND gates
	// (rep3-mal) or the least depth (rep3-mal-wan).
	fewANDs bool
	// dotBufs are the buffers of the dot records' shares (dot.go), reused by every record.
	dotBufs dotScratch
	// proofs selects the check of the products: distributed zero-knowledge proofs
	// (dzkp.go, dot.go, andproof.go) if true; if false, bucket-verified triples
	// (bucket.go) for Mul, MulSum and AND words and the sacrifice for matrix products.
	proofs bool
	params map[[2]int][2]int // bucket parameters by (triples, lanes)
	// spent is the soundness error of the check batches run so far, in units of 2^-64
	// (batchError); budget its bound between two releases (errorBudget; lowered by tests).
	spent, budget uint64
	refused       error              // set once a batch is refused (budget.go)
	elems         arena[galois.Elem] // the arithmetic proof's bases, reused by every batch
	f64s          arena[galois.F64]  // the AND proof's bases and claims
}

var (
	_ mpc.Protocol = (*Protocol)(nil)
	_ mpc.Verifier = (*Protocol)(nil)
)

// New sets up party conn.ID() of rep3-mal (all three parties call it concurrently).
func New(conn net.Conn, opt mpc.Options) (*Protocol, error) {
	if err := mpc.OnlyDefaultPreprocessing(Name, opt); err != nil {
		return nil, err
	}
	rec := newRecorder()
	inner, err := rep3.NewObserved(conn, opt, rec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	p := &Protocol{Protocol: inner, raw: inner.Unobserved(), rec: rec, opt: opt, params: map[[2]int][2]int{}, proofs: true, budget: errorBudget,
		name: Name, fewANDs: true}
	inner.SetAdderB2A(adderB2AWidth)
	rec.p = p
	return p, nil
}

// Name is "rep3-mal" or "rep3-mal-wan".
func (p *Protocol) Name() string { return p.name }

// Verify checks every product and opening since the last check: it returns an
// errs.Cheating error naming the failed check, or a network error.
func (p *Protocol) Verify() error {
	if err := p.rec.takeErr(); err != nil {
		return err
	}
	return p.check()
}

// Open opens x to party to (all if to < 0), then checks the opening (and everything
// recorded before it) before returning the value.
func (p *Protocol) Open(x mpc.AShare, to int) ([]uint64, error) {
	return p.verified(p.Protocol.Open(x, to))
}

// OpenB is Open for binary shares.
func (p *Protocol) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	return p.verified(p.Protocol.OpenB(x, to))
}

// verified returns an opening's result once Verify has checked it (and everything before).
func (p *Protocol) verified(v []uint64, err error) ([]uint64, error) {
	if err != nil {
		return nil, err
	}
	if err := p.Verify(); err != nil {
		return nil, err
	}
	p.release()
	return v, nil
}

// ExportShares is rep3's; once the shares are exported with every product checked (the
// engine verifies before it exports), the soundness budget starts again (budget.go).
func (p *Protocol) ExportShares(x mpc.AShare) ([]byte, error) {
	b, err := p.Protocol.ExportShares(x)
	if err == nil {
		p.release()
	}
	return b, err
}

// ImportShares imports an outside client's shares and records both components for the
// cross-check between their two holders.
func (p *Protocol) ImportShares(payload []byte, n int) (mpc.AShare, error) {
	x, err := p.Protocol.ImportShares(payload, n)
	if err != nil {
		return nil, err
	}
	a, b := rep3.Components(x)
	p.rec.importHashes(a, b)
	return x, nil
}

// Dealer is rep3-mal's client side: rep3's, with a mismatch between the two copies of an
// output component reported as cheating.
type Dealer struct{}

// Deal is rep3's.
func (Dealer) Deal(vals []uint64) ([][]byte, error) { return rep3.Dealer{}.Deal(vals) }

// Reconstruct is rep3's; a party whose copy differs from the other holder's is cheating.
func (Dealer) Reconstruct(payloads [][]byte, n int) ([]uint64, error) {
	v, err := rep3.Dealer{}.Reconstruct(payloads, n)
	if err != nil && errs.KindOf(err) == errs.Party {
		return nil, errs.New(errs.Cheating, "%s output check: %v", Name, err)
	}
	return v, err
}

// recorder is the rep3.Observer of one party: it keeps the products to check and hashes
// the components that openings and imports must agree on.
type recorder struct {
	p        *Protocol
	products []product
	words    int
	err      error // the first failure of a check run from inside an observed call
	// openSend hashes this party's copy of the components its predecessor receives in
	// openings; openRecv what this party received (compared with its successor's hash).
	openSend, openRecv hash.Hash
	// importSend hashes the second components of imported shares (compared by the
	// successor with its first); importRecv the first components.
	importSend, importRecv hash.Hash
	checking               bool
	masks                  [2][]uint64 // from ProductMasks, for the next Product
	slab                   maskSlab    // the products' mask words and the conversions' scratch (maskslab.go)
	held                   int         // conversions holding scratch words (rep3.Scratch)
	poison                 uint64      // nonzero: the slab's words are handed out filled (tests)
}

func newRecorder() *recorder {
	return &recorder{openSend: sha256.New(), openRecv: sha256.New(), importSend: sha256.New(), importRecv: sha256.New()}
}

func (r *recorder) takeErr() error {
	err := r.err
	r.err = nil
	return err
}

// Input needs no record (see the package doc).
func (r *recorder) Input(int, bool, rep3.Pair) {}

// ProductMasks keeps the zero-share words of the arithmetic product reported next (the
// proof of that product needs them: dzkp.go).
func (r *recorder) ProductMasks(next, prev []uint64) { r.masks = [2][]uint64{next, prev} }

// Product records z = f(x, y) and checks the batch when it is full.
func (r *recorder) Product(rel rep3.Relation, x, y, z rep3.Pair) {
	pr := product{rel: rel, x: x, y: y, z: z, next: r.masks[0], prev: r.masks[1]}
	r.masks = [2][]uint64{}
	r.products = append(r.products, pr)
	r.words += pr.size()
	if r.words >= batchWords && !r.checking && r.err == nil {
		r.err = r.p.check()
	}
}

// Open hashes this party's copy of the component its predecessor receives (if it
// receives) and what this party received.
func (r *recorder) Open(to int, _ bool, c rep3.Pair, got []uint64) {
	id := r.p.ID()
	if to < 0 || to == (id+2)%3 {
		r.openSend.Write(ring.AsBytes(c.B))
	}
	if got != nil {
		r.openRecv.Write(ring.AsBytes(got))
	}
}

func (r *recorder) importHashes(a, b []uint64) {
	r.importSend.Write(ring.AsBytes(b))
	r.importRecv.Write(ring.AsBytes(a))
}

// FewANDs reports whether requantization takes its circuit with the fewest AND gates
// (mpc.FewANDer): true for rep3-mal, whose AND words are all proven, false for
// rep3-mal-wan, which takes the least-depth circuit.
func (p *Protocol) FewANDs() bool { return p.fewANDs }
