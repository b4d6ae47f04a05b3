package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

func runCerts(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("certs", "certs --parties N --out DIR [flags]", stdout)
	parties := fs.Int("parties", 0, "number of computing parties (default: the protocol's)")
	out := fs.String("out", "cluster", "directory for keys, certificates and cluster.json")
	protocol := fs.String("protocol", cluster.DefaultProtocol, "protocol: "+registry.Help())
	host := fs.String("host", "127.0.0.1", "address of every party (edit cluster.json for separate hosts)")
	basePort := fs.Int("base-port", 7100, "party i listens on base-port+i")
	owner := fs.Int("owner", 0, "id of the party that holds the model")
	modelPath := fs.String("model", "", "optional model file whose digest the config pins")
	step := fs.Duration("step-timeout", 30*time.Second, "longest wait for a peer before an inference fails")
	connect := fs.Duration("connect-timeout", 2*time.Minute, "how long a starting party waits for the others")
	force := fs.Bool("force", false, "overwrite existing keys")
	if err := parse(fs, args); err != nil {
		return err
	}
	digest := ""
	if *modelPath != "" {
		g, err := loadModel(*modelPath)
		if err != nil {
			return err
		}
		digest = modelDigest(g)
	}
	path, err := cluster.Generate(*out, cluster.CertOptions{Parties: *parties, Protocol: *protocol, Host: *host,
		BasePort: *basePort, Owner: *owner, Model: digest, Force: *force,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(*step), Connect: cluster.Duration(*connect)}})
	if err != nil {
		return err
	}
	cfg, err := cluster.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (protocol %s, %d parties, config %s)\n", path, cfg.Protocol, cfg.N(), cfg.Hash())
	for _, p := range cfg.Parties {
		fmt.Fprintf(stdout, "  party %d  %-21s  key %s\n", p.ID, p.Address, cfg.KeyPath(p.ID))
	}
	fmt.Fprintf(stdout, "  client                          key %s\n", cfg.KeyPath(-1))
	fmt.Fprintf(stdout, "Keys are private (mode 0600): give each host only its own.\n")
	return nil
}
