package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/cluster/inference"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// runBench measures one secure pass of a model, all parties in this process (or, with
// --cluster, on a running cluster as its client), and prints the per-layer table
// (engine.Result.Table) or the result as JSON.
func runBench(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("bench", "bench MODEL [--protocol rep3] [--batch N] [--reveal output|argmax] [--preprocessing dealer] [--json]\n"+
		"       bench [MODEL] --cluster cluster.json [--key client.key] [--batch N] [--json]", stdout)
	protocol := fs.String("protocol", "rep3", registry.Help())
	batch := fs.Int("batch", 1, "inputs evaluated in one secure pass")
	reveal := fs.String("reveal", "output", `what the client learns: "output" or "argmax"`)
	pre := fs.String("preprocessing", "", `"" (the protocol's own offline phase) or "dealer"`)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cfgPath := fs.String("cluster", "", "measure on this running cluster (its config) instead of locally; "+
		"the cluster's protocol, reveal and model (MODEL, if given, must be the one it serves)")
	key := fs.String("key", "", "with --cluster: the client's private key (default: the config's)")
	if err := parse(fs, args); err != nil {
		return err
	}
	path := fs.Arg(0)
	if fs.NArg() > 1 { // flags after MODEL
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stdout, "qmpc bench: unexpected argument %q\n", fs.Arg(0))
			fs.Usage()
			return errUsage
		}
	}
	if *cfgPath != "" {
		text, err := benchCluster(ctx, *cfgPath, *key, path, *batch, *asJSON)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, text)
		return nil
	}
	if path == "" {
		fs.Usage()
		return errUsage
	}
	text, err := benchText(path, engine.BenchOptions{Protocol: *protocol, Batch: *batch, Preprocessing: *pre}, *reveal, *asJSON)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, text)
	return nil
}

func benchText(path string, o engine.BenchOptions, reveal string, asJSON bool) (string, error) {
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return "", err
	}
	o.Reveal = rv
	g, err := loadModel(path)
	if err != nil {
		return "", err
	}
	res, err := engine.Bench(g, o)
	if err != nil {
		return "", err
	}
	if asJSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	}
	return res.Table(), nil
}

// benchCluster runs one inference of a batch of zeros on the cluster of config cfgPath and
// formats its summary; modelPath, if given, must be the model the cluster serves.
func benchCluster(ctx context.Context, cfgPath, key, modelPath string, batch int, asJSON bool) (string, error) {
	cfg, err := cluster.Load(cfgPath)
	if err != nil {
		return "", err
	}
	digest := ""
	if modelPath != "" {
		g, err := loadModel(modelPath)
		if err != nil {
			return "", err
		}
		digest = inference.ModelDigest(g)
	}
	c, err := cluster.NewClient(cfg, key)
	if err != nil {
		return "", err
	}
	res, err := inference.Bench(ctx, c, batch, digest)
	if err != nil {
		return "", err
	}
	sum := res.Summary()
	if asJSON {
		b, err := json.MarshalIndent(sum, "", "  ")
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	}
	return fmt.Sprintf("cluster %s (%s, %d parties), client wall time %.3f s\n", cfgPath, cfg.Protocol, cfg.N(), res.Seconds) + sum.Table(), nil
}
