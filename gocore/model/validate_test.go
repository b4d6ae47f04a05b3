package model_test

import (
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
)

// Op indices of tflitetest.AllOps.
const (
	opQuantize = iota
	opConv
	opDW
	opPad
	opMaxPool
	opAvgPool
	opAdd
	opMul
	opConcat
	opMean
	opSqueeze
	opFC
	opReshape
	opSoftmax
	opLogistic
	opDequantize
)

func out(g *model.Graph, op int) *model.Tensor { return g.Tensors[g.Ops[op].Outputs[0]] }
func in(g *model.Graph, op, i int) *model.Tensor {
	return g.Tensors[g.Ops[op].Inputs[i]]
}

func TestValidateAllOps(t *testing.T) {
	for _, dt := range []model.DType{model.Uint8, model.Int8} {
		if err := tflitetest.AllOps(dt, 1).Validate(); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
}

// TestValidateErrors breaks a valid graph in one place per case and checks the error's
// kind and that the message names the op and what was expected.
func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		dt     model.DType
		break_ func(g *model.Graph)
		kind   errs.Kind
		msg    string
	}{
		{"conv output shape", model.Uint8, func(g *model.Graph) { out(g, opConv).Shape = []int{1, 7, 8, 4} },
			errs.Shape, `op 1 CONV_2D "conv": qmpc:shape: output shape [1 7 8 4], want [1 8 8 4]`},
		{"conv VALID", model.Uint8, func(g *model.Graph) { g.Ops[opConv].Padding = model.PadValid },
			errs.Shape, "output shape [1 8 8 4], want [1 6 6 4]"},
		{"conv stride 2", model.Uint8, func(g *model.Graph) { g.Ops[opConv].StrideW = 2 },
			errs.Shape, "want [1 8 4 4]"},
		{"conv dilation VALID", model.Uint8, func(g *model.Graph) {
			g.Ops[opConv].Padding = model.PadValid
			g.Ops[opConv].DilationH = 2
		}, errs.Shape, "want [1 4 6 4]"},
		{"conv stride 0", model.Uint8, func(g *model.Graph) { g.Ops[opConv].StrideH = 0 },
			errs.Model, "strides (0,1)"},
		{"conv channels", model.Uint8, func(g *model.Graph) {
			w := in(g, opConv, 1)
			w.Shape = []int{4, 3, 9, 1}
		}, errs.Shape, "but the input has 3 channels"},
		{"conv float input", model.Uint8, func(g *model.Graph) {
			g.Ops[opConv].Inputs[0] = g.Ops[opQuantize].Inputs[0]
		}, errs.DType, `input "input" is float32, want uint8 or int8`},
		{"conv filter dtype", model.Uint8, func(g *model.Graph) { in(g, opConv, 1).DType = model.Int8 },
			errs.DType, "filter \"conv/weights\" is int8 but input is uint8"},
		{"conv bias dtype", model.Int8, func(g *model.Graph) { in(g, opConv, 2).DType = model.Float32 },
			errs.DType, `bias "conv/bias" is float32, want int32`},
		{"conv bias size", model.Uint8, func(g *model.Graph) {
			b := in(g, opConv, 2)
			b.Shape, b.Data, b.Quant = []int{3}, b.Data[:12], nil
		}, errs.Shape, `bias "conv/bias" has shape [3], want [4]`},
		{"conv no filter quant", model.Uint8, func(g *model.Graph) { in(g, opConv, 1).Quant = nil },
			errs.Model, "has no quantization parameters"},
		{"conv filter not const", model.Uint8, func(g *model.Graph) {
			g.Ops[opConv].Inputs[1] = g.Ops[opConv].Inputs[0]
		}, errs.Model, `filter "quantized_input" is not a constant`},
		{"per-channel uint8", model.Uint8, func(g *model.Graph) {
			w := in(g, opConv, 1)
			w.Quant = &model.Quant{Scale: []float32{1, 1, 1, 1}, ZeroPoint: []int64{0, 0, 0, 0}}
		}, errs.Model, "per-channel quantization; TFLite supports that for int8 only"},
		{"per-channel axis", model.Int8, func(g *model.Graph) { in(g, opConv, 1).Quant.Axis = 3 },
			errs.Model, "4 per-channel scales for dimension 3 of size 3"},
		{"per-channel axis range", model.Int8, func(g *model.Graph) { in(g, opConv, 1).Quant.Axis = 4 },
			errs.Model, "axis 4 out of range"},
		{"activation per-channel", model.Int8, func(g *model.Graph) {
			o := out(g, opConv)
			o.Quant = &model.Quant{Scale: []float32{1, 1, 1, 1}, ZeroPoint: []int64{0, 0, 0, 0}, Axis: 3}
		}, errs.Model, "activations need one scale"},
		{"zero point range", model.Uint8, func(g *model.Graph) { out(g, opConv).Quant.ZeroPoint[0] = 300 },
			errs.Model, "zero point 300 out of the uint8 range"},
		{"scale zero", model.Uint8, func(g *model.Graph) { out(g, opConv).Quant.Scale[0] = 0 },
			errs.Model, "scale 0 is not a positive finite number"},
		{"dw multiplier", model.Uint8, func(g *model.Graph) { g.Ops[opDW].DepthMultiplier = 3 },
			errs.Shape, "want input channels 4 x depth multiplier 3"},
		{"dw filter", model.Uint8, func(g *model.Graph) { in(g, opDW, 1).Shape = []int{3, 3, 1, 8} },
			errs.Shape, "want [1,KH,KW,C*M]"},
		{"pad negative", model.Uint8, func(g *model.Graph) {
			p := in(g, opPad, 1)
			p.Data[8] = 0xff
			p.Data[9], p.Data[10], p.Data[11] = 0xff, 0xff, 0xff
		}, errs.Shape, "negative padding [-1 1] on axis 1"},
		{"pad shape", model.Uint8, func(g *model.Graph) { out(g, opPad).Shape = []int{1, 6, 5, 8} },
			errs.Shape, "want [1 6 6 8]"},
		{"pool window", model.Uint8, func(g *model.Graph) { g.Ops[opMaxPool].FilterH = 0 },
			errs.Model, "filter size 0x2"},
		{"pool shape", model.Uint8, func(g *model.Graph) { g.Ops[opMaxPool].StrideW = 1 },
			errs.Shape, "want [1 3 5 8]"},
		{"pool requant", model.Uint8, func(g *model.Graph) { out(g, opAvgPool).Quant.ZeroPoint[0] = 3 },
			errs.Model, "differs from input"},
		{"add broadcast", model.Uint8, func(g *model.Graph) { out(g, opAvgPool).Shape = []int{1, 3, 2, 8} },
			errs.Shape, "AVERAGE_POOL_2D"},
		{"mul broadcast", model.Uint8, func(g *model.Graph) {
			c := in(g, opMul, 1)
			c.Shape = []int{1, 1, 2, 4}
		}, errs.Shape, "input shapes [1 3 3 8] and [1 1 2 4] do not broadcast"},
		{"add dtypes", model.Uint8, func(g *model.Graph) { in(g, opAdd, 1).DType = model.Int8 },
			errs.DType, "AVERAGE_POOL_2D"},
		{"concat axis", model.Uint8, func(g *model.Graph) { g.Ops[opConcat].Axis = 4 },
			errs.Shape, "axis 4 out of range"},
		{"concat negative axis", model.Uint8, func(g *model.Graph) { g.Ops[opConcat].Axis = -4 },
			errs.Shape, "want [2 3 3 8]"},
		{"concat int8 quant", model.Int8, func(g *model.Graph) { out(g, opConcat).Quant.Scale[0] = 0.5 },
			errs.Model, "int8 CONCATENATION"},
		{"mean keep_dims", model.Uint8, func(g *model.Graph) { g.Ops[opMean].KeepDims = false },
			errs.Shape, "want [1 16]"},
		{"mean axis", model.Uint8, func(g *model.Graph) { in(g, opMean, 1).Data[0] = 9 },
			errs.Shape, "axis 9 out of range"},
		{"squeeze not 1", model.Uint8, func(g *model.Graph) { g.Ops[opSqueeze].SqueezeDims = []int{3} },
			errs.Shape, "squeeze dimension 3 of input shape [1 1 1 16] is not 1"},
		{"squeeze all", model.Uint8, func(g *model.Graph) { g.Ops[opSqueeze].SqueezeDims = nil },
			errs.Shape, "want [16]"},
		{"fc depth", model.Uint8, func(g *model.Graph) {
			w := in(g, opFC, 1)
			w.Shape = []int{16, 10}
		}, errs.Shape, `bias "fc/bias" has shape [10], want [16]`},
		{"fc keep dims", model.Uint8, func(g *model.Graph) {
			g.Ops[opFC].KeepDims = true
			in(g, opFC, 1).Shape = []int{20, 8}
			b := in(g, opFC, 2)
			b.Shape = []int{20}
			b.Data = make([]byte, 80)
			b.Quant = nil
		}, errs.Shape, "with keep_num_dims its last dimension must be the weights' input size 8"},
		{"reshape elements", model.Uint8, func(g *model.Graph) { copy(in(g, opReshape, 1).Data, []byte{3, 0, 0, 0}) },
			errs.Shape, "cannot reshape [1 10] (10 elements) to [3 10]"},
		{"reshape -1", model.Uint8, func(g *model.Graph) { in(g, opReshape, 1).Data[4] = 3 },
			errs.Shape, "cannot reshape [1 10] (10 elements) to [-1 3]"},
		{"softmax scale", model.Uint8, func(g *model.Graph) { out(g, opSoftmax).Quant.Scale[0] = 0.1 },
			errs.Model, "TFLite requires 1/256 and 0"},
		{"logistic zp int8", model.Int8, func(g *model.Graph) { out(g, opLogistic).Quant.ZeroPoint[0] = 0 },
			errs.Model, "TFLite requires 1/256 and -128"},
		{"dequantize dtype", model.Uint8, func(g *model.Graph) { out(g, opDequantize).DType = model.Int32 },
			errs.DType, "want float32"},
		{"quantize output", model.Uint8, func(g *model.Graph) { out(g, opQuantize).Quant = nil },
			errs.Model, "has no quantization parameters"},
		{"const size", model.Uint8, func(g *model.Graph) { in(g, opConv, 1).Data = []byte{1} },
			errs.Model, "constant data has 1 bytes, want 108 elements"},
		{"order", model.Uint8, func(g *model.Graph) { g.Ops[opConv], g.Ops[opDW] = g.Ops[opDW], g.Ops[opConv] },
			errs.Model, `input tensor 4 "conv" is neither a constant, a graph input nor the output of an earlier op`},
		{"written twice", model.Uint8, func(g *model.Graph) { g.Ops[opDW].Outputs[0] = g.Ops[opConv].Outputs[0] },
			errs.Model, "already a constant, a graph input or another op's output"},
		{"output index", model.Uint8, func(g *model.Graph) { g.Outputs[0] = 1000 },
			errs.Model, "graph output: tensor index 1000 out of range"},
		{"input index", model.Uint8, func(g *model.Graph) { g.Ops[opFC].Inputs[0] = -5 },
			errs.Model, "input tensor index -5 out of range"},
		{"arity", model.Uint8, func(g *model.Graph) { g.Ops[opAdd].Inputs = g.Ops[opAdd].Inputs[:1] },
			errs.Model, `ADD "add": qmpc:model: 1 inputs, want 2`},
		{"required absent", model.Uint8, func(g *model.Graph) { g.Ops[opConv].Inputs[1] = -1 },
			errs.Model, "required input 1 is absent"},
		{"unknown kind", model.Uint8, func(g *model.Graph) { g.Ops[opAdd].Kind = 200 },
			errs.Model, "unknown op kind op(200)"},
		{"invalid dtype", model.Uint8, func(g *model.Graph) { out(g, opAdd).DType = model.Invalid },
			errs.DType, "invalid element type"},
		{"no shape", model.Uint8, func(g *model.Graph) { out(g, opAdd).Shape = nil },
			errs.Shape, "no shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tflitetest.AllOps(tc.dt, 3)
			tc.break_(g)
			err := g.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if k := errs.KindOf(err); k != tc.kind {
				t.Errorf("kind %q, want %q: %v", k, tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error\n  %v\ndoes not contain\n  %s", err, tc.msg)
			}
		})
	}
}

