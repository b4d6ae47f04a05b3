package tlsnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
)

type ident struct {
	cert tls.Certificate
	pin  Pin
}

func newIdent(t testing.TB, name string) ident {
	t.Helper()
	cp, kp, err := GenerateCert(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadKeyPair(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	_, pin, err := ParseCertPEM(cp)
	if err != nil {
		t.Fatal(err)
	}
	return ident{c, pin}
}

func hello(id int, cfg map[string]string) Hello { return Hello{ID: id, Config: cfg} }

var baseCfg = map[string]string{"protocol": "rep3", "parties": "abc"}

// listen returns a loopback listener whose accepted connections go through Accept.
func listen(t testing.TB, own ident, allowed map[Pin]int, h Hello, opt Options) (string, chan *Link, chan error) {
	t.Helper()
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	links, errc := make(chan *Link, 4), make(chan error, 4)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				l, err := Accept(context.Background(), raw, own.cert, allowed, h, opt)
				if err != nil {
					errc <- err
					return
				}
				links <- l
			}()
		}
	}()
	return ln.Addr().String(), links, errc
}

func pair(t testing.TB, opt Options) (a, b *Link) {
	t.Helper()
	p0, p1 := newIdent(t, "p0"), newIdent(t, "p1")
	addr, links, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
	a, err := Dial(context.Background(), addr, p0.cert, 1, p1.pin, hello(0, baseCfg), opt)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b = <-links:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close("test end"); b.Close("test end") })
	return a, b
}

