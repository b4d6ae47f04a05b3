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
	n := c.cfg.N()
	s := &Session{cfg: c.cfg, links: make([]*tlsnet.Link, n)}
	errl := make([]error, n)
	var wg sync.WaitGroup
	hello := tlsnet.Hello{ID: tlsnet.ClientID, Config: c.cfg.Settings("")}
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.links[j], errl[j] = tlsnet.Dial(ctx, c.cfg.Parties[j].Address, c.cert, j, c.cfg.Pin(j), hello, c.tl)
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
	l := s.links[leader]
	if err := l.Send(encode(message{Op: "info"})); err != nil {
		return nil, err
	}
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
	for j, l := range s.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answered := false // the party replied with an error message (not a broken link)
			defer func() {
				if errl[j] != nil {
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
			b, err := l.Recv(rctx, 0)
			if err != nil {
				errl[j] = err
				return
			}
			m, err := decode(b, who)
			if err != nil {
				errl[j] = err
				return
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
			if outs[j], err = l.Recv(rctx, 0); err != nil {
				errl[j] = err
			}
		}()
	}
	wg.Wait()
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
