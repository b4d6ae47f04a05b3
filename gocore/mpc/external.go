package mpc

// External is implemented by protocols whose computing parties can take an input from,
// and return an output to, a client that is not one of them (a deployed cluster). The
// client runs the protocol's Dealer; payloads travel over the client's own authenticated
// links to each party, never between parties.
type External interface {
	// ImportShares turns the payload the client's Dealer made for this party into this
	// party's share of n elements. Local.
	ImportShares(payload []byte, n int) (AShare, error)
	// ExportShares encodes this party's share of x for the client. Local.
	ExportShares(x AShare) ([]byte, error)
}

// Dealer is the client side of External for one protocol and number of parties.
type Dealer interface {
	// Deal secret-shares vals into one payload per party (index = party id), with fresh
	// randomness from crypto/rand.
	Deal(vals []uint64) ([][]byte, error)
	// Reconstruct recovers n values from every party's ExportShares payload. Where the
	// sharing is redundant (replicated components held by two parties) it checks that
	// the copies agree; a mismatch or malformed payload is an errs.Party error naming
	// the party or parties involved.
	Reconstruct(payloads [][]byte, n int) ([]uint64, error)
}
