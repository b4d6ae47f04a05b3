package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// runBench measures one secure pass of a model, all parties in this process, and prints
// the per-layer table (engine.Result.Table) or the result as JSON.
func runBench(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("bench", "bench MODEL [--protocol rep3] [--batch N] [--reveal output|argmax] [--preprocessing dealer] [--json]", stdout)
	protocol := fs.String("protocol", "rep3", registry.Help())
	batch := fs.Int("batch", 1, "inputs evaluated in one secure pass")
	reveal := fs.String("reveal", "output", `what the client learns: "output" or "argmax"`)
	pre := fs.String("preprocessing", "", `"" (the protocol's own offline phase) or "dealer"`)
	asJSON := fs.Bool("json", false, "print the result as JSON")
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