func TestInferShapes(t *testing.T) {
	want := tflitetest.AllOps(model.Int8, 5)
	g := tflitetest.AllOps(model.Int8, 5)
	for _, op := range g.Ops {
		g.Tensors[op.Outputs[0]].Shape = nil
	}
	if err := g.InferShapes(); err != nil {
		t.Fatal(err)
	}
	for i, tt := range g.Tensors {
		if got, w := tt.Shape, want.Tensors[i].Shape; len(got) != len(w) || (len(w) > 0 && !equal(got, w)) {
			t.Errorf("tensor %d %q: inferred %v, want %v", i, tt.Name, got, w)
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBroadcastShapes(t *testing.T) {
	tests := []struct {
		a, b, want []int
		ok         bool
	}{
		{[]int{1, 4, 4, 8}, []int{1, 4, 4, 8}, []int{1, 4, 4, 8}, true},
		{[]int{1, 4, 4, 8}, []int{1, 1, 1, 8}, []int{1, 4, 4, 8}, true},
		{[]int{1, 4, 4, 8}, []int{}, []int{1, 4, 4, 8}, true},
		{[]int{8}, []int{2, 1, 8}, []int{2, 1, 8}, true},
		{[]int{3, 1}, []int{1, 5}, []int{3, 5}, true},
		{[]int{1, 4, 4, 8}, []int{4}, nil, false},
	}
	for _, tc := range tests {
		got, ok := model.BroadcastShapes(tc.a, tc.b)
		if ok != tc.ok || !equal(got, tc.want) {
			t.Errorf("BroadcastShapes(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConvOutSize(t *testing.T) {
	// Values from TFLite's ComputeOutSize (padding.h): SAME ceil(in/stride), VALID
	// ceil((in - effective_filter + 1)/stride).
	tests := []struct {
		pad                           model.Padding
		in, filter, stride, dil, want int
	}{
		{model.PadSame, 224, 3, 2, 1, 112},
		{model.PadSame, 7, 3, 2, 1, 4},
		{model.PadValid, 7, 3, 2, 1, 3},
		{model.PadValid, 4, 4, 2, 1, 1},
		{model.PadValid, 10, 3, 1, 2, 6},
		{model.PadValid, 3, 4, 1, 1, 0},
		{model.PadSame, 5, 3, 0, 1, 0},
	}
	for _, tc := range tests {
		if got := model.ConvOutSize(tc.pad, tc.in, tc.filter, tc.stride, tc.dil); got != tc.want {
			t.Errorf("ConvOutSize(%v, in=%d, f=%d, s=%d, d=%d) = %d, want %d", tc.pad, tc.in, tc.filter, tc.stride, tc.dil, got, tc.want)
		}
	}
}
