package mpc

import (
	"fmt"
	"sort"
	"time"

	"github.com/qmpc/qmpc/gocore/net"
)

// The phases of a protocol run, and the optional interfaces through which a protocol
// takes part in them. The engine calls them in this order:
//
//	New (setup: keys, base OTs) -> [Preprocess(demand)] -> Setup: owner inputs weights ->
//	Verify -> per inference: [Preprocess] -> inputs -> layers -> Verify -> open/export
//
// Verify before anything leaves. A malicious protocol defers the checks of its
// multiplications, reshares and inputs and runs them in batches; Verify is that batch
// check, and the engine runs it (a) after the model owner's weight sharing, (b) before
// any value that depends on secrets is opened to anyone, the client included, and (c)
// before shares are exported to an outside client. A value opened before the check that
// covers it could already have been changed by a cheater, so it must be uniformly masked
// (a fresh random mask that the receiver cannot remove, as in the masked openings of
// Beaver multiplication): otherwise a cheater could add an offset that depends on a
// secret and learn the secret from the opened result, or from whether the later check
// aborts (a selective-failure attack). Delayed checks leak exactly this way when the
// opened value is not masked: see the attacks on Fantastic Four, SWIFT and MP-SPDZ's Rep4
// in ePrint 2026/234. Every value the engine opens (the outputs, argmax) comes after
// Verify; the protocol-generic blocks open nothing; protocols that open masked values
// inside their own methods (Beaver openings, masked truncation) document why the mask is
// uniform. For semi-honest protocols Verify is a no-op.

// Verifier is implemented by protocols that check integrity (malicious security). Verify
// checks every message and every deferred product since the last Verify and returns an
// errs.Cheating error naming the check that failed. All parties call it at the same
// point.
type Verifier interface {
	Verify() error
}

// Verify runs p's integrity check, or does nothing for protocols without one.
func Verify(p Protocol) error {
	if v, ok := Ext[Verifier](p); ok {
		return v.Verify()
	}
	return nil
}

// PhaseStats is the cost of one phase for one party.
type PhaseStats struct {
	Seconds float64   `json:"seconds"`
	Net     net.Stats `json:"net"`
}

// Add returns s + t.
func (s PhaseStats) Add(t PhaseStats) PhaseStats {
	return PhaseStats{s.Seconds + t.Seconds, net.Stats{
		BytesSent: s.Net.BytesSent + t.Net.BytesSent, BytesReceived: s.Net.BytesReceived + t.Net.BytesReceived,
		Messages: s.Net.Messages + t.Net.Messages, Rounds: s.Net.Rounds + t.Net.Rounds,
		Hops: s.Net.Hops + t.Net.Hops, Clock: max(s.Net.Clock, t.Net.Clock)}}
}

// Sub returns s - t.
func (s PhaseStats) Sub(t PhaseStats) PhaseStats {
	return PhaseStats{s.Seconds - t.Seconds, s.Net.Sub(t.Net)}
}

// OfflineReporter is implemented by protocols with an offline phase. OfflineStats returns
// the cumulative cost of everything this party has spent on correlated randomness so far
// (whether produced ahead by Preprocess or just in time inside a method); the engine
// subtracts it from each layer's cost to split offline from online.
type OfflineReporter interface {
	OfflineStats() PhaseStats
}

// Offline returns p's cumulative offline cost (zero for protocols without one).
func Offline(p Protocol) PhaseStats {
	if r, ok := Ext[OfflineReporter](p); ok {
		return r.OfflineStats()
	}
	return PhaseStats{}
}

// Preprocessor is implemented by protocols with an offline phase: Preprocess produces,
// ahead of time, the correlated randomness that the calls counted in d will consume (all
// parties call it with the same d). Calls not covered by a Preprocess produce their
// correlations just in time, counted as offline all the same.
type Preprocessor interface {
	Preprocess(d *Demand) error
}

// Preprocess runs p's offline phase for d, or does nothing.
func Preprocess(p Protocol, d *Demand) error {
	if pp, ok := Ext[Preprocessor](p); ok && d != nil {
		return pp.Preprocess(d)
	}
	return nil
}

// Call is one kind of protocol call with its public sizes, as counted by package
// mpc/count. Holder fields name the party that holds an operand in the clear (an input
// that no arithmetic with another party's value has touched yet, such as the model
// owner's weights), or -1; protocols such as semi2k use one-sided products there.
type Call struct {
	Op string `json:"op"` // Input, Mul, MulSum, MatMul, GatherMulSum, AND, A2B, B2A, Bit2A, Open, OpenB
	// Sizes: N elements (Input, Mul, Open: n; MulSum: outputs; AND: bits; A2B/B2A: elements),
	// K the inner dimension (MulSum, MatMul), M the rows (MatMul), W the bit width
	// (A2B/B2A), Lo the lowest wanted plane (A2BHigh).
	N  int `json:"n,omitempty"`
	K  int `json:"k,omitempty"`
	M  int `json:"m,omitempty"`
	W  int `json:"w,omitempty"`
	Lo int `json:"lo,omitempty"`
	// XLen and WLen (GatherMulSum) are the lengths of x and w: with N and K they give
	// the geometry of a depthwise convolution (spdz2k's offline prediction).
	XLen int `json:"x_len,omitempty"`
	WLen int `json:"w_len,omitempty"`
	// Words (AND) is the operands' size in bit-sliced words, w*ring.Words(n) summed over
	// the pairs, for protocols that consume correlations word by word.
	Words int `json:"words,omitempty"`
	// Public (AND) is the bits of the pairs with a public operand (BPublic, or what only
	// public values give), which protocols that keep public binary values as such
	// (spdz2k) AND locally.
	Public int `json:"public,omitempty"`
	// Party is the input's owner (Input) or the receiver (Open, -1: all).
	Party int `json:"party"`
	// HolderA and HolderB: the party holding operand a / b in the clear, or -1.
	HolderA int `json:"holder_a"`
	HolderB int `json:"holder_b"`
	// Count is how many identical calls were merged into this entry.
	Count int64 `json:"count"`
}

