package rep3mal

// The soundness budget: every check batch adds its error bound (the package doc's
// per-batch terms) to the party's total, and a batch that would take the total past
// 2^-40 is refused before any of its messages is sent. All three parties record the same
// products (the same program on the same shapes), so they reach the same verdict at the
// same batch and stop together.
//
// The total covers the batches since the last release: a verified Open or OpenB, or an
// export of output shares to an outside client with nothing left unchecked (release).
// In the engine's plans that is one inference (its output), so each inference's checks
// err below 2^-40 together; a session (a protocol instance that serves T inferences, as
// a cluster's lane does) errs below T * 2^-40 by the union bound: the probability that
// any cheat goes undetected grows with the number of checks, as for every protocol with
// a fixed statistical parameter. Refusing a session after 2^-40 in total would stop a
// cluster's lane after about 24 inferences of MobileNetV1 0.25_128.

import (
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Error bounds in units of 2^-64.
const (
	// errorBudget is 2^-40: statistical security of 40 bits per inference (release).
	errorBudget = 1 << (64 - 40)
	// arithProofError bounds a batch's arithmetic proofs: three provers, each at most
	// (1 + 2s + 2R + 5)/2^56 <= 100/2^56 (s = 7, R <= 40; dzkp.go), 300 * 2^8 / 2^64.
	arithProofError = 3 * 100 << 8
	// andProofError bounds a batch's AND proofs: three provers, each at most
	// (1 + 2s + 2R + 3)/2^64 <= 100/2^64 (s = 6, R <= 40; andproof.go).
	andProofError = 3 * 100
	// checkError bounds one triple check (elementwise products or AND words; bucket.go)
	// or the sacrifice of a batch's matrix products (check.go): 2^-46 each.
	checkError = 1 << (64 - securityBits)
)

// maxProofBatches is the number of check batches with both proofs that the budget
// allows (217): the engine's plans have no sacrificed products, so this is the longest run.
const maxProofBatches = errorBudget / (arithProofError + andProofError)

// batchError is the error bound of a batch whose proofs cover arithmetic products (Mul,
// MulSum or dot records) if arith, AND words if and; with triples checks of the
// elementwise products and of the AND words (proofs off) tripleChecks of them, and
// sacrificed products if sacrifice.
func batchError(arith, and bool, tripleChecks int, sacrifice bool) uint64 {
	var e uint64
	if arith {
		e += arithProofError
	}
	if and {
		e += andProofError
	}
	e += uint64(tripleChecks) * checkError
	if sacrifice {
		e += checkError
	}
	return e
}

// release starts a new budget once a value has left the parties (a verified opening, or
// an export to the client): nothing recorded is unchecked. A refusal stays.
func (p *Protocol) release() {
	if p.refused == nil && len(p.rec.products) == 0 && p.rec.err == nil {
		p.spent = 0
	}
}

// charge adds a batch's error bound to the total since the last release, or refuses the batch (an
// errs.Config error naming the limit) if the total would exceed the budget. A refusal is
// final: the refused batch's products are dropped unchecked, so every later check of the
// party is refused too (nothing it computes afterwards may be opened).
func (p *Protocol) charge(e uint64) error {
	if p.refused != nil {
		return p.refused
	}
	if e == 0 {
		return nil
	}
	if p.spent+e > p.budget {
		p.refused = errs.New(errs.Config, "%s: check batch refused: the soundness error since the last output would exceed 2^%.1f "+
			"(statistical security 40 bits holds for at most %d check batches of product proofs per inference; "+
			"%.3g of the bound is used): split the model or the batch of inputs into shorter inferences",
			Name, math.Log2(math.Ldexp(float64(p.budget), -64)), maxProofBatches, math.Ldexp(float64(p.spent), -64))
		return p.refused
	}
	p.spent += e
	return nil
}
