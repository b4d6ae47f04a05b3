package tlsnet

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
)

// WireVersion is the version of the frame format and hello exchange (2: clock frames).
const WireVersion = 2

// Options bounds a link's waits and sizes. Zero fields take the defaults.
type Options struct {
	// Timeout bounds every wait on a peer: a link on which no frame (data or ping) arrives
	// for this long fails, and Recv fails when no message arrives for this long. Default 30 s.
	Timeout time.Duration
	// HandshakeTimeout bounds the TLS handshake and hello exchange. Default 10 s.
	HandshakeTimeout time.Duration
	// PingInterval is how often an otherwise idle link sends a ping. Default Timeout/4,
	// at most 5 s.
	PingInterval time.Duration
	// MaxFrame is the largest frame payload accepted and sent. Default 1 MiB.
	MaxFrame int
	// MaxMessage is the largest message accepted. Default 1 GiB.
	MaxMessage int
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = min(o.Timeout/4, 5*time.Second)
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = 1 << 20
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = 1 << 30
	}
	return o
}

// Hello is what each side of a connection announces before any message: who it is and
// the settings both sides must agree on.
type Hello struct {
	Wire int `json:"wire"`
	// ID is the sender's party id, or ClientID.
	ID int `json:"id"`
	// Config holds named settings that must be equal on both sides (protocol, model
	// digest, party list...). An empty value means "no opinion" and matches anything.
	Config map[string]string `json:"config"`
	// Hash is ConfigHash(Config), for logs.
	Hash string `json:"hash"`
	// Session is a random id the dialer chooses, for logs.
	Session string `json:"session,omitempty"`
}

