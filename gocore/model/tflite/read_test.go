package tflite

import (
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

func encode(t testing.TB, g *model.Graph, o *tflitetest.Options) []byte {
	t.Helper()
	data, err := tflitetest.Encode(g, o)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRoundTrip encodes generated graphs with the flatbuffers builder and reads them
// back: the reader must return the graph it was given, in every file variant.
func TestRoundTrip(t *testing.T) {
	variants := []struct {
		name string
		opts tflitetest.Options
	}{
		{"default", tflitetest.Options{}},
		{"deprecated-codes", tflitetest.Options{DeprecatedCodesOnly: true}},
		{"offset-buffers", tflitetest.Options{OffsetBuffers: true}},
	}
	graphs := []struct {
		name string
		g    func() *model.Graph
	}{
		{"allops-uint8", func() *model.Graph { return tflitetest.AllOps(model.Uint8, 1) }},
		{"allops-int8", func() *model.Graph { return tflitetest.AllOps(model.Int8, 2) }},
		{"tinyconv-int8", func() *model.Graph { return tflitetest.TinyConv(model.Int8, 5, 4, 2, 3, 3) }},
	}
	for _, gc := range graphs {
		for _, v := range variants {
			t.Run(gc.name+"/"+v.name, func(t *testing.T) {
				want := gc.g()
				if err := want.Validate(); err != nil {
					t.Fatalf("generated graph does not validate: %v", err)
				}
				v.opts.Description = want.Description
				got, err := Read(encode(t, want, &v.opts))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					for i := range want.Ops {
						if i < len(got.Ops) && !reflect.DeepEqual(got.Ops[i], want.Ops[i]) {
							t.Errorf("op %d: got %+v, want %+v", i, *got.Ops[i], *want.Ops[i])
						}
					}
					for i := range want.Tensors {
						if i < len(got.Tensors) && !reflect.DeepEqual(got.Tensors[i], want.Tensors[i]) {
							t.Errorf("tensor %d: got %+v, want %+v", i, *got.Tensors[i], *want.Tensors[i])
						}
					}
					t.Fatalf("graphs differ")
				}
			})
		}
	}
}

// TestUnsupportedOpsListedAtOnce replaces several ops of a generated model by ops qmpc
// does not support (and one supported op by an unsupported variant, and shape arithmetic on
// activations, which constant folding cannot remove) and checks that one error names all
// of them with their counts, in model order.
func TestUnsupportedOpsListedAtOnce(t *testing.T) {
	g := tflitetest.AllOps(model.Uint8, 1)
	// ops: 0 QUANTIZE 1 CONV 2 DW 3 PAD 4 MAXPOOL 5 AVGPOOL 6 ADD 7 MUL 8 CONCAT 9 MEAN
	// 10 SQUEEZE 11 FC 12 RESHAPE 13 SOFTMAX 14 LOGISTIC 15 DEQUANTIZE
	data := encode(t, g, &tflitetest.Options{
		OpCode: map[int]fb.BuiltinOperator{
			3: fb.BuiltinOperatorLSTM, 4: fb.BuiltinOperatorELU, 10: fb.BuiltinOperatorLSTM,
			14: fb.BuiltinOperatorSTABLEHLO_ADD,                   // > 127: only in builtin_code
			7:  fb.BuiltinOperatorCAST, 13: fb.BuiltinOperatorSUB, // of activations: not foldable
		},
		CustomCode: map[int]string{8: "TFLite_Detection_PostProcess"},
		Activation: map[int]fb.ActivationFunctionType{1: fb.ActivationFunctionTypeTANH},
		WeightsFormat: map[int]fb.FullyConnectedOptionsWeightsFormat{
			11: fb.FullyConnectedOptionsWeightsFormatSHUFFLED4x16INT8},
	})
	_, err := Read(data)
	if err == nil {
		t.Fatal("no error")
	}
	if k := errs.KindOf(err); k != errs.UnsupportedOp {
		t.Errorf("kind %q, want %q (%v)", k, errs.UnsupportedOp, err)
	}
	const want = "unsupported ops: CONV_2D(fused TANH) (1), LSTM (2), ELU (1), " +
		"CAST(of a tensor not known at import time) (1), CUSTOM:TFLite_Detection_PostProcess (1), " +
		"FULLY_CONNECTED(weights_format SHUFFLED4x16INT8) (1), SUB(of a tensor not known at import time) (1), STABLEHLO_ADD (1)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error\n  %v\nwant it to contain\n  %s", err, want)
	}
	var ue *model.UnsupportedOpsError
	if !errors.As(err, &ue) {
		t.Fatalf("no *model.UnsupportedOpsError in %v", err)
	}
	if got := ue.Ops[1]; got.Name != "LSTM" || !reflect.DeepEqual(got.Ops, []int{3, 10}) {
		t.Errorf("second entry %+v, want LSTM at ops [3 10]", got)
	}
}

