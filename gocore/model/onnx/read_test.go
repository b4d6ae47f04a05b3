package onnx_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// builder makes small ONNX models in tests.
type builder struct {
	nodes []*onnxpb.NodeProto
	inits []*onnxpb.TensorProto
}

func (b *builder) f32(name string, dims []int64, v ...float32) {
	t := &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: v}
	b.inits = append(b.inits, t)
}

func (b *builder) i8(name string, dt onnxpb.TensorProto_DataType, dims []int64, v ...int32) {
	raw := make([]byte, len(v))
	for i, x := range v {
		raw[i] = byte(x)
	}
	b.inits = append(b.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(dt)), RawData: raw})
}

func (b *builder) i64(name string, dims []int64, v ...int64) {
	b.inits = append(b.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: v})
}

func (b *builder) i32(name string, dims []int64, v ...int32) {
	b.inits = append(b.inits, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT32)), Int32Data: v})
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Ints: v, Type: onnxpb.AttributeProto_INTS.Enum()}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), I: proto.Int64(v), Type: onnxpb.AttributeProto_INT.Enum()}
}

func (b *builder) node(op, domain string, in, out []string, attrs ...*onnxpb.AttributeProto) {
	b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String(op), Domain: proto.String(domain), Input: in, Output: out,
		Name: proto.String(out[0]), Attribute: attrs})
}

func (b *builder) model(t testing.TB, inShape []int64, out string) []byte {
	t.Helper()
	var dims []*onnxpb.TensorShapeProto_Dimension
	for i, d := range inShape {
		if d < 0 {
			dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}})
			_ = i
			continue
		}
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	tensor := func(name string, shape *onnxpb.TensorShapeProto) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}, {Domain: proto.String("com.microsoft"), Version: proto.Int64(1)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("test"), Node: b.nodes, Initializer: b.inits,
			Input:  []*onnxpb.ValueInfoProto{tensor("x", &onnxpb.TensorShapeProto{Dim: dims})},
			Output: []*onnxpb.ValueInfoProto{tensor(out, nil)}},
	}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// convCase is a QOperator model: QuantizeLinear -> QLinearConv -> [Flatten -> QGemm] ->
// DequantizeLinear, with its parameters kept for the reference computation.
type convCase struct {
	N, C, H, W, O, K, stride, pad, group int
	sx, sw, sy, sy2                      float32
	zx, zy, zy2                          int32
	wq                                   []int32 // ONNX [O, C/group, K, K], int8
	bias                                 []int32
	fcW                                  []int32 // [U, O*OH*OW] int8 (transB), or nil
	fcB                                  []int32
	sfw                                  float32
	U                                    int
	// computedFlatten replaces the Flatten by a Reshape whose shape a subgraph computes
	// (Shape, Gather, Unsqueeze, Slice, ReduceProd, Cast, Concat), as exporters write it.
	computedFlatten bool
}

