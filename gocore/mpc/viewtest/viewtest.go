// Package viewtest checks, statistically, that what a party sees during a protocol run does
// not depend on the other parties' secrets: the view tests of every protocol, at block
// and at engine level, run through it.
//
// A party's view is every message it receives and every value opened to it. Check runs a
// computation twice for each observing party i: run A with all-zero secrets and run B
// with extreme secrets (all ones, the most negative values, ...: the Computation decides).
// Every party's randomness comes from a deterministic source (mpc.Options.Rand); party
// i's seed is the same in both runs and every other party's differs, so the two runs
// differ only in the secrets and in the keys party i does not hold. Then:
//
//  1. Pattern: i receives the same number of messages, of the same lengths, from the
//     same peers in both runs (the pattern may not depend on secrets).
//  2. Uniformity: in each run, the 64-bit words i receives pass a per-bit frequency
//     test (every bit position) and the bytes a chi-square test over 256 values. An
//     unmasked word (zero secrets give zero words) fails here.
//  3. Differences: in each run, the words of two messages of the same length from the
//     same peer (each message against the 8 before it), subtracted word by word, pass
//     the same tests: a mask used twice cancels in the difference (zero secrets give
//     zero differences).
//  4. Opened values: values opened to i through the endpoint the computation calls
//     (Open, OpenB: a block or the engine opening something) must not exist unless the
//     computation declares them (Config.MayOpen); a block that opens one bit fails.
//     Openings inside a protocol's own methods show only as messages (tests 2 and 3).
//
// Thresholds: 6.5 standard deviations per bit position and 7 for the chi-square
// statistic (255 degrees of freedom), so a leak-free run fails with probability below
// 1e-8 per test; tests on fewer than MinWords words are skipped (and counted in the
// Report, so a test that checks nothing is visible).
package viewtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
)

// Secrets selects the secret values of a run.
type Secrets int

const (
	// Zero: every secret input is zero.
	Zero Secrets = iota
	// Extreme: every secret input is extreme (all ones, the type's minimum or maximum).
	Extreme
)

func (s Secrets) String() string {
	if s == Zero {
		return "zero secrets"
	}
	return "extreme secrets"
}

// Computation is one party's part of the computation under test. It runs on every
// party (SPMD), each with its own endpoint p; parties that own a secret input it
// according to s.
type Computation func(p mpc.Protocol, s Secrets) error

// Config describes the protocol under test.
type Config struct {
	// Protocol is the registry name; Parties the number of parties (0: its default).
	Protocol string
	Parties  int
	// Wrap, if set, wraps each party's endpoint (planted leaks in the harness's own
	// tests; a wrapper should implement mpc.Wrapper so extensions survive).
	Wrap func(p mpc.Protocol) mpc.Protocol
	// MayOpen reports whether values may be opened to party i (an engine run's client
	// receives its output); default: nothing may be opened to anyone.
	MayOpen func(party int) bool
	// MinWords is the fewest words a statistical test needs (default 256).
	MinWords int
}

// Message is one received message.
type Message struct {
	From int
	Data []byte
}

// View is what one party saw in one run.
type View struct {
	Messages []Message
	Opened   [][]uint64 // values returned by Open/OpenB to this party
}

// Report summarises a Check: for each observing party, the number of words tested and
// the tests skipped for lack of data.
type Report struct {
	Words   []int
	Skipped []string
}

func (r *Report) String() string {
	return fmt.Sprintf("words tested per party %v; skipped: %s", r.Words, strings.Join(r.Skipped, "; "))
}

// Check runs c as described in the package doc and returns an error naming the first
// leak found (party, run, test), or nil.
func Check(cfg Config, c Computation) (*Report, error) {
	if cfg.MinWords == 0 {
		cfg.MinWords = 256
	}
	n, err := local.Parties(cfg.Protocol, cfg.Parties)
	if err != nil {
		return nil, err
	}
	rep := &Report{Words: make([]int, n)}
	for obs := range n {
		seedsA, seedsB := seeds(n, 1), seeds(n, 2)
		seedsB[obs] = seedsA[obs]
		va, err := Run(cfg, n, c, Zero, seedsA)
		if err != nil {
			return nil, fmt.Errorf("run with %s: %w", Zero, err)
		}
		vb, err := Run(cfg, n, c, Extreme, seedsB)
		if err != nil {
			return nil, fmt.Errorf("run with %s: %w", Extreme, err)
		}
		a, b := va[obs], vb[obs]
		if err := samePattern(a, b); err != nil {
			return rep, fmt.Errorf("party %d: %w", obs, err)
		}
		for _, run := range []struct {
			v View
			s Secrets
		}{{a, Zero}, {b, Extreme}} {
			words := collect(run.v.Messages)
			rep.Words[obs] += len(words)
			where := fmt.Sprintf("party %d, %s", obs, run.s)
			if err := uniform(words, cfg.MinWords, where+": received words", rep); err != nil {
				return rep, err
			}
			if err := uniform(differences(run.v.Messages), cfg.MinWords, where+": differences of messages", rep); err != nil {
				return rep, err
			}
			if len(run.v.Opened) > 0 && (cfg.MayOpen == nil || !cfg.MayOpen(obs)) {
				return rep, fmt.Errorf("%s: %d values were opened to this party", where, len(run.v.Opened))
			}
		}
	}
	return rep, nil
}

