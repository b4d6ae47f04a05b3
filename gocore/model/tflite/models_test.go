package tflite

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
)

// sharedModels is where the project's real third-party models live (read-only, not in
// the repository).
const sharedModels = "../../../../shared/models"

func readShared(t *testing.T, rel string) *model.Graph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedModels, rel))
	if os.IsNotExist(err) {
		t.Skipf("%s not found: the shared models folder is absent in this checkout", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	g, err := Read(data)
	if err != nil {
		t.Fatalf("Read(%s): %v", rel, err)
	}
	return g
}

func opCounts(g *model.Graph) map[model.OpKind]int {
	c := map[model.OpKind]int{}
	for _, op := range g.Ops {
		c[op.Kind]++
	}
	return c
}

// TestSharedModels checks what ../shared/models/README.md says about each file.
func TestSharedModels(t *testing.T) {
	type io struct {
		shape []int
		dtype model.DType
		scale float32
		zp    int64
	}
	tests := []struct {
		file    string
		in, out io
		ops     map[model.OpKind]int
	}{
		{
			file: "coral/mobilenet_v1_0.25_128_quant.tflite",
			in:   io{[]int{1, 128, 128, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 15, model.OpDepthwiseConv2D: 13,
				model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral_2020/mobilenet_v1_0.25_128_quant.tflite",
			in:   io{[]int{1, 128, 128, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 15, model.OpDepthwiseConv2D: 13,
				model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral/mobilenet_v1_0.5_160_quant.tflite",
			in:   io{[]int{1, 160, 160, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 15, model.OpDepthwiseConv2D: 13,
				model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral/mobilenet_v1_0.75_192_quant.tflite",
			in:   io{[]int{1, 192, 192, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 15, model.OpDepthwiseConv2D: 13,
				model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
			in:   io{[]int{1, 224, 224, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1, 1, 1024}, model.Uint8, 0, -1},
			ops: map[model.OpKind]int{model.OpConv2D: 14, model.OpDepthwiseConv2D: 13,
				model.OpAveragePool2D: 1},
		},
		{
			file: "coral/mobilenet_quant_v1_224_head_layers.tflite",
			in:   io{[]int{1, 1, 1, 1024}, model.Uint8, 0, -1},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops:  map[model.OpKind]int{model.OpConv2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral/mobilenet_v2_1.0_224_quant.tflite",
			in:   io{[]int{1, 224, 224, 3}, model.Uint8, 1.0 / 128, 128},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 36, model.OpDepthwiseConv2D: 17,
				model.OpAdd: 10, model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
			in:   io{[]int{1, 224, 224, 3}, model.Uint8, 0, -1},
			out:  io{[]int{1, 1001}, model.Uint8, 1.0 / 256, 0},
			ops: map[model.OpKind]int{model.OpConv2D: 36, model.OpDepthwiseConv2D: 17,
				model.OpAdd: 10, model.OpMean: 1, model.OpQuantize: 2, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "tflm/person_detect.tflite",
			in:   io{[]int{1, 96, 96, 1}, model.Int8, 0, -1},
			out:  io{[]int{1, 2}, model.Int8, 1.0 / 256, -128},
			ops: map[model.OpKind]int{model.OpConv2D: 14, model.OpDepthwiseConv2D: 14,
				model.OpAveragePool2D: 1, model.OpReshape: 1, model.OpSoftmax: 1},
		},
		{
			file: "tflm/hello_world_int8.tflite",
			in:   io{[]int{1, 1}, model.Int8, 0, -128},
			out:  io{[]int{1, 1}, model.Int8, 0, -1},
			ops:  map[model.OpKind]int{model.OpFullyConnected: 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			g := readShared(t, tc.file)
			if got := opCounts(g); !mapsEqual(got, tc.ops) {
				t.Errorf("op counts %v, want %v", got, tc.ops)
			}
			check := func(what string, idx []int, want io) {
				if len(idx) != 1 {
					t.Fatalf("%d %ss, want 1", len(idx), what)
				}
				x := g.Tensors[idx[0]]
				if !slices.Equal(x.Shape, want.shape) || x.DType != want.dtype {
					t.Errorf("%s %v %v, want %v %v", what, x.Shape, x.DType, want.shape, want.dtype)
				}
				if x.Quant == nil || len(x.Quant.Scale) != 1 {
					t.Fatalf("%s: quantization %+v, want per-tensor", what, x.Quant)
				}
				if want.scale != 0 && x.Quant.Scale[0] != want.scale {
					t.Errorf("%s scale %v, want %v", what, x.Quant.Scale[0], want.scale)
				}
				if want.zp != -1 && x.Quant.ZeroPoint[0] != want.zp {
					t.Errorf("%s zero point %v, want %v", what, x.Quant.ZeroPoint[0], want.zp)
				}
			}
			check("input", g.Inputs, tc.in)
			check("output", g.Outputs, tc.out)
		})
	}
}

func mapsEqual(a, b map[model.OpKind]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPersonDetectDepthMultiplier(t *testing.T) {
	g := readShared(t, "tflm/person_detect.tflite")
	op := g.Ops[0]
	if op.Kind != model.OpDepthwiseConv2D {
		t.Fatalf("op 0 is %v, want DEPTHWISE_CONV_2D", op.Kind)
	}
	if op.DepthMultiplier != 8 {
		t.Errorf("depth multiplier %d, want 8", op.DepthMultiplier)
	}
	f := g.Tensors[op.Inputs[1]]
	if !slices.Equal(f.Shape, []int{1, 3, 3, 8}) || f.DType != model.Int8 || !f.IsConst() {
		t.Errorf("filter %v %v const=%v, want [1 3 3 8] int8 const", f.Shape, f.DType, f.IsConst())
	}
	if f.Quant == nil || len(f.Quant.Scale) != 8 || f.Quant.Axis != 3 {
		t.Errorf("filter quantization %+v, want 8 per-channel scales on axis 3", f.Quant)
	}
}

func TestTF2MobileNetV2PerChannel(t *testing.T) {
	g := readShared(t, "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite")
	convs := 0
	for _, op := range g.Ops {
		if op.Kind != model.OpConv2D {
			continue
		}
		convs++
		w, b := g.Tensors[op.Inputs[1]], g.Tensors[op.Inputs[2]]
		if w.DType != model.Int8 || w.Quant == nil || len(w.Quant.Scale) != w.Shape[0] || w.Quant.Axis != 0 {
			t.Errorf("%s: weights %v %v quant %+v, want int8 per-channel on axis 0", op.Name, w.Shape, w.DType, w.Quant)
		}
		for _, zp := range w.Quant.ZeroPoint {
			if zp != 0 {
				t.Errorf("%s: weight zero point %d, want 0 (symmetric)", op.Name, zp)
				break
			}
		}
		if b.DType != model.Int32 || len(b.Data) != 4*w.Shape[0] {
			t.Errorf("%s: bias %v with %d bytes", op.Name, b.DType, len(b.Data))
		}
	}
	if convs != 36 {
		t.Errorf("%d CONV_2D, want 36", convs)
	}
	if g.Ops[0].Kind != model.OpQuantize || g.Tensors[g.Ops[0].Outputs[0]].DType != model.Int8 {
		t.Errorf("op 0 is %v, want QUANTIZE uint8 -> int8", g.Ops[0].Kind)
	}
}

func TestMobileNetV1Options(t *testing.T) {
	g := readShared(t, "coral/mobilenet_v1_0.25_128_quant.tflite")
	op := g.Ops[0]
	if op.Kind != model.OpConv2D || op.StrideH != 2 || op.StrideW != 2 || op.Padding != model.PadSame ||
		op.Activation != model.ActRelu6 || op.DilationH != 1 || op.DilationW != 1 {
		t.Errorf("op 0: %+v, want CONV_2D stride 2 SAME RELU6", *op)
	}
	x := g.Tensors[op.Outputs[0]]
	if !slices.Equal(x.Shape, []int{1, 64, 64, 8}) {
		t.Errorf("op 0 output %v, want [1 64 64 8]", x.Shape)
	}
	dw := g.Ops[1]
	if dw.Kind != model.OpDepthwiseConv2D || dw.DepthMultiplier != 1 || dw.StrideH != 1 {
		t.Errorf("op 1: %+v, want DEPTHWISE_CONV_2D dm 1 stride 1", *dw)
	}
	pool := g.Ops[len(g.Ops)-4]
	if pool.Kind != model.OpAveragePool2D || pool.FilterH != 4 || pool.FilterW != 4 || pool.Padding != model.PadValid {
		t.Errorf("pool: %+v, want AVERAGE_POOL_2D 4x4 VALID", *pool)
	}
	sm := g.Ops[len(g.Ops)-1]
	if sm.Kind != model.OpSoftmax || sm.Beta != 1 {
		t.Errorf("last op: %+v, want SOFTMAX beta 1", *sm)
	}
}
