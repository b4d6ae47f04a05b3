package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/cluster/inference"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Cluster is a client of deployed `qmpc party` processes (an opaque handle): it secret-shares
// inputs to the parties over mutually authenticated TLS and reconstructs the outputs.
type Cluster struct {
	cfg    *cluster.Config
	client *cluster.Client
	cancel context.CancelFunc
	ctx    context.Context
}

// OpenCluster loads a cluster config (from `qmpc certs`) and the client's private key
// (keyPath, or the config's client key when empty). stepTimeout > 0 (seconds) overrides
// the config's step timeout.
func OpenCluster(configPath, keyPath string, stepTimeout float64) (c *Cluster, err error) {
	defer guard(&err)
	cfg, err := cluster.Load(configPath)
	if err != nil {
		return nil, err
	}
	if stepTimeout > 0 {
		cfg.Timeouts.Step = cluster.Duration(time.Duration(stepTimeout * float64(time.Second)))
	}
	cl, err := cluster.NewClient(cfg, keyPath)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cluster{cfg: cfg, client: cl, ctx: ctx, cancel: cancel}, nil
}

// ConfigJSON describes the cluster: protocol, owner, reveal, parties (id, address, pin),
// timeouts in seconds.
func (c *Cluster) ConfigJSON() (s string, err error) {
	defer guard(&err)
	type party struct {
		ID      int    `json:"id"`
		Address string `json:"address"`
		Pin     string `json:"pin"`
	}
	out := struct {
		Protocol string             `json:"protocol"`
		Owner    int                `json:"owner"`
		Reveal   string             `json:"reveal"`
		Parties  []party            `json:"parties"`
		Client   string             `json:"client_pin"`
		Timeouts map[string]float64 `json:"timeouts"`
		Hash     string             `json:"hash"`
	}{Protocol: c.cfg.Protocol, Owner: c.cfg.Owner, Reveal: c.cfg.Reveal, Client: c.cfg.ClientPin().String(), Hash: c.cfg.Hash(),
		Timeouts: map[string]float64{
			"step":      time.Duration(c.cfg.Timeouts.Step).Seconds(),
			"connect":   time.Duration(c.cfg.Timeouts.Connect).Seconds(),
			"handshake": time.Duration(c.cfg.Timeouts.Handshake).Seconds(),
		}}
	if out.Reveal == "" {
		out.Reveal = "output"
	}
	for i, p := range c.cfg.Parties {
		out.Parties = append(out.Parties, party{p.ID, p.Address, c.cfg.Pin(i).String()})
	}
	return toJSON(out)
}

// Cancel aborts a running Infer (its connections close; the parties see the client leave).
func (c *Cluster) Cancel() (ok bool, err error) {
	defer guard(&err)
	c.cancel()
	return true, nil
}

// ClusterResult is one cluster inference's outcome (an opaque handle).
type ClusterResult struct {
	outputs []byte
	stats   string
}

// Outputs returns the outputs in the packed tensor format (tensors.go), with a warning per
// float input that was quantized.
func (r *ClusterResult) Outputs() (b []byte, err error) {
	defer guard(&err)
	return r.outputs, nil
}

// StatsJSON returns the statistics: the fields of a local run's result (protocol,
// parties, setup, layers, total, seconds; see engine.Result) and "cluster": every party's
// own report (seconds, traffic per peer, per-layer stats).
func (r *ClusterResult) StatsJSON() (s string, err error) {
	defer guard(&err)
	return r.stats, nil
}

// Infer runs one inference: inputs are packed tensors (one per model input; float32 is
// quantized with the model's input parameters, with a warning). A batch [N, ...] for a
// batch-1 model is evaluated in one secure pass (the batch size travels with the request)
// and gives [N, ...] outputs.
func (c *Cluster) Infer(inputs []byte) (r *ClusterResult, err error) {
	return c.InferPasses(inputs, 1)
}

