package pybind

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/qnn"
)

const digitsModel = "../examples/digits/digits_cnn_int8.tflite"

func loadDigits(t *testing.T) *Model {
	t.Helper()
	data, err := os.ReadFile(digitsModel)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadModelInfo(t *testing.T) {
	m := loadDigits(t)
	s, err := m.InfoJSON()
	if err != nil {
		t.Fatal(err)
	}
	var info model.Info
	if err := json.Unmarshal([]byte(s), &info); err != nil {
		t.Fatal(err)
	}
	// Expected values from LiteRT's get_input_details() on the same file.
	in := info.Inputs[0]
	if len(info.Inputs) != 1 || in.Name != "serving_default_image:0" || in.DType != "int8" ||
		in.ZeroPoint != -128 || in.Scale != float32(1.0/255) || len(in.Shape) != 4 {
		t.Errorf("inputs = %+v", info.Inputs)
	}
	if len(info.Outputs) != 1 || info.Outputs[0].DType != "int8" || len(info.Outputs[0].Shape) != 2 || info.Outputs[0].Shape[1] != 10 {
		t.Errorf("outputs = %+v", info.Outputs)
	}
	sum, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tflite model, 5 ops", "CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "RELU"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

func TestLoadModelErrors(t *testing.T) {
	data, err := os.ReadFile(digitsModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		kind errs.Kind
	}{
		{"empty", nil, errs.Model},
		{"garbage", []byte("this is not a model at all"), errs.Model},
		{"truncated", data[:len(data)/2], errs.Model},
		{"onnx", []byte{0x08, 0x07, 0x12, 0x05, 'x'}, errs.Model},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := LoadModel(tc.data)
			if err == nil || m != nil {
				t.Fatalf("LoadModel = %v, %v; want an error", m, err)
			}
			if !strings.HasPrefix(err.Error(), "qmpc:"+string(tc.kind)+":") && !strings.Contains(err.Error(), "qmpc:"+string(tc.kind)+":") {
				t.Errorf("error %q lacks kind %s", err, tc.kind)
			}
			if !strings.Contains(err.Error(), detailsPrefix+`{"kind":"`+string(tc.kind)+`"}`) {
				t.Errorf("error %q lacks the details line", err)
			}
		})
	}
}

func TestNilModel(t *testing.T) {
	var m *Model
	if _, err := m.InfoJSON(); err == nil {
		t.Error("InfoJSON on nil handle: no error")
	}
	if _, err := m.Summary(); err == nil {
		t.Error("Summary on nil handle: no error")
	}
}

func TestGuardRecoversPanic(t *testing.T) {
	f := func() (x int, err error) {
		defer guard(&err)
		var m map[string]int
		m["x"] = 1
		return 1, nil
	}
	_, err := f()
	if err == nil || errs.KindOf(err) != errs.Internal || !strings.Contains(err.Error(), "panic") {
		t.Errorf("err = %v", err)
	}
}

func TestExportUnsupportedDetails(t *testing.T) {
	var c model.UnsupportedCollector
	c.Add("LSTM", 1)
	c.Add("EXP", 2)
	c.Add("LSTM", 3)
	err := export(export(c.Err()))
	msg := err.Error()
	if !strings.HasPrefix(msg, "qmpc:unsupported-op: unsupported ops: LSTM (2), EXP (1)") ||
		strings.Count(msg, "qmpc-details") != 1 ||
		!strings.HasSuffix(msg, `qmpc-details: {"kind":"unsupported-op","ops":["LSTM","EXP"]}`) {
		t.Errorf("message %q", msg)
	}
}

func TestRunPlumbing(t *testing.T) {
	m := loadDigits(t)
	x := model.Value{Shape: []int{1, 8, 8, 1}, DType: model.Int8, Data: make([]byte, 64)}
	for i := range x.Data {
		x.Data[i] = byte(i * 3)
	}
	in, err := pack([]model.Value{x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := unpack(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := qnn.Run(m.g, []model.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].DType != model.Int8 || !slices.Equal(got[0].Shape, []int{1, 10}) || !bytes.Equal(got[0].Data, want[0].Data) {
		t.Errorf("Run = %+v, want %+v", got, want)
	}

	bad, _ := pack([]model.Value{{Shape: []int{8, 8}, DType: model.Int8, Data: make([]byte, 64)}}, nil)
	if _, err := m.Run(bad); errs.KindOf(err) != errs.Shape {
		t.Errorf("wrong shape: err = %v", err)
	}
	if _, err := m.Run([]byte("junk")); err == nil {
		t.Error("junk input: no error")
	}
	var nilModel *Model
	if _, err := nilModel.Run(in); err == nil {
		t.Error("nil model: no error")
	}
}
