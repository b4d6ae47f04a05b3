package cluster

import (
	"errors"
	"fmt"
	stdnet "net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// CertOptions configures Generate.
type CertOptions struct {
	Parties  int    // number of computing parties (default: the protocol's)
	Protocol string // default DefaultProtocol
	Host     string // address of every party (default 127.0.0.1); edit the file for real hosts
	BasePort int    // party i listens on BasePort+i (default 7100)
	Owner    int    // the model owner (default 0)
	Model    string // optional model digest to pin
	Timeouts Timeouts
	Force    bool // overwrite existing key files
}

// Generate writes a new cluster into dir: a self-signed certificate and a private key
// (mode 0600) per party (party<i>.crt, party<i>.key) and for the client (client.crt,
// client.key), and cluster.json listing them. It returns the path of cluster.json.
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
	cfg := &Config{Protocol: opt.Protocol, Owner: opt.Owner, ModelDigest: opt.Model, Timeouts: opt.Timeouts.WithDefaults()}
	names := make([]string, 0, opt.Parties+1)
	for i := range opt.Parties {
		names = append(names, fmt.Sprintf("party%d", i))
	}
	names = append(names, "client")
	if !opt.Force {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n+".key")); err == nil {
				return "", errs.New(errs.Config, "%s already exists: refusing to overwrite keys (use --force)", filepath.Join(dir, n+".key"))
			}
		}
	}
	for i, n := range names {
		certPEM, keyPEM, err := tlsnet.GenerateCert("qmpc-" + n)
		if err != nil {
			return "", errs.New(errs.Internal, "%s: %w", n, err)
		}
		if err := writeFile(filepath.Join(dir, n+".crt"), certPEM, 0o644); err != nil {
			return "", err
		}
		if err := writeFile(filepath.Join(dir, n+".key"), keyPEM, 0o600); err != nil {
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