func (c *convCase) build(t testing.TB) []byte {
	b := &builder{}
	b.f32("sx", nil, c.sx)
	b.i8("zx", onnxpb.TensorProto_UINT8, nil, c.zx)
	b.f32("sw", nil, c.sw)
	b.i8("zw", onnxpb.TensorProto_INT8, nil, 0)
	b.f32("sy", nil, c.sy)
	b.i8("zy", onnxpb.TensorProto_UINT8, nil, c.zy)
	b.i8("w", onnxpb.TensorProto_INT8, []int64{int64(c.O), int64(c.C / c.group), int64(c.K), int64(c.K)}, c.wq...)
	b.i32("b", []int64{int64(c.O)}, c.bias...)
	b.node("QuantizeLinear", "", []string{"x", "sx", "zx"}, []string{"xq"})
	p := int64(c.pad)
	b.node("QLinearConv", "", []string{"xq", "sx", "zx", "w", "sw", "zw", "sy", "zy", "b"}, []string{"yq"},
		ints("kernel_shape", int64(c.K), int64(c.K)), ints("strides", int64(c.stride), int64(c.stride)),
		ints("pads", p, p, p, p), intAttr("group", int64(c.group)))
	last, lastS, lastZ := "yq", "sy", "zy"
	if c.fcW != nil {
		oh, ow := c.outHW()
		if c.computedFlatten {
			b.i64("zero", nil, 0)
			b.i64("axis0", []int64{1}, 0)
			b.i64("one", []int64{1}, 1)
			b.i64("big", []int64{1}, math.MaxInt64)
			b.node("Shape", "", []string{"yq"}, []string{"dims"})
			b.node("Gather", "", []string{"dims", "zero"}, []string{"n"}, intAttr("axis", 0))
			b.node("Unsqueeze", "", []string{"n", "axis0"}, []string{"n1"})
			b.node("Slice", "", []string{"dims", "one", "big"}, []string{"chw"})
			b.node("ReduceProd", "", []string{"chw"}, []string{"prod"}, intAttr("keepdims", 1))
			b.node("Cast", "", []string{"prod"}, []string{"prod32"}, intAttr("to", int64(onnxpb.TensorProto_INT32)))
			b.node("Cast", "", []string{"prod32"}, []string{"prod64"}, intAttr("to", int64(onnxpb.TensorProto_INT64)))
			b.node("Concat", "", []string{"n1", "prod64"}, []string{"target"}, intAttr("axis", 0))
			b.node("Reshape", "", []string{"yq", "target"}, []string{"flat"})
		} else {
			b.node("Flatten", "", []string{"yq"}, []string{"flat"}, intAttr("axis", 1))
		}
		b.f32("sfw", nil, c.sfw)
		b.i8("fw", onnxpb.TensorProto_INT8, []int64{int64(c.U), int64(c.O * oh * ow)}, c.fcW...)
		b.i32("fb", []int64{int64(c.U)}, c.fcB...)
		b.f32("sy2", nil, c.sy2)
		b.i8("zy2", onnxpb.TensorProto_UINT8, nil, c.zy2)
		b.node("QGemm", "com.microsoft", []string{"flat", "sy", "zy", "fw", "sfw", "zw", "fb", "sy2", "zy2"}, []string{"fq"}, intAttr("transB", 1))
		last, lastS, lastZ = "fq", "sy2", "zy2"
	}
	b.node("DequantizeLinear", "", []string{last, lastS, lastZ}, []string{"y"})
	return b.model(t, []int64{-1, int64(c.C), int64(c.H), int64(c.W)}, "y")
}

func (c *convCase) outHW() (int, int) {
	return (c.H+2*c.pad-c.K)/c.stride + 1, (c.W+2*c.pad-c.K)/c.stride + 1
}

// rne rounds num/den (den > 0) half to even.
func rne(num, den *big.Int) int64 {
	q, m := new(big.Int).DivMod(num, den, new(big.Int))
	switch new(big.Int).Lsh(m, 1).Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// requant is clamp(z + RNE(acc * float32(sa*sb)/sc)) computed exactly from the float32
// multiplier, the semantics the importer declares (model.RoundHalfEven).
func requant(acc int64, sa, sb, sc float32, z int32) int32 {
	mult := (sa * sb) / sc
	r := new(big.Rat).SetFloat64(float64(mult))
	r.Mul(r, new(big.Rat).SetInt64(acc))
	v := rne(r.Num(), r.Denom()) + int64(z)
	return int32(min(max(v, 0), 255))
}

// reference computes the model on xq (NCHW uint8 as int32) directly in NCHW.
func (c *convCase) reference(xq []int32) []int32 {
	oh, ow := c.outHW()
	cg, og := c.C/c.group, c.O/c.group
	y := make([]int32, c.O*oh*ow)
	for o := 0; o < c.O; o++ {
		g := o / og
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				acc := int64(c.bias[o])
				for ci := 0; ci < cg; ci++ {
					for ky := 0; ky < c.K; ky++ {
						for kx := 0; kx < c.K; kx++ {
							iy, ix := i*c.stride-c.pad+ky, j*c.stride-c.pad+kx
							if iy < 0 || ix < 0 || iy >= c.H || ix >= c.W {
								continue
							}
							xv := xq[((g*cg+ci)*c.H+iy)*c.W+ix] - c.zx
							acc += int64(xv) * int64(c.wq[((o*cg+ci)*c.K+ky)*c.K+kx])
						}
					}
				}
				y[(o*oh+i)*ow+j] = requant(acc, c.sx, c.sw, c.sy, c.zy)
			}
		}
	}
	if c.fcW == nil {
		return y
	}
	out := make([]int32, c.U)
	for u := range out {
		acc := int64(c.fcB[u])
		for k, v := range y { // NCHW flatten order
			acc += int64(v-c.zy) * int64(c.fcW[u*len(y)+k])
		}
		out[u] = requant(acc, c.sy, c.sfw, c.sy2, c.zy2)
	}
	return out
}

