package qnn_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// images draws n inputs of g (one per image, each with every graph input) over each
// input type's full range (float inputs: wider than the quantized range).
func images(g *model.Graph, n int, seed uint64) [][]model.Value {
	r := rand.New(rand.NewPCG(seed, 11))
	out := make([][]model.Value, n)
	for i := range out {
		for _, ti := range g.Inputs {
			t := g.Tensors[ti]
			v := model.Value{Shape: t.Shape, DType: t.DType, Data: make([]byte, t.NumElements()*t.DType.Size())}
			if t.DType == model.Float32 {
				for j := 0; j < t.NumElements(); j++ {
					binary.LittleEndian.PutUint32(v.Data[4*j:], math.Float32bits(float32(r.Float64()*6-3)))
				}
			} else {
				for j := range v.Data {
					v.Data[j] = byte(r.Uint32())
				}
			}
			out[i] = append(out[i], v)
		}
	}
	return out
}

// checkBatch runs WithBatch(g, n) on n stacked images and compares every output row
// with running g on that image alone, bit for bit.
func checkBatch(t *testing.T, g *model.Graph, n int) {
	t.Helper()
	bg, err := model.WithBatch(g, n)
	if err != nil {
		t.Fatalf("WithBatch(%d): %v", n, err)
	}
	imgs := images(g, n, uint64(n))
	stacked := make([]model.Value, len(g.Inputs))
	for k, ti := range g.Inputs {
		col := make([]model.Value, n)
		for i := range col {
			col[i] = imgs[i][k]
		}
		if stacked[k], err = model.Stack(col, g.Tensors[ti].Shape); err != nil {
			t.Fatal(err)
		}
		stacked[k].Shape = bg.Tensors[bg.Inputs[k]].Shape
	}
	got, err := qnn.Run(bg, stacked)
	if err != nil {
		t.Fatalf("batch of %d: %v", n, err)
	}
	for i := range n {
		want, err := qnn.Run(g, imgs[i])
		if err != nil {
			t.Fatal(err)
		}
		for k, ti := range g.Outputs {
			rows, err := model.Unstack(got[k], g.Tensors[ti].Shape, n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rows[i].Data, want[k].Data) {
				t.Fatalf("batch of %d: image %d output %d differs from the image alone", n, i, k)
			}
		}
	}
}

func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "models", rel))
	if err != nil {
		t.Skipf("shared model %s absent: %v", rel, err)
	}
	return data
}

// TestBatchEqualsPerImage: every op kind the kernels support (AllOps: conv, depthwise,
// pad, pools, add, mul with broadcast, concatenation, mean, squeeze, fully connected,
// reshape, softmax, logistic, quantize/dequantize; Movement: transpose, strided slice,
// split, pack, unpack, gather, expand dims, slice), real models and the generated ONNX
// models (round half even): a batch equals each image alone, bit for bit.
func TestBatchEqualsPerImage(t *testing.T) {
	graphs := map[string]func(t *testing.T) *model.Graph{
		"allops/uint8":   func(*testing.T) *model.Graph { return tflitetest.AllOps(model.Uint8, 1) },
		"allops/int8":    func(*testing.T) *model.Graph { return tflitetest.AllOps(model.Int8, 2) },
		"movement":       func(*testing.T) *model.Graph { return tflitetest.Movement(false, 3) },
		"movement/float": func(*testing.T) *model.Graph { return tflitetest.Movement(true, 4) },
		"tinyconv":       func(*testing.T) *model.Graph { return tflitetest.TinyConv(model.Int8, 5, 4, 2, 3, 5) },
		"digits":         func(t *testing.T) *model.Graph { return readTFLite(t, "../../examples/digits/digits_cnn_int8.tflite") },
		"hello_world":    func(t *testing.T) *model.Graph { return readTFLite(t, sharedPath("tflm/hello_world_int8.tflite")) },
		"person_detect":  func(t *testing.T) *model.Graph { return readTFLite(t, sharedPath("tflm/person_detect.tflite")) },
		"mobilenet_v1_025": func(t *testing.T) *model.Graph {
			return readTFLite(t, sharedPath("coral/mobilenet_v1_0.25_128_quant.tflite"))
		},
	}
	files, _ := filepath.Glob("../../tests/_generated/onnx/*.onnx")
	for _, f := range files {
		graphs["onnx/"+filepath.Base(f)] = func(t *testing.T) *model.Graph {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(data)
			if err != nil {
				t.Skipf("not importable: %v", err)
			}
			return g
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range graphs {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			g := graphs[name](t)
			sizes := []int{1, 2, 7}
			if strings.HasPrefix(name, "mobilenet") || strings.HasPrefix(name, "person") {
				sizes = []int{3}
			}
			for _, n := range sizes {
				checkBatch(t, g, n)
			}
		})
	}
}

func sharedPath(rel string) string { return filepath.Join("..", "..", "..", "shared", "models", rel) }

