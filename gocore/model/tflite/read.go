// Package tflite reads TFLite flatbuffer models (.tflite) into qmpc's graph IR.
//
// Read imports subgraph 0 of a model: every tensor (same indices as in the file), constant
// buffers, per-tensor and per-channel quantization, and the operators qmpc supports (see
// model.OpKind) with their options. Any other operator, or a supported operator with an
// option qmpc cannot evaluate (a fused TANH, shuffled weights, ...), is collected and
// reported in one errs.UnsupportedOp error that lists them all (errors.As finds a
// *model.UnsupportedOpsError in it). The result is checked with (*model.Graph).Validate.
//
// Read never panics on malformed input: it checks the flatbuffer's identifier, sizes and
// indices before use, bounds the work it does by the file size, and turns any panic of the
// flatbuffers runtime into an errs.Model error.
package tflite

import (
	"fmt"
	"math"
	"math/bits"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

// Identifier is the flatbuffers file identifier of TFLite models.
const Identifier = "TFL3"

// SchemaVersion is the TFLite schema version Read accepts (Model.version).
const SchemaVersion = 3

// MaxTensorElements bounds the number of elements of one tensor (2^30).
const MaxTensorElements = 1 << 30

// minFileSize is the smallest possible flatbuffer with an identifier and a root table.
const minFileSize = 16

// Read parses a TFLite flatbuffer and returns subgraph 0 as a validated *model.Graph.
// Errors carry errs.Model (malformed file), errs.UnsupportedOp, errs.Shape or errs.DType.
func Read(data []byte) (g *model.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, errs.New(errs.Model, "malformed TFLite file: %v", r)
		}
	}()
	g, err = read(data)
	if err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("tflite: %w", err)
	}
	return g, nil
}

// reader holds the state of one Read.
type reader struct {
	data   []byte
	budget int // vector elements left to read; bounds the work on crafted files
}

func malformed(format string, args ...any) error {
	return errs.New(errs.Model, "malformed TFLite file: "+format, args...)
}

// vec checks a vector of n elements of elemSize bytes against the file size and the
// work budget before the caller allocates or loops over it.
func (r *reader) vec(what string, n, elemSize int) error {
	if n < 0 || n > len(r.data)/elemSize {
		return malformed("%s: vector length %d exceeds the file size", what, n)
	}
	r.budget -= n
	if r.budget < 0 {
		return malformed("%s: too many vector elements for a file of %d bytes", what, len(r.data))
	}
	return nil
}

