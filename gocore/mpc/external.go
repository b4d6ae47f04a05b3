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

// ClientIO is implemented by protocols whose outside client's input and output need a
// protocol, not just a local import and export: when the parties must be able to trust
// the client's input and the client must be able to check what it receives (malicious
// security with a dishonest majority, where no party's copy can be compared with
// another's). The input takes one round trip between each party and the client (party
// -> client -> party), then the parties may talk among themselves; the output is one
// message from each party, after the parties' own checks. The client runs the
// protocol's Client. A protocol implements ClientIO or External; ClientIO takes
// precedence where a protocol has both.
type ClientIO interface {
	// ClientInput takes the client's input of ns[k] elements for every k and returns this
	// party's shares of them. It calls roundTrip exactly once (unless it fails before),
	// with this party's message to the client; roundTrip returns the client's reply to
	// this party. All parties call it at the same point.
	ClientInput(ns []int, roundTrip func([]byte) ([]byte, error)) ([]AShare, error)
	// ClientOutput returns this party's message that carries xs to the client. All
	// parties call it at the same point; it may communicate with the other parties.
	ClientOutput(xs []AShare) ([]byte, error)
}

// Client is the client side of ClientIO for one protocol and number of parties.
type Client interface {
	// Input answers the parties' ClientInput messages (msgs, index = party id) for the
	// client's values vals (vals[k] of ns[k] elements): it checks the messages and
	// returns the reply to each party. A check that fails is an errs.Cheating error.
	Input(vals [][]uint64, msgs [][]byte) ([][]byte, error)
	// Output checks every party's ClientOutput message and returns the values, ns[k]
	// elements for every k. A check that fails is an errs.Cheating error; a malformed
	// message an errs.Party error naming the party.
	Output(msgs [][]byte, ns []int) ([][]uint64, error)
}
