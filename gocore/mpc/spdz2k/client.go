package spdz2k

// Input from, and output to, a client that is not a computing party (mpc.ClientIO and
// mpc.Client): a deployed two-party cluster whose client gives the input and gets the
// output over its own authenticated links to the two parties.
//
// Source: Damgård, Damgård, Nielsen, Nordholt, Toft, "Confidential Benchmarking based on
// Multiparty Computation", FC 2016 (ePrint 2015/1006), Section 4, the client interface
// MP-SPDZ implements for SPDZ-style protocols (its external-client examples): the
// client's input is masked by an authenticated random value whose consistency the client
// checks with a multiplication triple; the output comes with an authenticated random r
// and r*y, which the client checks. The paper works over a prime field; here the shares
// live in Z_2^128 (SPDZ2k) and the argument below accounts for the zero divisors.
//
// Threat model: spdz2k's (package doc): either computing party may deviate arbitrarily
// (security with abort); in addition the client may be corrupt, alone or together with
// one party. The client's links to the parties are authenticated and confidential (TLS);
// the parties' link to each other carries spdz2k's messages.
//
// Input of N elements x (all of the client's tensors together), one round trip:
//  1. Both parties take from the Source an authenticated triple [a], [b], [c = a*b]
//     (elementwise, N elements; the dealer's for spdz2k-dealer, the OT offline phase's
//     for spdz2k).
//  2. Party i -> client: its value components a_i, b_i, c_i (48 bytes per element; not
//     the MAC shares).
//  3. The client reconstructs a, b, c in Z_2^128 and checks c = a*b for every element;
//     if one fails it aborts (errs.Cheating: a party sent an inconsistent share).
//  4. Client -> both parties: d = x - a mod 2^64 (8 bytes per element), the same to both.
//  5. The parties exchange SHA-256 of what they received (32 bytes each way, one round)
//     and abort (errs.Cheating) if the hashes differ; else [x] = [a] + d (addPublic).
//
// Output of N elements y (all output tensors together), after the engine's Verify of
// everything computed so far:
//  1. Both take [t] and [r] from Source.Random (N elements each) and set [y'] = [y] +
//     2^64 [t] (local): y' mod 2^64 = y, and its upper 64 bits are uniform, so the client
//     learns nothing about the upper bits of the 128-bit computation.
//  2. [w] = [r*y'] by Beaver multiplication (spdz2k's Mul: one round, E and F opened).
//  3. Verify (the MAC check of everything opened so far, E and F included; 5 rounds).
//  4. Party i -> client: its value components y'_i, r_i, w_i (48 bytes per element).
//  5. The client reconstructs y', r, w in Z_2^128 and checks w = r*y' for every element;
//     if one fails it aborts (errs.Cheating); else the output is y' mod 2^64.
//
// Security argument. A party that cheats in any message to the other party is caught by
// spdz2k's MAC checks (package doc): the input's hash round changes nothing but the
// comparison, and the output's Beaver opening is checked by step 3 before anything
// reaches the client. What remains is a party's messages to the client:
//   - Input: a corrupt party sends a_i + e_a, b_i + e_b, c_i + e_c. The input the parties
//     compute is x - e_a (mod 2^64), so the change matters iff e_a != 0 mod 2^64, i.e. e_a
//     = 2^v u with u odd and v < 64. The client accepts iff e_a b + e_b a + e_a e_b = e_c
//     (mod 2^128). The errors are fixed before the party sees anything that depends on a
//     or b (it sees d only after the client's check), and a, b are uniform in Z_2^128 given
//     its shares (the honest party's components are uniform); e_a b takes each of 2^(128-v)
//     >= 2^65 values with equal probability, so the check passes with probability at most
//     2^-65.
//   - Output: a corrupt party sends y'_i + e_y, r_i + e_r, w_i + e_w; the output changes
//     iff e_y != 0 mod 2^64 (v < 64 as above). The client accepts iff e_y r + e_r y' +
//     e_y e_r = e_w (mod 2^128). r is uniform given the corrupt party's view (its share, and
//     E = r - A from the Beaver opening, masked by the triple's uniform A), so the same
//     count gives at most 2^-65.
//   - A corrupt client can choose its input (as any input owner can) and can send the
//     parties different d; the hash round makes both honest parties abort then, before d
//     is used (without it, a d that differs by 2^63 would give inconsistent MACs that the
//     later check catches or not depending on a bit of a MAC key: a selective failure).
//     With one party corrupt too, the honest party's share is [a] + d with the d it
//     received, and the corrupt one's use of another d is a change of its share, which the
//     MAC checks catch. The client sees a, b, c (fresh, used nowhere else: a only as the
//     mask it removes itself) and y', r, w (y' reveals y mod 2^64 only; r is fresh).
//   - Secrecy towards a corrupt party: d = x - a mod 2^64 is uniform given its share of a.
//
// A check that fails is errs.Cheating at the client (the output) or at both parties (the
// input); a malformed message (wrong length) is errs.Party naming the sender.

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

