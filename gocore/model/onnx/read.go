package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime/debug"

	"google.golang.org/protobuf/proto"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
)

// Opset versions this importer accepts (see the package documentation).
const (
	MinOpset   = 10
	MaxOpset   = 21
	MSOpset    = 1
	maxElems   = 1 << 26 // largest constant or activation accepted, in elements
	maxDimSize = 1 << 24
)

// Read parses a serialized ONNX ModelProto and returns its graph in qmpc's IR, validated
// (model.Graph.Validate). Malformed files give errs.Model errors; unsupported operators
// give one errs.UnsupportedOp error listing them all. Read never panics.
func Read(data []byte) (g *model.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, errs.New(errs.Internal, "onnx import panicked: %v\n%s", r, debug.Stack())
		}
	}()
	if len(data) == 0 {
		return nil, errs.New(errs.Model, "empty ONNX file")
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, errs.New(errs.Model, "not an ONNX model (protobuf: %v)", err)
	}
	return Convert(&m)
}

// Convert imports a decoded ModelProto (see Read).
func Convert(m *onnxpb.ModelProto) (*model.Graph, error) {
	if m.GetGraph() == nil {
		return nil, errs.New(errs.Model, "ONNX model has no graph")
	}
	if err := checkOpsets(m); err != nil {
		return nil, err
	}
	c := newConverter(m)
	g, err := c.run()
	if err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: imported graph: %w", err)
	}
	return g, nil
}

func checkOpsets(m *onnxpb.ModelProto) error {
	if len(m.GetOpsetImport()) == 0 {
		return errs.New(errs.Model, "ONNX model declares no opset")
	}
	for _, o := range m.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			if v := o.GetVersion(); v < MinOpset || v > MaxOpset {
				return errs.New(errs.UnsupportedOp, "ONNX opset %d: qmpc supports ai.onnx opsets %d to %d", v, MinOpset, MaxOpset)
			}
		case "com.microsoft":
			if v := o.GetVersion(); v != MSOpset {
				return errs.New(errs.UnsupportedOp, "com.microsoft opset %d: qmpc supports version %d", v, MSOpset)
			}
		}
		// Other imported domains are checked per node: a model may import domains it does
		// not use (ORT's quantizer imports several).
	}
	return nil
}

// constant is a decoded initializer or Constant node output (ONNX dimension order).
type constant struct {
	dtype model.DType
	shape []int
	data  []byte // little endian
}

func (c *constant) n() int { return model.NumElements(c.shape) }

// ints returns the values of an integer constant.
func (c *constant) ints() []int64 {
	n := c.n()
	out := make([]int64, n)
	for i := range out {
		switch c.dtype {
		case model.Uint8:
			out[i] = int64(c.data[i])
		case model.Int8:
			out[i] = int64(int8(c.data[i]))
		case model.Int32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(c.data[4*i:])))
		case model.Int64:
			out[i] = int64(binary.LittleEndian.Uint64(c.data[8*i:]))
		case model.Int16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(c.data[2*i:])))
		}
	}
	return out
}

// floats returns the values of a float32 constant.
func (c *constant) floats() []float32 {
	out := make([]float32, c.n())
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(c.data[4*i:]))
	}
	return out
}

var onnxDTypes = map[onnxpb.TensorProto_DataType]model.DType{
	onnxpb.TensorProto_FLOAT: model.Float32,
	onnxpb.TensorProto_UINT8: model.Uint8,
	onnxpb.TensorProto_INT8:  model.Int8,
	onnxpb.TensorProto_INT16: model.Int16,
	onnxpb.TensorProto_INT32: model.Int32,
	onnxpb.TensorProto_INT64: model.Int64,
	onnxpb.TensorProto_BOOL:  model.Bool,
}

func checkShape(dims []int64) ([]int, error) {
	shape := make([]int, len(dims))
	n := 1
	for i, d := range dims {
		if d < 0 || d > maxDimSize {
			return nil, errs.New(errs.Model, "dimension %d out of range in %v", d, dims)
		}
		shape[i] = int(d)
		if d != 0 && n > maxElems/int(d) {
			return nil, errs.New(errs.Model, "shape %v is too large", dims)
		}
		n *= int(d)
	}
	return shape, nil
}

// decodeTensor decodes a TensorProto (raw_data or the typed fields).
func decodeTensor(t *onnxpb.TensorProto) (*constant, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, errs.New(errs.Model, "tensor %q: external data is not supported (save the model as one file)", t.GetName())
	}
	if t.Segment != nil {
		return nil, errs.New(errs.Model, "tensor %q: segmented tensors are not supported", t.GetName())
	}
	dt, ok := onnxDTypes[onnxpb.TensorProto_DataType(t.GetDataType())]
	if !ok {
		return nil, errs.New(errs.UnsupportedOp, "tensor %q: element type %v is not supported", t.GetName(), onnxpb.TensorProto_DataType(t.GetDataType()))
	}
	shape, err := checkShape(t.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	c := &constant{dtype: dt, shape: shape}
	n, size := c.n(), dt.Size()
	if raw := t.GetRawData(); raw != nil || t.RawData != nil {
		if len(raw) != n*size {
			return nil, errs.New(errs.Model, "tensor %q: raw data has %d bytes, want %d", t.GetName(), len(raw), n*size)
		}
		c.data = append([]byte{}, raw...)
		if c.data == nil {
			c.data = []byte{}
		}
		return c, nil
	}
	c.data = make([]byte, n*size)
	bad := func(field string, got int) error {
		return errs.New(errs.Model, "tensor %q: %s has %d values, want %d", t.GetName(), field, got, n)
	}
	switch dt {
	case model.Float32:
		if len(t.GetFloatData()) != n {
			return nil, bad("float_data", len(t.GetFloatData()))
		}
		for i, v := range t.GetFloatData() {
			binary.LittleEndian.PutUint32(c.data[4*i:], math.Float32bits(v))
		}
	case model.Uint8, model.Int8, model.Int16, model.Int32, model.Bool:
		if len(t.GetInt32Data()) != n {
			return nil, bad("int32_data", len(t.GetInt32Data()))
		}
		for i, v := range t.GetInt32Data() {
			switch size {
			case 1:
				c.data[i] = byte(v)
			case 2:
				binary.LittleEndian.PutUint16(c.data[2*i:], uint16(v))
			default:
				binary.LittleEndian.PutUint32(c.data[4*i:], uint32(v))
			}
		}
	case model.Int64:
		if len(t.GetInt64Data()) != n {
			return nil, bad("int64_data", len(t.GetInt64Data()))
		}
		for i, v := range t.GetInt64Data() {
			binary.LittleEndian.PutUint64(c.data[8*i:], uint64(v))
		}
	}
	return c, nil
}
