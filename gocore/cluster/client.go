package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// Client submits requests to a cluster as the configured client.
type Client struct {
	cfg  *Config
	cert tls.Certificate
	tl   tlsnet.Options
}

// NewClient loads the client's key (keyPath, or Config.KeyPath(ClientID) when empty).
func NewClient(cfg *Config, keyPath string) (*Client, error) {
	cert, err := cfg.LoadIdentity(tlsnet.ClientID, keyPath)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, cert: cert,
		tl: tlsnet.Options{Timeout: time.Duration(cfg.Timeouts.Step), HandshakeTimeout: time.Duration(cfg.Timeouts.Handshake)}}, nil
}

// Config returns the client's cluster configuration.
func (c *Client) Config() *Config { return c.cfg }

// Session is a client's connections to every party.
type Session struct {
	cfg   *Config
	links []*tlsnet.Link
}

// Connect dials every party. It fails, naming the party, if one cannot be reached or
// refuses the client.
func (c *Client) Connect(ctx context.Context) (*Session, error) {
	return c.connect(ctx, false)
}

// ConnectInfo is Connect followed by Session.Info, one round trip sooner: the request for
// the description goes to the leader as soon as its TLS handshake ends, in the same
// flight as the client's hello (tlsnet.DialEager; it carries nothing secret). Connect's
// checks all hold before it returns: every party's hello matched.
func (c *Client) ConnectInfo(ctx context.Context) (*Session, []byte, error) {
	s, err := c.connect(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	info, err := s.readInfo(ctx)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, info, nil
}

func (c *Client) connect(ctx context.Context, info bool) (*Session, error) {
	n := c.cfg.N()
	s := &Session{cfg: c.cfg, links: make([]*tlsnet.Link, n)}
	errl := make([]error, n)
	var wg sync.WaitGroup
	hello := tlsnet.Hello{ID: tlsnet.ClientID, Config: c.cfg.Settings("")}
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := tlsnet.DialEager(ctx, c.cfg.Parties[j].Address, c.cert, j, c.cfg.Pin(j), hello, c.tl)
			if err != nil {
				errl[j] = err
				return
			}
			s.links[j] = l
			if info && j == leader {
				if err := l.Send(encode(message{Op: "info"})); err != nil {
					errl[j] = err
					return
				}
			}
			errl[j] = l.HelloChecked(ctx)
		}()
	}
	wg.Wait()
	if err := joinErrors("connecting to the cluster", errl); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connections.
func (s *Session) Close() {
	for _, l := range s.links {
		if l != nil {
			l.Close("client done")
		}
	}
}

// Info asks the leader for the cluster's public description (the computation's Info),
// waiting at most one step for the cluster to be ready.
func (s *Session) Info(ctx context.Context) ([]byte, error) {
	if err := s.links[leader].Send(encode(message{Op: "info"})); err != nil {
		return nil, err
	}
	return s.readInfo(ctx)
}

// readInfo reads the leader's answer to an info request.
func (s *Session) readInfo(ctx context.Context) ([]byte, error) {
	l := s.links[leader]
	b, err := l.Recv(ctx, 0)
	if err != nil {
		return nil, err
	}
	m, err := decode(b, tlsnet.PeerName(leader))
	if err != nil {
		return nil, err
	}
	if m.Op == "error" {
		return nil, remoteError(m, tlsnet.PeerName(leader))
	}
	if m.Op != "info" {
		return nil, errs.New(errs.Party, "party %d answered %q to info", leader, m.Op)
	}
	return m.Info, nil
}

// Run sends payloads[i] to party i as one request and returns every party's answer and
// statistics. Each wait is bounded by the step timeout of a silent link; a failure names
// every party that reported one.
func (s *Session) Run(ctx context.Context, payloads [][]byte) ([][]byte, []json.RawMessage, error) {
	return s.RunRounds(ctx, payloads, nil)
}

// RoundFunc answers one round of a request's exchange with the parties (ClientLane):
// msgs[j] is party j's message; it returns the reply to each party, or an error that
// aborts the request (every party is told, and RunRounds returns the error).
type RoundFunc func(msgs [][]byte) ([][]byte, error)

