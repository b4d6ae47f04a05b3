package rep3

// External input and output of rep3 (mpc.External and mpc.Dealer): a client that is not a
// computing party secret-shares its input to, and receives its output from, the three
// parties, over its own authenticated links.
//
// Input (Dealer.Deal): the client draws two fresh PRG keys k_0, k_1 (crypto/rand), sets
// x_0 = F(k_0), x_1 = F(k_1) and x_2 = v - x_0 - x_1; party i is to hold (x_i, x_{i+1})
// and receives each pseudorandom component as its 16-byte key instead of its n words (the
// seed compression of Araki et al.'s input): party 0 (k_0, k_1), 33 bytes; party 1 (k_1,
// x_2) and party 2 (x_2, k_0), 17 + 8n bytes (a first byte says which components are
// keys, so that a payload does not depend on the receiver's index: a cluster lane may run
// with rotated roles, mpc.Spec.Rotatable). Party 0 sees two keys independent of v; party
// 1 sees x_2 masked by F(k_0), party 2 sees it masked by F(k_1), each a key it lacks.
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

// ImportShares turns the client's payload for party i (Dealer.Deal: a flags byte, then
// x_i and x_{i+1}, each a PRG key or n little-endian words) into party i's share.
func (p *Protocol) ImportShares(payload []byte, n int) (mpc.AShare, error) {
	if len(payload) < 1 || payload[0] > 3 {
		return nil, errs.New(errs.Party, "rep3: client payload of %d bytes without a valid flags byte", len(payload))
	}
	flags, rest := payload[0], payload[1:]
	size := func(c int) int {
		if flags&(1<<c) != 0 {
			return prg.KeySize
		}
		return 8 * n
	}
	if want := size(0) + size(1); len(rest) != want {
		return nil, errs.New(errs.Party, "rep3: client payload of %d bytes for %d elements (want %d)", len(payload), n, 1+want)
	}
	var comp [2][]uint64
	for c := range comp {
		b := rest[:size(c)]
		rest = rest[size(c):]
		if flags&(1<<c) != 0 {
			comp[c] = prg.New(prg.Key(b)).Uint64s(n)
			continue
		}
		w, err := ring.FromBytes(b, n)
		if err != nil {
			return nil, errs.New(errs.Party, "rep3: client payload: %w", err)
		}
		comp[c] = w
	}
	return FromComponents(comp[0], comp[1]), nil
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

// Deal returns party i's payload (x_i, x_{i+1}) for i = 0, 1, 2: x_0 and x_1 as their
// PRG keys, x_2 as words (the file comment).
func (Dealer) Deal(vals []uint64) ([][]byte, error) {
	n := len(vals)
	keys := [2]prg.Key{prg.NewKey(), prg.NewKey()}
	x2 := make([]uint64, n)
	x0, x1 := prg.New(keys[0]).Uint64s(n), prg.New(keys[1]).Uint64s(n)
	for k, v := range vals {
		x2[k] = v - x0[k] - x1[k]
	}
	words := make([]byte, 8*n)
	ring.PutBytes(words, x2)
	return [][]byte{
		append(append([]byte{3}, keys[0][:]...), keys[1][:]...), // (k_0, k_1)
		append(append([]byte{1}, keys[1][:]...), words...),      // (k_1, x_2)
		append(append([]byte{2}, words...), keys[0][:]...),      // (x_2, k_0)
	}, nil
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