// Demand is what one computation asks of a protocol, call by call: the identical calls
// merged, in first-seen order. A protocol with an offline phase derives its correlated
// randomness (Beaver triples, matrix triples, AND triples, daBits, ...) from it.
type Demand struct {
	Calls []Call `json:"calls"`
	index map[Call]int
}

// Add records count calls like c.
func (d *Demand) Add(c Call, count int64) {
	if d.index == nil {
		d.index = map[Call]int{}
		for i, x := range d.Calls {
			k := x
			k.Count = 0
			d.index[k] = i
		}
	}
	c.Count = 0
	if i, ok := d.index[c]; ok {
		d.Calls[i].Count += count
		return
	}
	d.index[c] = len(d.Calls)
	c.Count = count
	d.Calls = append(d.Calls, c)
}

// Merge adds all of e's calls to d.
func (d *Demand) Merge(e *Demand) {
	if e == nil {
		return
	}
	for _, c := range e.Calls {
		d.Add(c, c.Count)
	}
}

// Summary totals the demand by kind, in elements: "input" (elements input), "mul"
// (elementwise products of two shares), "macs_shared" (multiply-accumulates of two
// shared operands), "macs_one_sided" (with an operand held in the clear by one party),
// "and" (AND gates), "a2b_bits", "a2b_split_bits", "leaf_split_bits" (one-hot and operand
// planes input for leaves), "leaves", "arith_leaf_split_words" (one-hot words input for
// arithmetic leaves), "arith_leaves", "b2a_bits", "chunk_b2a_words" (words the owners
// of b input for ChunkB2A), "bit2a", "open", "open_bits".
func (d *Demand) Summary() map[string]int64 {
	s := map[string]int64{}
	for _, c := range d.Calls {
		n := int64(c.N) * c.Count
		oneSided := c.HolderA >= 0 || c.HolderB >= 0
		switch c.Op {
		case "Input":
			s["input"] += n
		case "Mul":
			key := "mul"
			if oneSided {
				key = "mul_one_sided"
			}
			s[key] += n
		case "MulSum", "GatherMulSum":
			key := "macs_shared"
			if oneSided {
				key = "macs_one_sided"
			}
			s[key] += n * int64(c.K)
		case "MatMul":
			key := "macs_shared"
			if oneSided {
				key = "macs_one_sided"
			}
			s[key] += int64(c.M) * int64(c.K) * int64(c.N) * c.Count
		case "AND":
			s["and"] += n
		case "A2B":
			s["a2b_bits"] += n * int64(c.W-c.Lo)
		case "A2BSplit":
			s["a2b_split_bits"] += n * int64(c.W)
		case "A2BSplitLeaves":
			s["leaf_split_bits"] += n * int64(c.W)
			s["leaves"] += n * int64(c.K)
		case "A2BSplitArithLeaves":
			s["arith_leaf_split_words"] += n * int64(c.W)
			s["arith_leaves"] += n * int64(c.K)
		case "B2A":
			s["b2a_bits"] += n * int64(c.W)
		case "B2AAnd":
			s["b2a_bits"] += n * int64(c.W)
			s["b2a_and"] += n
		case "ChunkB2A":
			s["chunk_b2a_words"] += n * int64(c.W)
		case "Bit2A":
			s["bit2a"] += n
		case "Open":
			s["open"] += n
		case "OpenB":
			s["open_bits"] += n * int64(c.W)
		}
	}
	return s
}

// String lists the summary, sorted by kind.
func (d *Demand) String() string {
	s := d.Summary()
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for _, k := range keys {
		out += fmt.Sprintf("%s=%d ", k, s[k])
	}
	return out
}

// Timer measures a phase: Stop returns the time and traffic on conn since Start.
type Timer struct {
	conn   net.Conn
	start  time.Time
	before net.Stats
}

// StartTimer starts measuring conn's traffic and the wall time.
func StartTimer(conn net.Conn) Timer {
	return Timer{conn: conn, start: time.Now(), before: conn.Stats()}
}

// Stop returns the phase's cost so far.
func (t Timer) Stop() PhaseStats {
	return PhaseStats{Seconds: time.Since(t.start).Seconds(), Net: t.conn.Stats().Sub(t.before)}
}

// KeyedShares is implemented by protocols whose shares are bound to the MAC keys of the
// protocol instance that made them (SPDZ-style MACs: spdz2k). SameKeys reports whether
// shares made by other (an instance of the same protocol) are valid under p's keys;
// the engine refuses to move shared parameters between instances with different keys
// (engine.Party.WithProtocol).
type KeyedShares interface {
	SameKeys(other Protocol) bool
}
