// Package registrytest lists the registry's protocols as the registry-wide tests iterate
// them (the view tests, lookup tables, batches, the engine's protocol-generic tests).
//
// spdz2k is left to its own tests: its OT-based offline phase costs several KB per
// correlation (BENCHMARKS.md), which would multiply the suite's time, and its online phase
// is exactly spdz2k-dealer's (the same code with correlations from a labelled dealer),
// which these tests run. The OT phase itself runs in the block tests of package
// mpc/local (every protocol call), TestSpdz2kOT (a model end to end, tampered offline
// and online messages), the offline phase's own tests in package spdz2k, and
// tests/test_spdz2k.py.
package registrytest

import (
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// CoveredElsewhere returns why registry-wide tests skip protocol name, or "".
func CoveredElsewhere(name string) string {
	if name == "spdz2k" {
		return "its OT offline phase is costly; its online phase runs as spdz2k-dealer, the OT phase in its own tests"
	}
	return ""
}

// Protocols returns registry.Available() without the protocols CoveredElsewhere names.
func Protocols() []mpc.Spec {
	var out []mpc.Spec
	for _, s := range registry.Available() {
		if CoveredElsewhere(s.Name) == "" {
			out = append(out, s)
		}
	}
	return out
}
