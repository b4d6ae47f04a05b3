package onnx_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
	"github.com/qmpc/qmpc/gocore/model/onnx/onnxpb"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestLookup imports qmpc's ai.qmpc.Lookup node as a LOOKUP op and runs it: every output
// is the table entry of its quantized input, for uint8 and int8 inputs.
func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		dt onnxpb.TensorProto_DataType
		zp int32
		lo int32
	}{{onnxpb.TensorProto_UINT8, 128, 0}, {onnxpb.TensorProto_INT8, 0, -128}} {
		b := &builder{}
		b.f32("s", nil, 0.05)
		b.i8("z", tc.dt, nil, tc.zp)
		table := make([]int32, 256)
		for i := range table { // any function: here 255 - i (uint8), reversed order (int8)
			table[i] = tc.lo + int32(255-i)
		}
		b.i8("table", tc.dt, []int64{256}, table...)
		b.f32("sy", nil, 0.1)
		b.i8("zy", tc.dt, nil, tc.zp)
		b.node("QuantizeLinear", "", []string{"x", "s", "z"}, []string{"q"})
		b.node("Lookup", onnx.LookupDomain, []string{"q", "s", "z", "table", "sy", "zy"}, []string{"l"})
		b.node("DequantizeLinear", "", []string{"l", "sy", "zy"}, []string{"y"})
		g, err := onnx.Read(b.model(t, []int64{1, 2, 2, 2}, "y"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, op := range g.Ops {
			found = found || op.Kind == model.OpLookup
		}
		if !found {
			t.Fatalf("%v: no LOOKUP op in the graph", tc.dt)
		}
		xf := []float32{-3, -1, -0.05, 0, 0.05, 1, 2.5, 6}
		data := make([]byte, 4*len(xf))
		for i, v := range xf {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
		o, err := qnn.Run(g, []model.Value{{Shape: []int{1, 2, 2, 2}, DType: model.Float32, Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range xf {
			q := min(max(int32(math.RoundToEven(float64(v/0.05)))+tc.zp, tc.lo), tc.lo+255)
			want := float32(table[q-tc.lo]-tc.zp) * 0.1
			if got := math.Float32frombits(binary.LittleEndian.Uint32(o[0].Data[4*i:])); got != want {
				t.Errorf("%v input %v: got %v, want %v", tc.dt, v, got, want)
			}
		}
	}
}
