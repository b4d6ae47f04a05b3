package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
	"github.com/qmpc/qmpc/gocore/model/tflite"
)

// loadModel reads a .tflite (TFLite flatbuffer) or .onnx model.
func loadModel(path string) (*model.Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.New(errs.Model, "reading model: %w", err)
	}
	var g *model.Graph
	if len(data) >= 8 && bytes.Equal(data[4:8], []byte("TFL3")) {
		g, err = tflite.Read(data)
	} else {
		g, err = onnx.Read(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

func modelDigest(g *model.Graph) string {
	d := g.Digest()
	return hex.EncodeToString(d[:])
}

func runInspect(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
	fs := newFlagSet("inspect", "inspect MODEL.tflite|MODEL.onnx", stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	g, err := loadModel(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, model.Summary(g))
	fmt.Fprintf(stdout, "digest %s\n", modelDigest(g))
	return nil
}
