package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// runKeygen makes this host's key pair: the private key stays here, the certificate goes
// to whoever assembles cluster.json.
func runKeygen(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("keygen", "keygen (--id N | --client) [--out DIR] [--force]", stdout)
	id := fs.Int("id", -1, "this host's party id (writes partyN.key and partyN.crt)")
	client := fs.Bool("client", false, "make the client's key instead (client.key and client.crt)")
	out := fs.String("out", ".", "directory for the key and the certificate")
	force := fs.Bool("force", false, "overwrite an existing key")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *client && *id >= 0:
		return errs.New(errs.Config, "give --id or --client, not both")
	case *client:
		*id = tlsnet.ClientID
	case *id < 0:
		return errs.New(errs.Config, "give --id N (this host's party id) or --client")
	}
	ident, err := cluster.Keygen(*out, *id, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (private key, mode 0600: keep it on this host, never copy it)\n", ident.KeyPath)
	fmt.Fprintf(stdout, "wrote %s (certificate: send it to whoever assembles cluster.json)\n", ident.CertPath)
	fmt.Fprintf(stdout, "pin %s\n", ident.Pin)
	fmt.Fprintf(stdout, "When you receive cluster.json, check that it pins this value for %s (qmpc cluster-config prints the pins).\n", tlsnet.PeerName(*id))
	return nil
}

// partyFlags collects repeated --party ID=HOST:PORT,CERT.
type partyFlags []cluster.PartyEntry

func (p *partyFlags) String() string { return fmt.Sprint(len(*p), " parties") }

func (p *partyFlags) Set(s string) error {
	e, err := cluster.ParsePartySpec(s)
	if err != nil {
		return err
	}
	*p = append(*p, e)
	return nil
}

// runClusterConfig assembles cluster.json from the parties' certificates and addresses.
func runClusterConfig(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("cluster-config", "cluster-config --party 0=HOST:PORT,party0.crt ... --client client.crt [--out cluster.json] [flags]", stdout)
	var parties partyFlags
	fs.Var(&parties, "party", "ID=HOST:PORT,CERT: party ID listens on HOST:PORT; CERT is the certificate it made with qmpc keygen (repeat for every party)")
	client := fs.String("client", "", "the client's certificate (from qmpc keygen --client)")
	out := fs.String("out", "cluster.json", "where to write the config")
	protocol := fs.String("protocol", cluster.DefaultProtocol, "protocol: "+registry.Help())
	owner := fs.Int("owner", 0, "id of the party that holds the model")
	modelPath := fs.String("model", "", "optional: pin this model file's digest (the owner then refuses to serve another)")
	digest := fs.String("model-digest", "", "optional: pin this model digest (hex, as qmpc inspect prints)")
	reveal := fs.String("reveal", "", `what the client learns: "output" (default) or "argmax"`)
	step := fs.Duration("step-timeout", 30*time.Second, "longest wait for a peer before an inference fails")
	connect := fs.Duration("connect-timeout", 2*time.Minute, "how long a starting party waits for the others")
	maxSessions := fs.Int("max-sessions", 0, "client requests served at once, each in its own session (default 4)")
	force := fs.Bool("force", false, "overwrite an existing config")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath != "" {
		if *digest != "" {
			return errs.New(errs.Config, "give --model or --model-digest, not both")
		}
		g, err := loadModel(*modelPath)
		if err != nil {
			return err
		}
		*digest = modelDigest(g)
	}
	cfg, err := cluster.Assemble(*out, cluster.AssembleOptions{Parties: parties, Client: *client, Protocol: *protocol,
		Owner: *owner, ModelDigest: strings.ToLower(*digest), Reveal: *reveal, MaxSessions: *maxSessions, Force: *force,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(*step), Connect: cluster.Duration(*connect)}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (protocol %s, %d parties, config %s); it holds certificates, no private key.\n", *out, cfg.Protocol, cfg.N(), cfg.Hash())
	for _, p := range cfg.Parties {
		fmt.Fprintf(stdout, "  party %d  %-21s  pin %s\n", p.ID, p.Address, cfg.Pin(p.ID))
	}
	fmt.Fprintf(stdout, "  client                          pin %s\n", cfg.ClientPin())
	fmt.Fprintf(stdout, "Give this file unchanged to every party and the client; each checks its own pin (printed by qmpc keygen)\n"+
		"and runs with its own key (--key, or %s next to the file).\n", "partyN.key / client.key")
	return nil
}

func runCerts(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("certs", "certs --parties N --out DIR [flags]\n\n"+
		"One-host shortcut for tests and demos: makes every party's and the client's private key in DIR,\n"+
		"so whoever runs it holds all keys and could impersonate any party. For a deployment, each party\n"+
		"and the client run qmpc keygen on their own host, and qmpc cluster-config assembles cluster.json.", stdout)
	parties := fs.Int("parties", 0, "number of computing parties (default: the protocol's)")
	out := fs.String("out", "cluster", "directory for keys, certificates and cluster.json")
	protocol := fs.String("protocol", cluster.DefaultProtocol, "protocol: "+registry.Help())
	host := fs.String("host", "127.0.0.1", "address of every party (edit cluster.json for separate hosts)")
	basePort := fs.Int("base-port", 7100, "party i listens on base-port+i")
	owner := fs.Int("owner", 0, "id of the party that holds the model")
	modelPath := fs.String("model", "", "optional model file whose digest the config pins")
	step := fs.Duration("step-timeout", 30*time.Second, "longest wait for a peer before an inference fails")
	connect := fs.Duration("connect-timeout", 2*time.Minute, "how long a starting party waits for the others")
	maxSessions := fs.Int("max-sessions", 0, "client requests served at once, each in its own session (default 4)")
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
		BasePort: *basePort, Owner: *owner, Model: digest, MaxSessions: *maxSessions, Force: *force,
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
	fmt.Fprintf(stdout, "Every key was made here (a one-host test or demo cluster). For separate organisations,\n"+
		"use qmpc keygen on each host and qmpc cluster-config instead.\n")
	return nil
}
