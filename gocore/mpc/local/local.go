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
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net"
)

// Protocols lists the protocol names New accepts (the available protocols of
// package registry).
func Protocols() []string { return registry.Names() }

// NewParty makes party conn.ID()'s endpoint of protocol name over conn. Protocols with a
// setup phase (key exchange) communicate here, so all parties must call it concurrently.
func NewParty(name string, conn net.Conn, opt mpc.Options) (mpc.Protocol, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		return nil, err
	}
	if err := s.CheckPreprocessing(opt.Preprocessing); err != nil {
		return nil, err
	}
	return s.New(conn, opt)
}

// Parties checks n for protocol name: n <= 0 selects the protocol's default.
func Parties(name string, n int) (int, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		return 0, err
	}
	return s.Parties(n)
}

// New connects n parties (n <= 0: the protocol's default) with pipes and returns their
// protocol endpoints, after running the protocol's setup for all of them concurrently.
func New(name string, n int) ([]mpc.Protocol, error) {
	return NewWith(name, n, nil)
}

// NewWith is New with per-party options (opt(i) for party i; nil: defaults). Tests use it
// to give each party a deterministic randomness source.
func NewWith(name string, n int, opt func(id int) mpc.Options) ([]mpc.Protocol, error) {
	n, err := Parties(name, n)
	if err != nil {
		return nil, err
	}
	return NewOver(name, net.NewPipes(n), opt)
}

// NewOver is NewWith over the given connections (conns[i] is party i's; their number must
// be one the protocol accepts), for example pipes of which one is wrapped in a
// net.Tamperer. On failure it closes them all.
func NewOver(name string, conns []net.Conn, opt func(id int) mpc.Options) ([]mpc.Protocol, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		for _, c := range conns {
			c.Close()
		}
		return nil, err
	}
	return NewOverSpec(s, conns, opt)
}

// NewOverSpec is NewOver for a protocol given by its registry entry, which need not be
// in the registry (tests of a protocol that is not listed yet).
func NewOverSpec(s mpc.Spec, conns []net.Conn, opt func(id int) mpc.Options) ([]mpc.Protocol, error) {
	n := len(conns)
	if _, err := s.Parties(max(n, 1)); err != nil || s.New == nil {
		for _, c := range conns {
			c.Close()
		}
		if err == nil {
			err = errs.New(errs.Config, "protocol %s is not built", s.Name)
		}
		return nil, err
	}
	ps := make([]mpc.Protocol, n)
	err := runAll(conns, func(i int) error {
		var o mpc.Options
		if opt != nil {
			o = opt(i)
		}
		if err := s.CheckPreprocessing(o.Preprocessing); err != nil {
			return err
		}
		p, err := s.New(conns[i], o)
		ps[i] = p
		return err
	})
	if err != nil {
		for _, c := range conns {
			c.Close()
		}
		return nil, fmt.Errorf("%s setup: %w", s.Name, err)
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
