package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	stdnet "net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// A cluster's keys are made on the hosts that use them: each party and the client run
// Keygen on their own host, keep the private key there and hand over only the
// certificate (public); whoever assembles the cluster (Assemble) needs no private key.
// Generate makes every key in one directory, which is only for tests and demos on one
// host: whoever runs it holds every party's key and could impersonate any of them.

// IdentityName is the file stem of party id's key and certificate ("party<id>"), or of the
// client's ("client") for tlsnet.ClientID. Config.KeyPath looks for <stem>.key next to
// cluster.json by default.
func IdentityName(id int) string {
	if id == tlsnet.ClientID {
		return "client"
	}
	return fmt.Sprintf("party%d", id)
}

// Identity is what Keygen wrote.
type Identity struct {
	Name     string     // "party1" or "client"
	KeyPath  string     // the private key (mode 0600): it never leaves this host
	CertPath string     // the certificate, to hand to whoever assembles cluster.json
	Pin      tlsnet.Pin // SHA-256 of the certificate's public key, to check in cluster.json
}

// Keygen makes a new key pair for party id (tlsnet.ClientID for the client) in dir:
// <name>.key (private, mode 0600) and <name>.crt (a self-signed certificate, public).
// It refuses to overwrite an existing key unless force.
func Keygen(dir string, id int, force bool) (Identity, error) {
	if id < tlsnet.ClientID {
		return Identity{}, errs.New(errs.Config, "party id %d: want 0, 1, ... (or the client)", id)
	}
	name := IdentityName(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Identity{}, errs.New(errs.Config, "creating %s: %w", dir, err)
	}
	keyPath := filepath.Join(dir, name+".key")
	if !force {
		if _, err := os.Stat(keyPath); err == nil {
			return Identity{}, errs.New(errs.Config, "%s already exists: refusing to overwrite a key (use --force)", keyPath)
		}
	}
	return writeIdentity(dir, name)
}

func writeIdentity(dir, name string) (Identity, error) {
	certPEM, keyPEM, err := tlsnet.GenerateCert("qmpc-" + name)
	if err != nil {
		return Identity{}, errs.New(errs.Internal, "%s: %w", name, err)
	}
	_, pin, err := tlsnet.ParseCertPEM(certPEM)
	if err != nil {
		return Identity{}, errs.New(errs.Internal, "%s: %w", name, err)
	}
	id := Identity{Name: name, KeyPath: filepath.Join(dir, name+".key"), CertPath: filepath.Join(dir, name+".crt"), Pin: pin}
	if err := writeFile(id.KeyPath, keyPEM, 0o600); err != nil {
		return Identity{}, err
	}
	if err := writeFile(id.CertPath, certPEM, 0o644); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// ParsePartySpec reads "ID=HOST:PORT,CERT": party ID listens on HOST:PORT and CERT is the
// path of the certificate it made with Keygen.
func ParsePartySpec(s string) (PartyEntry, error) {
	idS, rest, ok := strings.Cut(s, "=")
	addr, cert, ok2 := strings.Cut(rest, ",")
	if !ok || !ok2 || cert == "" {
		return PartyEntry{}, errs.New(errs.Config, "party %q: want ID=HOST:PORT,CERT (e.g. 1=10.0.0.2:7101,party1.crt)", s)
	}
	id, err := strconv.Atoi(strings.TrimSpace(idS))
	if err != nil || id < 0 {
		return PartyEntry{}, errs.New(errs.Config, "party %q: id %q is not a party number 0, 1, ...", s, idS)
	}
	if _, _, err := stdnet.SplitHostPort(addr); err != nil {
		return PartyEntry{}, errs.New(errs.Config, "party %q: address %q: want host:port (%v)", s, addr, err)
	}
	return PartyEntry{ID: id, Address: addr, Cert: cert}, nil
}

// AssembleOptions are the inputs of Assemble.
type AssembleOptions struct {
	// Parties in any order, ids 0..n-1 each once; Cert is a certificate file path.
	Parties []PartyEntry
	// Client is the client's certificate file path.
	Client      string
	Protocol    string // default DefaultProtocol
	Owner       int    // the model owner (default 0)
	ModelDigest string // optional: pins the model (hex, as `qmpc inspect` prints)
	Reveal      string // "output" (default) or "argmax"
	MaxSessions int    // concurrent client sessions (0: DefaultMaxSessions)
	Timeouts    Timeouts
	Force       bool // overwrite an existing file
}

// Assemble writes a cluster config to path from every party's address and certificate
// and the client's certificate (made with Keygen on their own hosts). The certificates
// are copied into the file (inline PEM), so that the one file describes the cluster and
// is given unchanged to every party and the client; it holds no private key (each host
// gives its own with --key, or keeps <name>.key next to cluster.json). The result is
// checked as Load checks it (e.g. two parties with the same key are refused).
func Assemble(path string, opt AssembleOptions) (*Config, error) {
	if len(opt.Parties) == 0 {
		return nil, errs.New(errs.Config, "no parties: give each as ID=HOST:PORT,CERT")
	}
	if opt.Client == "" {
		return nil, errs.New(errs.Config, "no client certificate: give the one the client made with `qmpc keygen --client`")
	}
	if !opt.Force {
		if _, err := os.Stat(path); err == nil {
			return nil, errs.New(errs.Config, "%s already exists: refusing to overwrite it (use --force)", path)
		}
	}
	parties := append([]PartyEntry(nil), opt.Parties...)
	sort.Slice(parties, func(a, b int) bool { return parties[a].ID < parties[b].ID })
	for i, p := range parties {
		if p.ID != i {
			if i > 0 && parties[i-1].ID == p.ID {
				return nil, errs.New(errs.Config, "party %d is given twice", p.ID)
			}
			return nil, errs.New(errs.Config, "party %d is missing: give parties 0..%d", i, len(parties)-1)
		}
		pem, err := readCert(p.Cert)
		if err != nil {
			return nil, errs.New(errs.Config, "party %d certificate: %w", p.ID, err)
		}
		parties[i].Cert, parties[i].Key = pem, ""
	}
	clientPEM, err := readCert(opt.Client)
	if err != nil {
		return nil, errs.New(errs.Config, "client certificate: %w", err)
	}
	if d := opt.ModelDigest; d != "" {
		if b, err := hex.DecodeString(d); err != nil || len(b) != sha256.Size {
			return nil, errs.New(errs.Config, "model digest %q: want 64 hex digits (as `qmpc inspect` prints)", d)
		}
	}
	if opt.Protocol == "" {
		opt.Protocol = DefaultProtocol
	}
	cfg := &Config{Protocol: opt.Protocol, Owner: opt.Owner, ModelDigest: opt.ModelDigest, Reveal: opt.Reveal, MaxSessions: opt.MaxSessions,
		Parties: parties, Client: ClientEntry{Cert: clientPEM}, Timeouts: opt.Timeouts.WithDefaults()}
	cfg.dir = filepath.Dir(path)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, errs.New(errs.Config, "creating %s: %w", filepath.Dir(path), err)
	}
	if err := cfg.Save(path); err != nil {
		return nil, err
	}
	return Load(path)
}