// InferPasses is Infer that evaluates a batch as min(passes, N) secure passes at once,
// each over a consecutive part of the batch in a client session of its own
// (inference.InferPasses); the outputs are those of one pass.
func (c *Cluster) InferPasses(inputs []byte, passes int) (r *ClusterResult, err error) {
	defer guard(&err)
	if passes < 1 {
		return nil, errs.New(errs.Config, "passes=%d: want at least 1", passes)
	}
	if c.ctx.Err() != nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.ctx, c.cancel = ctx, cancel
	}
	vals, err := unpack(inputs)
	if err != nil {
		return nil, err
	}
	var warnings []string
	prepare := func(g *model.Graph, in []model.Value) ([]model.Value, error) {
		bg := g
		n := batchSize(g, in)
		if n > 1 { // a batch: checked against the batched graph's inputs
			var err error
			if bg, err = engine.BatchGraph(g, n); err != nil {
				return nil, err
			}
		}
		v, w, err := prepareInputs(bg, asBatched(bg, in, n))
		warnings = w
		return v, err
	}
	res, err := inference.InferPasses(c.ctx, c.client, vals, prepare, passes)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, errs.New(errs.Cancelled, "inference cancelled")
		}
		return nil, err
	}
	out, err := pack(res.Outputs, warnings)
	if err != nil {
		return nil, err
	}
	st := struct {
		*engine.Result
		Cluster []inference.PartyStats `json:"cluster"`
	}{Result: res.Summary(), Cluster: res.Parties}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, errs.New(errs.Internal, "encoding stats: %w", err)
	}
	return &ClusterResult{outputs: out, stats: string(b)}, nil
}

// GenerateCluster writes keys, certificates and cluster.json for a new cluster into dir
// (see `qmpc certs`) and returns the path of cluster.json. Parties listen on
// host:basePort+i. stepTimeout (seconds, 0 for the default 30) bounds every wait.
func GenerateCluster(dir string, parties int, protocol, host string, basePort int, stepTimeout float64, maxSessions int, force bool) (path string, err error) {
	defer guard(&err)
	return cluster.Generate(dir, cluster.CertOptions{Parties: parties, Protocol: protocol, Host: host, BasePort: basePort, MaxSessions: maxSessions, Force: force,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(time.Duration(stepTimeout * float64(time.Second)))}})
}