func TestLinkMessages(t *testing.T) {
	opt := Options{MaxFrame: 1000, Timeout: 5 * time.Second}
	a, b := pair(t, opt)
	sizes := []int{0, 1, 999, 1000, 1001, 5000, 2000, 1, 3001}
	var msgs [][]byte
	for i, n := range sizes {
		m := make([]byte, n)
		for j := range m {
			m[j] = byte(i*7 + j)
		}
		msgs = append(msgs, m)
	}
	if err := a.SendMany(msgs); err != nil {
		t.Fatal(err)
	}
	for i, want := range msgs {
		got, err := b.Recv(context.Background(), time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	if s := a.Stats(); s.BytesSent != int64(total) || s.MessagesSent != int64(len(sizes)) {
		t.Errorf("sender stats %+v, want %d bytes in %d messages", s, total, len(sizes))
	}
	if s := b.Stats(); s.BytesReceived != int64(total) || s.MessagesRecv != int64(len(sizes)) {
		t.Errorf("receiver stats %+v", s)
	}
	// And back.
	if err := b.Send([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Recv(context.Background(), time.Second); err != nil || string(got) != "pong" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestIdleLinkStaysUpWithPings(t *testing.T) {
	a, b := pair(t, Options{Timeout: 300 * time.Millisecond})
	time.Sleep(900 * time.Millisecond) // three timeouts without messages
	if err := a.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Recv(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	p0, p1, stranger := newIdent(t, "p0"), newIdent(t, "p1"), newIdent(t, "stranger")
	opt := Options{HandshakeTimeout: 2 * time.Second}
	tests := []struct {
		name      string
		dialAs    ident
		dialID    int
		serverPin Pin // the pin the dialer expects of the server
		dialCfg   map[string]string
		wantDial  string
		wantSrv   string
	}{
		{"stranger client certificate", stranger, 0, p1.pin, baseCfg, "", "not one of the configuration's"},
		{"server not the pinned one", p0, 0, stranger.pin, baseCfg, "party 1 presented certificate", ""},
		{"protocol differs", p0, 0, p1.pin, map[string]string{"protocol": "plain", "parties": "abc"},
			`protocol: this side has "plain", party 1 has "rep3"`, `protocol: this side has "rep3", party 0 has "plain"`},
		{"claims another id", p0, 2, p1.pin, baseCfg, "", "claims to be party 2"},
		{"empty setting matches", p0, 0, p1.pin, map[string]string{"protocol": "", "parties": "abc"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, links, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
			l, err := Dial(context.Background(), addr, tc.dialAs.cert, 1, tc.serverPin, hello(tc.dialID, tc.dialCfg), opt)
			ok := tc.wantDial == "" && tc.wantSrv == ""
			if ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				l.Close("")
				return
			}
			if err == nil {
				// The server may refuse after the client finished its side: the next read fails.
				_, err = l.Recv(context.Background(), 2*time.Second)
			}
			if err == nil {
				t.Fatal("dial succeeded")
			}
			if errs.KindOf(err) != errs.Party && errs.KindOf(err) != errs.Config {
				t.Errorf("dial error kind %s: %v", errs.KindOf(err), err)
			}
			if tc.wantDial != "" && !strings.Contains(err.Error(), tc.wantDial) {
				t.Errorf("dial error %q, want it to contain %q", err, tc.wantDial)
			}
			select {
			case err := <-errc:
				if tc.wantSrv != "" && !strings.Contains(err.Error(), tc.wantSrv) {
					t.Errorf("server error %q, want it to contain %q", err, tc.wantSrv)
				}
			case l := <-links:
				if tc.wantSrv != "" {
					t.Errorf("server accepted %s", PeerName(l.Peer()))
				}
			case <-time.After(3 * time.Second):
				if tc.wantSrv != "" {
					t.Error("server did not report")
				}
			}
		})
	}
}

func TestGarbageAndSilenceOnPort(t *testing.T) {
	p0, p1 := newIdent(t, "p0"), newIdent(t, "p1")
	opt := Options{HandshakeTimeout: 500 * time.Millisecond}
	addr, _, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
	for _, payload := range [][]byte{[]byte("GET / HTTP/1.0\r\n\r\n"), bytes.Repeat([]byte{0x16, 3, 1, 0xff, 0xff}, 100), nil} {
		c, err := stdnet.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(payload)
		start := time.Now()
		select {
		case err := <-errc:
			if !strings.Contains(err.Error(), "TLS handshake") {
				t.Errorf("error %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no error for %q", payload)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
		c.Close()
	}
}

// rawPeer completes TLS and the hello as party 0 by hand, then lets the test write frames.
func rawPeer(t *testing.T, opt Options) (*tls.Conn, *Link) {
	t.Helper()
	p0, p1 := newIdent(t, "p0"), newIdent(t, "p1")
	addr, links, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
	c, err := tls.Dial("tcp", addr, clientTLS(p0.cert, p1.pin, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h := hello(0, baseCfg)
	h.Wire = WireVersion
	hb, _ := json.Marshal(h)
	writeFrame(t, c, frameHello, 0, hb)
	var hdr [headerLen]byte
	ph, err := readHeader(c, hdr[:], 0, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, c, int64(ph.len))
	select {
	case l := <-links:
		t.Cleanup(func() { l.Close("") })
		return c, l
	case err := <-errc:
		t.Fatal(err)
	}
	return nil, nil
}

func writeFrame(t *testing.T, c io.Writer, typ frameType, seq uint64, body []byte) {
	t.Helper()
	b := make([]byte, headerLen+len(body))
	putHeader(b, header{typ: typ, len: uint32(len(body)), seq: seq})
	copy(b[headerLen:], body)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestBadFrames(t *testing.T) {
	opt := Options{MaxFrame: 100, MaxMessage: 250, Timeout: 400 * time.Millisecond}
	type frame struct {
		typ  frameType
		seq  uint64
		body []byte
	}
	data := func(seq uint64, n int) frame { return frame{frameData, seq, make([]byte, n)} }
	tests := []struct {
		name   string
		frames []frame
		raw    []byte // written after the frames
		ok     int    // messages delivered before the error
		want   string
	}{
		{"replayed", []frame{data(1, 3), data(1, 3)}, nil, 1, "replayed frame: sequence number 1, expected 2"},
		{"out of order", []frame{data(2, 3)}, nil, 0, "out-of-order frame: sequence number 2, expected 1"},
		{"oversized frame", []frame{data(1, 101)}, nil, 0, "oversized frame: 101 bytes, limit 100"},
		{"oversized message", []frame{{frameMore, 1, make([]byte, 100)}, {frameMore, 2, make([]byte, 100)}, data(3, 51)}, nil, 0, "oversized message"},
		{"reserved bytes", nil, []byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, "reserved bytes set"},
		{"unknown type", nil, []byte{99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, "unknown type 99"},
		{"second hello", []frame{{frameHello, 1, []byte("{}")}}, nil, 0, "unexpected hello"},
		{"ping with body", []frame{{framePing, 1, []byte("x")}}, nil, 0, "malformed ping"},
		{"short clock frame", []frame{{frameClock, 1, []byte{1, 2, 3}}}, nil, 0, "malformed clock frame (3 bytes)"},
		{"truncated frame then silence", nil, []byte{2, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2}, 0, "sent nothing for 400ms"},
		{"silence", nil, nil, 0, "sent nothing for 400ms"},
		{"close with reason", []frame{{frameClose, 1, []byte("bye")}}, nil, 0, "party 0 closed the connection: bye"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, l := rawPeer(t, opt)
			for _, f := range tc.frames {
				writeFrame(t, c, f.typ, f.seq, f.body)
			}
			if tc.raw != nil {
				c.Write(tc.raw)
			}
			start := time.Now()
			for i := 0; i < tc.ok; i++ {
				if _, err := l.Recv(context.Background(), time.Second); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			_, err := l.Recv(context.Background(), 2*time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if errs.KindOf(err) != errs.Party || !strings.Contains(err.Error(), "party 0") {
				t.Errorf("error %q: want a party error naming party 0", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestMeshExchange(t *testing.T) {
	const n = 3
	ids := make([]ident, n)
	for i := range ids {
		ids[i] = newIdent(t, fmt.Sprint("p", i))
	}
	allowed := map[Pin]int{}
	for i, id := range ids {
		allowed[id.pin] = i
	}
	opt := Options{Timeout: 2 * time.Second}
	links := make([][]*Link, n)
	for i := range links {
		links[i] = make([]*Link, n)
	}
	// Party j accepts from lower ids; i dials higher ids.
	addrs := make([]string, n)
	accepted := make([]chan *Link, n)
	for j := range n {
		var errc chan error
		addrs[j], accepted[j], errc = listen(t, ids[j], allowed, hello(j, baseCfg), opt)
		_ = errc
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			l, err := Dial(context.Background(), addrs[j], ids[i].cert, j, ids[j].pin, hello(i, baseCfg), opt)
			if err != nil {
				t.Fatal(err)
			}
			links[i][j] = l
			r := <-accepted[j]
			links[j][r.Peer()] = r
		}
	}
	meshes := make([]*Mesh, n)
	for i := range n {
		m, err := NewMesh(i, links[i], opt)
		if err != nil {
			t.Fatal(err)
		}
		meshes[i] = m
		defer m.Close()
	}
	// Each party sends its id to all, then sums what it receives: one round.
	var wg sync.WaitGroup
	sums := make([]int, n)
	errsc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := meshes[i]
			for j := range n {
				if j != i {
					m.Send(j, []byte{byte(i + 1)})
				}
			}
			for j := range n {
				if j != i {
					b, err := m.Recv(j)
					if err != nil {
						errsc <- err
						return
					}
					sums[i] += int(b[0])
				}
			}
		}()
	}
	wg.Wait()
	close(errsc)
	for err := range errsc {
		t.Fatal(err)
	}
	for i := range n {
		if want := 6 - (i + 1); sums[i] != want {
			t.Errorf("party %d: sum %d, want %d", i, sums[i], want)
		}
		s := meshes[i].Stats()
		if s.Rounds != 1 || s.BytesSent != 2 || s.BytesReceived != 2 || s.Messages != 2 {
			t.Errorf("party %d stats %+v", i, s)
		}
		for _, ls := range meshes[i].PeerStats() {
			if ls.BytesSent != 1 || ls.BytesReceived != 1 || ls.Rounds != 1 {
				t.Errorf("party %d link stats %+v", i, ls)
			}
		}
	}
	// Hops (the Lamport clock in the links' clock frames): after the round every clock
	// is 1; a chain 0 -> 1 -> 2 -> 0 of one-way messages, each sent after receiving the
	// previous one, ends at party 0 with clock 4, as the in-memory pipes count it
	// (TestPipesHops). Without the clock frames party 0 would report 0 hops.
	for i := range n {
		if s := meshes[i].Stats(); s.Hops != 1 || s.Clock != 1 {
			t.Errorf("party %d after one round: %d hops, clock %d; want 1", i, s.Hops, s.Clock)
		}
	}
	before := meshes[0].Stats()
	chain := make(chan error, 2)
	for i := 1; i < n; i++ {
		go func() {
			m := meshes[i]
			b, err := m.Recv(i - 1)
			if err == nil {
				err = m.Send((i+1)%n, b)
			}
			if err == nil {
				err = m.Flush()
			}
			chain <- err
		}()
	}
	if err := meshes[0].Send(1, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if b, err := meshes[0].Recv(2); err != nil || b[0] != 7 {
		t.Fatalf("chain: %v %v", b, err)
	}
	for range n - 1 {
		if err := <-chain; err != nil {
			t.Fatal(err)
		}
	}
	if s := meshes[0].Stats(); s.Hops != 4 || s.Sub(before).Hops != 3 {
		t.Errorf("party 0 after the chain: %d hops (%d in the chain); want 4 (3)", s.Hops, s.Sub(before).Hops)
	}
	if s := meshes[1].Stats(); s.Hops != 2 {
		t.Errorf("party 1 after the chain: %d hops, want 2", s.Hops)
	}
	// A party that goes away makes the others fail promptly, naming it.
	meshes[2].Abort("test kills party 2")
	_, err := meshes[0].Recv(2)
	if err == nil || !strings.Contains(err.Error(), "party 2") || errs.KindOf(err) != errs.Party {
		t.Fatalf("got %v", err)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatal("not an errs.Error")
	}
}

// TestRandomGarbageAfterHello: arbitrary bytes from an authenticated peer end the link with
// an error (or are a valid message), never a panic or a hang.
func TestRandomGarbageAfterHello(t *testing.T) {
	opt := Options{MaxFrame: 1 << 10, MaxMessage: 1 << 12, Timeout: 300 * time.Millisecond}
	rng := uint64(12345)
	next := func() byte { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return byte(rng) }
	for trial := 0; trial < 20; trial++ {
		c, l := rawPeer(t, opt)
		junk := make([]byte, 1+int(next())*4)
		for i := range junk {
			junk[i] = next()
		}
		if trial%2 == 0 && len(junk) >= headerLen { // a plausible header first
			putHeader(junk, header{typ: frameType(1 + next()%5), len: uint32(next()), seq: 1})
		}
		c.Write(junk)
		for {
			if _, err := l.Recv(context.Background(), 2*time.Second); err != nil {
				if errs.KindOf(err) != errs.Party {
					t.Fatalf("trial %d: error kind %s: %v", trial, errs.KindOf(err), err)
				}
				break
			}
		}
	}
}

// TestDialEager: a link from DialEager works before the peer's hello arrives (a message
// sent at once is delivered, the answer received, the peer's hello recorded); when the
// settings differ, HelloChecked and Recv return the Config mismatch, as Dial does.
func TestDialEager(t *testing.T) {
	opt := Options{Timeout: 5 * time.Second}
	p0, p1 := newIdent(t, "p0"), newIdent(t, "p1")
	addr, links, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
	a, err := DialEager(context.Background(), addr, p0.cert, 1, p1.pin, hello(0, baseCfg), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close("test end")
	if err := a.Send([]byte("first")); err != nil {
		t.Fatal(err)
	}
	var b *Link
	select {
	case b = <-links:
	case err := <-errc:
		t.Fatal(err)
	}
	defer b.Close("test end")
	if got, err := b.Recv(context.Background(), time.Second); err != nil || string(got) != "first" {
		t.Fatalf("server got %q, %v", got, err)
	}
	if err := b.Send([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Recv(context.Background(), time.Second); err != nil || string(got) != "answer" {
		t.Fatalf("client got %q, %v", got, err)
	}
	if err := a.HelloChecked(context.Background()); err != nil || a.PeerHello().ID != 1 || a.PeerHello().Config["protocol"] != "rep3" {
		t.Fatalf("hello: %v, %+v", err, a.PeerHello())
	}
	// Different settings: the eager link fails with the mismatch.
	other := map[string]string{"protocol": "semi2k", "parties": "abc"}
	m, err := DialEager(context.Background(), addr, p0.cert, 1, p1.pin, hello(0, other), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close("test end")
	err = m.HelloChecked(context.Background())
	if errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), "configuration mismatch") {
		t.Fatalf("HelloChecked: %v, want a configuration mismatch", err)
	}
	if _, err := m.Recv(context.Background(), time.Second); errs.KindOf(err) != errs.Config {
		t.Fatalf("Recv after a mismatch: %v, want the Config error", err)
	}
}