func randCase(rng *rand.Rand, group, stride, pad int, fc bool) *convCase {
	c := &convCase{N: 1, C: 4, H: 6, W: 7, K: 3, stride: stride, pad: pad, group: group,
		sx: 0.02, sw: 0.003 + rng.Float32()*0.001, sy: 0.01 + rng.Float32()*0.01, zx: 120, zy: int32(rng.IntN(100))}
	c.O = 6
	if group > 1 {
		c.O = c.C * 2
	}
	c.wq = make([]int32, c.O*(c.C/group)*c.K*c.K)
	for i := range c.wq {
		c.wq[i] = int32(rng.IntN(255)) - 127
	}
	c.bias = make([]int32, c.O)
	for i := range c.bias {
		c.bias[i] = int32(rng.IntN(2000)) - 1000
	}
	if fc {
		oh, ow := c.outHW()
		c.U, c.sfw, c.sy2, c.zy2 = 5, 0.004, 0.05, 128
		c.fcW = make([]int32, c.U*c.O*oh*ow)
		for i := range c.fcW {
			c.fcW[i] = int32(rng.IntN(255)) - 127
		}
		c.fcB = make([]int32, c.U)
		for i := range c.fcB {
			c.fcB[i] = int32(rng.IntN(400)) - 200
		}
	}
	return c
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// TestConvAgainstNCHWReference checks the whole import (weights to OHWI, NCHW input to
// NHWC, explicit padding, depthwise, Flatten of an NCHW map folded into QGemm's weights)
// and qnn's round-half-even kernels against a direct NCHW computation.
func TestConvAgainstNCHWReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		name                string
		group, stride, pad  int
		fc                  bool
		wantPad, wantDWConv bool
		wantPadding         model.Padding
	}{
		{"same-s1", 1, 1, 1, false, false, false, model.PadSame},
		{"explicit-pad-s2", 1, 2, 1, false, true, false, model.PadValid},
		{"valid", 1, 1, 0, false, false, false, model.PadValid},
		{"depthwise", 4, 1, 1, false, false, true, model.PadSame},
		{"flatten-qgemm", 1, 2, 0, true, false, false, model.PadValid},
		{"computed-reshape-qgemm", 1, 2, 0, true, false, false, model.PadValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := randCase(rng, tc.group, tc.stride, tc.pad, tc.fc)
			c.computedFlatten = strings.HasPrefix(tc.name, "computed")
			g, err := onnx.Read(c.build(t))
			if err != nil {
				t.Fatal(err)
			}
			var kinds []model.OpKind
			for _, op := range g.Ops {
				kinds = append(kinds, op.Kind)
				if op.Kind == model.OpConv2D || op.Kind == model.OpDepthwiseConv2D {
					if op.Padding != tc.wantPadding {
						t.Errorf("padding %v, want %v", op.Padding, tc.wantPadding)
					}
				}
			}
			if slices.Contains(kinds, model.OpPad) != tc.wantPad || slices.Contains(kinds, model.OpDepthwiseConv2D) != tc.wantDWConv {
				t.Errorf("ops %v", kinds)
			}
			in := g.Tensors[g.Inputs[0]]
			if !slices.Equal(in.Shape, []int{1, c.C, c.H, c.W}) { // ONNX's NCHW
				t.Fatalf("input shape %v", in.Shape)
			}
			plan, err := qnn.NewPlan(g)
			if err != nil {
				t.Fatal(err)
			}
			for trial := 0; trial < 5; trial++ {
				// Quantized NCHW input; the float input is exactly (q - zx) * sx.
				xq := make([]int32, c.C*c.H*c.W)
				xf := make([]float32, len(xq))
				for ch := 0; ch < c.C; ch++ {
					for i := 0; i < c.H; i++ {
						for j := 0; j < c.W; j++ {
							q := int32(rng.IntN(256))
							xq[(ch*c.H+i)*c.W+j] = q
							xf[(ch*c.H+i)*c.W+j] = float32(q-c.zx) * c.sx
						}
					}
				}
				outs, err := plan.Run([]model.Value{{Shape: in.Shape, DType: model.Float32, Data: f32bytes(xf)}})
				if err != nil {
					t.Fatal(err)
				}
				want := c.reference(xq)
				got := outs[0]
				sOut, zOut := c.sy, c.zy
				if c.fcW != nil {
					sOut, zOut = c.sy2, c.zy2
				}
				for k := range want { // NCHW, as the reference
					f := math.Float32frombits(binary.LittleEndian.Uint32(got.Data[4*k:]))
					if wf := float32(want[k]-zOut) * sOut; f != wf {
						t.Fatalf("trial %d output %d: got %v, want %v (q %d)", trial, k, f, wf, want[k])
					}
				}
			}
		})
	}
}

