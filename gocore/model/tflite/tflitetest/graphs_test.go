package tflitetest

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
)

func TestGraphsValidate(t *testing.T) {
	for _, dt := range []model.DType{model.Uint8, model.Int8} {
		if err := AllOps(dt, 1).Validate(); err != nil {
			t.Errorf("AllOps(%v): %v", dt, err)
		}
		if err := TinyConv(dt, 5, 3, 2, 4, 1).Validate(); err != nil {
			t.Errorf("TinyConv(%v): %v", dt, err)
		}
	}
	// Every op kind of the IR appears in AllOps.
	seen := map[model.OpKind]bool{}
	for _, op := range AllOps(model.Int8, 1).Ops {
		seen[op.Kind] = true
	}
	for k := model.OpConv2D; k <= model.OpLogistic; k++ {
		if !seen[k] {
			t.Errorf("AllOps lacks %v", k)
		}
	}
}

func TestGraphsDeterministic(t *testing.T) {
	if AllOps(model.Int8, 3).Digest() != AllOps(model.Int8, 3).Digest() {
		t.Error("same seed, different graphs")
	}
	if AllOps(model.Int8, 3).Digest() == AllOps(model.Int8, 4).Digest() {
		t.Error("different seeds, same graphs")
	}
}

func TestEncodeErrors(t *testing.T) {
	g := TinyConv(model.Uint8, 2, 2, 1, 1, 1)
	g.Tensors[0].DType = model.Invalid
	if _, err := Encode(g, nil); err == nil {
		t.Error("encoded an invalid dtype")
	}
	g = TinyConv(model.Uint8, 2, 2, 1, 1, 1)
	g.Ops[0].Activation = 9
	if _, err := Encode(g, nil); err == nil {
		t.Error("encoded an unknown activation")
	}
}
