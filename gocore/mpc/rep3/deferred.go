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
// Security: settling sends party i-1 the same z_i as the eager resharing (masked by
// F(k_i), which party i-1 lacks); for a linear function of pending products, which a
// public factor may have stripped of low mask bits, the terms are masked again by a
// fresh zero sharing first (sendable).
// A2BSplitLeaves instead sends z_i to the other a-holder of its element range (see
// leaves.go); a party that saw both kinds of messages for the same product could add
// up all three terms, so a product whose terms went to the leaves is spent (settling
// it, or a share derived from it, is refused), and a product one of whose shares was
// settled goes to the leaves through the replicated path. The tokens below track this
// per product, for every share derived from it.
//
// Only the plain semi-honest protocol defers: with an Observer (checked variants) or in
// an Unobserved view (whose callers read components) products reshare at once.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

// pendToken is the state of one deferred product, shared by every share derived from it.
type pendToken struct {
	settled bool // some share derived from it was reshared
	spent   bool // its terms went to A2BSplitLeaves' exchange
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
// i-1 and one from party i+1) and becomes replicated in place.
func (p *Protocol) settle(x mpc.AShare) (*AShare, error) {
	s := anyAS(x)
	if !s.pending() {
		return s, nil
	}
	for _, t := range s.toks {
		if t.spent {
			return nil, errs.New(errs.Internal, "rep3: a product that went to A2BSplitLeaves' exchange is settled")
		}
	}
	a, b, err := p.reshare(p.sendable(s))
	if err != nil {
		return nil, fmt.Errorf("deferred reshare: %w", err)
	}
	for _, t := range s.toks {
		t.settled = true
	}
	s.a, s.b, s.toks = a, b, nil
	return s, nil
}

// sendable returns the term of pending s that this party may send: s.a as a product made
// it (masked by its zero share), or, after linear methods (a public factor can clear low
// bits of the mask: 2 z_i is even), s.a plus a fresh zero share. The terms still add up
// to the value, and every message is uniformly random to its receiver.
func (p *Protocol) sendable(s *AShare) []uint64 {
	if s.masked {
		return s.a
	}
	t := make([]uint64, len(s.a))
	copy(t, s.a)
	p.addZeroShare(t)
	return t
}

// settleAll settles every share of xs.
func (p *Protocol) settleAll(xs ...mpc.AShare) ([]*AShare, error) {
	out := make([]*AShare, len(xs))
	for i, x := range xs {
		s, err := p.settle(x)
		if err != nil {
			return nil, err
		}
		out[i] = s
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

// fresh reports whether s is pending and none of its products was settled or spent: it
// may go to A2BSplitLeaves' exchange.
func (s *AShare) fresh() bool {
	if !s.pending() {
		return false
	}
	for _, t := range s.toks {
		if t.settled || t.spent {
			return false
		}
	}
	return true
}

var _ mpc.AShare = (*AShare)(nil)
