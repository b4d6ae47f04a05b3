package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	stdnet "net"
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// leader is the party that orders client requests.
const leader = 0

// PartyOptions configures a party server.
type PartyOptions struct {
	Config *Config
	ID     int
	// KeyPath is the private key file (default Config.KeyPath(ID)).
	KeyPath string
	// Computation makes the per-session computation.
	Computation NewComputation
	// ModelDigest is the model this party announces (the owner's), or "".
	ModelDigest string
	// Listen, if set, is the address to listen on instead of the configured one (behind
	// NAT or a proxy, the configured address is where the others reach this party).
	Listen string
	// Listener, if set, is used instead of listening on an address.
	Listener stdnet.Listener
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Party is one computing party's server: it keeps a session (TLS links to every other
// party) up, re-forming it after failures, and serves clients' requests on it.
type Party struct {
	opt  PartyOptions
	cfg  *Config
	id   int
	cert tls.Certificate
	ln   stdnet.Listener
	log  *slog.Logger
	tl   tlsnet.Options

	inMu    sync.Mutex
	inbound []*tlsnet.Link  // latest unclaimed link from each lower party
	inSig   []chan struct{} // signalled when inbound[j] is set
	cfgErr  chan error      // configuration mismatches seen while accepting
	queue   chan *request   // leader: requests in arrival order
	pendMu  sync.Mutex      // followers: requests by id
	pending map[string]chan *request

	stMu    sync.Mutex
	ready   chan struct{} // closed while a session serves; replaced when it ends
	info    []byte
	lastErr error
	served  int
}

// NewParty loads the party's key and starts listening.
func NewParty(opt PartyOptions) (*Party, error) {
	cfg := opt.Config
	if cfg == nil || opt.ID < 0 || opt.ID >= cfg.N() {
		return nil, errs.New(errs.Config, "party id %d: the config has parties 0..%d", opt.ID, cfg.N()-1)
	}
	if opt.Computation == nil {
		return nil, errs.New(errs.Internal, "party %d: no computation", opt.ID)
	}
	cert, err := cfg.LoadIdentity(opt.ID, opt.KeyPath)
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	n := cfg.N()
	p := &Party{opt: opt, cfg: cfg, id: opt.ID, cert: cert, log: log.With("party", opt.ID),
		tl:      tlsnet.Options{Timeout: time.Duration(cfg.Timeouts.Step), HandshakeTimeout: time.Duration(cfg.Timeouts.Handshake)},
		inbound: make([]*tlsnet.Link, n), inSig: make([]chan struct{}, n), cfgErr: make(chan error, 16),
		queue: make(chan *request, 64), pending: map[string]chan *request{}, ready: make(chan struct{})}
	for j := range p.inSig {
		p.inSig[j] = make(chan struct{}, 1)
	}
	p.ln = opt.Listener
	if p.ln == nil {
		addr := cfg.Parties[opt.ID].Address
		if opt.Listen != "" {
			addr = opt.Listen
		}
		if p.ln, err = stdnet.Listen("tcp", addr); err != nil {
			return nil, errs.New(errs.Config, "party %d: listening on %s: %w", opt.ID, addr, err)
		}
	}
	return p, nil
}

// Addr is the address the party listens on.
func (p *Party) Addr() string { return p.ln.Addr().String() }

func (p *Party) hello() tlsnet.Hello {
	return tlsnet.Hello{ID: p.id, Config: p.cfg.Settings(p.opt.ModelDigest)}
}

// Run serves until ctx ends (then it returns nil) or the first session cannot be formed
// within Timeouts.Connect (then it returns why). After a session fails, it reconnects
// without a deadline.
func (p *Party) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); p.ln.Close() }()
	go p.acceptLoop(ctx)
	p.log.Info("party listening", "address", p.Addr(), "protocol", p.cfg.Protocol, "config", p.cfg.Hash(), "parties", p.cfg.N())
	first := true
	backoff := 100 * time.Millisecond
	for {
		var deadline time.Time
		if first {
			deadline = time.Now().Add(time.Duration(p.cfg.Timeouts.Connect))
		}
		mesh, sid, err := p.connect(ctx, deadline, first)
		if ctx.Err() != nil {
			if mesh != nil {
				mesh.Abort("party shutting down")
			}
			return nil
		}
		if err != nil {
			p.setDown(err)
			if first {
				return fmt.Errorf("party %d: forming the cluster: %w", p.id, err)
			}
			p.log.Warn("reconnecting failed, retrying", "err", plainMessage(err), "in", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		first = false
		p.log.Info("session up", "session", sid)
		began := time.Now()
		err = p.session(ctx, mesh, sid)
		if ctx.Err() != nil {
			mesh.Abort("party shutting down")
			return nil
		}
		mesh.Abort(plainMessage(err))
		p.setDown(err)
		p.log.Warn("session ended; reconnecting", "session", sid, "err", plainMessage(err))
		// A session that fails at once (e.g. the model cannot be set up) is retried with
		// growing pauses, not in a tight loop.
		if time.Since(began) > 10*time.Second {
			backoff = 100 * time.Millisecond
		} else {
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *Party) setUp(info []byte) {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	p.info, p.lastErr = info, nil
	close(p.ready)
}

func (p *Party) setDown(err error) {
	p.stMu.Lock()
	defer p.stMu.Unlock()
	select {
	case <-p.ready:
		p.ready = make(chan struct{})
	default:
	}
	p.info, p.lastErr = nil, err
}

// waitReady waits at most d for a session; it returns the leader's info.
func (p *Party) waitReady(ctx context.Context, d time.Duration) ([]byte, error) {
	p.stMu.Lock()
	ready := p.ready
	p.stMu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ready:
		p.stMu.Lock()
		defer p.stMu.Unlock()
		return p.info, nil
	case <-t.C:
	case <-ctx.Done():
	}
	p.stMu.Lock()
	defer p.stMu.Unlock()
	why := "still connecting"
	if p.lastErr != nil {
		why = plainMessage(p.lastErr)
	}
	return nil, errs.New(errs.Party, "party %d: cluster not ready after %v: %s", p.id, d, why)
}

func (p *Party) acceptLoop(ctx context.Context) {
	allowed := map[tlsnet.Pin]int{p.cfg.ClientPin(): tlsnet.ClientID}
	for j := range p.cfg.N() {
		if j != p.id {
			allowed[p.cfg.Pin(j)] = j
		}
	}
	sem := make(chan struct{}, 64) // bounds concurrent handshakes
	for {
		raw, err := p.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne stdnet.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			p.log.Error("accept failed", "err", err)
			if !sleep(ctx, 100*time.Millisecond) {
				return
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			p.log.Warn("too many pending handshakes; dropping connection", "remote", raw.RemoteAddr().String())
			raw.Close()
			continue
		}
		go func() {
			defer func() { <-sem }()
			l, err := tlsnet.Accept(ctx, raw, p.cert, allowed, p.hello(), p.tl)
			if err != nil {
				p.log.Warn("refused connection", "remote", raw.RemoteAddr().String(), "err", plainMessage(err))
				if errs.KindOf(err) == errs.Config {
					select {
					case p.cfgErr <- err:
					default:
					}
				}
				return
			}
			switch peer := l.Peer(); {
			case peer == tlsnet.ClientID:
				p.serveClient(ctx, l)
			case peer < p.id:
				p.log.Debug("accepted party", "peer", peer, "remote", l.RemoteAddr())
				p.inMu.Lock()
				if old := p.inbound[peer]; old != nil {
					old.Close("superseded by a newer connection")
				}
				p.inbound[peer] = l
				p.inMu.Unlock()
				select {
				case p.inSig[peer] <- struct{}{}:
				default:
				}
			default:
				l.Close(fmt.Sprintf("party %d dials party %d, not the other way round", p.id, peer))
			}
		}()
	}
}

// connect forms a mesh: it dials every higher party (retrying until deadline; zero means
// no deadline) and takes the latest connection from every lower party, then all parties
// exchange nonces; the session id hashes them.
func (p *Party) connect(ctx context.Context, deadline time.Time, fatalMismatch bool) (*tlsnet.Mesh, string, error) {
	cctx, cancel := context.WithCancel(ctx)
	if !deadline.IsZero() {
		cctx, cancel = context.WithDeadline(ctx, deadline)
	}
	defer cancel()
	n := p.cfg.N()
	links := make([]*tlsnet.Link, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for j := range n {
		if j == p.id {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if j > p.id {
				links[j], err = p.dial(cctx, j)
			} else {
				links[j], err = p.await(cctx, j)
			}
			if err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var err error
	for err == nil {
		select {
		case <-done:
			select {
			case err = <-errc:
			default:
			}
			if err == nil {
				goto formed
			}
		case err = <-errc:
		case e := <-p.cfgErr:
			if fatalMismatch {
				err = e
			}
		}
	}
	cancel()
	<-done
	for _, l := range links {
		if l != nil {
			l.Close(plainMessage(err))
		}
	}
	return nil, "", err
formed:
	mesh, err := tlsnet.NewMesh(p.id, links, p.tl)
	if err != nil {
		return nil, "", err
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	nonces := make([]string, n)
	nonces[p.id] = hex.EncodeToString(nonce[:])
	for j := range n {
		if j != p.id {
			mesh.Send(j, encode(message{Op: "ready", Nonce: nonces[p.id], Party: p.id}))
		}
	}
	for j := range n {
		if j == p.id {
			continue
		}
		b, err := mesh.Recv(j)
		if err == nil {
			var m message
			if m, err = decode(b, tlsnet.PeerName(j)); err == nil && m.Op != "ready" {
				err = errs.New(errs.Party, "party %d sent %q instead of ready", j, m.Op)
			}
			nonces[j] = m.Nonce
		}
		if err != nil {
			mesh.Abort(plainMessage(err))
			return nil, "", err
		}
	}
	h := sha256.New()
	for _, s := range nonces {
		h.Write([]byte(s))
	}
	return mesh, hex.EncodeToString(h.Sum(nil)[:6]), nil
}

func (p *Party) dial(ctx context.Context, j int) (*tlsnet.Link, error) {
	backoff := 50 * time.Millisecond
	addr := p.cfg.Parties[j].Address
	for attempt := 1; ; attempt++ {
		l, err := tlsnet.Dial(ctx, addr, p.cert, j, p.cfg.Pin(j), p.hello(), p.tl)
		if err == nil {
			p.log.Debug("connected to party", "peer", j, "address", addr)
			return l, nil
		}
		if errs.KindOf(err) == errs.Config {
			select {
			case p.cfgErr <- err:
			default:
			}
		}
		if attempt == 1 || attempt%20 == 0 {
			p.log.Info("waiting for party", "peer", j, "address", addr, "err", plainMessage(err))
		}
		if !sleep(ctx, backoff) {
			return nil, errs.New(errs.Party, "party %d at %s not reachable: %s", j, addr, plainMessage(err))
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (p *Party) await(ctx context.Context, j int) (*tlsnet.Link, error) {
	for {
		p.inMu.Lock()
		l := p.inbound[j]
		p.inbound[j] = nil
		p.inMu.Unlock()
		if l != nil {
			if l.Err() == nil {
				return l, nil
			}
			continue
		}
		select {
		case <-p.inSig[j]:
		case <-ctx.Done():
			return nil, errs.New(errs.Party, "party %d did not connect (it dials party %d at %s)", j, p.id, p.cfg.Parties[p.id].Address)
		}
	}
}

// slot returns the rendezvous channel of request id (followers).
func (p *Party) slot(id string) chan *request {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	c, ok := p.pending[id]
	if !ok {
		c = make(chan *request, 1)
		p.pending[id] = c
	}
	return c
}

func (p *Party) dropSlot(id string) {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	delete(p.pending, id)
}

// claim waits at most one step for the client's request id to arrive at this party.
func (p *Party) claim(ctx context.Context, id string) (*request, error) {
	c := p.slot(id)
	defer p.dropSlot(id)
	t := time.NewTimer(time.Duration(p.cfg.Timeouts.Step))
	defer t.Stop()
	select {
	case r := <-c:
		return r, nil
	case <-t.C:
		return nil, errs.New(errs.Party, "party %d did not receive request %s from the client", p.id, id)
	case <-ctx.Done():
		return nil, errs.New(errs.Cancelled, "session closed")
	}
}

// serveClient answers one client connection's requests.
func (p *Party) serveClient(ctx context.Context, l *tlsnet.Link) {
	defer l.Close("done")
	log := p.log.With("client", l.RemoteAddr())
	log.Debug("client connected")
	step := time.Duration(p.cfg.Timeouts.Step)
	for {
		b, err := l.Recv(ctx, step)
		if err != nil {
			return
		}
		m, err := decode(b, "the client")
		if err != nil {
			l.Send(encode(errorMessage(p.id, err)))
			return
		}
		switch m.Op {
		case "info":
			info, err := p.waitReady(ctx, step)
			if err != nil {
				l.Send(encode(errorMessage(p.id, err)))
				continue
			}
			l.Send(encode(message{Op: "info", Info: info, Party: p.id}))
		case "infer":
			payload, err := l.Recv(ctx, step)
			if err != nil {
				return
			}
			if m.Request == "" || len(m.Request) > 64 {
				l.Send(encode(errorMessage(p.id, errs.New(errs.Party, "bad request id"))))
				return
			}
			req := newRequest(m.Request, payload)
			req.link, req.ctx = l, ctx
			if p.id == leader {
				if _, err := p.waitReady(ctx, step); err != nil {
					l.Send(encode(errorMessage(p.id, err)))
					continue
				}
				select {
				case p.queue <- req:
				default:
					l.Send(encode(errorMessage(p.id, errs.New(errs.Busy, "party %d: too many queued requests", p.id))))
					continue
				}
			} else {
				select {
				case p.slot(req.id) <- req:
				default:
					l.Send(encode(errorMessage(p.id, errs.New(errs.Party, "duplicate request id %s", req.id))))
					return
				}
			}
			var res result
			select {
			case res = <-req.result:
			case <-l.Done():
				close(req.gone)
				p.dropSlotIf(req)
				req.clientLeft()
				log.Info("client left before its result", "request", req.id)
				return
			case <-ctx.Done():
				l.Send(encode(errorMessage(p.id, errs.New(errs.Party, "party %d is shutting down", p.id))))
				return
			}
			if res.err != nil {
				select {
				case <-l.Done(): // its session ended because the client left (clientLeft)
					log.Info("client left before its result", "request", req.id)
					return
				default:
				}
				l.Send(encode(errorMessage(p.id, res.err)))
				continue
			}
			l.SendMany([][]byte{encode(message{Op: "result", Request: req.id, Stats: res.stats, Party: p.id}), res.out})
		default:
			l.Send(encode(errorMessage(p.id, errs.New(errs.Party, "unknown request %q", m.Op))))
			return
		}
	}
}

// dropSlotIf removes req's rendezvous if nobody claimed it.
func (p *Party) dropSlotIf(req *request) {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	if c, ok := p.pending[req.id]; ok && len(c) == 1 {
		delete(p.pending, req.id)
	}
}
