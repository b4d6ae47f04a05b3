// Package local runs all computing parties of a protocol in one process: one goroutine per
// party, connected by in-memory pipes (net.NewPipes). It is the runtime for tests,
// notebooks and the single-process demo; the protocol code is the same as over TLS.
package local

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/plain"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/mpc/semi2k"
	"github.com/qmpc/qmpc/gocore/net"
)

// Semi2kDealer names semi2k with preprocessing "dealer" (a trusted third party, simulated
// in-process), which only New can set up (both parties need the same dealer object).
const Semi2kDealer = semi2k.Name + "-dealer"

// Protocols lists the protocol names New accepts.
func Protocols() []string { return []string{plain.Name, rep3.Name, Semi2kDealer} }

// NewParty makes party conn.ID()'s endpoint of protocol name over conn. Protocols with a
// setup phase (key exchange) communicate here, so all parties must call it concurrently.
func NewParty(name string, conn net.Conn) (mpc.Protocol, error) {
	switch name {
	case plain.Name:
		return plain.New(conn)
	case rep3.Name:
		return rep3.New(conn)
	case semi2k.Name:
		return semi2k.New(conn, semi2k.Options{Preprocessing: semi2k.PreprocessingOT})
	case Semi2kDealer:
		return nil, errs.New(errs.Config, "%s: the trusted dealer is simulated in-process only (local.New)", name)
	}
	return nil, errs.New(errs.Config, "unknown protocol %q (have %v)", name, Protocols())
}

// Parties checks n for protocol name: n <= 0 selects the protocol's default (3).
func Parties(name string, n int) (int, error) {
	switch name {
	case plain.Name:
		if n <= 0 {
			return 3, nil
		}
		return n, nil
	case rep3.Name:
		if n > 0 && n != 3 {
			return 0, errs.New(errs.Config, "rep3 needs 3 parties, not %d", n)
		}
		return 3, nil
	case semi2k.Name, Semi2kDealer:
		if n > 0 && n != 2 {
			return 0, errs.New(errs.Config, "semi2k needs 2 parties, not %d", n)
		}
		return 2, nil
	}
	return 0, errs.New(errs.Config, "unknown protocol %q (have %v)", name, Protocols())
}

// New connects n parties (n <= 0: the protocol's default) with pipes and returns their
// protocol endpoints, after running the protocol's setup for all of them concurrently.
func New(name string, n int) ([]mpc.Protocol, error) {
	n, err := Parties(name, n)
	if err != nil {
		return nil, err
	}
	conns := net.NewPipes(n)
	ps := make([]mpc.Protocol, n)
	var dealer *semi2k.TrustedDealer
	if name == Semi2kDealer {
		if dealer, err = semi2k.NewTrustedDealer(nil); err != nil {
			return nil, err
		}
	}
	err = runAll(conns, func(i int) error {
		var p mpc.Protocol
		var err error
		if dealer != nil {
			p, err = semi2k.New(conns[i], semi2k.Options{Preprocessing: semi2k.PreprocessingDealer, Dealer: dealer})
		} else {
			p, err = NewParty(name, conns[i])
		}
		ps[i] = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s setup: %w", name, err)
	}
	return ps, nil
}

// Run sets up n parties of protocol name (n <= 0: default) and runs f on each in its own
// goroutine. When a party fails, all connections are closed so that nobody waits forever,
// and Run returns the first error that was not induced by that shutdown (a panic in f is
// returned as an errs.Internal error). All connections are closed when Run returns.
func Run(name string, n int, f func(p mpc.Protocol) error) error {
	ps, err := New(name, n)
	if err != nil {
		return err
	}
	return RunParties(ps, f)
}

// RunParties runs f on each of ps in its own goroutine, with the failure handling of Run,
// and closes every party's connection before returning.
func RunParties(ps []mpc.Protocol, f func(p mpc.Protocol) error) error {
	conns := make([]net.Conn, len(ps))
	for i, p := range ps {
		conns[i] = p.Conn()
	}
	err := runAll(conns, func(i int) error { return f(ps[i]) })
	for _, c := range conns {
		c.Close()
	}
	return err
}

// Each runs f on each of ps in its own goroutine, with the failure handling of Run, but
// leaves the connections open when all parties succeed, so that a computation can proceed
// in phases (setup, then timed work). After a failure the parties are unusable.
func Each(ps []mpc.Protocol, f func(p mpc.Protocol) error) error {
	conns := make([]net.Conn, len(ps))
	for i, p := range ps {
		conns[i] = p.Conn()
	}
	return runAll(conns, func(i int) error { return f(ps[i]) })
}

// runAll runs f(i) for every party concurrently; on the first failure it closes all conns.
// It returns the first error that does not wrap net.ErrClosed, or else the first error.
func runAll(conns []net.Conn, f func(i int) error) error {
	var (
		mu       sync.Mutex
		first    error
		firstOwn error
		wg       sync.WaitGroup
	)
	fail := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			for _, c := range conns {
				c.Close()
			}
		}
		if firstOwn == nil && !errors.Is(err, net.ErrClosed) {
			firstOwn = err
		}
	}
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					fail(i, errs.New(errs.Internal, "party %d: panic: %v\n%s", i, r, debug.Stack()))
				}
			}()
			if err := f(i); err != nil {
				fail(i, fmt.Errorf("party %d: %w", i, err))
			}
		}()
	}
	wg.Wait()
	if firstOwn != nil {
		return firstOwn
	}
	return first
}
