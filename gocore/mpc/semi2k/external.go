package semi2k

// External input and output of semi2k (mpc.External and mpc.Dealer): a client that is not
// a computing party secret-shares its input to, and receives its output from, the two
// parties over its own authenticated links.
//
// Input (ClientDealer.Deal): the client draws x_0 from a fresh PRG key (crypto/rand) and
// sets x_1 = v - x_0; party i receives x_i: one message of n words per party. Either
// party's component alone is uniformly random and independent of v.
//
// Output (ExportShares): party i sends its component x_i (n words); Reconstruct sums them.
// The client sees both components, exactly as a computing-party client does after
// Open(x, client).

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

var (
	_ mpc.External = (*Protocol)(nil)
	_ mpc.Dealer   = ClientDealer{}
)

// ImportShares turns the client's payload x_i (n little-endian words) into this party's
// share.
func (p *Protocol) ImportShares(payload []byte, n int) (mpc.AShare, error) {
	v, err := ring.FromBytes(payload, n)
	if err != nil {
		return nil, errs.New(errs.Party, "semi2k: client payload: %v", err)
	}
	return FromComponent(v), nil
}

// ExportShares encodes this party's component of x for the client.
func (p *Protocol) ExportShares(x mpc.AShare) ([]byte, error) {
	return ring.ToBytes(Component(x)), nil
}

// ClientDealer is semi2k's client side (mpc.Dealer: the external client's input sharing
// and output reconstruction; not the trusted dealer of preprocessing "dealer").
type ClientDealer struct{}

// Deal returns party i's component x_i, i = 0, 1.
func (ClientDealer) Deal(vals []uint64) ([][]byte, error) {
	x0 := prg.New(prg.NewKey()).Uint64s(len(vals))
	x1 := make([]uint64, len(vals))
	ring.Sub(x1, vals, x0)
	return [][]byte{ring.ToBytes(x0), ring.ToBytes(x1)}, nil
}

// Reconstruct returns x_0 + x_1.
func (ClientDealer) Reconstruct(payloads [][]byte, n int) ([]uint64, error) {
	if len(payloads) != 2 {
		return nil, errs.New(errs.Internal, "semi2k: %d payloads, want 2", len(payloads))
	}
	out := make([]uint64, n)
	for i, pl := range payloads {
		v, err := ring.FromBytes(pl, n)
		if err != nil {
			return nil, errs.New(errs.Party, "semi2k: party %d sent a malformed output share: %v", i, err)
		}
		ring.Add(out, out, v)
	}
	return out, nil
}
