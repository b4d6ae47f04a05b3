package plain

// External input and output of plain (mpc.External and mpc.Dealer), with no secrecy: the
// client sends its cleartext input to every party (n words each) and every party returns
// the cleartext output (n words each); Reconstruct checks that all parties agree.

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/ring"
)

var (
	_ mpc.External = (*Protocol)(nil)
	_ mpc.Dealer   = Dealer{}
)

// ImportShares decodes the client's cleartext input (n little-endian words).
func (p *Protocol) ImportShares(payload []byte, n int) (mpc.AShare, error) {
	v, err := ring.FromBytes(payload, n)
	if err != nil {
		return nil, errs.New(errs.Party, "plain: client payload: %w", err)
	}
	return FromValues(v), nil
}

// ExportShares encodes the cleartext of x.
func (p *Protocol) ExportShares(x mpc.AShare) ([]byte, error) { return ring.ToBytes(Values(x)), nil }

// Dealer is plain's client side for N parties.
type Dealer struct{ N int }

// Deal gives every party the cleartext.
func (d Dealer) Deal(vals []uint64) ([][]byte, error) {
	b := ring.ToBytes(vals)
	out := make([][]byte, d.N)
	for i := range out {
		out[i] = b
	}
	return out, nil
}

// Reconstruct returns the parties' common output, or an error naming a party that differs
// from party 0.
func (d Dealer) Reconstruct(payloads [][]byte, n int) ([]uint64, error) {
	var first []uint64
	for i, pl := range payloads {
		v, err := ring.FromBytes(pl, n)
		if err != nil {
			return nil, errs.New(errs.Party, "plain: party %d sent a malformed output: %v", i, err)
		}
		if i == 0 {
			first = v
			continue
		}
		for e := range v {
			if v[e] != first[e] {
				return nil, errs.New(errs.Party, "plain: parties 0 and %d sent different outputs (element %d)", i, e)
			}
		}
	}
	return first, nil
}