// readCert reads a certificate file and checks that it holds a certificate and no private
// key (a key handed over by mistake is refused, not copied into cluster.json).
func readCert(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if strings.Contains(string(b), "PRIVATE KEY") {
		return "", fmt.Errorf("%s holds a private key: give the certificate (.crt), and keep the key on its host", path)
	}
	if _, _, err := tlsnet.ParseCertPEM(b); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return string(b), nil
}

// CertOptions configures Generate.
type CertOptions struct {
	Parties  int    // number of computing parties (default: the protocol's)
	Protocol string // default DefaultProtocol
	Host     string // address of every party (default 127.0.0.1); edit the file for real hosts
	BasePort int    // party i listens on BasePort+i (default 7100)
	Owner    int    // the model owner (default 0)
	Model    string // optional model digest to pin
	// MaxSessions bounds the concurrent client sessions (0: DefaultMaxSessions).
	MaxSessions int
	Timeouts    Timeouts
	Force       bool // overwrite existing key files
}

// Generate writes a new cluster into dir: a self-signed certificate and a private key
// (mode 0600) per party (party<i>.crt, party<i>.key) and for the client (client.crt,
// client.key), and cluster.json listing them. It returns the path of cluster.json.
//
// It is the one-host shortcut for tests and demos: every private key is made in one place,
// so whoever runs it could impersonate any party. A deployment makes each key on its own
// host with Keygen and assembles the config with Assemble.
func Generate(dir string, opt CertOptions) (string, error) {
	if opt.Protocol == "" {
		opt.Protocol = DefaultProtocol
	}
	if opt.Parties == 0 {
		opt.Parties = defaultParties(opt.Protocol)
	}
	if opt.Host == "" {
		opt.Host = "127.0.0.1"
	}
	if opt.BasePort == 0 {
		opt.BasePort = 7100
	}
	if opt.BasePort < 1 || opt.BasePort+opt.Parties > 65536 {
		return "", errs.New(errs.Config, "base port %d: ports %d..%d must be in 1..65535", opt.BasePort, opt.BasePort, opt.BasePort+opt.Parties-1)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", errs.New(errs.Config, "creating %s: %w", dir, err)
	}
	cfg := &Config{Protocol: opt.Protocol, Owner: opt.Owner, ModelDigest: opt.Model, MaxSessions: opt.MaxSessions, Timeouts: opt.Timeouts.WithDefaults()}
	names := make([]string, 0, opt.Parties+1)
	for i := range opt.Parties {
		names = append(names, IdentityName(i))
	}
	names = append(names, IdentityName(tlsnet.ClientID))
	if !opt.Force {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n+".key")); err == nil {
				return "", errs.New(errs.Config, "%s already exists: refusing to overwrite keys (use --force)", filepath.Join(dir, n+".key"))
			}
		}
	}
	for i, n := range names {
		if _, err := writeIdentity(dir, n); err != nil {
			return "", err
		}
		if i < opt.Parties {
			addr := stdnet.JoinHostPort(opt.Host, strconv.Itoa(opt.BasePort+i))
			cfg.Parties = append(cfg.Parties, PartyEntry{ID: i, Address: addr, Cert: n + ".crt", Key: n + ".key"})
		} else {
			cfg.Client = ClientEntry{Cert: n + ".crt", Key: n + ".key"}
		}
	}
	path := filepath.Join(dir, "cluster.json")
	if err := cfg.Save(path); err != nil {
		return "", err
	}
	if _, err := Load(path); err != nil {
		return "", err
	}
	return path, nil
}

func writeFile(path string, b []byte, mode os.FileMode) error {
	// Remove first so that the mode of a new file applies (WriteFile keeps an old one's).
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return errs.New(errs.Config, "replacing %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		return errs.New(errs.Config, "writing %s: %w", path, err)
	}
	return nil
}
