// Package cluster runs qmpc's computing parties as separate processes (one per host) that
// talk over mutually authenticated TLS 1.3 (package tlsnet), and lets a client that is not
// a computing party submit inputs and receive outputs.
//
// A cluster is described by one JSON file (Config), given unchanged to every party and to
// the client: the protocol, each party's id, address and certificate, the client's
// certificate, and timeouts. Certificates are self-signed and pinned: a peer is accepted
// only if its certificate's public key is the one the file gives for its id. Private keys
// stay in separate files (mode 0600) on their own hosts.
//
// Topology: party i dials every party j > i and accepts from every j < i; the client dials
// every party. Party 0 leads: it gives each client request to one of the session's lanes
// (session.go), at most Config.Sessions() at once, each with its own protocol instance,
// multiplexed over the party links (mux.go). The computation's Start (the model owner's
// weight sharing, which package inference keeps across reconnects) runs once per session.
// A failed request ends only its lane; any failure of a party link ends the session on
// every party within Timeouts.Step; the survivors then reconnect and serve the next request
// once all parties are back.
package cluster

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	stdnet "net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// Duration is a time.Duration written in JSON as a Go duration string ("30s", "2m").
type Duration time.Duration

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var sec float64
	if err := json.Unmarshal(b, &sec); err != nil {
		return fmt.Errorf("duration: want a string such as \"30s\" or a number of seconds")
	}
	*d = Duration(sec * float64(time.Second))
	return nil
}

// Timeouts bound every wait of a party or client. Zero fields take the defaults.
type Timeouts struct {
	// Step bounds each wait for a peer's message (and a silent link): a party that dies,
	// stalls or disconnects stops the inference within this time. Default 30 s.
	Step Duration `json:"step,omitempty"`
	// Connect bounds how long a party waits for all peers at start-up, and a client for
	// the cluster to be ready. Default 2 min.
	Connect Duration `json:"connect,omitempty"`
	// Handshake bounds a TLS handshake and hello exchange. Default 10 s.
	Handshake Duration `json:"handshake,omitempty"`
}

// WithDefaults fills zero fields.
func (t Timeouts) WithDefaults() Timeouts {
	if t.Step <= 0 {
		t.Step = Duration(30 * time.Second)
	}
	if t.Connect <= 0 {
		t.Connect = Duration(2 * time.Minute)
	}
	if t.Handshake <= 0 {
		t.Handshake = Duration(10 * time.Second)
	}
	return t
}

// PartyEntry is one computing party.
type PartyEntry struct {
	ID      int    `json:"id"`
	Address string `json:"address"` // host:port the party listens on
	// Cert is the party's certificate: a path (relative to the config file) or inline PEM.
	Cert string `json:"cert"`
	// Key is the private key path (relative to the config file) used when this file is
	// given to this party; it may be absent on other hosts. Default "party<ID>.key".
	Key string `json:"key,omitempty"`
}

// ClientEntry is the client that submits inputs and receives outputs.
type ClientEntry struct {
	Cert string `json:"cert"`
	Key  string `json:"key,omitempty"` // default "client.key"
}

// Config describes a cluster. Every party and the client must be given the same one; its
// settings are compared when two of them connect, and a mismatch is refused naming the
// setting.
type Config struct {
	// Protocol is the qmpc protocol name (package mpc/registry; default DefaultProtocol).
	Protocol string `json:"protocol"`
	// Owner is the party that holds the model and secret-shares its weights.
	Owner int `json:"owner"`
	// ModelDigest, if set, pins the model: the owner refuses to serve another one, and
	// parties and clients refuse an owner that announces another one.
	ModelDigest string `json:"model_digest,omitempty"`
	// Reveal is what the client learns: "output" (default) or "argmax".
	Reveal string `json:"reveal,omitempty"`
	// MaxSessions bounds the client requests the cluster serves at once, each in its own
	// session (lane) with its own protocol instance; the leader refuses a request beyond
	// it with a qmpc:busy error naming the bound. Default DefaultMaxSessions.
	MaxSessions int `json:"max_sessions,omitempty"`
	// MaxMemoryMB, if not 0, bounds each party's memory for new requests: a party whose Go
	// heap holds more refuses them (qmpc:busy, naming the bound) while the running ones go
	// on. It is checked when a request is accepted, not enforced during one.
	MaxMemoryMB int          `json:"max_memory_mb,omitempty"`
	Parties     []PartyEntry `json:"parties"`
	Client      ClientEntry  `json:"client"`
	Timeouts    Timeouts     `json:"timeouts"`

	dir      string       // directory of the file, for relative paths
	pins     []tlsnet.Pin // per party
	client   tlsnet.Pin   // the client's
	certs    [][]byte     // per party, PEM
	clientPE []byte       // client PEM
}

// Load reads and checks a cluster file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.New(errs.Config, "reading cluster config: %w", err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, errs.New(errs.Config, "cluster config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("cluster config %s: %w", path, err)
	}
	return &c, nil
}

// Save writes the config as indented JSON.
func (c *Config) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return errs.New(errs.Internal, "encoding cluster config: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return errs.New(errs.Config, "writing cluster config: %w", err)
	}
	return nil
}

