package model_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
)

const sharedModels = "../../../shared/models"

func readShared(t *testing.T, rel string) *model.Graph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedModels, rel))
	if os.IsNotExist(err) {
		t.Skipf("%s not found: the shared models folder is absent in this checkout", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPublishedMACs compares the totals with the multiply-accumulates and parameters
// published for these networks (TF-Slim MobileNet README tables: Million MACs, Million
// parameters), which are rounded and counted slightly differently: 3% tolerance
// (or the rounding of the published figure).
func TestPublishedMACs(t *testing.T) {
	tests := []struct {
		files          []string
		macsM, paramsM float64
	}{
		{[]string{"coral/mobilenet_v1_0.25_128_quant.tflite"}, 14, 0.47},
		{[]string{"coral/mobilenet_v1_0.5_160_quant.tflite"}, 77, 1.32},
		{[]string{"coral/mobilenet_v1_0.75_192_quant.tflite"}, 233, 2.59},
		{[]string{"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
			"coral/mobilenet_quant_v1_224_head_layers.tflite"}, 569, 4.24},
		{[]string{"coral/mobilenet_v2_1.0_224_quant.tflite"}, 300, 3.47},
		{[]string{"coral/tf2_mobilenet_v2_1.0_224_ptq.tflite"}, 300, 3.47},
	}
	for _, tc := range tests {
		t.Run(tc.files[0], func(t *testing.T) {
			var macs, params int64
			for _, f := range tc.files {
				m, p := model.Totals(readShared(t, f))
				macs, params = macs+m, params+p
			}
			// Published MACs are rounded to whole millions.
			if d := math.Abs(float64(macs)/1e6 - tc.macsM); d > 0.03*tc.macsM && d > 0.5 {
				t.Errorf("%d MACs, published %gM", macs, tc.macsM)
			}
			if r := float64(params) / 1e6 / tc.paramsM; math.Abs(r-1) > 0.03 {
				t.Errorf("%d parameters, published %gM", params, tc.paramsM)
			}
		})
	}
}

func TestCountMACs(t *testing.T) {
	g := tflitetest.AllOps(model.Uint8, 1)
	want := map[int]int64{
		opConv: 1 * 8 * 8 * 4 * 3 * 3 * 3, // out elements x KH x KW x I
		opDW:   1 * 4 * 4 * 8 * 3 * 3,     // out elements x KH x KW
		opFC:   10 * 16,
		opMul:  3 * 3 * 8,
	}
	for i, op := range g.Ops {
		if got := model.CountMACs(g, op); got != want[i] {
			t.Errorf("op %d %v: %d MACs, want %d", i, op.Kind, got, want[i])
		}
	}
	if p, b := model.CountParams(g, g.Ops[opConv]); p != 4*3*3*3+4 || b != 4*3*3*3+16 {
		t.Errorf("conv params %d (%d bytes), want 112 (124 bytes)", p, b)
	}
	if p, _ := model.CountParams(g, g.Ops[opMean]); p != 0 {
		t.Errorf("mean params %d, want 0 (axes are not parameters)", p)
	}
}

func TestSummary(t *testing.T) {
	g := readShared(t, "coral/mobilenet_v1_0.25_128_quant.tflite")
	s := model.Summary(g)
	lines := strings.Split(s, "\n")
	for _, want := range []string{
		"input 0   input                              [1,128,128,3]  uint8  s=0.0078125 zp=128",
		"DEPTHWISE_CONV_2D  3x3/2 SAME RELU6  [1,32,32,16]  uint8   s=0.0235285 zp=0    147456     160",
		"13.57M MACs, 467.6k parameters",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary does not contain %q:\n%s", want, s)
		}
	}
	// header, 31 ops and the total line
	n := 0
	for _, l := range lines {
		if strings.Contains(l, "SOFTMAX") || strings.Contains(l, "CONV_2D") || strings.Contains(l, "POOL") || strings.Contains(l, "RESHAPE") {
			n++
		}
	}
	if n != 31 {
		t.Errorf("%d op lines, want 31:\n%s", n, s)
	}
	pc := model.Summary(readShared(t, "tflm/person_detect.tflite"))
	if !strings.Contains(pc, "dm=8 w:per-channel(8)") {
		t.Errorf("person_detect summary lacks the first layer's depth multiplier:\n%s", pc)
	}
}

func TestInfoJSON(t *testing.T) {
	g := readShared(t, "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite")
	data, err := model.InfoJSON(g)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		NumOps int `json:"num_ops"`
		Inputs []struct {
			Name       string    `json:"name"`
			Shape      []int     `json:"shape"`
			DType      string    `json:"dtype"`
			Scale      float64   `json:"scale"`
			ZeroPoint  int64     `json:"zero_point"`
			Scales     []float64 `json:"scales"`
			ZeroPoints []int64   `json:"zero_points"`
		} `json:"inputs"`
		Outputs []struct {
			Shape []int   `json:"shape"`
			Scale float64 `json:"scale"`
		} `json:"outputs"`
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	in := info.Inputs[0]
	if in.Name != "input" || !equal(in.Shape, []int{1, 224, 224, 3}) || in.DType != "uint8" ||
		float32(in.Scale) != g.Tensors[g.Inputs[0]].Quant.Scale[0] || in.ZeroPoint != 127 ||
		len(in.Scales) != 1 || len(in.ZeroPoints) != 1 {
		t.Errorf("input info %+v", in)
	}
	if len(info.Outputs) != 1 || info.Outputs[0].Scale != 1.0/256 || !equal(info.Outputs[0].Shape, []int{1, 1001}) {
		t.Errorf("output info %+v", info.Outputs)
	}
	if info.NumOps != 68 || info.Digest != g.DigestHex() {
		t.Errorf("num_ops %d digest %s", info.NumOps, info.Digest)
	}
	// A float tensor: scale 0, empty lists (not null).
	a := tflitetest.AllOps(model.Int8, 1)
	data, _ = model.InfoJSON(a)
	if !strings.Contains(string(data), `"dtype":"float32","scale":0,"zero_point":0,"scales":[],"zero_points":[]`) {
		t.Errorf("float input info: %s", data)
	}
}

func TestDigest(t *testing.T) {
	base := tflitetest.AllOps(model.Int8, 9).Digest()
	if again := tflitetest.AllOps(model.Int8, 9).Digest(); again != base {
		t.Fatal("digest is not deterministic")
	}
	// Encoding and reading back keeps the digest (the description is not part of it).
	g := tflitetest.AllOps(model.Int8, 9)
	data, err := tflitetest.Encode(g, &tflitetest.Options{Description: "other"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Digest() != base {
		t.Error("digest changed through Encode/Read")
	}
	changes := map[string]func(g *model.Graph){
		"weight byte":  func(g *model.Graph) { in(g, opConv, 1).Data[5] ^= 1 },
		"scale":        func(g *model.Graph) { out(g, opConv).Quant.Scale[0] *= 1.0000001 },
		"zero point":   func(g *model.Graph) { out(g, opAdd).Quant.ZeroPoint[0]++ },
		"stride":       func(g *model.Graph) { g.Ops[opDW].StrideW = 1 },
		"activation":   func(g *model.Graph) { g.Ops[opConv].Activation = model.ActRelu },
		"rounding":     func(g *model.Graph) { g.Ops[opFC].Rounding = model.RoundHalfEven },
		"output order": func(g *model.Graph) { g.Outputs[0], g.Outputs[1] = g.Outputs[1], g.Outputs[0] },
		"name":         func(g *model.Graph) { g.Tensors[0].Name = "x" },
		"shape":        func(g *model.Graph) { out(g, opSqueeze).Shape = []int{16, 1} },
	}
	for name, f := range changes {
		g := tflitetest.AllOps(model.Int8, 9)
		f(g)
		if g.Digest() == base {
			t.Errorf("%s: digest unchanged", name)
		}
	}
}