// ServeParty runs party id of the cluster in this process until SIGINT or SIGTERM (what
// `qmpc party` does); the model owner gives modelPath. Logs go to standard error (level
// "debug", "info", "warn" or "error"). It is meant for a dedicated process
// (python -m qmpc.cluster party ...), never for a notebook's own kernel.
func ServeParty(configPath string, id int, modelPath, keyPath, logLevel string) (ok bool, err error) {
	defer guard(&err)
	cfg, err := cluster.Load(configPath)
	if err != nil {
		return false, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return false, errs.New(errs.Config, "log level %q: want debug, info, warn or error", logLevel)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var g *model.Graph
	digest := ""
	if modelPath != "" {
		data, err := os.ReadFile(modelPath)
		if err != nil {
			return false, errs.New(errs.Model, "reading model: %w", err)
		}
		m, err := LoadModel(data)
		if err != nil {
			return false, err
		}
		g = m.g
		digest = inference.ModelDigest(g)
		if cfg.ModelDigest != "" && cfg.ModelDigest != digest {
			return false, errs.New(errs.Config, "model %s has digest %s, the config pins %s", modelPath, digest, cfg.ModelDigest)
		}
	}
	if id == cfg.Owner && g == nil {
		return false, errs.New(errs.Config, "party %d is the model owner: give the model", id)
	}
	p, err := cluster.NewParty(cluster.PartyOptions{Config: cfg, ID: id, KeyPath: keyPath, ModelDigest: digest,
		Computation: inference.EngineComputation(cfg, g), Logger: log})
	if err != nil {
		return false, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Run(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// BenchCluster measures one inference of a batch of zero-valued inputs on the running
// cluster of configPath, as its client (what `qmpc bench --cluster` does), and returns the
// per-layer table (or the summary as JSON). modelPath, if given, must be the model the
// cluster serves.
func BenchCluster(configPath, keyPath, modelPath string, batch int, asJSON bool) (s string, err error) {
	defer guard(&err)
	cfg, err := cluster.Load(configPath)
	if err != nil {
		return "", err
	}
	digest := ""
	if modelPath != "" {
		data, err := os.ReadFile(modelPath)
		if err != nil {
			return "", errs.New(errs.Model, "reading model: %w", err)
		}
		m, err := LoadModel(data)
		if err != nil {
			return "", err
		}
		digest = inference.ModelDigest(m.g)
	}
	c, err := cluster.NewClient(cfg, keyPath)
	if err != nil {
		return "", err
	}
	res, err := inference.Bench(context.Background(), c, batch, digest)
	if err != nil {
		return "", err
	}
	sum := res.Summary()
	if asJSON {
		return toJSON(sum)
	}
	return fmt.Sprintf("cluster %s (%s, %d parties), client wall time %.3f s\n", configPath, cfg.Protocol, cfg.N(), res.Seconds) + sum.Table(), nil
}

// Keygen makes a new private key (mode 0600) and self-signed certificate for party id, or
// for the client when id is -1, in dir (what `qmpc keygen` does: the key stays on this
// host, the certificate goes to whoever assembles cluster.json). It returns JSON with
// "key", "cert" (paths) and "pin".
func Keygen(dir string, id int, force bool) (s string, err error) {
	defer guard(&err)
	ident, err := cluster.Keygen(dir, id, force)
	if err != nil {
		return "", err
	}
	return toJSON(map[string]string{"key": ident.KeyPath, "cert": ident.CertPath, "pin": ident.Pin.String()})
}

// AssembleCluster writes a cluster config to path from the parties' addresses and
// certificates and the client's certificate (what `qmpc cluster-config` does). parties
// holds one "ID=HOST:PORT,CERT" per line; modelPath (a model file) or modelDigest, if
// given, pins the model; timeouts in seconds (0: the defaults). It returns JSON with the
// config's "hash", each party's "id", "address" and "pin", and the "client_pin".
func AssembleCluster(path, parties, client, protocol string, owner int, modelPath, modelDigest, reveal string,
	stepTimeout, connectTimeout float64, maxSessions int, force bool) (s string, err error) {
	defer guard(&err)
	opt := cluster.AssembleOptions{Client: client, Protocol: protocol, Owner: owner, ModelDigest: modelDigest, Reveal: reveal,
		MaxSessions: maxSessions, Force: force,
		Timeouts: cluster.Timeouts{Step: cluster.Duration(time.Duration(stepTimeout * float64(time.Second))),
			Connect: cluster.Duration(time.Duration(connectTimeout * float64(time.Second)))}}
	for _, line := range strings.Split(parties, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		e, err := cluster.ParsePartySpec(line)
		if err != nil {
			return "", err
		}
		opt.Parties = append(opt.Parties, e)
	}
	if modelPath != "" {
		if modelDigest != "" {
			return "", errs.New(errs.Config, "give a model or a model digest, not both")
		}
		data, err := os.ReadFile(modelPath)
		if err != nil {
			return "", errs.New(errs.Model, "reading model: %w", err)
		}
		m, err := LoadModel(data)
		if err != nil {
			return "", err
		}
		opt.ModelDigest = inference.ModelDigest(m.g)
	}
	cfg, err := cluster.Assemble(path, opt)
	if err != nil {
		return "", err
	}
	type party struct {
		ID      int    `json:"id"`
		Address string `json:"address"`
		Pin     string `json:"pin"`
	}
	out := struct {
		Path    string  `json:"path"`
		Hash    string  `json:"hash"`
		Parties []party `json:"parties"`
		Client  string  `json:"client_pin"`
	}{Path: path, Hash: cfg.Hash(), Client: cfg.ClientPin().String()}
	for i, p := range cfg.Parties {
		out.Parties = append(out.Parties, party{p.ID, p.Address, cfg.Pin(i).String()})
	}
	return toJSON(out)
}
