// Package mpc defines the Protocol interface that every secret-sharing protocol of qmpc
// implements (plain, rep3, and later rep3-mal, semi2k, spdz2k), the protocol registry's
// entry type (Spec), the phases a protocol may take part in (Verify, Preprocess, offline
// statistics: phases.go), and the protocol-generic building blocks written once over it:
// binary adders and comparisons, exact truncation with TFLite's rounding rules,
// requantization, clamp, max and argmax.
//
// The interface states what each method computes, not what it costs: each protocol's
// package doc states its messages, bytes and rounds.
//
// Values: every protocol built so far computes in the ring Z_2^64 (uint64 arithmetic
// wraps). At the interface, public constants and input values are signed integers encoded
// as 64-bit two's complement words (Int); a protocol over another domain (F_p) maps them
// to its own. The blocks decompose signed values domain-neutrally (A2B of x + 2^(w-1),
// a2bSigned) instead of relying on x mod 2^w being x's two's complement; C's int32 wrap
// in requantization's left shift stays ring arithmetic. No field protocol exists yet, so
// nothing tests the blocks outside Z_2^64. Two share types exist:
//
//   - AShare: an arithmetic sharing of a vector of n ring elements.
//   - BShare: a bit-sliced binary (XOR) sharing of n elements of w bits each: plane j holds
//     bit j of all n elements, packed 64 elements per uint64 word.
//
// A Protocol value is one party's endpoint. Every method is called by all parties in the
// same order with the same public arguments (SPMD style); methods that communicate return an
// error naming the step and the peer when the network fails or, for malicious protocols,
// when a check fails. Share values are immutable: methods return new shares.
package mpc

import "github.com/qmpc/qmpc/gocore/net"

// AShare is one party's share of a vector of Z_2^64 elements. Its concrete type belongs to
// the protocol that made it; only that protocol may look inside.
type AShare interface {
	// Len is the number of shared elements.
	Len() int
}

// BShare is one party's share of n elements of Width() bits each, bit-sliced.
type BShare interface {
	Len() int
	Width() int
}

// Protocol is one party's view of an arithmetic/binary secret-sharing scheme over Z_2^64.
type Protocol interface {
	// Name is the protocol's qmpc name ("plain", "rep3", ...).
	Name() string
	// ID is this party's index in [0, N()).
	ID() int
	// N is the number of computing parties.
	N() int
	// Conn is the party's network endpoint (for statistics).
	Conn() net.Conn

	// Input secret-shares vals, known to party owner only; the other parties pass nil and
	// the length n.
	Input(owner int, vals []uint64, n int) (AShare, error)
	// Open reveals x to party to (to < 0: to all). Parties that do not receive get nil.
	Open(x AShare, to int) ([]uint64, error)

	// Public constructs a sharing of a public vector (no communication).
	Public(vals []uint64) AShare
	// Add, Sub and Neg are local.
	Add(a, b AShare) AShare
	Sub(a, b AShare) AShare
	Neg(a AShare) AShare
	// AddPublic adds a public vector c (len(c) == a.Len(), or 1 to broadcast). Local.
	AddPublic(a AShare, c []uint64) AShare
	// MulPublic multiplies elementwise by a public vector c (len a.Len() or 1). Local.
	MulPublic(a AShare, c []uint64) AShare
	// Gather returns y with y[i] = x[idx[i]], or 0 where idx[i] < 0. Local. Used for
	// reshape, transpose, padding, im2col, concatenation and slicing.
	Gather(x AShare, idx []int32) AShare
	// Concat joins shares end to end. Local.
	Concat(xs ...AShare) AShare
	// SumGroups sums consecutive groups of k elements: y[i] = sum_j x[i*k+j]. Local.
	SumGroups(x AShare, k int) AShare

	// Mul multiplies elementwise.
	Mul(a, b AShare) (AShare, error)
	// MulSum returns y[i] = sum_{j<k} a[i*k+j]*b[i*k+j].
	MulSum(a, b AShare, k int) (AShare, error)
	// MatMul multiplies a [m,k] by b [k,n] (row-major), giving [m,n].
	MatMul(a, b AShare, m, k, n int) (AShare, error)

	// BPublic shares public w-bit values (no communication).
	BPublic(vals []uint64, w int) BShare
	// XOR, NOT (all bits) and XORPublic are local.
	XOR(a, b BShare) BShare
	NOT(a BShare) BShare
	// AND of equal-shaped shares, pairwise; pass many pairs in one call so that a
	// protocol can share its rounds among them.
	AND(a, b []BShare) ([]BShare, error)
	// Bits extracts planes [lo, lo+w) of x as a w-bit share (local).
	Bits(x BShare, lo, w int) BShare
	// JoinBits stacks the planes of xs (all of the same Len) into one share, xs[0] lowest.
	JoinBits(xs ...BShare) BShare
	// BGather is Gather for binary shares (idx[i] < 0 gives 0). Local.
	BGather(x BShare, idx []int32) BShare
	// OpenB reveals a binary share to party to (to < 0: all), as w-bit values.
	OpenB(x BShare, to int) ([]uint64, error)

	// A2B converts x to a w-bit binary sharing of x mod 2^w (w <= 64).
	A2B(x AShare, w int) (BShare, error)
	// B2A converts a w-bit binary sharing to an arithmetic sharing of the unsigned value.
	B2A(x BShare) (AShare, error)
	// Bit2A converts a 1-bit binary sharing to an arithmetic sharing of the bit; cheaper
	// than B2A where a protocol allows it.
	Bit2A(x BShare) (AShare, error)
}
