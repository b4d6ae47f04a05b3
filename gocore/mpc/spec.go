package mpc

import (
	"crypto/rand"
	"fmt"
	"io"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// Corruption says how many parties an adversary may corrupt under a protocol's guarantee.
type Corruption string

// Corruption models.
const (
	// HonestMajority: fewer than half of the computing parties (one of three) are corrupted.
	HonestMajority Corruption = "honest majority"
	// DishonestMajority: all parties but one may be corrupted (with two parties: either).
	DishonestMajority Corruption = "dishonest majority"
	// NoCorruption: no security claim at all (the plain emulation).
	NoCorruption Corruption = "none"
)

// Security says how corrupted parties may behave.
type Security string

// Security models.
const (
	// SemiHonest: corrupted parties follow the protocol and try to learn from what they see.
	SemiHonest Security = "semi-honest"
	// Covert: deviations are caught with a stated probability.
	Covert Security = "covert"
	// MaliciousAbort: corrupted parties deviate arbitrarily; the honest parties either
	// get the correct output or abort, before anything that depends on secrets is opened.
	MaliciousAbort Security = "malicious, abort"
	// NoSecurity: the plain emulation (no secrecy, no integrity).
	NoSecurity Security = "none"
)

// Domain is the algebraic structure a protocol computes in.
type Domain struct {
	// Kind is "Z_2^k" (a ring of integers mod 2^k) or "F_p" (a prime field).
	Kind string `json:"kind"`
	// Bits is k for Z_2^k, or the bit length of p.
	Bits int `json:"bits"`
}

// String is e.g. "Z_2^64".
func (d Domain) String() string {
	if d.Kind == "Z_2^k" {
		return fmt.Sprintf("Z_2^%d", d.Bits)
	}
	return fmt.Sprintf("%s (%d bits)", d.Kind, d.Bits)
}

// Ring64 is the domain every protocol built so far computes in.
var Ring64 = Domain{Kind: "Z_2^k", Bits: 64}

// Preprocessing sources a protocol with an offline phase may be asked for.
const (
	// PreprocessingDefault is the protocol's own offline phase (OT, HE, ...), run by the
	// computing parties themselves.
	PreprocessingDefault = ""
	// PreprocessingDealer is a trusted third party that deals the correlated randomness
	// (CrypTen's and SPU's default). It is outside every protocol's threat model: whoever
	// runs the dealer could learn everything. Only used when a user asks for it.
	PreprocessingDealer = "dealer"
)

// Options configure one party's protocol endpoint.
type Options struct {
	// Rand is the source of this party's keys and local randomness; nil means
	// crypto/rand. Tests pass a deterministic reader so that two runs differ only in the
	// secrets (view tests); a deployment never sets it.
	Rand io.Reader
	// Preprocessing selects where correlated randomness comes from: PreprocessingDefault
	// or PreprocessingDealer. Protocols without an offline phase accept only the default.
	Preprocessing string
}

// Reader returns o.Rand, or crypto/rand's Reader when it is nil.
func (o Options) Reader() io.Reader {
	if o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// Spec describes one protocol of the registry (package mpc/registry): its name, threat
// model and domain, how many parties it runs, and how to construct a party's endpoint.
// A Spec whose New is nil is planned but not built: it is listed, never available.
type Spec struct {
	// Name is the qmpc name ("rep3", "semi2k", ...).
	Name string `json:"name"`
	// Paper names the column of Dalskov, Escudero and Keller (PETS 2020) this protocol
	// fills, by the MP-SPDZ program name of the paper's artifact ("" for none).
	Paper string `json:"paper"`
	// Summary is one line for help texts.
	Summary string `json:"summary"`
	// MinParties and MaxParties bound the number of computing parties (MaxParties 0:
	// no bound); DefaultParties is used when a user gives none.
	MinParties     int `json:"min_parties"`
	MaxParties     int `json:"max_parties"`
	DefaultParties int `json:"default_parties"`
	// Corruption and Security are the threat model.
	Corruption Corruption `json:"corruption"`
	Security   Security   `json:"security"`
	// Domain is where the shares live.
	Domain Domain `json:"domain"`
	// Offline reports whether the protocol consumes correlated randomness from an
	// offline phase (Preprocessor); Dealer whether it accepts PreprocessingDealer.
	Offline bool `json:"offline"`
	Dealer  bool `json:"dealer"`
	// Sources lists the protocol's other preprocessing sources, variants of its own
	// offline phase that a user may ask for by name (spdz2k: "ot", "he").
	Sources []string `json:"sources,omitempty"`
	// Test marks a protocol that exists only to test the registry itself.
	Test bool `json:"test,omitempty"`
	// Rotatable: relabelling the parties cyclically (party i acting as party (i - r) mod
	// n) maps every sharing of the protocol, and its outside client's payloads, to a
	// sharing of the same values, because a party stores its components relative to its
	// own index (rep3: (x_i, x_{i+1}) is (own, next) whatever i is). A cluster may then
	// run a lane with the roles rotated (net.Rotate, engine.Party.Rotated) on the
	// weights shared once, so that concurrent lanes spread the protocol's asymmetric
	// traffic over all links.
	Rotatable bool `json:"rotatable,omitempty"`

	// New makes party conn.ID()'s endpoint over conn. Protocols with a setup phase (key
	// exchange, base OTs) communicate here, so all parties must call it concurrently.
	New func(conn net.Conn, opt Options) (Protocol, error) `json:"-"`
	// NewDealer returns the client side of External for n parties (nil: the protocol
	// cannot serve a client that is not a computing party).
	NewDealer func(n int) (Dealer, error) `json:"-"`
	// NewClient returns the client side of ClientIO for n parties (nil: the protocol has
	// no interactive client protocol; it may have NewDealer instead).
	NewClient func(n int) (Client, error) `json:"-"`
}

// OutsideClient reports whether the protocol can serve a client that is not a computing
// party (External with NewDealer, or ClientIO with NewClient).
func (s Spec) OutsideClient() bool { return s.NewDealer != nil || s.NewClient != nil }

// Available reports whether the protocol is built.
func (s Spec) Available() bool { return s.New != nil }

// Parties checks a requested number of parties (n <= 0: the default).
func (s Spec) Parties(n int) (int, error) {
	if n <= 0 {
		return s.DefaultParties, nil
	}
	if n < s.MinParties || (s.MaxParties > 0 && n > s.MaxParties) {
		if s.MinParties == s.MaxParties {
			return 0, errs.New(errs.Config, "%s needs %d parties, not %d", s.Name, s.MinParties, n)
		}
		if s.MaxParties == 0 {
			return 0, errs.New(errs.Config, "%s needs at least %d parties, not %d", s.Name, s.MinParties, n)
		}
		return 0, errs.New(errs.Config, "%s needs %d to %d parties, not %d", s.Name, s.MinParties, s.MaxParties, n)
	}
	return n, nil
}

// CheckPreprocessing rejects a preprocessing source the protocol does not offer.
func (s Spec) CheckPreprocessing(src string) error {
	switch src {
	case PreprocessingDefault:
		return nil
	case PreprocessingDealer:
		if s.Dealer {
			return nil
		}
		return errs.New(errs.Config, "protocol %s has no trusted-dealer preprocessing (it has no offline phase to replace)", s.Name)
	}
	if slices.Contains(s.Sources, src) {
		return nil
	}
	if len(s.Sources) > 0 {
		return errs.New(errs.Config, "preprocessing %q: want \"\" (the protocol's own offline phase), %q or one of %q", src, PreprocessingDealer, s.Sources)
	}
	return errs.New(errs.Config, "preprocessing %q: want \"\" (the protocol's own offline phase) or %q", src, PreprocessingDealer)
}

// OnlyDefaultPreprocessing is the check of a protocol without an offline phase: it
// refuses any preprocessing source but the default.
func OnlyDefaultPreprocessing(name string, opt Options) error {
	if opt.Preprocessing != PreprocessingDefault {
		return errs.New(errs.Config, "protocol %s has no offline phase, so no preprocessing %q", name, opt.Preprocessing)
	}
	return nil
}

// Roles are the default roles of a run with n parties: the model owner is party 0 and the
// client party 1 (the paper's P0 and P1), or party 0 as well when there is one party.
func Roles(n int) (owner, client int) { return 0, min(1, n-1) }