func (c *Config) check() error {
	if c.Protocol == "" {
		c.Protocol = DefaultProtocol
	}
	spec, err := clusterSpec(c.Protocol)
	if err != nil {
		return err
	}
	if c.MaxSessions < 0 || c.MaxSessions > 1024 {
		return errs.New(errs.Config, "max_sessions %d: want 1 to 1024 (0: the default, %d)", c.MaxSessions, DefaultMaxSessions)
	}
	if c.MaxMemoryMB < 0 {
		return errs.New(errs.Config, "max_memory_mb %d: want 0 (no bound) or more", c.MaxMemoryMB)
	}
	switch c.Reveal {
	case "", "output", "argmax":
	default:
		return errs.New(errs.Config, "reveal %q: want \"output\" or \"argmax\"", c.Reveal)
	}
	n := len(c.Parties)
	if _, err := spec.Parties(max(n, 1)); err != nil {
		return errs.New(errs.Config, "the config lists %d parties: %w", n, err)
	}
	if n < 2 {
		return errs.New(errs.Config, "a cluster needs at least 2 parties, the config lists %d", n)
	}
	if c.Owner < 0 || c.Owner >= n {
		return errs.New(errs.Config, "owner %d is not a party id in [0,%d)", c.Owner, n)
	}
	c.pins = make([]tlsnet.Pin, n)
	c.certs = make([][]byte, n)
	seen := map[tlsnet.Pin]string{}
	for i, p := range c.Parties {
		if p.ID != i {
			return errs.New(errs.Config, "parties[%d] has id %d: list parties in id order 0..%d", i, p.ID, n-1)
		}
		if _, _, err := stdnet.SplitHostPort(p.Address); err != nil {
			return errs.New(errs.Config, "party %d address %q: want host:port (%v)", i, p.Address, err)
		}
		pem, pin, err := c.loadCert(p.Cert)
		if err != nil {
			return errs.New(errs.Config, "party %d certificate: %w", i, err)
		}
		if other, dup := seen[pin]; dup {
			return errs.New(errs.Config, "party %d has the same certificate key as %s", i, other)
		}
		seen[pin] = fmt.Sprintf("party %d", i)
		c.pins[i], c.certs[i] = pin, pem
	}
	pem, pin, err := c.loadCert(c.Client.Cert)
	if err != nil {
		return errs.New(errs.Config, "client certificate: %w", err)
	}
	if other, dup := seen[pin]; dup {
		return errs.New(errs.Config, "the client has the same certificate key as %s", other)
	}
	c.client, c.clientPE = pin, pem
	c.Timeouts = c.Timeouts.WithDefaults()
	return nil
}

func (c *Config) path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

func (c *Config) loadCert(s string) ([]byte, tlsnet.Pin, error) {
	if s == "" {
		return nil, tlsnet.Pin{}, fmt.Errorf("missing (give a file path or inline PEM)")
	}
	var b []byte
	if strings.Contains(s, "-----BEGIN") {
		b = []byte(s)
	} else {
		var err error
		if b, err = os.ReadFile(c.path(s)); err != nil {
			return nil, tlsnet.Pin{}, err
		}
	}
	_, pin, err := tlsnet.ParseCertPEM(b)
	return b, pin, err
}

// DefaultMaxSessions is the bound on concurrent sessions of a config that gives none.
const DefaultMaxSessions = 4

// Sessions is the bound on concurrent client sessions (MaxSessions or its default).
func (c *Config) Sessions() int {
	if c.MaxSessions > 0 {
		return c.MaxSessions
	}
	return DefaultMaxSessions
}

// N is the number of parties.
func (c *Config) N() int { return len(c.Parties) }

// Pin returns party i's certificate pin.
func (c *Config) Pin(i int) tlsnet.Pin { return c.pins[i] }

// ClientPin returns the client's certificate pin.
func (c *Config) ClientPin() tlsnet.Pin { return c.client }

// KeyPath returns the private key path of party id (tlsnet.ClientID for the client).
func (c *Config) KeyPath(id int) string {
	if id == tlsnet.ClientID {
		if c.Client.Key != "" {
			return c.path(c.Client.Key)
		}
		return c.path("client.key")
	}
	if k := c.Parties[id].Key; k != "" {
		return c.path(k)
	}
	return c.path(fmt.Sprintf("party%d.key", id))
}

// LoadIdentity loads the certificate and private key of party id (or the client) from
// keyPath, or from KeyPath(id) when keyPath is empty, and checks that the key belongs to
// the configured certificate.
func (c *Config) LoadIdentity(id int, keyPath string) (tlsCert tls.Certificate, err error) {
	if keyPath == "" {
		keyPath = c.KeyPath(id)
	}
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return tlsCert, errs.New(errs.Config, "reading the private key of %s: %w", tlsnet.PeerName(id), err)
	}
	pem := c.clientPE
	if id != tlsnet.ClientID {
		pem = c.certs[id]
	}
	cert, err := tlsnet.LoadKeyPair(pem, key)
	if err != nil {
		return tlsCert, errs.New(errs.Config, "%s: key %s does not match the configured certificate: %w", tlsnet.PeerName(id), keyPath, err)
	}
	return cert, nil
}

// Settings returns the settings every party and the client must agree on, as compared in
// the hello exchange (model is the model digest the sender knows, or "").
func (c *Config) Settings(modelDigest string) map[string]string {
	if modelDigest == "" {
		modelDigest = c.ModelDigest
	}
	reveal := c.Reveal
	if reveal == "" {
		reveal = "output"
	}
	s := map[string]string{
		"protocol": c.Protocol,
		"owner":    fmt.Sprint(c.Owner),
		"reveal":   reveal,
		"model":    modelDigest,
		"parties":  fmt.Sprint(c.N()),
		"client":   c.client.String(),
	}
	for i, p := range c.Parties {
		s[fmt.Sprintf("party %d", i)] = p.Address + " " + c.pins[i].String()
	}
	return s
}

// Hash is a short hash of the settings (without the model digest), for logs.
func (c *Config) Hash() string {
	h := sha256.Sum256([]byte(tlsnet.ConfigHash(c.Settings("-"))))
	return hex.EncodeToString(h[:6])
}
