package pybind

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// Model is a loaded, validated quantized model (an opaque handle for Python).
type Model struct {
	g      *model.Graph
	plan   *qnn.Plan // the cleartext evaluator's prepared parameters (safe for concurrent use)
	format string

	secureOnce sync.Once
	secure     *engine.Batches // the secure engine's plans per batch size, made on first use
	secureErr  error

	bp batchPlans // the cleartext plans of batches
}

// newModel prepares a graph for evaluation.
func newModel(g *model.Graph, format string) (*Model, error) {
	plan, err := qnn.NewPlan(g)
	if err != nil {
		return nil, err
	}
	return &Model{g: g, plan: plan, format: format}, nil
}

// graph returns the model's graph, for the other files of this package.
func (m *Model) graph() (*model.Graph, error) {
	if m == nil || m.g == nil {
		return nil, errs.New(errs.Model, "no model (nil handle)")
	}
	return m.g, nil
}

// LoadModel parses a model file's contents. The format is detected from the contents:
// TFLite flatbuffers (file identifier "TFL3") are supported; other formats give an error
// of kind model. Unsupported operators give one unsupported-op error listing them all.
func LoadModel(data []byte) (m *Model, err error) {
	defer guard(&err)
	switch format := sniffFormat(data); format {
	case "tflite":
		g, err := tflite.Read(data)
		if err != nil {
			return nil, err
		}
		return newModel(g, format)
	case "":
		return nil, errs.New(errs.Model, "empty model file")
	case "onnx":
		return LoadONNX(data)
	default:
		return nil, errs.New(errs.Model, "unrecognized model format: expected a TFLite flatbuffer (file identifier \"TFL3\" at byte 4), got %d bytes starting %q",
			len(data), data[:min(len(data), 8)])
	}
}

// sniffFormat names a model file's format from its first bytes: "tflite", "onnx" (a
// protobuf whose first field is ir_version), "" for no data, "unknown" otherwise.
func sniffFormat(data []byte) string {
	switch {
	case len(data) == 0:
		return ""
	case len(data) >= 8 && string(data[4:8]) == tflite.Identifier:
		return "tflite"
	case len(data) >= 3 && data[0] == 0x08 && data[1] < 0x80 && bytes.IndexByte([]byte{0x12, 0x1a, 0x3a, 0x42}, data[2]) >= 0:
		// ModelProto: ir_version (field 1, varint), then producer_name, graph or opset_import.
		return "onnx"
	}
	return "unknown"
}

// Format returns the model's file format ("tflite").
func (m *Model) Format() (s string, err error) {
	defer guard(&err)
	if _, err := m.graph(); err != nil {
		return "", err
	}
	return m.format, nil
}

// InfoJSON describes the model as JSON: model.Info (description, num_ops, macs, params,
// digest, inputs, outputs; each input and output with name, shape, dtype, scale,
// zero_point and the per-channel lists) plus "format".
func (m *Model) InfoJSON() (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	return toJSON(struct {
		Format string `json:"format"`
		model.Info
	}{m.format, model.GraphInfo(g)})
}

// Summary describes the model for people: inputs, outputs, one line per op (kind,
// options, output shape, type and quantization, MACs, parameters) and totals.
func (m *Model) Summary() (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s model, %d ops\n%s", m.format, len(g.Ops), model.Summary(g)), nil
}
