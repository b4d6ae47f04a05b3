//go:build qmpctest

package registry

import (
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/plain"
	"github.com/qmpc/qmpc/gocore/net"
)

// extra adds, in builds with the qmpctest tag only, a test-only toy protocol: plain under
// another name and a two-party default. It shows that a protocol plugs in through this one
// line and its own package, with nothing else edited: the tests built with -tags qmpctest
// run it through local runs, estimates, the cluster and the CLI.
func extra() []mpc.Spec {
	toy := plain.Spec
	toy.Name = "toy"
	toy.Summary = "TEST ONLY: plain registered a second time"
	toy.DefaultParties = 2
	toy.Test = true
	toy.New = func(conn net.Conn, opt mpc.Options) (mpc.Protocol, error) {
		p, err := plain.New(conn, opt)
		if err != nil {
			return nil, err
		}
		return named{p}, nil
	}
	return []mpc.Spec{toy}
}

// named renames a protocol (Name is the only method it changes).
type named struct{ *plain.Protocol }

func (named) Name() string { return "toy" }
