package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cl")
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{nil, 0, "Deploying three parties"},
		{[]string{"--help"}, 0, "qmpc certs --parties 3 --out cluster/"},
		{[]string{"certs", "--help"}, 0, "-base-port"},
		{[]string{"certs", "--help"}, 0, "One-host shortcut for tests and demos"},
		{[]string{"--help"}, 0, "qmpc keygen --id 0"},
		{[]string{"keygen", "--out", dir}, 2, "give --id N"},
		{[]string{"keygen", "--out", dir, "--id", "1", "--client"}, 2, "not both"},
		{[]string{"keygen", "--out", dir, "--id", "1"}, 0, "party1.key (private key, mode 0600"},
		{[]string{"cluster-config", "--party", "1=nohost,x.crt"}, 2, "want host:port"},
		{[]string{"cluster-config", "--party", "0=h:1," + filepath.Join(dir, "party1.crt"), "--out", filepath.Join(dir, "c.json")}, 2, "no client certificate"},
		{[]string{"cluster-config", "--party", "0=h:1," + filepath.Join(dir, "party1.key"), "--client", filepath.Join(dir, "party1.crt"), "--out", filepath.Join(dir, "c.json")}, 2, "holds a private key"},
		{[]string{"certs", "--parties", "3", "--out", out, "--base-port", "7300"}, 0, "party 2  127.0.0.1:7302"},
		{[]string{"certs", "--out", out}, 2, "refusing to overwrite"},
		{[]string{"certs", "--protocol", "nope", "--out", filepath.Join(dir, "x")}, 2, `protocol "nope"`},
		{[]string{"certs", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"inspect"}, 2, "usage: qmpc inspect"},
		{[]string{"inspect", filepath.Join(dir, "missing.tflite")}, 1, "qmpc:model: reading model"},
		{[]string{"--log-level", "loud", "certs"}, 2, "--log-level"},
		{[]string{"--cpuprofile", filepath.Join(dir, "nodir", "p.prof"), "version"}, 2, "--cpuprofile"},
		{[]string{"certs", "--out", filepath.Join(dir, "prof"), "--cpuprofile=" + filepath.Join(dir, "cpu.prof")}, 0, "party 2"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(tc.args, &stdout, &stderr)
		all := stdout.String() + stderr.String()
		if code != tc.code || !strings.Contains(all, tc.want) {
			t.Errorf("qmpc %v: exit %d, want %d; output %q does not contain %q", tc.args, code, tc.code, all, tc.want)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "client.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("client.key: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "cpu.prof")); err != nil || fi.Size() == 0 {
		t.Errorf("--cpuprofile wrote no profile: %v %v", fi, err)
	}
}

func TestInspectRealModel(t *testing.T) {
	path := "../../../examples/digits/digits_cnn_int8.tflite"
	if _, err := os.Stat(path); err != nil {
		t.Skip("example model absent:", err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"inspect", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"CONV_2D", "FULLY_CONNECTED", "[1,8,8,1]", "digest "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestNpy(t *testing.T) {
	// As numpy 2 writes np.arange(6, dtype=np.uint8).reshape(2, 3).
	h := "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }"
	h += strings.Repeat(" ", 128-10-len(h)-1) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
	b = append(append(b, h...), 0, 1, 2, 3, 4, 5)
	v, err := parseNpy(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.DType != model.Uint8 || len(v.Shape) != 2 || v.Shape[0] != 2 || v.Shape[1] != 3 || v.Data[5] != 5 {
		t.Fatalf("got %+v", v)
	}
	for _, want := range []model.Value{
		{Shape: []int{4}, DType: model.Int8, Data: []byte{1, 2, 3, 255}},
		{Shape: []int{}, DType: model.Int32, Data: []byte{1, 0, 0, 0}},
		{Shape: []int{1, 2}, DType: model.Float32, Data: make([]byte, 8)},
	} {
		p := filepath.Join(t.TempDir(), "a.npy")
		if err := writeNpy(p, want); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		if (len(raw)-len(want.Data))%64 != 0 {
			t.Errorf("header not 64-aligned: %d", len(raw)-len(want.Data))
		}
		got, err := readNpy(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != want.DType || len(got.Shape) != len(want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("round trip %+v -> %+v", want, got)
		}
	}
	for _, bad := range [][]byte{nil, []byte("NUMPY"), b[:len(b)-1], []byte(strings.Replace(string(b), "|u1", "<c8", 1)),
		[]byte(strings.Replace(string(b), "False", "True ", 1))} {
		if _, err := parseNpy(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestInspectListsEveryUnsupportedOp: `qmpc inspect` on a model with several unsupported
// ops (unknown builtins, a custom op, shape arithmetic on activations that constant folding
// cannot remove) names all of them in one error.
func TestInspectListsEveryUnsupportedOp(t *testing.T) {
	g := tflitetest.AllOps(model.Int8, 1)
	data, err := tflitetest.Encode(g, &tflitetest.Options{
		OpCode: map[int]fb.BuiltinOperator{
			3: fb.BuiltinOperatorLSTM, 7: fb.BuiltinOperatorCAST, 13: fb.BuiltinOperatorELU,
		},
		CustomCode: map[int]string{8: "TFLite_Detection_PostProcess"},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "unsupported.tflite")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"inspect", path}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	want := "unsupported ops: LSTM (1), CAST(of a tensor not known at import time) (1), " +
		"CUSTOM:TFLite_Detection_PostProcess (1), ELU (1)"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q does not contain %q", stderr.String(), want)
	}
}