func TestDeprecatedCodeCannotHideNewOp(t *testing.T) {
	// A file with only deprecated codes cannot express codes > 127: the placeholder
	// must read as an unsupported op, not as something else.
	g := tflitetest.TinyConv(model.Uint8, 4, 4, 1, 1, 1)
	data := encode(t, g, &tflitetest.Options{
		DeprecatedCodesOnly: true,
		OpCode:              map[int]fb.BuiltinOperator{0: fb.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES},
	})
	_, err := Read(data)
	if errs.KindOf(err) != errs.UnsupportedOp || !strings.Contains(err.Error(), "PLACEHOLDER_FOR_GREATER_OP_CODES (1)") {
		t.Errorf("got %v", err)
	}
}

func TestDepthMultiplierInferred(t *testing.T) {
	// Old files store 0 or garbage; TFLite infers the multiplier from the shapes.
	for _, stored := range []int32{0, -3, 7} {
		g := tflitetest.AllOps(model.Int8, 4)
		data := encode(t, g, &tflitetest.Options{DepthMultiplier: map[int]int32{2: stored}})
		got, err := Read(data)
		if err != nil {
			t.Fatalf("stored %d: %v", stored, err)
		}
		if dm := got.Ops[2].DepthMultiplier; dm != 2 {
			t.Errorf("stored %d: depth multiplier %d, want 2", stored, dm)
		}
	}
}

// mutate returns a copy of a valid model with f applied.
func mutate(t *testing.T, f func(d []byte) []byte) []byte {
	t.Helper()
	d := encode(t, tflitetest.AllOps(model.Uint8, 7), nil)
	return f(append([]byte(nil), d...))
}

// tensorTable returns the position of tensor i's table in a model written by Encode.
func tensorTable(d []byte, i int) *fb.Tensor {
	m := fb.GetRootAsModel(d, 0)
	var sg fb.SubGraph
	m.Subgraphs(&sg, 0)
	var tt fb.Tensor
	sg.Tensors(&tt, i)
	return &tt
}

