package rep3

// Deferred resharing of products. A product (MulSum, MatMul, GatherMulSum) ends with a
// resharing: party i sends z_i, its term of the 3-out-of-3 sharing z = z_0 + z_1 + z_2,
// to party i-1. rep3 defers that message: the product returns a pending share (party i
// holds z_i only) that the linear methods (Add, Sub, Neg, AddPublic, MulPublic, Gather,
// Concat, SumGroups) take as it is (a replicated operand contributes its first component
// x_i, and the components of all parties still add up to the value), and that every
// other method settles first: the same message as the product's own resharing, sent
// later. Nothing changes but when the message leaves, except in A2BSplitLeaves
// (leaves.go), which takes a pending share without the resharing: the operand b is one
// party's z alone, a the sum of the other two parties' z's, which they exchange in the
// same step as the one-hot input of b. The product's resharing and the one-hot input
// then take one message delay instead of two.
//
// Security: a pending product's terms leave a party either in a settle (reshare: to party
// i-1 for the first half of the words, to party i+1 for the second, see reshareSplit) or
// in A2BSplitLeaves' exchange (to the other a-holder). The first time, a product's terms
// go as the product made them, masked by its zero sharing (F(k_i) - F(k_{i-1}) in z_i:
// party i-1 lacks F(k_i), party i+1 lacks F(k_{i-1}), and in the exchanges party 2 lacks
// F(k_0) for z_0 and z_1, party 0 lacks F(k_1) for z_2 and party 1 lacks F(k_2) for z_2). Every later send of terms of the same
// product (another share derived from it, for a second consumer), and every send after
// linear methods (a public factor can clear low bits of the mask: 2 z_i is even), adds a
// fresh zero sharing first (sendable): each message is then masked by its own fresh PRF
// output that the receiver lacks, so that a party that sees, say, z_2 + alpha_2 in an
// exchange and z_1 + alpha'_1 in a later settle learns nothing of z_0 + z_1 + z_2. The
// tokens below record, per product and for every share derived from it, whether its
// terms were sent.
//
// Only the plain semi-honest protocol defers: with an Observer (checked variants) or in
// an Unobserved view (whose callers read components) products reshare at once.

import (
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/mpc"
)

// pendToken is the state of one deferred product, shared by every share derived from it.
type pendToken struct {
	sent bool // some share derived from it was settled or exchanged
}

// pending reports whether s is a pending product (party i's z_i only).
func (s *AShare) pending() bool { return len(s.toks) > 0 }

// defers reports whether products return pending shares.
func (p *Protocol) defers() bool { return p.obs == nil && !p.eager }

// product returns the result of a product whose 3-out-of-3 term z (zero share added) is
// this party's: pending if p defers, else reshared.
func (p *Protocol) product(z []uint64) (*AShare, error) {
	if p.defers() {
		return &AShare{a: z, toks: []*pendToken{{}}, masked: true}, nil
	}
	a, b, err := p.reshare(z)
	if err != nil {
		return nil, err
	}
	return &AShare{a: a, b: b}, nil
}

// settle returns x as a replicated share: a pending x is reshared (one message to party
// i-1 and one from party i+1, see sendable) and becomes replicated in place.
func (p *Protocol) settle(x mpc.AShare) (*AShare, error) {
	s := anyAS(x)
	if !s.pending() {
		return s, nil
	}
	a, b, err := p.reshare(p.sendable(s))
	if err != nil {
		return nil, fmt.Errorf("deferred reshare: %w", err)
	}
	s.a, s.b, s.toks = a, b, nil
	return s, nil
}

// sendable returns the terms of pending s that this party may send, and records that
// terms of its products were sent: s.a itself the first time for a share as a product
// made it (masked by the product's zero sharing); else (after linear methods, or when
// terms of one of its products were sent before) s.a plus a fresh zero sharing. The terms
// still add up to the value, and every message is uniformly random to its receiver.
func (p *Protocol) sendable(s *AShare) []uint64 {
	fresh := s.masked
	for _, t := range s.toks {
		fresh = fresh && !t.sent
		t.sent = true
	}
	if fresh {
		return s.a
	}
	t := make([]uint64, len(s.a))
	copy(t, s.a)
	p.addZeroShare(t)
	return t
}

// settleAll settles every share of xs in one round: all messages are sent before any is
// received (two pending operands of a product cost one round, not two).
func (p *Protocol) settleAll(xs ...mpc.AShare) ([]*AShare, error) {
	out := make([]*AShare, len(xs))
	var pend []*AShare
	for i, x := range xs {
		out[i] = anyAS(x)
		if s := out[i]; s.pending() && !slices.Contains(pend, s) {
			pend = append(pend, s)
		}
	}
	if len(pend) <= 1 {
		for i, x := range xs {
			s, err := p.settle(x)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	// One resharing of the shares laid end to end (reshareSplit's halves).
	var all []uint64
	for _, s := range pend {
		all = append(all, p.sendable(s)...)
	}
	a, b, err := p.reshare(all)
	if err != nil {
		return nil, fmt.Errorf("deferred reshare: %w", err)
	}
	off := 0
	for _, s := range pend {
		n := len(s.a)
		s.a, s.b, s.toks = a[off:off+n:off+n], b[off:off+n:off+n], nil
		off += n
	}
	return out, nil
}

// linear reports whether a linear method on xs gives a pending share, and the union of
// their tokens.
func linear(xs ...*AShare) (bool, []*pendToken) {
	var toks []*pendToken
	for _, x := range xs {
		for _, t := range x.toks {
			dup := false
			for _, u := range toks {
				dup = dup || u == t
			}
			if !dup {
				toks = append(toks, t)
			}
		}
	}
	return len(toks) > 0, toks
}

var _ mpc.AShare = (*AShare)(nil)
