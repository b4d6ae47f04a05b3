package rep3

// The seam for a checked (malicious) variant of rep3.
//
// A malicious-secure protocol built on replicated sharing keeps rep3's sharing, its
// multiplication messages and its conversions, and adds a check that every step was done
// honestly: every input is consistently shared, every product z = f(x, y) is correct,
// every opened value is consistent (MP-SPDZ builds ps-rep-ring and sy-rep-ring this way
// from replicated-ring). What the check needs is, for each such step and in the order all
// parties take them, this party's replicated components of the operands and of the
// result. An Observer receives exactly that, from every place in rep3 that communicates,
// the products inside A2B (the adder's AND gates), B2A (its input and multiply-sum) and
// Bit2A included: a variant supplies one (NewObserved), records what it must verify, and
// implements mpc.Verifier; it never copies rep3's conversions. The semi-honest protocol
// has none (nil) and pays nothing for the seam.

// Pair is one party's two replicated components (x_i, x_{i+1}) of a vector (words, or
// bit-sliced planes for binary shares).
type Pair struct{ A, B []uint64 }

// Relation names the function a product computes, with its public sizes.
type Relation struct {
	// Kind is "mul" (elementwise), "mulsum" (sums of K products), "matmul" (an [M,K] by
	// [K,N] matrix product), "gathermulsum" (MulSum of x gathered by XIdx and y by YIdx)
	// or "and" (bitwise AND of words: XOR-shared planes).
	Kind       string
	M, K, N    int
	XIdx, YIdx []int32
}

// Observer sees every secret-dependent step of rep3, with this party's components. The
// slices are rep3's own: an Observer must not modify them (it may keep them: rep3 does
// not modify a share after making it).
type Observer interface {
	// Input: owner shared a vector (xor: binary planes); a, b are this party's components.
	Input(owner int, xor bool, c Pair)
	// Product: z = f(x, y) for the relation r, after the reshare that made z.
	Product(r Relation, x, y, z Pair)
	// Open: the value with these components was opened to party to (-1: all); got is the
	// component this party received (x_{i-1} for party i; nil if it received nothing).
	Open(to int, xor bool, c Pair, got []uint64)
}

// MaskObserver is an Observer that also sees the zero shares of products: a proof that
// party i computed its z_i correctly (z_i = x_i y_i + x_i y_{i+1} + x_{i+1} y_i + alpha_i)
// needs alpha_i = F(k_i) - F(k_{i-1}) (for AND words F(k_i) ^ F(k_{i-1})), whose two parts
// the two other parties know (party i+1 holds k_i, party i-1 holds k_{i-1}).
type MaskObserver interface {
	Observer
	// ProductMasks immediately precedes the Product report of every product (Mul,
	// MulSum, GatherMulSum, MatMul and AND; those inside the conversions included):
	// next[e] = F(k_i) and prev[e] = F(k_{i-1}) are the words this party drew for output e,
	// so that z_i[e] includes next[e] - prev[e] (AND: next[e] ^ prev[e]). (One exception,
	// the checked B2A's t = b0 b1, which party 0 inputs: b2aProduct in convert_checked.go
	// reports the words that make the claim shares z_B + next and -prev its input's.)
	ProductMasks(next, prev []uint64)
}

// productMasks returns buffers for a product's zero-share words if the Observer wants
// them (nil, nil otherwise): the Observer's own if it supplies them (MaskBuffers), else
// new ones. The caller writes every word before reporting them.
func (p *Protocol) productMasks(n int) (next, prev []uint64) {
	switch o := p.obs.(type) {
	case MaskBuffers:
		return o.MaskBuffers(n)
	case MaskObserver:
		return make([]uint64, n), make([]uint64, n)
	}
	return nil, nil
}

// reportMasks hands a product's zero-share words to a MaskObserver.
func (p *Protocol) reportMasks(next, prev []uint64) {
	if m, ok := p.obs.(MaskObserver); ok {
		m.ProductMasks(next, prev)
	}
}

// Unobserved returns a view of p that shares its connection and PRG streams but reports
// nothing to the Observer: a checked variant computes its own check products with it.
// Calls through the view and through p must still be made in the same order by all
// parties (they draw from the same streams).
func (p *Protocol) Unobserved() *Protocol {
	q := *p
	q.obs = nil
	q.eager = true
	return &q
}

// Rand returns this party's components of a uniformly random replicated sharing of n
// words (arithmetic, or binary planes: the same words serve both): component j is drawn
// from key k_{j-1}, held by parties j and j-1, so party i draws (F(k_{i-1}), F(k_i)). No
// communication; to any one party the value is uniform (one component is unknown to it).
func (p *Protocol) Rand(n int) Pair {
	return Pair{p.gPrev.Uint64s(n), p.gNext.Uint64s(n)}
}

// Checked reports whether an Observer is attached: the conversions then use their
// checked forms (convert.go), whose every step is a product or a local operation on
// components that two parties hold, so that the Observer's checks cover them.
func (p *Protocol) Checked() bool { return p.obs != nil }

// OpenPair opens the words with this party's components c (XOR-shared if xor) to party to
// (all if to < 0), reported to the Observer as an opening: a checked variant's own masked
// openings use it.
func (p *Protocol) OpenPair(c Pair, to int, xor bool) ([]uint64, error) {
	if err := checkParty("open", to, true); err != nil {
		return nil, err
	}
	return p.open(c.A, c.B, to, xor)
}