func TestUnsupportedOpsAllListed(t *testing.T) {
	b := &builder{}
	b.f32("s", nil, 0.1)
	b.i8("z", onnxpb.TensorProto_UINT8, nil, 128)
	b.node("QuantizeLinear", "", []string{"x", "s", "z"}, []string{"q"})
	b.node("QLinearSigmoid", "com.microsoft", []string{"q", "s", "z", "s", "z"}, []string{"a"})
	b.node("QLinearLeakyRelu", "com.microsoft", []string{"a", "s", "z", "s", "z"}, []string{"b2"})
	b.node("MyOp", "custom.domain", []string{"b2"}, []string{"c"})
	b.node("DequantizeLinear", "", []string{"c", "s", "z"}, []string{"f"})
	b.node("Softmax", "", []string{"f"}, []string{"y"})
	_, err := onnx.Read(b.model(t, []int64{1, 2, 3, 3}, "y"))
	if errs.KindOf(err) != errs.UnsupportedOp {
		t.Fatalf("kind %v: %v", errs.KindOf(err), err)
	}
	var u *model.UnsupportedOpsError
	if !errors.As(err, &u) {
		t.Fatalf("no UnsupportedOpsError in %v", err)
	}
	want := []string{"QLinearSigmoid", "QLinearLeakyRelu", "custom.domain.MyOp", "Softmax"}
	if !slices.Equal(u.Names(), want) {
		t.Errorf("names %v, want %v", u.Names(), want)
	}
}