var (
	_ mpc.ClientIO = (*Protocol)(nil)
	_ mpc.Client   = Client{}
)

// ClientInput takes the client's input of ns[k] elements per k (mpc.ClientIO): this
// party's triple components to the client, the client's masked input d back, the hash
// comparison of d with the other party, and [x] = [a] + d.
func (p *Protocol) ClientInput(ns []int, roundTrip func([]byte) ([]byte, error)) ([]mpc.AShare, error) {
	n, err := total(ns)
	if err != nil {
		return nil, err
	}
	var a, b, c *AShare
	if n > 0 {
		if err := p.offlineDo("Triple client", n, 1, func() (err error) {
			a, b, c, err = p.src.Triple(gatherMul{xLen: n, wLen: n, k: 1})
			return err
		}); err != nil {
			return nil, fmt.Errorf("spdz2k client input: triple: %w", err)
		}
	} else {
		a = &AShare{x: ring128.Make(0), m: ring128.Make(0)}
		b, c = a, a
	}
	reply, err := roundTrip(bytes.Join([][]byte{vecBytes(a.x), vecBytes(b.x), vecBytes(c.x)}, nil))
	if err != nil {
		return nil, fmt.Errorf("spdz2k client input: %w", err)
	}
	if len(reply) != 8*n {
		return nil, errs.New(errs.Party, "spdz2k client input: the client sent %d bytes for %d elements (want %d)", len(reply), n, 8*n)
	}
	mine := sha256.Sum256(append([]byte("spdz2k client input"), reply...))
	peer, err := p.exchange("client input hash", mine[:])
	if err != nil {
		return nil, fmt.Errorf("spdz2k client input: %w", err)
	}
	if !bytes.Equal(peer, mine[:]) {
		return nil, errs.New(errs.Cheating, "spdz2k party %d: the client's masked input differs from what party %d received (the client sent the parties different inputs, or party %d cheats)", p.id, p.other, p.other)
	}
	d, _ := ring.FromBytes(reply, n)
	x := p.addPublic(a, d)
	out := make([]mpc.AShare, len(ns))
	off := 0
	for k, m := range ns {
		out[k] = &AShare{x: x.x.Slice(off, off+m), m: x.m.Slice(off, off+m)}
		off += m
	}
	return out, nil
}