// ConfigHash is a SHA-256 over the sorted settings.
func ConfigHash(cfg map[string]string) string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(cfg[k]), cfg[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Mismatch returns a Config error naming every setting on which h and peer disagree, or nil.
func (h Hello) Mismatch(peer Hello) error {
	if h.Wire != peer.Wire {
		return errs.New(errs.Config, "wire protocol version differs: this side speaks %d, %s speaks %d", h.Wire, PeerName(peer.ID), peer.Wire)
	}
	keys := map[string]bool{}
	for k := range h.Config {
		keys[k] = true
	}
	for k := range peer.Config {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		a, b := h.Config[k], peer.Config[k]
		if a != "" && b != "" && a != b {
			diffs = append(diffs, fmt.Sprintf("%s: this side has %q, %s has %q", k, a, PeerName(peer.ID), b))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	return errs.New(errs.Config, "configuration mismatch with %s (hash %.12s vs %.12s): %s", PeerName(peer.ID), h.Hash, peer.Hash, strings.Join(diffs, "; "))
}

// Link is an authenticated, framed connection to one peer. A reader goroutine drains the
// socket into a queue (so peers that both send large messages never deadlock) and checks
// every frame; a pinger keeps idle links alive so that a silent peer is detected within
// Options.Timeout. Send and Recv may be called from different goroutines, but Recv from
// one goroutine at a time.
type Link struct {
	peer  int
	c     *tls.Conn
	opt   Options
	hello Hello // the peer's (of an eager link: once helloDone is closed)
	own   Hello // this side's

	// eager: the link was returned before the peer's hello arrived (DialEager); its
	// reader reads and checks the hello first. helloDone is closed once the hello is
	// checked, helloErr then holds the outcome.
	eager     bool
	helloDone chan struct{}
	helloErr  error

	wmu       sync.Mutex
	bw        *bufio.Writer
	wseq      uint64
	wclock    int64        // the clock of the last clock frame sent (0 before any)
	lastWrite atomic.Int64 // unix nanoseconds

	mu     sync.Mutex
	queue  []stamped
	err    error // final reader error
	notify chan struct{}

	done      chan struct{}
	closeOnce sync.Once

	bytesSent, bytesRecv, msgsSent, msgsRecv atomic.Int64
	rounds                                   atomic.Int64 // counted by Mesh
}

// stamped is a received message with the sender's Lamport clock when it was sent.
type stamped struct {
	msg   []byte
	clock int64
}

// Peer is the peer's id (ClientID for the client).
func (l *Link) Peer() int { return l.peer }

// PeerHello is what the peer announced.
func (l *Link) PeerHello() Hello { return l.hello }

// RemoteAddr is the peer's network address.
func (l *Link) RemoteAddr() string { return l.c.RemoteAddr().String() }

// Dial connects to the peer with id peer at addr, requires its certificate to have pin
// want, and exchanges hellos. ctx bounds the TCP connect.
func Dial(ctx context.Context, addr string, own tls.Certificate, peer int, want Pin, hello Hello, opt Options) (*Link, error) {
	return dial(ctx, addr, own, peer, want, hello, opt, false)
}

// DialEager is Dial that returns once its own hello is sent, without waiting a round
// trip for the peer's: the link's reader reads and checks the peer's hello before any
// message, and a mismatch or refusal fails the link (Recv and Send return it;
// HelloChecked waits for the outcome). The caller may send at once, but nothing that
// must only reach a peer with matching settings before HelloChecked returns nil: what it
// sends first reaches the peer even if the peer then refuses.
func DialEager(ctx context.Context, addr string, own tls.Certificate, peer int, want Pin, hello Hello, opt Options) (*Link, error) {
	return dial(ctx, addr, own, peer, want, hello, opt, true)
}

// dial is Dial (eager false) and DialEager (eager true): TCP connect bounded by ctx and
// the handshake timeout, TLS with the peer's pin, then handshakeMode.
func dial(ctx context.Context, addr string, own tls.Certificate, peer int, want Pin, hello Hello, opt Options, eager bool) (*Link, error) {
	opt = opt.WithDefaults()
	d := stdnet.Dialer{Timeout: opt.HandshakeTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, errs.New(errs.Party, "connecting to %s at %s: %w", PeerName(peer), addr, err)
	}
	c := tls.Client(raw, clientTLS(own, want, peer))
	l, err := handshakeMode(ctx, c, peer, hello, opt, eager)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return l, nil
}

// Accept runs the server side of a connection: TLS with a client certificate whose pin
// must be a key of allowed (the value is that peer's id), then the hello exchange.
func Accept(ctx context.Context, raw stdnet.Conn, own tls.Certificate, allowed map[Pin]int, hello Hello, opt Options) (*Link, error) {
	opt = opt.WithDefaults()
	c := tls.Server(raw, serverTLS(own, allowed))
	hctx, cancel := context.WithTimeout(ctx, opt.HandshakeTimeout)
	defer cancel()
	if err := c.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, errs.New(errs.Party, "TLS handshake with %s: %w", raw.RemoteAddr(), err)
	}
	peer := allowed[PinOf(c.ConnectionState().PeerCertificates[0])]
	l, err := handshake(ctx, c, peer, hello, opt)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return l, nil
}

func handshake(ctx context.Context, c *tls.Conn, peer int, hello Hello, opt Options) (*Link, error) {
	return handshakeMode(ctx, c, peer, hello, opt, false)
}

// handshakeMode runs the TLS handshake and sends this side's hello. Unless eager, it then
// reads and checks the peer's hello before it returns the link; if eager, the link's
// reader does that first (readPeerHello), and the link works from the start.
func handshakeMode(ctx context.Context, c *tls.Conn, peer int, hello Hello, opt Options, eager bool) (*Link, error) {
	name := PeerName(peer)
	c.SetDeadline(time.Now().Add(opt.HandshakeTimeout))
	hctx, cancel := context.WithTimeout(ctx, opt.HandshakeTimeout)
	defer cancel()
	if err := c.HandshakeContext(hctx); err != nil {
		return nil, errs.New(errs.Party, "TLS handshake with %s at %s: %w", name, c.RemoteAddr(), err)
	}
	hello.Wire = WireVersion
	hello.Hash = ConfigHash(hello.Config)
	hb, err := json.Marshal(hello)
	if err != nil {
		return nil, errs.New(errs.Internal, "encoding hello: %w", err)
	}
	buf := make([]byte, headerLen+len(hb))
	putHeader(buf, header{typ: frameHello, len: uint32(len(hb)), seq: 0})
	copy(buf[headerLen:], hb)
	if _, err := c.Write(buf); err != nil {
		return nil, errs.New(errs.Party, "sending hello to %s: %w", name, err)
	}
	l := &Link{peer: peer, c: c, opt: opt, own: hello, bw: bufio.NewWriterSize(c, 64<<10), wseq: 1,
		notify: make(chan struct{}, 1), done: make(chan struct{}), helloDone: make(chan struct{})}
	if eager {
		l.eager = true
		c.SetDeadline(time.Time{})
		l.lastWrite.Store(time.Now().UnixNano())
		go l.readLoop()
		go l.pingLoop()
		return l, nil
	}
	if err := l.readPeerHello(); err != nil {
		return nil, err
	}
	c.SetDeadline(time.Time{})
	l.lastWrite.Store(time.Now().UnixNano())
	go l.readLoop()
	go l.pingLoop()
	return l, nil
}

// readPeerHello reads the peer's hello (the first frame), checks it against this side's
// and records it; on a mismatch it tells the peer why. It closes helloDone.
func (l *Link) readPeerHello() (err error) {
	defer func() {
		l.helloErr = err
		close(l.helloDone)
	}()
	c, name, peer := l.c, PeerName(l.peer), l.peer
	var hdr [headerLen]byte
	h, err := readHeader(c, hdr[:], 0, 64<<10)
	if err != nil {
		return errs.New(errs.Party, "reading hello from %s: %w", name, err)
	}
	if h.typ == frameClose {
		reason := make([]byte, h.len)
		io.ReadFull(c, reason)
		return errs.New(errs.Party, "%s refused the connection: %s", name, reason)
	}
	if h.typ != frameHello {
		return errs.New(errs.Party, "%s: bad frame: %s frame before the hello", name, h.typ)
	}
	pb := make([]byte, h.len)
	if _, err := io.ReadFull(c, pb); err != nil {
		return errs.New(errs.Party, "reading hello from %s: %w", name, err)
	}
	var ph Hello
	if err := json.Unmarshal(pb, &ph); err != nil {
		return errs.New(errs.Party, "%s: bad frame: malformed hello: %v", name, err)
	}
	if ph.ID != peer {
		return errs.New(errs.Party, "peer with the certificate of %s claims to be %s", name, PeerName(ph.ID))
	}
	l.hello = ph
	if err := l.own.Mismatch(ph); err != nil {
		l.writeClose(err.Error())
		return err
	}
	return nil
}

// HelloChecked waits until the peer's hello has been read and found to match (at once
// for a link from Dial or Accept; a link from DialEager checks it in its reader) and
// returns the mismatch or failure if not, or ctx's error.
func (l *Link) HelloChecked(ctx context.Context) error {
	select {
	case <-l.helloDone:
		return l.helloErr
	case <-ctx.Done():
		return errs.New(errs.Cancelled, "waiting for the hello of %s: %w", PeerName(l.peer), ctx.Err())
	}
}

// Send writes one message (split into frames of at most MaxFrame bytes) and flushes.
func (l *Link) Send(msg []byte) error { return l.SendMany([][]byte{msg}) }

// SendMany writes several messages and flushes once. They carry clock 0 (see SendManyAt).
func (l *Link) SendMany(msgs [][]byte) error { return l.SendManyAt(msgs, 0) }

// SendManyAt is SendMany for messages sent at the sender's Lamport clock clock (the
// length of the longest chain of messages that ends at the sender, net.Stats.Hops): the
// receiver's RecvAt returns it with each message. A clock frame precedes the messages
// when clock differs from the last one sent.
func (l *Link) SendManyAt(msgs [][]byte, clock int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.failed(); err != nil {
		return err
	}
	l.c.SetWriteDeadline(time.Now().Add(l.opt.Timeout))
	var hdr [headerLen]byte
	if clock != l.wclock {
		var cb [headerLen + clockLen]byte
		putHeader(cb[:], header{typ: frameClock, len: clockLen, seq: l.wseq})
		binary.BigEndian.PutUint64(cb[headerLen:], uint64(clock))
		l.wseq++
		if _, err := l.bw.Write(cb[:]); err != nil {
			return l.writeFailed(err)
		}
		l.wclock = clock
	}
	for _, msg := range msgs {
		for first := true; first || len(msg) > 0; first = false {
			n, typ := len(msg), frameData
			if n > l.opt.MaxFrame {
				n, typ = l.opt.MaxFrame, frameMore
			}
			putHeader(hdr[:], header{typ: typ, len: uint32(n), seq: l.wseq})
			l.wseq++
			if _, err := l.bw.Write(hdr[:]); err != nil {
				return l.writeFailed(err)
			}
			if _, err := l.bw.Write(msg[:n]); err != nil {
				return l.writeFailed(err)
			}
			l.bytesSent.Add(int64(n))
			msg = msg[n:]
		}
		l.msgsSent.Add(1)
	}
	if err := l.bw.Flush(); err != nil {
		return l.writeFailed(err)
	}
	l.lastWrite.Store(time.Now().UnixNano())
	return nil
}

func (l *Link) writeFailed(err error) error {
	var e error
	if errors.Is(err, os.ErrDeadlineExceeded) {
		e = errs.New(errs.Party, "%s accepted no data for %v (stalled or unreachable)", PeerName(l.peer), l.opt.Timeout)
	} else {
		e = errs.New(errs.Party, "sending to %s: %w", PeerName(l.peer), err)
	}
	l.fail(e)
	l.c.Close()
	return e
}

// Recv returns the next message. timeout > 0 bounds the wait; timeout == 0 waits until a
// message arrives, the link fails (a silent peer fails it within Options.Timeout) or ctx
// ends.
func (l *Link) Recv(ctx context.Context, timeout time.Duration) ([]byte, error) {
	m, _, err := l.RecvAt(ctx, timeout)
	return m, err
}

// RecvAt is Recv that also returns the sender's Lamport clock when it sent the message
// (SendManyAt; 0 for messages sent without one).
func (l *Link) RecvAt(ctx context.Context, timeout time.Duration) ([]byte, int64, error) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	for {
		l.mu.Lock()
		if len(l.queue) > 0 {
			m := l.queue[0]
			l.queue[0] = stamped{}
			l.queue = l.queue[1:]
			l.mu.Unlock()
			l.bytesRecv.Add(int64(len(m.msg))) // counted when consumed, as the pipes do
			l.msgsRecv.Add(1)
			return m.msg, m.clock, nil
		}
		err := l.err
		l.mu.Unlock()
		if err != nil {
			return nil, 0, err
		}
		select {
		case <-l.notify:
		case <-tc:
			return nil, 0, errs.New(errs.Party, "%s sent no message for %v (stalled)", PeerName(l.peer), timeout)
		case <-ctx.Done():
			return nil, 0, errs.New(errs.Cancelled, "waiting for %s: %w", PeerName(l.peer), ctx.Err())
		}
	}
}

// Err returns the link's failure, or nil while it works.
func (l *Link) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Done is closed when the link fails or is closed.
func (l *Link) Done() <-chan struct{} { return l.done }

func (l *Link) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// fail records the link's first error and wakes waiters.
func (l *Link) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	l.closeOnce.Do(func() { close(l.done) })
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Close tells the peer why (best effort) and closes the connection.
func (l *Link) Close(reason string) {
	if reason == "" {
		reason = "closed"
	}
	l.fail(errs.New(errs.Party, "link to %s closed locally: %s", PeerName(l.peer), reason))
	if l.wmu.TryLock() {
		l.writeCloseLocked(reason)
		l.wmu.Unlock()
	}
	l.c.Close()
}

func (l *Link) writeClose(reason string) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.writeCloseLocked(reason)
}