func TestMalformed(t *testing.T) {
	valid := encode(t, tflitetest.AllOps(model.Uint8, 7), nil)
	tests := []struct {
		name string
		data []byte
		kind errs.Kind
		msg  string
	}{
		{"empty", nil, errs.Model, "too short"},
		{"tiny", []byte("TFL3"), errs.Model, "too short"},
		{"wrong identifier", mutate(t, func(d []byte) []byte { copy(d[4:], "ONNX"); return d }), errs.Model, `identifier "ONNX"`},
		{"root out of range", mutate(t, func(d []byte) []byte { binary.LittleEndian.PutUint32(d, 1<<30); return d }), errs.Model, "root offset"},
		{"truncated half", valid[:len(valid)/2], errs.Model, "malformed"},
		{"truncated three quarters", valid[:3*len(valid)/4], errs.Model, "malformed"},
		{"version", encode(t, tflitetest.AllOps(model.Uint8, 7), &tflitetest.Options{Version: 2}), errs.Model, "schema version 2"},
		{"buffer index", mutate(t, func(d []byte) []byte {
			tensorTable(d, 3).MutateBuffer(999)
			return d
		}), errs.Model, "buffer index 999 out of range"},
		{"negative dim", mutate(t, func(d []byte) []byte {
			tt := tensorTable(d, 1)
			tt.MutateShape(1, -4)
			return d
		}), errs.Shape, "negative dimension"},
		{"huge dims", mutate(t, func(d []byte) []byte {
			tt := tensorTable(d, 1)
			for j := 0; j < 4; j++ {
				tt.MutateShape(j, 1<<20)
			}
			return d
		}), errs.Shape, "more than"},
		{"const size", mutate(t, func(d []byte) []byte {
			tt := tensorTable(d, 2) // conv weights [4,3,3,3]
			tt.MutateShape(0, 5)
			return d
		}), errs.Model, "has 108 bytes, want 135"},
		{"op input index", mutate(t, func(d []byte) []byte {
			m := fb.GetRootAsModel(d, 0)
			var sg fb.SubGraph
			m.Subgraphs(&sg, 0)
			var op fb.Operator
			sg.Operators(&op, 1)
			op.MutateInputs(0, 500)
			return d
		}), errs.Model, "tensor index 500 out of range"},
		{"opcode index", mutate(t, func(d []byte) []byte {
			m := fb.GetRootAsModel(d, 0)
			var sg fb.SubGraph
			m.Subgraphs(&sg, 0)
			var op fb.Operator
			sg.Operators(&op, 1)
			op.MutateOpcodeIndex(77)
			return d
		}), errs.Model, "opcode index 77 out of range"},
		{"graph input index", mutate(t, func(d []byte) []byte {
			m := fb.GetRootAsModel(d, 0)
			var sg fb.SubGraph
			m.Subgraphs(&sg, 0)
			sg.MutateInputs(0, -1)
			return d
		}), errs.Model, "subgraph inputs: tensor index -1"},
		{"type", mutate(t, func(d []byte) []byte {
			tensorTable(d, 1).MutateType(fb.TensorTypeCOMPLEX64)
			return d
		}), errs.DType, "unsupported TFLite tensor type COMPLEX64"},
		{"shape mismatch", mutate(t, func(d []byte) []byte {
			tensorTable(d, 4).MutateShape(1, 7) // conv output [1,8,8,4] -> [1,7,8,4]
			return d
		}), errs.Shape, "output shape [1 7 8 4], want [1 8 8 4]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Read(tc.data)
			if err == nil {
				t.Fatalf("no error; graph with %d ops", len(g.Ops))
			}
			if k := errs.KindOf(err); k != tc.kind {
				t.Errorf("kind %q, want %q: %v", k, tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

// TestTruncatedEverywhere reads every prefix of a small model: each must fail cleanly,
// or (when only unreferenced padding was cut) return the whole graph.
func TestTruncatedEverywhere(t *testing.T) {
	d := encode(t, tflitetest.TinyConv(model.Uint8, 3, 3, 1, 2, 1), nil)
	full, err := Read(d)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(d); n++ {
		if g, err := Read(d[:n]); err == nil {
			if !reflect.DeepEqual(g, full) {
				t.Fatalf("prefix of %d/%d bytes read without error into a different graph", n, len(d))
			}
		} else if k := errs.KindOf(err); k != errs.Model && k != errs.Shape && k != errs.DType {
			t.Fatalf("prefix of %d bytes: kind %q: %v", n, k, err)
		}
	}
}

// TestPadV2 reads PADV2 as a PAD that keeps its constant value (the zero point or any other
// value of the input's type, e.g. the minimum that pads a max pool).
func TestPadV2(t *testing.T) {
	for _, value := range []byte{0, 5} {
		g := tflitetest.AllOps(model.Uint8, 1)
		pad := g.Ops[3] // PAD; its input's zero point is 0
		if pad.Kind != model.OpPad || g.Tensors[pad.Inputs[0]].Quant.ZeroPoint[0] != 0 {
			t.Fatal("AllOps changed: op 3 is not a PAD of an input with zero point 0")
		}
		g.Tensors = append(g.Tensors, &model.Tensor{Name: "pad/value", DType: model.Uint8, Shape: []int{},
			Quant: g.Tensors[pad.Inputs[0]].Quant, Data: []byte{value}})
		pad.Inputs = append(pad.Inputs, len(g.Tensors)-1)
		data := encode(t, g, &tflitetest.Options{OpCode: map[int]fb.BuiltinOperator{3: fb.BuiltinOperatorPADV2}})
		got, err := Read(data)
		if err != nil {
			t.Fatalf("value %d: %v", value, err)
		}
		op := got.Ops[3]
		if op.Kind != model.OpPad || len(op.Inputs) != 3 {
			t.Fatalf("value %d: op 3 is %v with inputs %v, want PAD with 3 inputs", value, op.Kind, op.Inputs)
		}
		if v, err := got.PadValue(op); err != nil || v != int32(value) {
			t.Errorf("value %d: PadValue = %d, %v", value, v, err)
		}
	}
}

// TestShapeSubgraphFolded reads the graph a Keras model with a dynamic batch converts to
// (RESHAPE's shape from SHAPE -> STRIDED_SLICE -> PACK, with shape arithmetic on the way):
// the shape ops are folded away and the RESHAPE gets the constant shape [1 120].
func TestShapeSubgraphFolded(t *testing.T) {
	for _, dt := range []model.DType{model.Int8, model.Uint8} {
		g, err := Read(encode(t, tflitetest.ShapeOps(dt, 1), nil))
		if err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		var kinds []string
		for _, op := range g.Ops {
			kinds = append(kinds, op.Kind.String())
			if op.Kind == model.OpReshape {
				if s, err := model.IntData(g.Tensors[op.Inputs[1]]); err != nil || !slices.Equal(s, []int{1, 120}) {
					t.Errorf("%v: RESHAPE shape %v (%v), want [1 120]", dt, s, err)
				}
			}
		}
		want := []string{"TRANSPOSE", "CONV_2D", "RESHAPE", "GATHER", "EXPAND_DIMS", "SLICE", "FULLY_CONNECTED"}
		if !slices.Equal(kinds, want) {
			t.Errorf("%v: ops %v, want %v", dt, kinds, want)
		}
	}
}
