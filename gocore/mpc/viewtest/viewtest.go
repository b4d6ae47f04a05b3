// Package viewtest checks, statistically, that what a party sees during a protocol run does
// not depend on the other parties' secrets: the view tests of every protocol, at block
// and at engine level, run through it.
//
// A party's view is every message it receives after the protocol's setup (key exchange,
// base OTs: done before any secret exists) and every value opened to it. Check runs a
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
//     same peer (each message against the 8 before it, their first 2^15 words),
//     subtracted word by word, pass
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
	// Preprocessing is every party's mpc.Options.Preprocessing ("": the default).
	Preprocessing string
	// Wrap, if set, wraps each party's endpoint (planted leaks in the harness's own
	// tests; a wrapper should implement mpc.Wrapper so extensions survive).
	Wrap func(p mpc.Protocol) mpc.Protocol
	// MayOpen reports whether values may be opened to party i (an engine run's client
	// receives its output); default: nothing may be opened to anyone.
	MayOpen func(party int) bool
	// MinWords is the fewest words a statistical test needs (default 256).
	MinWords int
}

// Header is the public shape of one received message: its sender and length.
type Header struct {
	From, Len int
}

// View is what one party saw in one run, summarised as it arrived (a whole inference's
// messages do not fit in memory): the message pattern, the statistics of the received
// words and of the differences of messages, and the number of values opened to it.
type View struct {
	Pattern []Header
	Words   Stats // every whole 64-bit word received
	Diffs   Stats // word-by-word differences of same-length messages from the same peer
	Opened  int   // values returned by Open/OpenB to this party
}

// Stats counts, over a stream of 64-bit words, the ones of each bit position and the
// occurrences of each byte value.
type Stats struct {
	N    int
	Ones [64]int
	Hist [256]int
}

func (st *Stats) add(w uint64) {
	st.N++
	for x := w; x != 0; x &= x - 1 {
		st.Ones[bits.TrailingZeros64(x)]++
	}
	for j := 0; j < 8; j++ {
		st.Hist[byte(w>>(8*j))]++
	}
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
			rep.Words[obs] += run.v.Words.N
			where := fmt.Sprintf("party %d, %s", obs, run.s)
			if err := uniform(&run.v.Words, cfg.MinWords, where+": received words", rep); err != nil {
				return rep, err
			}
			if err := uniform(&run.v.Diffs, cfg.MinWords, where+": differences of messages", rep); err != nil {
				return rep, err
			}
			if run.v.Opened > 0 && (cfg.MayOpen == nil || !cfg.MayOpen(obs)) {
				return rep, fmt.Errorf("%s: %d values were opened to this party", where, run.v.Opened)
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
// view from the end of the protocol's setup on.
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
			p, err := local.NewParty(cfg.Protocol, recs[i], mpc.Options{Rand: rand.NewChaCha8(sd[i]), Preprocessing: cfg.Preprocessing})
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
	// The setup (key exchange, base OTs) happens before any secret exists: its messages
	// are public-key material (group elements are not uniform bit strings) and are not
	// part of the tested view.
	for _, r := range recs {
		r.reset()
	}
	if err := local.RunParties(ps, func(p mpc.Protocol) error { return c(p, s) }); err != nil {
		return nil, err
	}
	views := make([]View, n)
	for i, r := range recs {
		views[i] = r.view
	}
	return views, nil
}

// lag is how many earlier messages of the same length from the same peer each message
// is compared with; diffWords caps the words of a message that take part (the prefix).
const (
	lag       = 8
	diffWords = 1 << 15
)

// recorder summarises every message its party receives into a View.
type recorder struct {
	net.Conn
	mu   sync.Mutex
	view View
	last map[Header][][]uint64 // prefixes of the last lag messages per sender and length
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.view, r.last = View{}, nil
}

func (r *recorder) Recv(from int) ([]byte, error) {
	m, err := r.Conn.Recv(from)
	if err == nil {
		r.record(from, m)
	}
	return m, err
}

func (r *recorder) record(from int, m []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := Header{from, len(m)}
	r.view.Pattern = append(r.view.Pattern, h)
	nw := len(m) / 8
	for i := 0; i < nw; i++ {
		r.view.Words.add(binary.LittleEndian.Uint64(m[8*i:]))
	}
	pre := make([]uint64, min(nw, diffWords))
	for i := range pre {
		pre[i] = binary.LittleEndian.Uint64(m[8*i:])
	}
	if r.last == nil {
		r.last = map[Header][][]uint64{}
	}
	for _, prev := range r.last[h] {
		for i := range pre {
			r.view.Diffs.add(pre[i] - prev[i])
		}
	}
	r.last[h] = append(r.last[h], pre)
	if len(r.last[h]) > lag {
		r.last[h] = r.last[h][1:]
	}
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
		o.rec.mu.Lock()
		o.rec.view.Opened++
		o.rec.mu.Unlock()
	}
	return v, err
}

func (o *opener) OpenB(x mpc.BShare, to int) ([]uint64, error) {
	v, err := o.Protocol.OpenB(x, to)
	if v != nil {
		o.rec.mu.Lock()
		o.rec.view.Opened++
		o.rec.mu.Unlock()
	}
	return v, err
}

func samePattern(a, b View) error {
	if len(a.Pattern) != len(b.Pattern) {
		return fmt.Errorf("received %d messages with zero secrets, %d with extreme ones", len(a.Pattern), len(b.Pattern))
	}
	for k := range a.Pattern {
		ma, mb := a.Pattern[k], b.Pattern[k]
		if ma != mb {
			return fmt.Errorf("message %d: %d bytes from party %d with zero secrets, %d bytes from party %d with extreme ones",
				k, ma.Len, ma.From, mb.Len, mb.From)
		}
	}
	return nil
}

// uniform tests the counted words for uniformity: each bit position's frequency, and
// the byte histogram's chi-square statistic.
func uniform(st *Stats, minWords int, what string, rep *Report) error {
	if st.N < minWords {
		if st.N > 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %d words", what, st.N))
		}
		return nil
	}
	n := float64(st.N)
	for j, c := range st.Ones {
		if z := math.Abs(float64(c)-n/2) / math.Sqrt(n/4); z > 6.5 {
			return fmt.Errorf("%s: bit %d is one in %d of %d words (%.1f standard deviations from half)", what, j, c, st.N, z)
		}
	}
	exp := 8 * n / 256
	chi := 0.0
	for _, c := range st.Hist {
		d := float64(c) - exp
		chi += d * d / exp
	}
	if z := (chi - 255) / math.Sqrt(2*255); z > 7 {
		return fmt.Errorf("%s: byte histogram chi-square %.0f over 255 degrees of freedom (%.1f standard deviations)", what, chi, z)
	}
	return nil
}