// ClientOutput returns this party's components of y' = y + 2^64 t, r and w = r*y' for
// the client (mpc.ClientIO), after the MAC check of everything opened so far (the
// multiplication's openings included).
func (p *Protocol) ClientOutput(xs []mpc.AShare) ([]byte, error) {
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("spdz2k client output: %w", err)
	}
	if len(xs) == 0 {
		return []byte{}, nil
	}
	y := as(p.Concat(xs...))
	n := y.Len()
	if n == 0 {
		return []byte{}, nil
	}
	var t, r *AShare
	if err := p.offlineDo("Random client", 2*n, 1, func() (err error) {
		if t, err = p.src.Random(n); err != nil {
			return err
		}
		r, err = p.src.Random(n)
		return err
	}); err != nil {
		return nil, fmt.Errorf("spdz2k client output: %w", err)
	}
	// y' = y + 2^64 t: the low word of t becomes the high word.
	yp := &AShare{x: y.x.Clone(), m: y.m.Clone()}
	ring128.Add(yp.x, yp.x, ring128.Vec{Lo: make([]uint64, n), Hi: t.x.Lo})
	ring128.Add(yp.m, yp.m, ring128.Vec{Lo: make([]uint64, n), Hi: t.m.Lo})
	w, err := p.beaver("client output", gatherMul{xLen: n, wLen: n, k: 1}, r, yp)
	if err != nil {
		return nil, fmt.Errorf("spdz2k client output: %w", err)
	}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("spdz2k client output: %w", err)
	}
	return bytes.Join([][]byte{vecBytes(yp.x), vecBytes(r.x), vecBytes(as(w).x)}, nil), nil
}

// total is the sum of ns.
func total(ns []int) (int, error) {
	n := 0
	for _, m := range ns {
		if m < 0 {
			return 0, errs.New(errs.Shape, "spdz2k: %d elements", m)
		}
		n += m
	}
	return n, nil
}

// Client is spdz2k's client side (mpc.Client).
type Client struct{}

// triples decodes the two parties' messages of three vectors of n elements each and
// returns their sums.
func (Client) triples(what string, msgs [][]byte, n int) ([3]ring128.Vec, error) {
	var sum [3]ring128.Vec
	if len(msgs) != 2 {
		return sum, errs.New(errs.Internal, "spdz2k client: %d messages, want 2", len(msgs))
	}
	for k := range sum {
		sum[k] = ring128.Make(n)
	}
	for i, m := range msgs {
		if len(m) != 48*n {
			return sum, errs.New(errs.Party, "spdz2k client: party %d sent %s of %d bytes for %d elements (want %d)", i, what, len(m), n, 48*n)
		}
		for k := range sum {
			v := bytesVec(m[16*n*k:16*n*(k+1)], n)
			ring128.Add(sum[k], sum[k], v)
		}
	}
	return sum, nil
}

// checkProduct returns the first element where z != x*y, or -1.
func checkProduct(x, y, z ring128.Vec) int {
	xy := ring128.Make(x.Len())
	ring128.Mul(xy, x, y)
	for e := range xy.Lo {
		if xy.Lo[e] != z.Lo[e] || xy.Hi[e] != z.Hi[e] {
			return e
		}
	}
	return -1
}

// Input checks the parties' triples (c = a*b) and returns d = x - a mod 2^64 for both
// parties (mpc.Client).
func (cl Client) Input(vals [][]uint64, msgs [][]byte) ([][]byte, error) {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	t, err := cl.triples("input masks", msgs, n)
	if err != nil {
		return nil, err
	}
	if e := checkProduct(t[0], t[1], t[2]); e >= 0 {
		return nil, errs.New(errs.Cheating, "spdz2k client: the parties' input masks fail the triple check c = a*b (element %d of %d): a party sent a wrong share", e, n)
	}
	d := make([]uint64, 0, n)
	for _, v := range vals {
		d = append(d, v...)
	}
	ring.Sub(d, d, t[0].Lo)
	b := ring.ToBytes(d)
	return [][]byte{b, b}, nil
}

// Output checks w = r*y' and returns y' mod 2^64, split into ns (mpc.Client).
func (cl Client) Output(msgs [][]byte, ns []int) ([][]uint64, error) {
	n, err := total(ns)
	if err != nil {
		return nil, err
	}
	t, err := cl.triples("output shares", msgs, n)
	if err != nil {
		return nil, err
	}
	if e := checkProduct(t[1], t[0], t[2]); e >= 0 {
		return nil, errs.New(errs.Cheating, "spdz2k client: the parties' output shares fail the check w = r*y (element %d of %d): a party sent a wrong share", e, n)
	}
	out := make([][]uint64, len(ns))
	off := 0
	for k, m := range ns {
		out[k] = t[0].Lo[off : off+m : off+m]
		off += m
	}
	return out, nil
}