func TestMalformed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	good := randCase(rng, 1, 1, 1, false).build(t)
	for _, tc := range []struct {
		name string
		data []byte
		kind errs.Kind
	}{
		{"empty", nil, errs.Model},
		{"garbage", []byte("not a model at all"), errs.Model},
		{"truncated", good[:len(good)/2], errs.Model},
		{"no-graph", mustMarshal(t, &onnxpb.ModelProto{IrVersion: proto.Int64(8)}), errs.Model},
		{"old-opset", mustMarshal(t, &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: &onnxpb.GraphProto{},
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(7)}}}), errs.UnsupportedOp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := onnx.Read(tc.data)
			if err == nil || errs.KindOf(err) != tc.kind {
				t.Fatalf("got %v (kind %v), want kind %v", err, errs.KindOf(err), tc.kind)
			}
		})
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGeneratedModels reads the models tests/onnx_models.py writes, when present
// (python tests/onnx_models.py tests/_generated/onnx).
func TestGeneratedModels(t *testing.T) {
	files, _ := filepath.Glob("../../../tests/_generated/onnx/*.onnx")
	if len(files) == 0 {
		t.Skip("no generated models (run: python tests/onnx_models.py tests/_generated/onnx)")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := onnx.Read(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if _, err := qnn.NewPlan(g); err != nil {
			t.Errorf("%s: plan: %v", filepath.Base(f), err)
		}
	}
}

// FuzzReadONNX feeds malformed models to Read: it must return a graph or an error, never
// panic, and never report an internal error.
func FuzzReadONNX(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []*convCase{randCase(rng, 1, 1, 1, false), randCase(rng, 4, 1, 1, false), randCase(rng, 1, 2, 0, true)} {
		data := c.build(f)
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := onnx.Read(data)
		if err != nil {
			if k := errs.KindOf(err); k == errs.Internal || strings.Contains(err.Error(), "panic") {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if _, err := qnn.NewPlan(g); err != nil && errs.KindOf(err) == errs.Internal {
			t.Fatalf("plan of an accepted graph: %v", err)
		}
	})
}

// TestTransposeWithoutDataMovement checks that a Transpose that only moves size-1
// dimensions ([1,C,1,1] -> [1,1,1,C]) imports as a reshape: the model with it and the
// model without it compute the same outputs.
func TestTransposeWithoutDataMovement(t *testing.T) {
	build := func(transpose bool) []byte {
		b := &builder{}
		b.f32("s", nil, 0.05)
		b.i8("z", onnxpb.TensorProto_UINT8, nil, 100)
		b.f32("s2", nil, 0.02)
		b.i8("z2", onnxpb.TensorProto_UINT8, nil, 90)
		b.f32("sw", nil, 0.01)
		b.i8("zw", onnxpb.TensorProto_INT8, nil, 0)
		w := make([]int32, 3*4)
		for i := range w {
			w[i] = int32(i*37%255) - 127
		}
		b.i8("w", onnxpb.TensorProto_INT8, []int64{3, 4}, w...)
		b.f32("s3", nil, 0.1)
		b.i8("z3", onnxpb.TensorProto_UINT8, nil, 128)
		b.node("QuantizeLinear", "", []string{"x", "s", "z"}, []string{"q"})
		b.node("QLinearGlobalAveragePool", "com.microsoft", []string{"q", "s", "z", "s2", "z2"}, []string{"g"})
		in := "g"
		if transpose {
			b.node("Transpose", "", []string{"g"}, []string{"gt"}, ints("perm", 0, 2, 3, 1))
			in = "gt"
		}
		b.node("Flatten", "", []string{in}, []string{"f"}, intAttr("axis", 1))
		b.node("QGemm", "com.microsoft", []string{"f", "s2", "z2", "w", "sw", "zw", "", "s3", "z3"}, []string{"yq"}, intAttr("transB", 1))
		b.node("DequantizeLinear", "", []string{"yq", "s3", "z3"}, []string{"y"})
		return b.model(t, []int64{1, 4, 3, 3}, "y")
	}
	var outs [2][]byte
	for k, tr := range []bool{false, true} {
		g, err := onnx.Read(build(tr))
		if err != nil {
			t.Fatal(err)
		}
		xf := make([]float32, 36)
		r := rand.New(rand.NewPCG(3, 3))
		for i := range xf {
			xf[i] = float32(r.NormFloat64())
		}
		o, err := qnn.Run(g, []model.Value{{Shape: []int{1, 4, 3, 3}, DType: model.Float32, Data: f32bytes(xf)}})
		if err != nil {
			t.Fatal(err)
		}
		outs[k] = o[0].Data
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Errorf("outputs differ with the transpose: %v vs %v", outs[0], outs[1])
	}
}

// TestTestdata imports the models in testdata (written by ONNX Runtime's quantizer, see
// testdata/README.md) and prepares them for evaluation.
func TestTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.onnx")
	if len(files) < 4 {
		t.Fatalf("found %d models in testdata, want 4", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := onnx.Read(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if _, err := qnn.NewPlan(g); err != nil {
			t.Errorf("%s: plan: %v", filepath.Base(f), err)
		}
		// The NCHW input feeds a TRANSPOSE to the NHWC the IR's image ops use.
		if op := g.Ops[0]; op.Kind != model.OpTranspose || op.Inputs[0] != g.Inputs[0] {
			t.Errorf("%s: first op %v of input %d, want the input's TRANSPOSE", filepath.Base(f), op.Kind, op.Inputs[0])
		}
	}
}
