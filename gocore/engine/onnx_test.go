package engine

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qmpc/qmpc/gocore/model/onnx"
)

// TestGeneratedONNX runs the ONNX Runtime-quantized models that tests/onnx_models.py
// writes (round-half-even requantization, QOperator and QDQ forms) under rep3 and compares
// with the cleartext evaluator; the Python suite (tests/test_secure.py) covers the same
// models from a clean checkout.
func TestGeneratedONNX(t *testing.T) {
	files, _ := filepath.Glob("../../tests/_generated/onnx/*.onnx")
	if len(files) == 0 {
		t.Skip("no generated ONNX models (run: python tests/onnx_models.py tests/_generated/onnx)")
	}
	for i, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.Read(data)
			if err != nil {
				t.Skipf("not importable: %v", err)
			}
			in := randomInputs(g, rand.New(rand.NewPCG(9, 9)))
			checkSecure(t, g, in, "rep3")
			if i%9 == 0 { // every ninth model (both formats, all the model kinds) under rep3-mal too
				checkSecure(t, g, in, "rep3-mal")
			}
		})
	}
}
