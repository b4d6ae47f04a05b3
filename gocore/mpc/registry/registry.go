// Package registry is qmpc's one list of protocols: for each, its name, threat model,
// domain, party count, whether it has an offline phase, and its constructors (mpc.Spec).
// Local runs (package mpc/local), the cluster, the Python binding, the CLI's help texts and
// config defaults all read it; adding a protocol is its package plus one line in
// builtin() below.
//
// The paper's eight settings (Dalskov, Escudero and Keller, PETS 2020; DESIGN.md §1) are
// listed in the paper's order; those not built yet are listed with their threat model and
// no constructor (mpc.Spec.Available is false), so that users see the whole choice.
package registry

import (
	"sort"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/plain"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/mpc/rep3mal"
	"github.com/qmpc/qmpc/gocore/mpc/semi2k"
	"github.com/qmpc/qmpc/gocore/mpc/spdz2k"
)

// planned returns the registry entry of a setting of the paper that is not built yet.
func planned(name, paper string, parties int, c mpc.Corruption, s mpc.Security, d mpc.Domain, offline bool) mpc.Spec {
	max := parties
	if c == mpc.DishonestMajority {
		max = 0 // n parties
	}
	return mpc.Spec{Name: name, Paper: paper, MinParties: parties, MaxParties: max, DefaultParties: parties,
		Corruption: c, Security: s, Domain: d, Offline: offline}
}

// field is the prime field domain of the paper's field columns (MP-SPDZ's default
// 128-bit prime for these programs).
var field = mpc.Domain{Kind: "F_p", Bits: 128}

// builtin lists every protocol: the paper's eight settings in the paper's order, then
// the extras. One line per protocol.
func builtin() []mpc.Spec {
	return append([]mpc.Spec{
		semi2k.Spec,
		planned("semi", "semi", 2, mpc.DishonestMajority, mpc.SemiHonest, field, true),
		rep3.Spec,
		planned("rep3-field", "rep-field", 3, mpc.HonestMajority, mpc.SemiHonest, field, false),
		spdz2k.Spec,
		planned("cowgear", "cowgear", 2, mpc.DishonestMajority, mpc.Covert, field, true),
		rep3mal.Spec,
		planned("rep3-field-mal", "ps-rep-field", 3, mpc.HonestMajority, mpc.MaliciousAbort, field, false),
		plain.Spec,
		spdz2k.DealerSpec,
		rep3mal.WANSpec,
	}, extra()...)
}

// All returns every registered protocol (available or planned), in the paper's order.
func All() []mpc.Spec { return builtin() }

// Available returns the protocols of this build.
func Available() []mpc.Spec {
	var out []mpc.Spec
	for _, s := range builtin() {
		if s.Available() {
			out = append(out, s)
		}
	}
	return out
}

// Names returns the names of the available protocols, sorted.
func Names() []string {
	var out []string
	for _, s := range Available() {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the available protocol called name, or an errs.Config error that says
// whether it is unknown or planned, and lists what is available.
func Lookup(name string) (mpc.Spec, error) {
	for _, s := range builtin() {
		if s.Name != name {
			continue
		}
		if !s.Available() {
			status := "is planned but not built yet"
			if s.Summary != "" {
				status = "is planned, not listed yet: " + s.Summary
			}
			return mpc.Spec{}, errs.New(errs.Config, "protocol %q (%s, %s) %s; available: %s",
				name, s.Corruption, s.Security, status, strings.Join(Names(), ", "))
		}
		return s, nil
	}
	return mpc.Spec{}, errs.New(errs.Config, "unknown protocol %q; available: %s", name, strings.Join(Names(), ", "))
}

// Help is one line per available protocol, for command-line help texts.
func Help() string {
	var b strings.Builder
	for i, s := range Available() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.Name)
		b.WriteString(" (")
		if s.Summary != "" {
			b.WriteString(s.Summary)
		} else {
			b.WriteString(string(s.Security))
		}
		b.WriteString(")")
	}
	return b.String()
}
