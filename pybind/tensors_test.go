package pybind

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

func TestPackRoundTrip(t *testing.T) {
	vals := []model.Value{
		{Shape: []int{2, 3}, DType: model.Uint8, Data: []byte{1, 2, 3, 4, 5, 6}},
		{Shape: []int{}, DType: model.Int32, Data: []byte{1, 0, 0, 0}},
		{Shape: []int{0, 4}, DType: model.Int8, Data: []byte{}},
	}
	b, err := pack(vals, []string{"w"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("QMPT")) {
		t.Fatalf("prefix %q", b[:4])
	}
	got, err := unpack(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		if !reflect.DeepEqual(got[i].Shape, vals[i].Shape) || got[i].DType != vals[i].DType || !bytes.Equal(got[i].Data, vals[i].Data) {
			t.Errorf("value %d: got %+v, want %+v", i, got[i], vals[i])
		}
	}
}

func packed(header string, data []byte) []byte {
	b := []byte("QMPT")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	return append(append(b, header...), data...)
}

func TestUnpackErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		kind errs.Kind
	}{
		{"short", []byte("QMP"), errs.Internal},
		{"magic", []byte("XXXX\x00\x00\x00\x00"), errs.Internal},
		{"header length", []byte("QMPT\xff\x00\x00\x00{}"), errs.Internal},
		{"json", packed("{", nil), errs.Internal},
		{"dtype", packed(`{"tensors":[{"dtype":"complex64","shape":[1],"offset":0,"nbytes":8}]}`, make([]byte, 8)), errs.DType},
		{"negative dim", packed(`{"tensors":[{"dtype":"uint8","shape":[-1],"offset":0,"nbytes":0}]}`, nil), errs.Shape},
		{"nbytes", packed(`{"tensors":[{"dtype":"int32","shape":[2],"offset":0,"nbytes":4}]}`, make([]byte, 8)), errs.Internal},
		{"outside", packed(`{"tensors":[{"dtype":"uint8","shape":[4],"offset":2,"nbytes":4}]}`, make([]byte, 4)), errs.Internal},
		{"huge", packed(`{"tensors":[{"dtype":"uint8","shape":[1099511627776,1099511627776],"offset":0,"nbytes":0}]}`, nil), errs.Shape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unpack(tc.b)
			if err == nil || errs.KindOf(err) != tc.kind {
				t.Errorf("unpack: err = %v, want kind %s", err, tc.kind)
			}
		})
	}
}

func f32bytes(xs ...float32) []byte {
	b := make([]byte, 0, 4*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestPrepareInputs(t *testing.T) {
	g := &model.Graph{
		Tensors: []*model.Tensor{
			{Name: "u", Shape: []int{1, 5}, DType: model.Uint8, Quant: &model.Quant{Scale: []float32{0.5}, ZeroPoint: []int64{10}}},
			{Name: "s", Shape: []int{2}, DType: model.Int8, Quant: &model.Quant{Scale: []float32{0.25}, ZeroPoint: []int64{-3}}},
		},
		Inputs: []int{0, 1},
	}
	u := model.Value{Shape: []int{1, 5}, DType: model.Uint8, Data: []byte{1, 2, 3, 4, 5}}
	s := model.Value{Shape: []int{2}, DType: model.Int8, Data: []byte{0, 0xff}}

	got, warn, err := prepareInputs(g, []model.Value{u, s})
	if err != nil || len(warn) != 0 || !bytes.Equal(got[0].Data, u.Data) || !bytes.Equal(got[1].Data, s.Data) {
		t.Fatalf("exact inputs: %v %v %v", got, warn, err)
	}

	// Float inputs are quantized as TFLite's QUANTIZE: round half away from zero, clamp.
	// 1.25/0.5 = 2.5 -> 3 (+10 = 13); -1.25/0.5 = -2.5 -> -3 (7); 1000 -> 255; -1000 -> 0;
	// 0.74/0.5 = 1.48 -> 1 (11). For int8: 1/0.25 = 4 -> 1; -1000 -> -128.
	fu := model.Value{Shape: []int{1, 5}, DType: model.Float32, Data: f32bytes(1.25, -1.25, 1000, -1000, 0.74)}
	fs := model.Value{Shape: []int{2}, DType: model.Float32, Data: f32bytes(1, -1000)}
	got, warn, err = prepareInputs(g, []model.Value{fu, fs})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{13, 7, 255, 0, 11}; got[0].DType != model.Uint8 || !bytes.Equal(got[0].Data, want) {
		t.Errorf("quantized uint8 = %v, want %v", got[0].Data, want)
	}
	if want := []byte{1, 0x80}; got[1].DType != model.Int8 || !bytes.Equal(got[1].Data, want) {
		t.Errorf("quantized int8 = %v, want %v", got[1].Data, want)
	}
	if len(warn) != 2 || !strings.Contains(warn[0], "float32 input quantized to uint8") || !strings.Contains(warn[0], "scale=0.5, zero_point=10") {
		t.Errorf("warnings = %q", warn)
	}

	nan := model.Value{Shape: []int{2}, DType: model.Float32, Data: f32bytes(1, float32(math.NaN()))}
	for _, tc := range []struct {
		name string
		in   []model.Value
		kind errs.Kind
		msg  string
	}{
		{"count", []model.Value{u}, errs.Shape, "the model has 2 input(s), got 1"},
		{"shape", []model.Value{{Shape: []int{5}, DType: model.Uint8, Data: u.Data}, s}, errs.Shape, `input 0 "u": expected shape (1, 5) (or (N, 5) for a batch of N), got (5,)`},
		{"dtype", []model.Value{u, {Shape: []int{2}, DType: model.Uint8, Data: s.Data}}, errs.DType, `input 1 "s": expected dtype int8 (or float32, quantized with the model's input parameters), got uint8`},
		{"nan", []model.Value{u, nan}, errs.DType, "NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := prepareInputs(g, tc.in)
			if err == nil || errs.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want kind %s containing %q", err, tc.kind, tc.msg)
			}
		})
	}
}