// seeds returns n distinct party seeds for a run tag.
func seeds(n int, tag byte) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i][0], out[i][1], out[i][2] = tag, byte(i), 0x5a
	}
	return out
}

// Run runs c once with the given secrets and per-party seeds and returns every party's
// view (the key setup included).
func Run(cfg Config, n int, c Computation, s Secrets, sd [][32]byte) ([]View, error) {
	conns := net.NewPipes(n)
	recs := make([]*recorder, n)
	ps := make([]mpc.Protocol, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = &recorder{Conn: conns[i]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := local.NewParty(cfg.Protocol, recs[i], mpc.Options{Rand: rand.NewChaCha8(sd[i])})
			if err != nil {
				errs[i] = err
				conns[i].Close()
				return
			}
			if cfg.Wrap != nil {
				p = cfg.Wrap(p)
			}
			ps[i] = &opener{Protocol: p, rec: recs[i]}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := local.RunParties(ps, func(p mpc.Protocol) error { return c(p, s) }); err != nil {
		return nil, err
	}
	views := make([]View, n)
	for i, r := range recs {
		views[i] = View{Messages: r.msgs, Opened: r.opened}
	}
	return views, nil
}

// recorder logs every message its party receives.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	msgs   []Message
	opened [][]uint64
}

func (r *recorder) Recv(from int) ([]byte, error) {
	m, err := r.Conn.Recv(from)
	if err == nil {
		r.mu.Lock()
		r.msgs = append(r.msgs, Message{From: from, Data: append([]byte(nil), m...)})
		r.mu.Unlock()
	}
	return m, err
}

// opener records the values opened to its party; every extension of the wrapped
// protocol stays reachable (mpc.Wrapper), so the real code paths run.
type opener struct {
	mpc.Protocol
	rec *recorder
}

func (o *opener) Unwrap() mpc.Protocol { return o.Protocol }

func (o *opener) Open(x mpc.AShare, to int) ([]uint64, error) {
	v, err := o.Protocol.Open(x, to)
	if v != nil {
		o.rec.opened = append(o.rec.opened, v)
	}
	return v, err
}

func (o *opener) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	v, err := o.Protocol.OpenB(x, to)
	if v != nil {
		o.rec.opened = append(o.rec.opened, v)
	}
	return v, err
}

func samePattern(a, b View) error {
	if len(a.Messages) != len(b.Messages) {
		return fmt.Errorf("received %d messages with zero secrets, %d with extreme ones", len(a.Messages), len(b.Messages))
	}
	for k := range a.Messages {
		ma, mb := a.Messages[k], b.Messages[k]
		if ma.From != mb.From || len(ma.Data) != len(mb.Data) {
			return fmt.Errorf("message %d: %d bytes from party %d with zero secrets, %d bytes from party %d with extreme ones",
				k, len(ma.Data), ma.From, len(mb.Data), mb.From)
		}
	}
	return nil
}

// collect returns every whole 64-bit word of the messages.
func collect(msgs []Message) []uint64 {
	var out []uint64
	for _, m := range msgs {
		for i := 0; i+8 <= len(m.Data); i += 8 {
			out = append(out, binary.LittleEndian.Uint64(m.Data[i:]))
		}
	}
	return out
}

// lag is how many earlier messages of the same length from the same peer each message
// is compared with.
const lag = 8

// differences subtracts, word by word, each message from each of the previous lag
// messages of the same length from the same peer.
func differences(msgs []Message) []uint64 {
	type key struct{ from, n int }
	last := map[key][][]byte{}
	var out []uint64
	for _, m := range msgs {
		k := key{m.From, len(m.Data)}
		for _, prev := range last[k] {
			for i := 0; i+8 <= len(m.Data); i += 8 {
				out = append(out, binary.LittleEndian.Uint64(m.Data[i:])-binary.LittleEndian.Uint64(prev[i:]))
			}
		}
		last[k] = append(last[k], m.Data)
		if len(last[k]) > lag {
			last[k] = last[k][1:]
		}
	}
	return out
}

// uniform tests words for uniformity: each bit position's frequency, and the byte
// histogram's chi-square statistic.
func uniform(words []uint64, minWords int, what string, rep *Report) error {
	if len(words) < minWords {
		if len(words) > 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d words", what, len(words)))
		}
		return nil
	}
	var ones [64]int
	var hist [256]int
	for _, w := range words {
		for x := w; x != 0; x &= x - 1 {
			ones[bits.TrailingZeros64(x)]++
		}
		for j := 0; j < 8; j++ {
			hist[byte(w>>(8*j))]++
		}
	}
	n := float64(len(words))
	for j, c := range ones {
		if z := math.Abs(float64(c)-n/2) / math.Sqrt(n/4); z > 6.5 {
			return fmt.Errorf("%s: bit %d is one in %d of %d words (%.1f standard deviations from half)", what, j, c, len(words), z)
		}
	}
	nb := 8 * n
	exp := nb / 256
	chi := 0.0
	for _, c := range hist {
		d := float64(c) - exp
		chi += d * d / exp
	}
	if z := (chi - 255) / math.Sqrt(2*255); z > 7 {
		return fmt.Errorf("%s: byte histogram chi-square %.0f over 255 degrees of freedom (%.1f standard deviations)", what, chi, z)
	}
	return nil
}
