package cluster

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// DefaultProtocol is the protocol of a config that names none.
const DefaultProtocol = "rep3"

// clusterSpec returns the registry entry of a protocol a cluster can run: an available
// protocol with an outside-client side (mpc.Spec.NewDealer or NewClient), with at least 2
// parties.
func clusterSpec(name string) (mpc.Spec, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		return mpc.Spec{}, err
	}
	if !s.OutsideClient() {
		return mpc.Spec{}, errs.New(errs.Config, "protocol %s cannot serve a client that is not a computing party, so it cannot run as a cluster", name)
	}
	return s, nil
}

// defaultParties is the number of parties of a cluster of protocol name when none is
// given: the protocol's default, at least 2.
func defaultParties(name string) int {
	s, err := registry.Lookup(name)
	if err != nil {
		return 3
	}
	return max(2, s.DefaultParties)
}