func readTFLite(t *testing.T, path string) *model.Graph {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("model %s absent: %v", path, err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestBatchShapes: the batched graph's inputs and outputs, and BatchShape/BatchOf.
func TestBatchShapes(t *testing.T) {
	g := tflitetest.AllOps(model.Uint8, 1)
	bg, err := model.WithBatch(g, 5)
	if err != nil {
		t.Fatal(err)
	}
	if s := bg.Tensors[bg.Inputs[0]].Shape; !slices.Equal(s, []int{5, 8, 8, 3}) {
		t.Errorf("batched input shape %v, want [5 8 8 3]", s)
	}
	if s := bg.Tensors[bg.Outputs[0]].Shape; !slices.Equal(s, []int{5, 10}) {
		t.Errorf("batched output shape %v, want [5 10]", s)
	}
	if s := g.Tensors[g.Inputs[0]].Shape; !slices.Equal(s, []int{1, 8, 8, 3}) {
		t.Errorf("WithBatch modified the graph: input shape %v", s)
	}
	if same, _ := model.WithBatch(g, 1); same != g {
		t.Error("WithBatch(g, 1) is not g")
	}
	for _, c := range []struct {
		s, shape []int
		n        int
		ok       bool
	}{
		{[]int{1, 4, 4, 3}, []int{1, 4, 4, 3}, 1, true},
		{[]int{1, 4, 4, 3}, []int{9, 4, 4, 3}, 9, true},
		{[]int{1, 4, 4, 3}, []int{9, 4, 4, 2}, 0, false},
		{[]int{1, 4, 4, 3}, []int{9, 1, 4, 4, 3}, 0, false},
		{[]int{10}, []int{3, 10}, 3, true},
		{[]int{10}, []int{30}, 0, false},
		{[]int{1, 4}, []int{0, 4}, 0, false},
	} {
		n, ok := model.BatchOf(c.s, c.shape)
		if n != c.n || ok != c.ok {
			t.Errorf("BatchOf(%v, %v) = %d, %v; want %d, %v", c.s, c.shape, n, ok, c.n, c.ok)
		}
		if ok && !slices.Equal(model.BatchShape(c.s, n), c.shape) {
			t.Errorf("BatchShape(%v, %d) = %v, want %v", c.s, n, model.BatchShape(c.s, n), c.shape)
		}
	}
}

// TestBatchRefusesMixingOps: ops that work along the batch axis are refused, naming the
// op; the batch of 1 is always the graph itself.
func TestBatchRefusesMixingOps(t *testing.T) {
	const s, zp = float32(0.05), int64(0)
	cases := []struct {
		name  string
		build func(b *tflitetest.Builder, x int) *model.Op
	}{
		{"MEAN", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("mean", model.Int8, []int{1, 3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpMean, KeepDims: true, Inputs: []int{x, b.Ints("axes", []int{1}, 0)}, Outputs: []int{y}})
		}},
		{"SQUEEZE", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("squeeze", model.Int8, []int{3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpSqueeze, Inputs: []int{x}, Outputs: []int{y}})
		}},
		{"TRANSPOSE", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("transpose", model.Int8, []int{3, 1}, s, zp)
			return b.Op(&model.Op{Kind: model.OpTranspose, Inputs: []int{x, b.Ints("perm", []int{2}, 1, 0)}, Outputs: []int{y}})
		}},
		{"PAD", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("pad", model.Int8, []int{2, 3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpPad, Inputs: []int{x, b.Ints("paddings", []int{2, 2}, 1, 0, 0, 0)}, Outputs: []int{y}})
		}},
		{"CONCATENATION", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("concat", model.Int8, []int{2, 3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpConcatenation, Axis: 0, Inputs: []int{x, x}, Outputs: []int{y}})
		}},
		{"EXPAND_DIMS", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("expand", model.Int8, []int{1, 1, 3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpExpandDims, Inputs: []int{x, b.Ints("axis", []int{1}, 0)}, Outputs: []int{y}})
		}},
		{"RESHAPE", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("reshape", model.Int8, []int{}, s, zp)
			x1 := b.Act("one", model.Int8, []int{1}, s, zp)
			b.Op(&model.Op{Kind: model.OpSlice, Inputs: []int{x, b.Ints("begin", []int{2}, 0, 0), b.Ints("size", []int{2}, 1, 1)}, Outputs: []int{b.Act("s", model.Int8, []int{1, 1}, s, zp)}})
			b.Op(&model.Op{Kind: model.OpReshape, Inputs: []int{len(b.G.Tensors) - 1, b.Ints("shape1", []int{1}, 1)}, Outputs: []int{x1}})
			return b.Op(&model.Op{Kind: model.OpReshape, Inputs: []int{x1, b.Ints("shape", []int{0})}, Outputs: []int{y}})
		}},
		{"STRIDED_SLICE", func(b *tflitetest.Builder, x int) *model.Op {
			y := b.Act("row", model.Int8, []int{3}, s, zp)
			return b.Op(&model.Op{Kind: model.OpStridedSlice, ShrinkAxisMask: 1, Outputs: []int{y},
				Inputs: []int{x, b.Ints("b", []int{1}, 0), b.Ints("e", []int{1}, 1), b.Ints("st", []int{1}, 1)}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := tflitetest.NewBuilder(1)
			x := b.Input("x", model.Int8, []int{1, 3}, s, zp)
			op := c.build(b, x)
			b.Outputs(op.Outputs[0])
			if err := b.G.Validate(); err != nil {
				t.Fatalf("test graph: %v", err)
			}
			_, err := model.WithBatch(b.G, 4)
			if err == nil {
				t.Fatal("batch of 4 accepted")
			}
			if errs.KindOf(err) != errs.Shape || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), op.Name) {
				t.Errorf("error %v: want a shape error naming %s %q", err, c.name, op.Name)
			}
			if _, err := model.WithBatch(b.G, 1); err != nil {
				t.Errorf("batch of 1: %v", err)
			}
		})
	}
}

// TestBatchRows: per-image tensors with several rows ([2, 12] -> [2N, 12]) and reshapes
// into and out of them keep images apart.
func TestBatchRows(t *testing.T) {
	g := tflitetest.Rows(9)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 16} {
		checkBatch(t, g, n)
	}
	bg, err := model.WithBatch(g, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s := bg.Tensors[bg.Outputs[1]].Shape; !slices.Equal(s, []int{6, 5}) {
		t.Errorf("fully connected output of a batch of 3: %v, want [6 5]", s)
	}
}
