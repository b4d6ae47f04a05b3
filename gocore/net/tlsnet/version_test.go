package tlsnet

import (
	"crypto/tls"
	stdnet "net"
	"strings"
	"testing"
	"time"
)

// A party accepts only TLS 1.3 with a client certificate: a TLS 1.2 peer holding an
// allowed certificate, and a TLS 1.3 peer with no certificate, are refused at the handshake.
func TestOnlyTLS13WithClientCertificate(t *testing.T) {
	p0, p1 := newIdent(t, "p0"), newIdent(t, "p1")
	opt := Options{HandshakeTimeout: 2 * time.Second}
	tests := []struct {
		name    string
		cfg     *tls.Config
		wantSrv string
	}{
		{"TLS 1.2 with an allowed certificate", &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p0.cert},
			InsecureSkipVerify: true}, "unsupported versions"},
		{"TLS 1.3 without a certificate", &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, links, errc := listen(t, p1, map[Pin]int{p0.pin: 0}, hello(1, baseCfg), opt)
			raw, err := stdnet.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c := tls.Client(raw, tc.cfg)
			c.SetDeadline(time.Now().Add(3 * time.Second))
			herr := c.Handshake()
			if herr == nil { // TLS 1.3: the server's refusal of the client arrives on the first read
				_, herr = c.Read(make([]byte, 1))
			}
			if herr == nil {
				t.Fatal("handshake and read succeeded")
			}
			select {
			case err := <-errc:
				if !strings.Contains(err.Error(), tc.wantSrv) {
					t.Errorf("server error %q, want it to contain %q", err, tc.wantSrv)
				}
			case l := <-links:
				t.Fatalf("server accepted %s", PeerName(l.Peer()))
			case <-time.After(3 * time.Second):
				t.Fatal("server did not report")
			}
		})
	}
}
