package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/cluster/inference"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

func engineCommands() []command {
	return []command{{"party", runParty}, {"infer", runInfer}}
}

// timeoutFlags adds --step-timeout and --connect-timeout, which override the config's.
func timeoutFlags(fs interface {
	Duration(string, time.Duration, string) *time.Duration
}) (step, connect *time.Duration) {
	step = fs.Duration("step-timeout", 0, "override the config's step timeout (longest wait for a peer)")
	connect = fs.Duration("connect-timeout", 0, "override the config's connect timeout")
	return
}

func loadConfig(path string, step, connect time.Duration) (*cluster.Config, error) {
	if path == "" {
		return nil, errs.New(errs.Config, "--config is required (make one with: qmpc certs --out DIR)")
	}
	cfg, err := cluster.Load(path)
	if err != nil {
		return nil, err
	}
	if step > 0 {
		cfg.Timeouts.Step = cluster.Duration(step)
	}
	if connect > 0 {
		cfg.Timeouts.Connect = cluster.Duration(connect)
	}
	return cfg, nil
}

func runParty(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("party", "party --config cluster.json --id N [--model MODEL] [flags]", stdout)
	cfgPath := fs.String("config", "", "cluster config (from qmpc certs)")
	id := fs.Int("id", -1, "this party's id in the config")
	modelPath := fs.String("model", "", "the model (.tflite or .onnx); only the model owner gives it")
	key := fs.String("key", "", "private key file (default: the config's key for this party)")
	listen := fs.String("listen", "", "listen on this host:port instead of the config's address (behind NAT or a proxy)")
	step, connect := timeoutFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *step, *connect)
	if err != nil {
		return err
	}
	if *id < 0 || *id >= cfg.N() {
		return errs.New(errs.Config, "--id %d: the config has parties 0..%d", *id, cfg.N()-1)
	}
	var g *model.Graph
	digest := ""
	switch {
	case *id == cfg.Owner && *modelPath == "":
		return errs.New(errs.Config, "party %d is the model owner: give --model", *id)
	case *id != cfg.Owner && *modelPath != "":
		return errs.New(errs.Config, "party %d is not the model owner (party %d is): do not give --model", *id, cfg.Owner)
	case *modelPath != "":
		if g, err = loadModel(*modelPath); err != nil {
			return err
		}
		digest = inference.ModelDigest(g)
		if cfg.ModelDigest != "" && cfg.ModelDigest != digest {
			return errs.New(errs.Config, "model %s has digest %s, the config pins %s", *modelPath, digest, cfg.ModelDigest)
		}
		log.Info("model loaded", "path", *modelPath, "digest", digest, "ops", len(g.Ops))
	}
	p, err := cluster.NewParty(cluster.PartyOptions{Config: cfg, ID: *id, KeyPath: *key, ModelDigest: digest, Listen: *listen,
		Computation: inference.EngineComputation(cfg, g), Logger: log})
	if err != nil {
		return err
	}
	err = p.Run(ctx)
	log.Info("party stopped", "err", err)
	return err
}

func runInfer(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("infer", "infer --config cluster.json --input x.npy --output y.npy [flags]", stdout)
	cfgPath := fs.String("config", "", "cluster config (from qmpc certs)")
	input := fs.String("input", "", "input tensor (.npy, the model input's integer type and shape)")
	output := fs.String("output", "", "where to write the first output (.npy); further outputs get _1, _2... suffixes")
	statsPath := fs.String("stats", "", "optional: write every party's statistics (JSON) here")
	key := fs.String("key", "", "client private key (default: the config's client key)")
	passes := fs.Int("passes", 1, "evaluate a batch as this many secure passes at once, each over a part of the batch in its own session (the cluster's max_sessions must allow them): on a slow link one pass computes while another's messages travel")
	step, connect := timeoutFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *passes < 1 {
		return errs.New(errs.Config, "--passes %d: want at least 1", *passes)
	}
	if *input == "" || *output == "" {
		fs.Usage()
		return errUsage
	}
	cfg, err := loadConfig(*cfgPath, *step, *connect)
	if err != nil {
		return err
	}
	x, err := readNpy(*input)
	if err != nil {
		return err
	}
	c, err := cluster.NewClient(cfg, *key)
	if err != nil {
		return err
	}
	res, err := inference.InferPasses(ctx, c, []model.Value{x}, nil, *passes)
	if err != nil {
		return err
	}
	for i, v := range res.Outputs {
		path := *output
		if i > 0 {
			path = fmt.Sprintf("%s_%d.npy", trimNpy(path), i)
		}
		if err := writeNpy(path, v); err != nil {
			return err
		}
	}
	if *statsPath != "" {
		b, _ := json.MarshalIndent(res.Parties, "", "  ")
		if err := os.WriteFile(*statsPath, b, 0o644); err != nil {
			return errs.New(errs.Config, "writing stats: %w", err)
		}
	}
	for _, ps := range res.Parties {
		log.Info("party stats", "party", ps.Party, "seconds", ps.Seconds, "bytes_sent", ps.Net.BytesSent, "rounds", ps.Net.Rounds)
	}
	fmt.Fprintf(stdout, "wrote %s (%d output(s), %.3f s)\n", *output, len(res.Outputs), res.Seconds)
	return nil
}

func trimNpy(p string) string {
	if len(p) > 4 && p[len(p)-4:] == ".npy" {
		return p[:len(p)-4]
	}
	return p
}
