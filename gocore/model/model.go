// Package model is qmpc's graph IR: tensors with their quantization parameters and the
// quantized operators between them. Importers (tflite, onnx, torch) produce a *Graph; the
// cleartext evaluator (qnn) and the secure engine (engine) consume it.
//
// The IR follows TFLite's conventions: NHWC activations, OHWI convolution filters,
// [1,H,W,C*M] depthwise filters, [O,I] fully-connected weights, int32 biases with
// scale = s_in * s_w and zero point 0, and real = scale * (q - zero_point).
package model

import (
	"fmt"
	"math"
)

// DType is an element type.
type DType uint8

// Element types. The numbering is qmpc's own; importers map theirs onto it.
const (
	Invalid DType = iota
	Float32
	Int32
	Uint8
	Int8
	Int16
	Int64
	Bool
)

var dtypeNames = [...]string{"invalid", "float32", "int32", "uint8", "int8", "int16", "int64", "bool"}

// String returns the numpy name of the type ("uint8", "float32", ...).
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the size of one element in bytes (0 for Invalid).
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Uint8, Int8, Bool:
		return 1
	case Int16:
		return 2
	case Int64:
		return 8
	}
	return 0
}

// IntRange is the value range of an integer type; ok is false for the others.
func (d DType) IntRange() (lo, hi int64, ok bool) {
	switch d {
	case Uint8:
		return 0, math.MaxUint8, true
	case Int8:
		return math.MinInt8, math.MaxInt8, true
	case Int16:
		return math.MinInt16, math.MaxInt16, true
	case Int32:
		return math.MinInt32, math.MaxInt32, true
	case Int64:
		return math.MinInt64, math.MaxInt64, true
	}
	return 0, 0, false
}