// RunRounds is Run for a computation whose parties exchange messages with the client
// while the request runs: every time all parties have sent a round message, rounds
// answers them. rounds may be nil when the computation has no such exchange (a party
// that sends one then fails the request).
func (s *Session) RunRounds(ctx context.Context, payloads [][]byte, rounds RoundFunc) ([][]byte, []json.RawMessage, error) {
	n := len(s.links)
	if len(payloads) != n {
		return nil, nil, errs.New(errs.Internal, "%d payloads for %d parties", len(payloads), n)
	}
	var rid [12]byte
	rand.Read(rid[:])
	id := hex.EncodeToString(rid[:])
	outs := make([][]byte, n)
	stats := make([]json.RawMessage, n)
	errl := make([]error, n)
	// Once one party fails, the others get one more step to answer: a party whose
	// computation hangs while its process still answers pings cannot hold the client.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	step := time.Duration(s.cfg.Timeouts.Step)
	var once sync.Once
	var wg sync.WaitGroup
	cut := make([]bool, n) // party j's wait was ended by the client
	rs := newRoundState(n, rounds)
	for j, l := range s.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answered := false // the party replied with an error message (not a broken link)
			defer func() {
				if errl[j] != nil {
					rs.breakOff() // a round can no longer complete
					if rctx.Err() != nil && ctx.Err() == nil {
						cut[j] = true
						errl[j] = errs.New(errs.Party, "party %d did not answer within %v of the other parties' failure", j, step)
					}
					if j == leader && answered && errs.KindOf(errl[j]) == errs.Busy {
						cancel() // refused before anything ran: the others have nothing to say
					} else if j == leader && answered {
						// The leader refused or failed the request. The others get a short
						// grace to report what they saw: the cause may be another party (the
						// leader can time out on a party that is itself waiting for the
						// stalled one, at the same moment).
						time.AfterFunc(min(step/4, time.Second), cancel)
					}
					once.Do(func() { time.AfterFunc(step, cancel) })
				}
			}()
			who := tlsnet.PeerName(j)
			if err := l.SendMany([][]byte{encode(message{Op: "infer", Request: id}), payloads[j]}); err != nil {
				errl[j] = err
				return
			}
			var m message
			for { // round messages (RunRounds), then the answer
				b, err := l.Recv(rctx, 0)
				if err != nil {
					errl[j] = err
					return
				}
				if m, err = decode(b, who); err != nil {
					errl[j] = err
					return
				}
				if m.Op != "round" {
					break
				}
				if m.Request != id {
					errl[j] = errs.New(errs.Party, "%s sent a round of request %s, not %s", who, m.Request, id)
					return
				}
				msg, err := l.Recv(rctx, 0)
				if err != nil {
					errl[j] = err
					return
				}
				if rounds == nil {
					errl[j] = errs.New(errs.Party, "%s asked for a client round this computation does not have", who)
					return
				}
				reply, err := rs.submit(rctx, j, msg)
				if err != nil {
					// The request is aborted (the client's check failed, or another
					// party failed first): tell this party, whose error is not the cause.
					l.Send(encode(message{Op: "error", Request: id, Kind: string(errs.KindOf(err)), Error: plainMessage(err)}))
					return
				}
				if err := l.SendMany([][]byte{encode(message{Op: "round", Request: id}), reply}); err != nil {
					errl[j] = err
					return
				}
			}
			switch m.Op {
			case "error":
				errl[j] = remoteError(m, who)
				answered = true
				return
			case "result":
			default:
				errl[j] = errs.New(errs.Party, "%s answered %q", who, m.Op)
				return
			}
			if m.Request != id {
				errl[j] = errs.New(errs.Party, "%s answered request %s, not %s", who, m.Request, id)
				return
			}
			stats[j] = m.Stats
			var err error
			if outs[j], err = l.Recv(rctx, 0); err != nil {
				errl[j] = err
			}
		}()
	}
	wg.Wait()
	if err := rs.failure(); err != nil {
		return nil, nil, err
	}
	if errl[leader] != nil && !cut[leader] {
		for j := range errl {
			if cut[j] {
				errl[j] = nil // only the leader's own error matters then
			}
		}
	}
	if err := joinErrors("inference failed", errl); err != nil {
		return nil, nil, err
	}
	return outs, stats, nil
}

// roundState collects the parties' messages of a request's rounds (RunRounds): when all
// of them have sent round k's message, the last one to arrive runs the RoundFunc and the
// others take their replies.
type roundState struct {
	n      int
	f      RoundFunc
	mu     sync.Mutex
	cur    *round
	broken chan struct{} // closed when a party failed (no round can complete)
	once   sync.Once
	err    error // the RoundFunc's failure
}

type round struct {
	msgs    [][]byte
	got     int
	done    chan struct{}
	replies [][]byte
	err     error
}

func newRoundState(n int, f RoundFunc) *roundState {
	return &roundState{n: n, f: f, cur: &round{msgs: make([][]byte, n), done: make(chan struct{})}, broken: make(chan struct{})}
}

func (rs *roundState) breakOff() { rs.once.Do(func() { close(rs.broken) }) }

// failure is the RoundFunc's error, if it failed.
func (rs *roundState) failure() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.err
}

// submit gives party j's message of the current round and waits for its reply.
func (rs *roundState) submit(ctx context.Context, j int, msg []byte) ([]byte, error) {
	rs.mu.Lock()
	r := rs.cur
	if r.msgs[j] != nil {
		rs.mu.Unlock()
		return nil, errs.New(errs.Party, "party %d sent two round messages before the others sent one", j)
	}
	r.msgs[j] = msg
	r.got++
	if r.got == rs.n {
		r.replies, r.err = rs.f(r.msgs)
		if r.err == nil && len(r.replies) != rs.n {
			r.err = errs.New(errs.Internal, "%d round replies for %d parties", len(r.replies), rs.n)
		}
		if r.err != nil && rs.err == nil {
			rs.err = r.err
		}
		close(r.done)
		rs.cur = &round{msgs: make([][]byte, rs.n), done: make(chan struct{})}
	}
	rs.mu.Unlock()
	select {
	case <-r.done:
	default:
		select {
		case <-r.done:
		case <-rs.broken:
			return nil, errs.New(errs.Party, "another party failed during the request")
		case <-ctx.Done():
			return nil, errs.New(errs.Cancelled, "request cancelled: %v", ctx.Err())
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.replies[j], nil
}

// joinErrors combines per-party errors into one, of kind Party if any is.
func joinErrors(what string, errl []error) error {
	var msgs []string
	kind := errs.Kind("")
	for _, err := range errl {
		if err == nil {
			continue
		}
		msgs = append(msgs, plainMessage(err))
		// A failed integrity check names the cause; lost peers (Party) come next.
		if k := errs.KindOf(err); kind == "" || k == errs.Cheating || (k == errs.Party && kind != errs.Cheating) {
			kind = k
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errs.New(kind, "%s: %s", what, strings.Join(msgs, "; "))
}
