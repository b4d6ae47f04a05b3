package mpc

// LeafSplitter is an optional Protocol extension for protocols whose A2B operands are each
// known in the clear to some parties (rep3: a = x_0 to parties 0 and 2, b = x_1 + x_2 to
// party 1). Besides the operands it returns leaves: one-plane binary shares of public
// functions f(a, v) of a and of a chunk v of b's bits, all at the depth of one AND gate,
// whatever f is. A circuit over such leaves starts from (generate, propagate) pairs of
// whole chunks, or from equality and comparison tests of chunks, instead of single
// planes, and so needs fewer AND rounds after them (requant_leaves.go).
//
// LeafSplits reports whether A2BSplitLeaves may be called (a checked variant of a
// protocol that has the method declines: the leaves come from one party's input, which
// its checks do not cover).
type LeafSplitter interface {
	A2BSplitter
	LeafSplits() bool
	// A2BSplitLeaves returns binary sharings of planes [0, bits) of the operands a and b
	// of A2BSplit(x, w) (a + b = x mod 2^w) and, for each leaf, a one-plane sharing of
	// leaf.f(a, v) with v = b's planes [Lo, Lo+K) as an integer (see SplitLeaf).
	A2BSplitLeaves(x AShare, w, bits int, l *SplitLeaves) (a, b BShare, leaves []BShare, err error)
	// B2AAnd returns B2A(x) + (c AND beta) for one-plane c and beta, in the rounds of
	// B2A(x): the select of a carry-select circuit rides on the conversion.
	B2AAnd(x, c, beta BShare) (AShare, error)
}

// SplitLeaves describes the leaves of A2BSplitLeaves. Derive (nil: none) computes, per
// element, NDerived public functions of a (a as a w-bit value) into out, for the parties
// that know a; source 0 of a leaf is a itself and source s >= 1 is out[s-1].
//
// With SumK > 0, A2BSplitLeaves also keeps, in Sum (the protocol's own state, opaque to
// the caller), what ChunkB2A needs of planes [SumLo, SumLo+SumK) of a and b.
type SplitLeaves struct {
	NDerived int
	Derive   func(a uint64, out []uint64)
	Leaves   []SplitLeaf
	SumLo    int
	SumK     int
	Sum      any
}

// ChunkB2Aer is an optional extension of LeafSplitter: the B2A of a requantization's
// output computed from the operands' chunk instead of from its bit planes. With A and B the
// values of planes [SumLo, SumLo+SumK) of the operands a and b of the A2BSplitLeaves call
// that filled l, ChunkB2A returns an arithmetic sharing of
//
//	sel (A + B) + sum_k ws[k] xs[k] + c beta   (mod 2^64)
//
// for one-plane binary sharings sel, xs[k], c and beta of the same elements, in the rounds
// of a B2A. rep3 (convert_chunk.go): per element, 4 words and 1 + len(xs) bits from the
// owner of b and 1 + len(xs) words from party 2, where B2AAnd of SumK planes costs the
// role-0 party SumK + 3 words.
type ChunkB2Aer interface {
	LeafSplitter
	ChunkB2A(l *SplitLeaves, sel BShare, xs []BShare, ws []uint64, c, beta BShare) (AShare, error)
}

// SplitLeaf is the function f(a, v) = bit v of Tab[t], where t = bits [SLo, SLo+SW) of
// source Src and v = b's planes [Lo, Lo+K) (1 <= K <= MaxLeafChunk, len(Tab) = 2^SW).
type SplitLeaf struct {
	Lo, K        int
	Src, SLo, SW int
	Tab          []uint64
}

// MaxLeafChunk is the widest chunk of b a leaf may read (its one-hot takes 2^K bits per
// element; a table row, 2^K bits, fits a uint64).
const MaxLeafChunk = 6

// leafSplitter returns p's LeafSplitter when p has one that is available.
func leafSplitter(p Protocol) (LeafSplitter, bool) {
	l, ok := Ext[LeafSplitter](p)
	if !ok || !l.LeafSplits() {
		return nil, false
	}
	return l, true
}

// HasLeafSplits reports whether p takes the leaf form of the fused requantization
// (LeafSplitter, available): counting the calls of a protocol must use the same form.
func HasLeafSplits(p Protocol) bool {
	_, ok := leafSplitter(p)
	return ok
}

// ArithLeafSplitter is an optional extension of LeafSplitter: arithmetic leaves. Each is
// an arithmetic sharing of a public function f(a, v) in Z_2^64 of the operand a and of a
// chunk v of the operand b, at the depth of one resharing (rep3: the owner of b inputs
// the one-hot vector of v as ring elements). A sum of leaves of different chunks is then
// any value that is a sum of per-chunk terms, without a B2A: the rounding division of the
// average pools (div.go) is two leaves, and one product for the carry between them.
type ArithLeafSplitter interface {
	LeafSplitter
	// A2BSplitArithLeaves returns, for each leaf, an arithmetic sharing of
	// Tab[t*2^K + v], t = bits [SLo, SLo+SW) of a and v = b's planes [Lo, Lo+K), with a +
	// b = x mod 2^w the operands of A2BSplit(x, w).
	A2BSplitArithLeaves(x AShare, w int, l []ArithLeaf) ([]AShare, error)
}

// ArithLeaf is the function f(a, v) = Tab[t*2^K + v] (len(Tab) = 2^(SW+K), 1 <= K <=
// MaxLeafChunk, SW <= MaxLeafChunk) of A2BSplitArithLeaves.
type ArithLeaf struct {
	Lo, K   int
	SLo, SW int
	Tab     []uint64
}

// arithLeafSplitter returns p's ArithLeafSplitter when it has one that is available.
func arithLeafSplitter(p Protocol) (ArithLeafSplitter, bool) {
	l, ok := Ext[ArithLeafSplitter](p)
	if !ok || !l.LeafSplits() {
		return nil, false
	}
	return l, true
}
