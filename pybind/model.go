package pybind

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
)

// Model is a loaded, validated quantized model (an opaque handle for Python).
type Model struct {
	g      *model.Graph
	format string
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
		return &Model{g: g, format: format}, nil
	case "":
		return nil, errs.New(errs.Model, "empty model file")
	case "onnx":
		return nil, errs.New(errs.Model, "ONNX models are not supported yet (only TFLite)")
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

// tensorInfo is the JSON form of a graph input or output.
type tensorInfo struct {
	Name      string  `json:"name"`
	Shape     []int   `json:"shape"`
	DType     string  `json:"dtype"`
	Scale     float64 `json:"scale"`
	ZeroPoint int64   `json:"zero_point"`
}

type modelInfo struct {
	Format      string       `json:"format"`
	Description string       `json:"description"`
	NumOps      int          `json:"num_ops"`
	Inputs      []tensorInfo `json:"inputs"`
	Outputs     []tensorInfo `json:"outputs"`
}

func infoOf(t *model.Tensor) tensorInfo {
	ti := tensorInfo{Name: t.Name, Shape: t.Shape, DType: t.DType.String()}
	if ti.Shape == nil {
		ti.Shape = []int{}
	}
	// As LiteRT's get_input_details()["quantization"]: the first (scale, zero point),
	// (0, 0) when the tensor is not quantized.
	if t.Quant != nil && len(t.Quant.Scale) > 0 {
		ti.Scale = float64(t.Quant.Scale[0])
		ti.ZeroPoint = t.Quant.ZeroPoint[0]
	}
	return ti
}

// InfoJSON describes the model as JSON: {"format", "description", "num_ops", "inputs":
// [...], "outputs": [...]}, each input and output as {"name", "shape", "dtype", "scale",
// "zero_point"} (scale 0 and zero_point 0 for a tensor that is not quantized).
func (m *Model) InfoJSON() (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	info := modelInfo{Format: m.format, Description: g.Description, NumOps: len(g.Ops)}
	for _, i := range g.Inputs {
		info.Inputs = append(info.Inputs, infoOf(g.Tensors[i]))
	}
	for _, i := range g.Outputs {
		info.Outputs = append(info.Outputs, infoOf(g.Tensors[i]))
	}
	return toJSON(info)
}

// Summary describes the model for people: inputs, outputs, one line per op (kind, output
// shape and type, options) and totals.
func (m *Model) Summary() (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	return summary(g, m.format), nil
}

func quantString(q *model.Quant) string {
	switch {
	case q == nil || len(q.Scale) == 0:
		return "not quantized"
	case len(q.Scale) == 1:
		return fmt.Sprintf("scale=%.6g zero_point=%d", q.Scale[0], q.ZeroPoint[0])
	default:
		return fmt.Sprintf("per-channel (axis %d, %d scales)", q.Axis, len(q.Scale))
	}
}

func summary(g *model.Graph, format string) string {
	var b strings.Builder
	weights := 0
	for _, t := range g.Tensors {
		weights += len(t.Data)
	}
	fmt.Fprintf(&b, "%s model: %d ops, %d tensors, %d bytes of constants\n", format, len(g.Ops), len(g.Tensors), weights)
	if g.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", g.Description)
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, io := range []struct {
		title string
		idx   []int
	}{{"inputs", g.Inputs}, {"outputs", g.Outputs}} {
		fmt.Fprintf(w, "%s:\n", io.title)
		for k, i := range io.idx {
			t := g.Tensors[i]
			fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\n", k, t.Name, t.DType, shapeString(t.Shape), quantString(t.Quant))
		}
	}
	w.Flush()
	fmt.Fprintf(w, "ops:\n  #\top\tshape\tdtype\toptions\toutput\n")
	counts := map[model.OpKind]int{}
	var order []model.OpKind
	for i, op := range g.Ops {
		if counts[op.Kind] == 0 {
			order = append(order, op.Kind)
		}
		counts[op.Kind]++
		name, shape, dtype := "-", "-", "-"
		if len(op.Outputs) > 0 && op.Outputs[0] >= 0 && op.Outputs[0] < len(g.Tensors) {
			t := g.Tensors[op.Outputs[0]]
			name, shape, dtype = shortName(t.Name), shapeString(t.Shape), t.DType.String()
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\n", i, op.Kind, shape, dtype, opOptions(g, op), name)
	}
	w.Flush()
	b.WriteString("op counts:")
	for i, k := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s x%d", k, counts[k])
	}
	b.WriteByte('\n')
	return b.String()
}

// shortName shortens a tensor name for a table: converters join the names of fused
// nodes with ';', of which the first is kept, and long names keep their end.
func shortName(s string) string {
	s, _, _ = strings.Cut(s, ";")
	const maxLen = 48
	if r := []rune(s); len(r) > maxLen {
		return "..." + string(r[len(r)-maxLen+3:])
	}
	return s
}

// opOptions is a short description of an op's options.
func opOptions(g *model.Graph, op *model.Op) string {
	pad := map[model.Padding]string{model.PadSame: "SAME", model.PadValid: "VALID"}[op.Padding]
	var parts []string
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D:
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 && op.Inputs[1] < len(g.Tensors) {
			f := g.Tensors[op.Inputs[1]]
			if len(f.Shape) == 4 {
				parts = append(parts, fmt.Sprintf("%dx%d", f.Shape[1], f.Shape[2]))
			}
			if f.Quant.PerChannel() {
				parts = append(parts, "per-channel")
			}
		}
		parts = append(parts, fmt.Sprintf("stride %dx%d", op.StrideH, op.StrideW), pad)
		if op.DilationH > 1 || op.DilationW > 1 {
			parts = append(parts, fmt.Sprintf("dilation %dx%d", op.DilationH, op.DilationW))
		}
		if op.Kind == model.OpDepthwiseConv2D && op.DepthMultiplier > 1 {
			parts = append(parts, fmt.Sprintf("multiplier %d", op.DepthMultiplier))
		}
	case model.OpAveragePool2D, model.OpMaxPool2D:
		parts = append(parts, fmt.Sprintf("%dx%d", op.FilterH, op.FilterW), fmt.Sprintf("stride %dx%d", op.StrideH, op.StrideW), pad)
	case model.OpConcatenation:
		parts = append(parts, fmt.Sprintf("axis %d", op.Axis))
	case model.OpMean:
		if op.KeepDims {
			parts = append(parts, "keep_dims")
		}
	}
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected, model.OpAveragePool2D,
		model.OpMaxPool2D, model.OpAdd, model.OpMul, model.OpConcatenation:
		if op.Activation != model.ActNone {
			parts = append(parts, op.Activation.String())
		}
	}
	return strings.Join(parts, " ")
}
