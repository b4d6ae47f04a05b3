package tlsnet

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
)

// Pin identifies a certificate's key: the SHA-256 of its SubjectPublicKeyInfo. Peers are
// accepted only if their certificate's pin is the one the configuration gives them.
type Pin [32]byte

// PinOf returns the pin of cert.
func PinOf(cert *x509.Certificate) Pin { return sha256.Sum256(cert.RawSubjectPublicKeyInfo) }

// PinOfDER returns the pin of a DER-encoded certificate.
func PinOfDER(der []byte) (Pin, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return Pin{}, fmt.Errorf("parsing certificate: %w", err)
	}
	return PinOf(c), nil
}

// String is the pin in hex, prefixed "sha256:".
func (p Pin) String() string { return "sha256:" + hex.EncodeToString(p[:]) }

// ClientID is the peer id of the (non-computing) client.
const ClientID = -1

// PeerName names a peer id in messages: "party 2" or "the client".
func PeerName(id int) string {
	if id == ClientID {
		return "the client"
	}
	return fmt.Sprintf("party %d", id)
}

// errUnpinned is returned by the verifiers for certificates outside the configuration.
var errUnpinned = errors.New("certificate is not one of the configuration's")

// serverTLS accepts connecting peers whose certificate pin is in allowed.
func serverTLS(own tls.Certificate, allowed map[Pin]int) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{own},
		ClientAuth:   tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer sent no certificate")
			}
			if _, ok := allowed[PinOf(cs.PeerCertificates[0])]; !ok {
				return fmt.Errorf("peer certificate %s: %w", PinOf(cs.PeerCertificates[0]), errUnpinned)
			}
			return nil
		},
	}
}

// clientTLS dials a peer whose certificate must have pin want. Chain verification is
// replaced by pinning (certificates are self-signed); TLS 1.3 still checks that the peer
// holds the certificate's private key.
func clientTLS(own tls.Certificate, want Pin, peer int) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{own},
		InsecureSkipVerify: true, // replaced by the pin check in VerifyConnection
		ServerName:         "qmpc",
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer sent no certificate")
			}
			if got := PinOf(cs.PeerCertificates[0]); got != want {
				return fmt.Errorf("%s presented certificate %s, the configuration pins %s", PeerName(peer), got, want)
			}
			return nil
		},
	}
}