func (l *Link) writeCloseLocked(reason string) {
	if len(reason) > 4096 {
		reason = reason[:4096]
	}
	l.c.SetWriteDeadline(time.Now().Add(time.Second))
	var hdr [headerLen]byte
	putHeader(hdr[:], header{typ: frameClose, len: uint32(len(reason)), seq: l.wseq})
	l.wseq++
	if l.bw != nil {
		l.bw.Write(hdr[:])
		l.bw.WriteString(reason)
		l.bw.Flush()
	}
}

func (l *Link) readLoop() {
	defer l.c.Close()
	if l.eager {
		l.c.SetReadDeadline(time.Now().Add(l.opt.HandshakeTimeout))
		if err := l.readPeerHello(); err != nil {
			l.fail(err)
			return
		}
	}
	name := PeerName(l.peer)
	var hdr [headerLen]byte
	seq := uint64(1)
	var partial []byte
	var clock int64 // the peer's clock for the messages that follow (clock frames)
	for {
		l.c.SetReadDeadline(time.Now().Add(l.opt.Timeout))
		h, err := readHeader(l.c, hdr[:], seq, l.opt.MaxFrame)
		if err == nil {
			seq++
			var body []byte
			joined := false // the frame's payload was read onto the end of partial
			if h.len > 0 {
				switch {
				case len(partial)+int(h.len) > l.opt.MaxMessage:
					err = &FrameError{fmt.Sprintf("oversized message: more than %d bytes", l.opt.MaxMessage)}
				case h.typ == frameMore || (h.typ == frameData && partial != nil):
					// A part of a long message: read in place at the end of what came
					// before (no frame-sized buffer to allocate, clear and copy again).
					n0 := len(partial)
					partial = slices.Grow(partial, int(h.len))[:n0+int(h.len)]
					_, err = io.ReadFull(l.c, partial[n0:])
					joined = true
				default:
					body = make([]byte, h.len)
					_, err = io.ReadFull(l.c, body)
				}
			}
			if err == nil {
				switch h.typ {
				case framePing:
				case frameClock:
					clock = int64(binary.BigEndian.Uint64(body))
				case frameMore:
					if !joined {
						partial = append(partial, body...)
					}
				case frameData:
					msg := body
					if partial != nil {
						if !joined {
							msg = append(partial, body...)
						} else {
							msg = partial
						}
						partial = nil
					}
					if msg == nil {
						msg = []byte{}
					}
					l.mu.Lock()
					l.queue = append(l.queue, stamped{msg, clock})
					l.mu.Unlock()
					select {
					case l.notify <- struct{}{}:
					default:
					}
				case frameClose:
					l.fail(errs.New(errs.Party, "%s closed the connection: %s", name, body))
					return
				case frameHello:
					err = &FrameError{"unexpected hello frame"}
				}
			}
		}
		if err != nil {
			var fe *FrameError
			switch {
			case errors.As(err, &fe):
				e := errs.New(errs.Party, "%s: %w", name, err)
				l.fail(e)
				l.writeClose(fe.Error())
			case errors.Is(err, os.ErrDeadlineExceeded):
				l.fail(errs.New(errs.Party, "%s sent nothing for %v (stalled or unreachable)", name, l.opt.Timeout))
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				l.fail(errs.New(errs.Party, "%s disconnected", name))
			default:
				l.fail(errs.New(errs.Party, "connection to %s: %w", name, err))
			}
			return
		}
	}
}

