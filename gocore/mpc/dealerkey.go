package mpc

import (
	"io"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
)

// SimulatedDealerKey is the set-up of the two-party protocols' simulated trusted dealer
// (preprocessing "dealer"): both parties send a random 16-byte contribution drawn from
// rnd (one message each way) and return the XOR of the two, the key both parties'
// simulations of the dealer derive everything from. It is not a secure key agreement
// (each party knows the key): the simulation only reproduces the dealer's online cost.
func SimulatedDealerKey(conn net.Conn, rnd io.Reader, proto string) (prg.Key, error) {
	var own, k prg.Key
	if _, err := io.ReadFull(rnd, own[:]); err != nil {
		return k, errs.New(errs.Config, "%s dealer: randomness: %v", proto, err)
	}
	other := 1 - conn.ID()
	if err := conn.Send(other, own[:]); err != nil {
		return k, err
	}
	if err := conn.Flush(); err != nil {
		return k, err
	}
	msg, err := conn.Recv(other)
	if err != nil {
		return k, err
	}
	if len(msg) != prg.KeySize {
		return k, errs.New(errs.Party, "%s dealer: party %d sent a key of %d bytes", proto, other, len(msg))
	}
	for i := range k {
		k[i] = own[i] ^ msg[i]
	}
	return k, nil
}