func read(data []byte) (*model.Graph, error) {
	if len(data) < minFileSize {
		return nil, malformed("%d bytes is too short", len(data))
	}
	if string(data[4:8]) != Identifier {
		return nil, malformed("file identifier %q, want %q", data[4:8], Identifier)
	}
	if root := flatbuffers.GetUOffsetT(data); int64(root)+4 > int64(len(data)) {
		return nil, malformed("root offset %d out of range", root)
	}
	// Real models read well under 0.1 vector element per byte; the budget only stops
	// crafted files whose tables share vectors to multiply the work.
	r := &reader{data: data, budget: 2*len(data) + 1<<16}
	m := fb.GetRootAsModel(data, 0)
	if v := m.Version(); v != SchemaVersion {
		return nil, errs.New(errs.Model, "TFLite schema version %d, want %d", v, SchemaVersion)
	}
	if m.SubgraphsLength() < 1 {
		return nil, malformed("no subgraph")
	}
	if err := r.vec("subgraphs", m.SubgraphsLength(), 4); err != nil {
		return nil, err
	}
	var sg fb.SubGraph
	if !m.Subgraphs(&sg, 0) {
		return nil, malformed("cannot read subgraph 0")
	}
	g := &model.Graph{Description: string(m.Description())}

	bufs, err := r.buffers(m)
	if err != nil {
		return nil, err
	}
	if g.Tensors, err = r.tensors(&sg, bufs); err != nil {
		return nil, err
	}
	nt := len(g.Tensors)
	if g.Inputs, err = r.indices("subgraph inputs", sg.InputsLength(), sg.Inputs, nt, false); err != nil {
		return nil, err
	}
	if g.Outputs, err = r.indices("subgraph outputs", sg.OutputsLength(), sg.Outputs, nt, false); err != nil {
		return nil, err
	}
	codes, err := r.opCodes(m)
	if err != nil {
		return nil, err
	}
	var unsupported model.UnsupportedCollector
	var source []int // per IR op, the index of the file's operator it comes from
	if g.Ops, source, err = r.ops(&sg, codes, g.Tensors, &unsupported); err != nil {
		return nil, err
	}
	// Shape subgraphs (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, ...) become constants.
	ops := g.Ops
	unfolded, err := model.FoldConstants(g)
	if err != nil {
		return nil, err
	}
	for _, i := range unfolded {
		unsupported.Add(fmt.Sprintf("%v(of a tensor not known at import time)", ops[i].Kind), source[i])
	}
	if err := unsupported.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

// buffers returns the contents of every buffer (nil for empty ones), without copying.
func (r *reader) buffers(m *fb.Model) ([][]byte, error) {
	n := m.BuffersLength()
	if err := r.vec("buffers", n, 4); err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	var b fb.Buffer
	for i := range out {
		if !m.Buffers(&b, i) {
			return nil, malformed("cannot read buffer %d", i)
		}
		if d := b.DataBytes(); len(d) > 0 {
			out[i] = d
			continue
		}
		// Buffers stored after the flatbuffer (schema 3c): offset from the file start.
		off, size := b.Offset(), b.Size()
		if off > 1 && size > 0 {
			end, carry := bits.Add64(off, size, 0)
			if carry != 0 || end > uint64(len(r.data)) {
				return nil, malformed("buffer %d: offset %d size %d beyond the file end (%d bytes)", i, off, size, len(r.data))
			}
			out[i] = r.data[off:end]
		}
	}
	return out, nil
}

// indices reads a vector of tensor indices; -1 (an absent optional tensor) is allowed
// when optional is set.
func (r *reader) indices(what string, n int, at func(int) int32, numTensors int, optional bool) ([]int, error) {
	if err := r.vec(what, n, 4); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for j := range out {
		v := int(at(j))
		if v < -1 || v >= numTensors || (v == -1 && !optional) {
			return nil, malformed("%s: tensor index %d out of range [0,%d)", what, v, numTensors)
		}
		out[j] = v
	}
	return out, nil
}

var dtypes = map[fb.TensorType]model.DType{
	fb.TensorTypeFLOAT32: model.Float32,
	fb.TensorTypeINT32:   model.Int32,
	fb.TensorTypeUINT8:   model.Uint8,
	fb.TensorTypeINT8:    model.Int8,
	fb.TensorTypeINT16:   model.Int16,
	fb.TensorTypeINT64:   model.Int64,
	fb.TensorTypeBOOL:    model.Bool,
}

func (r *reader) tensors(sg *fb.SubGraph, bufs [][]byte) ([]*model.Tensor, error) {
	n := sg.TensorsLength()
	if err := r.vec("tensors", n, 4); err != nil {
		return nil, err
	}
	out := make([]*model.Tensor, n)
	copied := map[uint32][]byte{} // buffers shared by several tensors are copied once
	var ft fb.Tensor
	var q fb.QuantizationParameters
	for i := range out {
		if !sg.Tensors(&ft, i) {
			return nil, malformed("cannot read tensor %d", i)
		}
		t := &model.Tensor{Name: string(ft.Name())}
		out[i] = t
		what := fmt.Sprintf("tensor %d %q", i, t.Name)

		rank := ft.ShapeLength()
		if err := r.vec(what+" shape", rank, 4); err != nil {
			return nil, err
		}
		t.Shape = make([]int, rank)
		elems := 1
		for j := range t.Shape {
			d := int(ft.Shape(j))
			if d < 0 {
				return nil, errs.New(errs.Shape, "%s: negative dimension %d in shape", what, d)
			}
			t.Shape[j] = d
			if d != 0 && elems > MaxTensorElements/d {
				return nil, errs.New(errs.Shape, "%s: more than %d elements", what, MaxTensorElements)
			}
			elems *= d
		}

		dt, ok := dtypes[ft.Type()]
		if !ok {
			return nil, errs.New(errs.DType, "%s: unsupported TFLite tensor type %s", what, ft.Type())
		}
		t.DType = dt

		if ft.Sparsity(nil) != nil {
			return nil, errs.New(errs.Model, "%s: sparse tensors are not supported", what)
		}
		if ft.ExternalBuffer() != 0 {
			return nil, errs.New(errs.Model, "%s: external buffers are not supported", what)
		}
		if ft.IsVariable() {
			return nil, errs.New(errs.Model, "%s: variable tensors are not supported", what)
		}

		if qp := ft.Quantization(&q); qp != nil {
			quant, err := r.quant(what, qp)
			if err != nil {
				return nil, err
			}
			// Some converters (e.g. tflite-micro's person_detect.tflite) store the
			// filter's quantized_dimension (3) on depthwise biases of shape [C].
			// LiteRT rejects such files; TFLite Micro runs them, since kernels never
			// read the bias's quantization. Read the only possible axis, 0.
			if quant != nil && len(quant.Scale) > 1 && len(t.Shape) == 1 && t.Shape[0] == len(quant.Scale) {
				quant.Axis = 0
			}
			t.Quant = quant
		}

		bi := ft.Buffer()
		if int64(bi) >= int64(len(bufs)) {
			if bi == 0 { // a file without buffers: buffer 0 is implicitly empty
				continue
			}
			return nil, malformed("%s: buffer index %d out of range [0,%d)", what, bi, len(bufs))
		}
		raw := bufs[bi]
		if raw == nil {
			continue
		}
		if want := elems * dt.Size(); len(raw) != want {
			return nil, errs.New(errs.Model, "%s: buffer %d has %d bytes, want %d for %v %v", what, bi, len(raw), want, t.Shape, dt)
		}
		d, ok := copied[bi]
		if !ok {
			d = append([]byte(nil), raw...)
			copied[bi] = d
		}
		t.Data = d
	}
	return out, nil
}

func (r *reader) quant(what string, q *fb.QuantizationParameters) (*model.Quant, error) {
	if q.DetailsType() != fb.QuantizationDetailsNONE {
		return nil, errs.New(errs.Model, "%s: custom quantization is not supported", what)
	}
	ns := q.ScaleLength()
	if ns == 0 {
		return nil, nil // e.g. float tensors carrying only min/max
	}
	if err := r.vec(what+" scale", ns, 4); err != nil {
		return nil, err
	}
	nz := q.ZeroPointLength()
	if nz != ns {
		return nil, errs.New(errs.Model, "%s: %d scales but %d zero points", what, ns, nz)
	}
	if err := r.vec(what+" zero_point", nz, 8); err != nil {
		return nil, err
	}
	out := &model.Quant{
		Scale:     make([]float32, ns),
		ZeroPoint: make([]int64, ns),
		Axis:      int(q.QuantizedDimension()),
	}
	for j := 0; j < ns; j++ {
		out.Scale[j] = q.Scale(j)
		out.ZeroPoint[j] = q.ZeroPoint(j)
	}
	return out, nil
}

// opCode is one entry of the model's operator code table.
type opCode struct {
	builtin fb.BuiltinOperator
	custom  string
}

func (c opCode) name() string {
	if c.builtin == fb.BuiltinOperatorCUSTOM {
		return "CUSTOM:" + c.custom
	}
	if s, ok := fb.EnumNamesBuiltinOperator[c.builtin]; ok {
		return s
	}
	return fmt.Sprintf("BUILTIN_%d", int32(c.builtin))
}

func (r *reader) opCodes(m *fb.Model) ([]opCode, error) {
	n := m.OperatorCodesLength()
	if err := r.vec("operator codes", n, 4); err != nil {
		return nil, err
	}
	out := make([]opCode, n)
	var c fb.OperatorCode
	for i := range out {
		if !m.OperatorCodes(&c, i) {
			return nil, malformed("cannot read operator code %d", i)
		}
		// As TFLite's GetBuiltinCode: files from before schema 3a only set
		// deprecated_builtin_code; newer ones set 127 there for codes above 126.
		code := c.BuiltinCode()
		if d := fb.BuiltinOperator(c.DeprecatedBuiltinCode()); d > code {
			code = d
		}
		out[i] = opCode{builtin: code, custom: string(c.CustomCode())}
	}
	return out, nil
}

// ops reads the operators. Unsupported ones are added to unsupported and skipped; source
// gives, per returned op, the index of the file's operator (a SPLIT or UNPACK becomes one
// op per output).
func (r *reader) ops(sg *fb.SubGraph, codes []opCode, tensors []*model.Tensor, unsupported *model.UnsupportedCollector) ([]*model.Op, []int, error) {
	n := sg.OperatorsLength()
	if err := r.vec("operators", n, 4); err != nil {
		return nil, nil, err
	}
	out := make([]*model.Op, 0, n)
	var source []int
	var fop fb.Operator
	for i := 0; i < n; i++ {
		if !sg.Operators(&fop, i) {
			return nil, nil, malformed("cannot read operator %d", i)
		}
		ci := fop.OpcodeIndex()
		if int64(ci) >= int64(len(codes)) {
			return nil, nil, malformed("operator %d: opcode index %d out of range [0,%d)", i, ci, len(codes))
		}
		code := codes[ci]
		what := fmt.Sprintf("operator %d (%s)", i, code.name())
		ins, err := r.indices(what+" inputs", fop.InputsLength(), fop.Inputs, len(tensors), true)
		if err != nil {
			return nil, nil, err
		}
		outs, err := r.indices(what+" outputs", fop.OutputsLength(), fop.Outputs, len(tensors), false)
		if err != nil {
			return nil, nil, err
		}
		op := &model.Op{Inputs: ins, Outputs: outs, DilationH: 1, DilationW: 1}
		if len(outs) > 0 {
			op.Name = tensors[outs[0]].Name
		}
		if bad, err := r.options(op, code, &fop, tensors, what); err != nil {
			return nil, nil, err
		} else if bad != "" {
			unsupported.Add(bad, i)
			continue
		}
		if op.Kind == model.OpSplit {
			// One IR op per output: piece k of the split.
			op.NumPieces = len(op.Outputs)
			for k, o := range op.Outputs {
				piece := *op
				piece.Piece, piece.Outputs, piece.Name = k, []int{o}, tensors[o].Name
				out, source = append(out, &piece), append(source, i)
			}
			continue
		}
		out, source = append(out, op), append(source, i)
	}
	return out, source, nil
}

// activation maps a fused activation; ok is false for TANH, SIGN_BIT and unknown values.
func activation(a fb.ActivationFunctionType) (model.Activation, bool) {
	switch a {
	case fb.ActivationFunctionTypeNONE:
		return model.ActNone, true
	case fb.ActivationFunctionTypeRELU:
		return model.ActRelu, true
	case fb.ActivationFunctionTypeRELU_N1_TO_1:
		return model.ActReluN1To1, true
	case fb.ActivationFunctionTypeRELU6:
		return model.ActRelu6, true
	}
	return 0, false
}

func padding(p fb.Padding, what string) (model.Padding, error) {
	switch p {
	case fb.PaddingSAME:
		return model.PadSame, nil
	case fb.PaddingVALID:
		return model.PadValid, nil
	}
	return 0, errs.New(errs.Model, "%s: unknown padding %d", what, int8(p))
}

// options sets op.Kind and the option fields of op from the flatbuffer operator. It
// returns a non-empty name if the op (or one of its options) is unsupported.
func (r *reader) options(op *model.Op, code opCode, fop *fb.Operator, tensors []*model.Tensor, what string) (string, error) {
	var tab flatbuffers.Table
	has := fop.BuiltinOptions(&tab)
	typ := fop.BuiltinOptionsType()
	want := func(t fb.BuiltinOptions) bool { return has && typ == t }
	missing := func(name string) error {
		return errs.New(errs.Model, "%s: missing %s", what, name)
	}
	fused := func(a fb.ActivationFunctionType) string {
		act, ok := activation(a)
		if !ok {
			return fmt.Sprintf("%s(fused %s)", code.name(), a)
		}
		op.Activation = act
		return ""
	}
	var err error
	switch code.builtin {
	case fb.BuiltinOperatorCONV_2D:
		op.Kind = model.OpConv2D
		if !want(fb.BuiltinOptionsConv2DOptions) {
			return "", missing("Conv2DOptions")
		}
		var o fb.Conv2DOptions
		o.Init(tab.Bytes, tab.Pos)
		if op.Padding, err = padding(o.Padding(), what); err != nil {
			return "", err
		}
		op.StrideH, op.StrideW = int(o.StrideH()), int(o.StrideW())
		op.DilationH, op.DilationW = int(o.DilationHFactor()), int(o.DilationWFactor())
		return fused(o.FusedActivationFunction()), nil

	case fb.BuiltinOperatorDEPTHWISE_CONV_2D:
		op.Kind = model.OpDepthwiseConv2D
		if !want(fb.BuiltinOptionsDepthwiseConv2DOptions) {
			return "", missing("DepthwiseConv2DOptions")
		}
		var o fb.DepthwiseConv2DOptions
		o.Init(tab.Bytes, tab.Pos)
		if op.Padding, err = padding(o.Padding(), what); err != nil {
			return "", err
		}
		op.StrideH, op.StrideW = int(o.StrideH()), int(o.StrideW())
		op.DilationH, op.DilationW = int(o.DilationHFactor()), int(o.DilationWFactor())
		op.DepthMultiplier = depthMultiplier(int(o.DepthMultiplier()), op, tensors)
		return fused(o.FusedActivationFunction()), nil

	case fb.BuiltinOperatorFULLY_CONNECTED:
		op.Kind = model.OpFullyConnected
		if !want(fb.BuiltinOptionsFullyConnectedOptions) {
			return "", nil // TFLite's defaults: no activation, default weights format
		}
		var o fb.FullyConnectedOptions
		o.Init(tab.Bytes, tab.Pos)
		if f := o.WeightsFormat(); f != fb.FullyConnectedOptionsWeightsFormatDEFAULT {
			return fmt.Sprintf("FULLY_CONNECTED(weights_format %s)", f), nil
		}
		op.KeepDims = o.KeepNumDims()
		return fused(o.FusedActivationFunction()), nil

	case fb.BuiltinOperatorAVERAGE_POOL_2D, fb.BuiltinOperatorMAX_POOL_2D:
		op.Kind = model.OpAveragePool2D
		if code.builtin == fb.BuiltinOperatorMAX_POOL_2D {
			op.Kind = model.OpMaxPool2D
		}
		if !want(fb.BuiltinOptionsPool2DOptions) {
			return "", missing("Pool2DOptions")
		}
		var o fb.Pool2DOptions
		o.Init(tab.Bytes, tab.Pos)
		if op.Padding, err = padding(o.Padding(), what); err != nil {
			return "", err
		}
		op.StrideH, op.StrideW = int(o.StrideH()), int(o.StrideW())
		op.FilterH, op.FilterW = int(o.FilterHeight()), int(o.FilterWidth())
		return fused(o.FusedActivationFunction()), nil

	case fb.BuiltinOperatorADD:
		op.Kind = model.OpAdd
		if want(fb.BuiltinOptionsAddOptions) {
			var o fb.AddOptions
			o.Init(tab.Bytes, tab.Pos)
			return fused(o.FusedActivationFunction()), nil
		}
	case fb.BuiltinOperatorMUL:
		op.Kind = model.OpMul
		if want(fb.BuiltinOptionsMulOptions) {
			var o fb.MulOptions
			o.Init(tab.Bytes, tab.Pos)
			return fused(o.FusedActivationFunction()), nil
		}
	case fb.BuiltinOperatorMEAN:
		op.Kind = model.OpMean
		if want(fb.BuiltinOptionsReducerOptions) {
			var o fb.ReducerOptions
			o.Init(tab.Bytes, tab.Pos)
			op.KeepDims = o.KeepDims()
		}
	case fb.BuiltinOperatorPAD:
		op.Kind = model.OpPad
	case fb.BuiltinOperatorPADV2:
		// PADV2 pads with an explicit value (a scalar constant: model.Graph.PadValue).
		op.Kind = model.OpPad
	case fb.BuiltinOperatorRESHAPE:
		op.Kind = model.OpReshape
		if want(fb.BuiltinOptionsReshapeOptions) {
			var o fb.ReshapeOptions
			o.Init(tab.Bytes, tab.Pos)
			n := o.NewShapeLength()
			if err := r.vec(what+" new_shape", n, 4); err != nil {
				return "", err
			}
			if n > 0 {
				op.NewShape = make([]int, n)
				for j := range op.NewShape {
					op.NewShape[j] = int(o.NewShape(j))
				}
			}
		}
	case fb.BuiltinOperatorSQUEEZE:
		op.Kind = model.OpSqueeze
		if want(fb.BuiltinOptionsSqueezeOptions) {
			var o fb.SqueezeOptions
			o.Init(tab.Bytes, tab.Pos)
			n := o.SqueezeDimsLength()
			if err := r.vec(what+" squeeze_dims", n, 4); err != nil {
				return "", err
			}
			if n > 0 {
				op.SqueezeDims = make([]int, n)
				for j := range op.SqueezeDims {
					op.SqueezeDims[j] = int(o.SqueezeDims(j))
				}
			}
		}
	case fb.BuiltinOperatorCONCATENATION:
		op.Kind = model.OpConcatenation
		if !want(fb.BuiltinOptionsConcatenationOptions) {
			return "", missing("ConcatenationOptions")
		}
		var o fb.ConcatenationOptions
		o.Init(tab.Bytes, tab.Pos)
		op.Axis = int(o.Axis())
		return fused(o.FusedActivationFunction()), nil
	case fb.BuiltinOperatorQUANTIZE:
		op.Kind = model.OpQuantize
	case fb.BuiltinOperatorDEQUANTIZE:
		op.Kind = model.OpDequantize
	case fb.BuiltinOperatorSOFTMAX:
		op.Kind = model.OpSoftmax
		if !want(fb.BuiltinOptionsSoftmaxOptions) {
			return "", missing("SoftmaxOptions")
		}
		var o fb.SoftmaxOptions
		o.Init(tab.Bytes, tab.Pos)
		op.Beta = o.Beta()
		if math.IsNaN(float64(op.Beta)) || math.IsInf(float64(op.Beta), 0) {
			return "", errs.New(errs.Model, "%s: softmax beta %v", what, op.Beta)
		}
	case fb.BuiltinOperatorLOGISTIC:
		op.Kind = model.OpLogistic
	case fb.BuiltinOperatorHARD_SWISH:
		op.Kind = model.OpHardSwish
	case fb.BuiltinOperatorTANH:
		op.Kind = model.OpTanh
	case fb.BuiltinOperatorTRANSPOSE:
		op.Kind = model.OpTranspose
	case fb.BuiltinOperatorSLICE:
		op.Kind = model.OpSlice
	case fb.BuiltinOperatorSTRIDED_SLICE:
		op.Kind = model.OpStridedSlice
		if want(fb.BuiltinOptionsStridedSliceOptions) {
			var o fb.StridedSliceOptions
			o.Init(tab.Bytes, tab.Pos)
			op.BeginMask, op.EndMask, op.ShrinkAxisMask = o.BeginMask(), o.EndMask(), o.ShrinkAxisMask()
			op.EllipsisMask, op.NewAxisMask, op.Offset = o.EllipsisMask(), o.NewAxisMask(), o.Offset()
			if op.EllipsisMask != 0 || op.NewAxisMask != 0 {
				return "STRIDED_SLICE(ellipsis_mask or new_axis_mask)", nil
			}
		}
	case fb.BuiltinOperatorPACK:
		op.Kind = model.OpPack
		if want(fb.BuiltinOptionsPackOptions) {
			var o fb.PackOptions
			o.Init(tab.Bytes, tab.Pos)
			op.Axis = int(o.Axis())
		}
	case fb.BuiltinOperatorUNPACK:
		op.Kind = model.OpSplit
		op.DropAxis = true
		if want(fb.BuiltinOptionsUnpackOptions) {
			var o fb.UnpackOptions
			o.Init(tab.Bytes, tab.Pos)
			op.Axis = int(o.Axis())
		}
	case fb.BuiltinOperatorSPLIT, fb.BuiltinOperatorSPLIT_V:
		// SPLIT(axis, x), SPLIT_V(x, size_splits, axis) -> IR SPLIT(x[, size_splits]).
		op.Kind = model.OpSplit
		axisAt, x := 0, 1
		if code.builtin == fb.BuiltinOperatorSPLIT_V {
			axisAt, x = 2, 0
		}
		if len(op.Inputs) <= max(axisAt, x) || op.Inputs[axisAt] < 0 || op.Inputs[x] < 0 {
			return "", errs.New(errs.Model, "%s: %d inputs", what, len(op.Inputs))
		}
		at := tensors[op.Inputs[axisAt]]
		ax, err := model.IntData(at)
		if err != nil || len(ax) != 1 {
			return code.name() + "(axis not a constant)", nil
		}
		op.Axis = ax[0]
		if code.builtin == fb.BuiltinOperatorSPLIT {
			op.Inputs = []int{op.Inputs[x]}
		} else {
			op.Inputs = op.Inputs[:2]
		}
	case fb.BuiltinOperatorGATHER:
		op.Kind = model.OpGather
		if want(fb.BuiltinOptionsGatherOptions) {
			var o fb.GatherOptions
			o.Init(tab.Bytes, tab.Pos)
			op.Axis, op.BatchDims = int(o.Axis()), int(o.BatchDims())
			if op.BatchDims != 0 {
				return "GATHER(batch_dims)", nil
			}
		}
	case fb.BuiltinOperatorEXPAND_DIMS:
		op.Kind = model.OpExpandDims
	case fb.BuiltinOperatorDEPTH_TO_SPACE:
		op.Kind = model.OpDepthToSpace
		if !want(fb.BuiltinOptionsDepthToSpaceOptions) {
			return "", missing("DepthToSpaceOptions")
		}
		var o fb.DepthToSpaceOptions
		o.Init(tab.Bytes, tab.Pos)
		op.BlockSize = int(o.BlockSize())
	case fb.BuiltinOperatorSPACE_TO_DEPTH:
		op.Kind = model.OpSpaceToDepth
		if !want(fb.BuiltinOptionsSpaceToDepthOptions) {
			return "", missing("SpaceToDepthOptions")
		}
		var o fb.SpaceToDepthOptions
		o.Init(tab.Bytes, tab.Pos)
		op.BlockSize = int(o.BlockSize())
	case fb.BuiltinOperatorSHAPE:
		op.Kind = model.OpShape
	case fb.BuiltinOperatorCAST:
		op.Kind = model.OpCast
	case fb.BuiltinOperatorSUB:
		op.Kind = model.OpSub
		if want(fb.BuiltinOptionsSubOptions) {
			var o fb.SubOptions
			o.Init(tab.Bytes, tab.Pos)
			return fused(o.FusedActivationFunction()), nil
		}
	case fb.BuiltinOperatorFLOOR_DIV:
		op.Kind = model.OpFloorDiv
	case fb.BuiltinOperatorREDUCE_PROD:
		op.Kind = model.OpReduceProd
		if want(fb.BuiltinOptionsReducerOptions) {
			var o fb.ReducerOptions
			o.Init(tab.Bytes, tab.Pos)
			op.KeepDims = o.KeepDims()
		}
	default:
		return code.name(), nil
	}
	return "", nil
}

// depthMultiplier returns the effective depth multiplier of a depthwise convolution. As
// TFLite's kernel (which infers it from the shapes since 2021), it is the filter's output
// channels over the input channels when those are known and divide; the stored option
// (sometimes 0 or garbage in old files) is the fallback.
func depthMultiplier(stored int, op *model.Op, tensors []*model.Tensor) int {
	if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
		return stored
	}
	x, f := tensors[op.Inputs[0]].Shape, tensors[op.Inputs[1]].Shape
	if len(x) != 4 || len(f) != 4 || x[3] <= 0 || f[3]%x[3] != 0 {
		return stored
	}
	return f[3] / x[3]
}