func (l *Link) pingLoop() {
	t := time.NewTicker(l.opt.PingInterval)
	defer t.Stop()
	var hdr [headerLen]byte
	for {
		select {
		case <-l.done:
			return
		case now := <-t.C:
			if now.UnixNano()-l.lastWrite.Load() < int64(l.opt.PingInterval)/2 || !l.wmu.TryLock() {
				continue
			}
			if l.failed() == nil {
				l.c.SetWriteDeadline(time.Now().Add(l.opt.Timeout))
				putHeader(hdr[:], header{typ: framePing, seq: l.wseq})
				l.wseq++
				_, err := l.bw.Write(hdr[:])
				if err == nil {
					err = l.bw.Flush()
				}
				if err != nil {
					l.wmu.Unlock()
					l.writeFailed(err)
					return
				}
				l.lastWrite.Store(time.Now().UnixNano())
			}
			l.wmu.Unlock()
		}
	}
}

// LinkStats counts one link's payload traffic.
type LinkStats struct {
	Peer          int   `json:"peer"`
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
	MessagesSent  int64 `json:"messages_sent"`
	MessagesRecv  int64 `json:"messages_received"`
	// Rounds counts the times this side started receiving from the peer after sending to
	// it (Mesh only).
	Rounds int64 `json:"rounds"`
}

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats {
	return LinkStats{Peer: l.peer, BytesSent: l.bytesSent.Load(), BytesReceived: l.bytesRecv.Load(),
		MessagesSent: l.msgsSent.Load(), MessagesRecv: l.msgsRecv.Load(), Rounds: l.rounds.Load()}
}
