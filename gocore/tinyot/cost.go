package tinyot

// Traffic of each operation, for cost estimates before running: exact payload bytes per
// party (the tests compare them with the connection counters); k is the SoftSpoken
// parameter of the (malicious) OT session.

import "github.com/qmpc/qmpc/gocore/ot"

// OpenBytes is what each party sends in Open of n bits.
func OpenBytes(n int) int64 { return 8 * int64(words(n)) }

// CheckBytes is what party 0 (first) and party 1 send in a Check with something pending:
// the commitment and its opening, and the check value.
func CheckBytes(first bool) int64 {
	if first {
		return 32 + 64
	}
	return 32
}

// AuthenticateBytes is what each party sends in Authenticate or Random of n bits (its
// extension message); Input costs the owner as much and the other party nothing.
func AuthenticateBytes(n, k int) int64 { return ot.DeltaCOTBytes(n, k, true) }

// TriplesBytes is what party 0 (first) or party 1 sends in Triples(n) with the given
// Batch and TotalTriples (Bucket 0), the final Check included.
func TriplesBytes(n, batch, total, k int, first bool) int64 {
	if n == 0 {
		return 0
	}
	batches := (max(n, total) + batch - 1) / batch
	var t int64
	for off := 0; off < n; off += batch {
		l := min(batch, n-off)
		t += BatchBytes(l, BucketSize(l, batches), k, first)
	}
	return t + CheckBytes(first)
}

// BatchBytes is what party 0 (first) or party 1 sends for one batch of l triples in
// buckets of bs, without the final Check.
func BatchBytes(l, bs, k int, first bool) int64 {
	N := l * bs
	nw := int64(words(N))
	t := 3 * ot.DeltaCOTBytes(N, k, true) // x, y, r
	t += 8*nw + 16*int64(N)               // u, G
	t += 8 * nw                           // d
	if first {
		t += 32 + 32 // seed commitment, opening
	} else {
		t += 16 // seed
	}
	return t + OpenBytes(l*(bs-1))
}