// ParseDType maps a numpy dtype name to a DType.
func ParseDType(s string) (DType, error) {
	for i, n := range dtypeNames {
		if i > 0 && n == s {
			return DType(i), nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q", s)
}

// Quant holds affine quantization parameters: real = Scale[c] * (q - ZeroPoint[c]).
// Per-tensor quantization has one entry; per-channel has one per index of dimension Axis.
type Quant struct {
	Scale     []float32
	ZeroPoint []int64
	Axis      int
}

// PerChannel reports whether q has more than one (scale, zero point) pair.
func (q *Quant) PerChannel() bool { return q != nil && len(q.Scale) > 1 }

// Tensor is a node value of the graph. Constant tensors (weights, biases, shapes, paddings)
// carry Data in little-endian element order; activations have Data == nil.
type Tensor struct {
	Name  string
	Shape []int
	DType DType
	Quant *Quant // nil when not quantized
	Data  []byte // constant contents, nil for activations
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int { return NumElements(t.Shape) }

// IsConst reports whether the tensor is a constant (has data).
func (t *Tensor) IsConst() bool { return t.Data != nil }

// NumElements is the product of the dimensions of shape.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Padding is a convolution/pooling padding scheme.
type Padding uint8

// Padding schemes (TFLite semantics), and explicit pads for pools.
const (
	PadSame Padding = iota
	PadValid
	// PadExplicit (pools only) places the windows with Op.Pads; as with SAME, taps outside
	// the input are left out (a max over the taps inside, an average dividing by their
	// number): ONNX/PyTorch pools with count_include_pad = 0, and with ceil_mode.
	PadExplicit
)

// Activation is a fused activation function, applied as a clamp on the quantized output.
type Activation uint8

// Fused activations.
const (
	ActNone Activation = iota
	ActRelu
	ActReluN1To1
	ActRelu6
)

var actNames = [...]string{"NONE", "RELU", "RELU_N1_TO_1", "RELU6"}

func (a Activation) String() string {
	if int(a) < len(actNames) {
		return actNames[a]
	}
	return fmt.Sprintf("activation(%d)", uint8(a))
}

// OpKind names an operator.
type OpKind uint16

// Operators of the IR. Their input lists follow TFLite's builtin operators.
const (
	OpInvalid         OpKind = iota
	OpConv2D                 // in: x, filter[O,KH,KW,I], bias[O] (optional, -1)
	OpDepthwiseConv2D        // in: x, filter[1,KH,KW,I*M], bias[I*M] (optional)
	OpFullyConnected         // in: x, weights[O,I], bias[O] (optional)
	OpAveragePool2D          // in: x
	OpMaxPool2D              // in: x
	OpAdd                    // in: a, b (broadcasting as TFLite)
	OpMul                    // in: a, b
	OpMean                   // in: x, axes (const int32)
	OpPad                    // in: x, paddings (const int32 [rank,2]), optional value (const scalar; default the zero point)
	OpReshape                // in: x, shape (optional const)
	OpSqueeze                // in: x
	OpConcatenation          // in: x0, x1, ...
	OpQuantize               // in: x (float32 or a requantization int8<->uint8)
	OpDequantize             // in: x
	OpSoftmax                // in: x
	OpLogistic               // in: x

	// Data movement: each output element is one input element (a public index map, see
	// MoveIndex). On activations they keep the quantization; on constants they fold.
	OpTranspose    // in: x, perm (const)
	OpSlice        // in: x, begin, size (const)
	OpStridedSlice // in: x, begin, end, strides (const); masks in the options
	OpPack         // in: x0, x1, ... (stacked along Axis)
	OpGather       // in: params, indices (const); Axis
	OpExpandDims   // in: x, axis (const)
	OpSplit        // in: x, size_splits (const, optional); piece Piece of NumPieces along Axis
	OpDepthToSpace // in: x (NHWC); BlockSize
	OpSpaceToDepth // in: x (NHWC); BlockSize

	// Shape arithmetic: only on tensors known at import time, folded by FoldConstants.
	OpShape      // in: x; out: int32 or int64 [rank(x)]
	OpCast       // in: x; out: the output tensor's type
	OpSub        // in: a, b (integer tensors)
	OpFloorDiv   // in: a, b (integer tensors)
	OpReduceProd // in: x, axes (integer tensors); KeepDims

	// Elementwise activations of one quantized input (besides LOGISTIC).
	OpHardSwish // in: x
	OpTanh      // in: x
	// LOOKUP: any elementwise function of one 8-bit input, as the table of its 256
	// outputs (out = table[x - min of x's type]), which an importer computes with the
	// source runtime's own kernel (e.g. PyTorch's quantized Hardswish or Hardsigmoid).
	OpLookup // in: x, table (const, 256 values of the output's type)
	numOpKinds
)

var opNames = [...]string{"INVALID", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
	"AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL", "MEAN", "PAD", "RESHAPE", "SQUEEZE",
	"CONCATENATION", "QUANTIZE", "DEQUANTIZE", "SOFTMAX", "LOGISTIC",
	"TRANSPOSE", "SLICE", "STRIDED_SLICE", "PACK", "GATHER", "EXPAND_DIMS", "SPLIT",
	"DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
	"SHAPE", "CAST", "SUB", "FLOOR_DIV", "REDUCE_PROD",
	"HARD_SWISH", "TANH", "LOOKUP"}

// String returns the TFLite-style upper-case name of the op.
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", uint16(k))
}

// Op is one operator node. Only the option fields that apply to Kind are meaningful.
type Op struct {
	Kind    OpKind
	Name    string // a readable name (usually the first output tensor's name)
	Inputs  []int  // tensor indices; -1 marks an absent optional input
	Outputs []int  // tensor indices

	Padding              Padding
	Pads                 [4]int // PadExplicit: top, left, bottom, right
	StrideH, StrideW     int    // conv, depthwise, pools
	DilationH, DilationW int    // conv, depthwise (1 when absent)
	FilterH, FilterW     int    // pools
	DepthMultiplier      int    // depthwise
	Activation           Activation
	Axis                 int     // concatenation
	KeepDims             bool    // mean; fully connected keep_num_dims
	Beta                 float32 // softmax
	NewShape             []int   // reshape (from options, if the shape input is absent)
	SqueezeDims          []int   // squeeze

	// STRIDED_SLICE masks (bit d applies to dimension d) and offset (end is relative to
	// begin), as TFLite's StridedSliceOptions.
	BeginMask, EndMask, ShrinkAxisMask, EllipsisMask, NewAxisMask int32
	Offset                                                        bool
	// Piece and NumPieces: a SPLIT op computes output Piece of NumPieces (importers turn a
	// multi-output split or unpack into one op per output). Axis is the PACK, GATHER and
	// (with a negative value counted from the end) the unpack axis.
	Piece, NumPieces int
	// DropAxis: the SPLIT piece loses its Axis dimension (TFLite UNPACK, ONNX Split then
	// Squeeze).
	DropAxis bool
	// BatchDims: GATHER's batch_dims (only 0 is supported).
	BatchDims int
	// BlockSize: DEPTH_TO_SPACE and SPACE_TO_DEPTH (TensorFlow's DCR order).
	BlockSize int

	// Rounding is how the op requantizes (TFLite fixed point unless an importer says
	// otherwise).
	Rounding Rounding
}

// Rounding names a runtime's requantization arithmetic.
type Rounding uint8

// Requantization arithmetics.
const (
	// RoundTFLite is TFLite/gemmlowp: Q31 fixed-point multiplier, double rounding
	// (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT).
	RoundTFLite Rounding = iota
	// RoundHalfEven is ONNX Runtime / PyTorch (fbgemm, qnnpack): the accumulator times a
	// float multiplier, rounded half to even. The IR keeps it as a fixed-point multiplier
	// of enough precision; importers document their bound.
	RoundHalfEven
)

// Graph is a quantized model: a topologically ordered list of ops over a list of tensors.
type Graph struct {
	Tensors     []*Tensor
	Ops         []*Op
	Inputs      []int // graph input tensor indices
	Outputs     []int // graph output tensor indices
	Description string
}

// Value is a tensor's contents at run time: shape, type and raw little-endian data, the
// same layout as a C-contiguous numpy array.
type Value struct {
	Shape []int
	DType DType
	Data  []byte
}
