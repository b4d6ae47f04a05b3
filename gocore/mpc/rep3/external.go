package rep3

// External input and output of rep3 (mpc.External and mpc.Dealer): a client that is not a
// computing party secret-shares its input to, and receives its output from, the three
// parties, over its own authenticated links.
//
// Input (Dealer.Deal): the client draws x_0 and x_1 from a fresh PRG key (crypto/rand) and
// sets x_2 = v - x_0 - x_1; party i receives (x_i, x_{i+1}): one message of 2n words per
// party. Any one party's pair is uniformly random and independent of v.
//
// Output (ExportShares): party i sends its pair (x_i, x_{i+1}) to the client: one message
// of 2n words per party. Each component reaches the client from the two parties that hold
// it; Reconstruct compares the copies (a semi-honest sanity check that names the parties
// if they differ) and sums x_0 + x_1 + x_2. The client sees all three components, exactly
// as a computing-party client does after Open(x, client).

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

var (
	_ mpc.External = (*Protocol)(nil)
	_ mpc.Dealer   = Dealer{}
)

// ImportShares turns the client's payload (x_i, x_{i+1}), 2n little-endian words, into
// party i's share.
func (p *Protocol) ImportShares(payload []byte, n int) (mpc.AShare, error) {
	if len(payload) != 16*n {
		return nil, errs.New(errs.Party, "rep3: client payload of %d bytes for %d elements (want %d)", len(payload), n, 16*n)
	}
	w, err := ring.FromBytes(payload, 2*n)
	if err != nil {
		return nil, errs.New(errs.Party, "rep3: client payload: %w", err)
	}
	return FromComponents(w[:n:n], w[n:]), nil
}

// ExportShares encodes party i's pair (x_i, x_{i+1}) for the client.
func (p *Protocol) ExportShares(x mpc.AShare) ([]byte, error) {
	s, err := p.settle(x)
	if err != nil {
		return nil, fmt.Errorf("rep3 export: %w", err)
	}
	a, b := s.a, s.b
	out := make([]byte, 16*len(a))
	ring.PutBytes(out[:8*len(a)], a)
	ring.PutBytes(out[8*len(a):], b)
	return out, nil
}

// Dealer is rep3's client side.
type Dealer struct{}

// Deal returns party i's payload (x_i, x_{i+1}) for i = 0, 1, 2.
func (Dealer) Deal(vals []uint64) ([][]byte, error) {
	n := len(vals)
	g := prg.New(prg.NewKey())
	x := [3][]uint64{g.Uint64s(n), g.Uint64s(n), make([]uint64, n)}
	for k, v := range vals {
		x[2][k] = v - x[0][k] - x[1][k]
	}
	out := make([][]byte, 3)
	for i := range out {
		b := make([]byte, 16*n)
		ring.PutBytes(b[:8*n], x[i])
		ring.PutBytes(b[8*n:], x[(i+1)%3])
		out[i] = b
	}
	return out, nil
}

// Reconstruct checks that the two copies of every component agree and returns the sum.
func (Dealer) Reconstruct(payloads [][]byte, n int) ([]uint64, error) {
	if len(payloads) != 3 {
		return nil, errs.New(errs.Internal, "rep3: %d payloads, want 3", len(payloads))
	}
	var a, b [3][]uint64
	for i, pl := range payloads {
		if len(pl) != 16*n {
			return nil, errs.New(errs.Party, "rep3: party %d sent an output share of %d bytes, want %d", i, len(pl), 16*n)
		}
		w, err := ring.FromBytes(pl, 2*n)
		if err != nil {
			return nil, errs.New(errs.Party, "rep3: party %d: %w", i, err)
		}
		a[i], b[i] = w[:n], w[n:]
	}
	out := make([]uint64, n)
	for k := range 3 {
		// Component x_k is party k's first and party k-1's second.
		prev := (k + 2) % 3
		for e := range n {
			if a[k][e] != b[prev][e] {
				return nil, errs.New(errs.Party, "rep3: parties %d and %d sent different copies of output component %d (element %d): one of them misbehaves", k, prev, k, e)
			}
		}
		for e := range n {
			out[e] += a[k][e]
		}
	}
	return out, nil
}
