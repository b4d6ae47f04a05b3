package pybind

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/onnx"
)

// LoadONNX parses a quantized ONNX model (QOperator or QDQ form, as ONNX Runtime's
// quantizer and qmpc.from_torch write them). Its 4-D inputs and outputs are NCHW, as in
// ONNX Runtime: Run takes and returns them so, and converts to and from the IR's NHWC.
func LoadONNX(data []byte) (m *Model, err error) {
	defer guard(&err)
	if len(data) == 0 {
		return nil, errs.New(errs.Model, "empty model file")
	}
	g, err := onnx.Read(data)
	if err != nil {
		return nil, err
	}
	return newModel(g, "onnx")
}

// toIRLayout converts input values given in the source runtime's layout (NCHW for
// model.LayoutNCHW inputs) to the IR's NHWC. Values of other ranks pass unchanged (the
// shape check that follows reports them).
func toIRLayout(g *model.Graph, vals []model.Value) []model.Value {
	out := make([]model.Value, len(vals))
	for i, v := range vals {
		out[i] = v
		if i < len(g.InputLayouts) && g.InputLayouts[i] == model.LayoutNCHW && len(v.Shape) == 4 {
			out[i] = transpose4(v, []int{0, 2, 3, 1})
		}
	}
	return out
}

// fromIRLayout converts output values to the source runtime's layout.
func fromIRLayout(g *model.Graph, vals []model.Value) []model.Value {
	out := make([]model.Value, len(vals))
	for i, v := range vals {
		out[i] = v
		if i < len(g.OutputLayouts) && g.OutputLayouts[i] == model.LayoutNCHW && len(v.Shape) == 4 {
			out[i] = transpose4(v, []int{0, 3, 1, 2})
		}
	}
	return out
}

// transpose4 permutes a 4-D value: output dimension k is input dimension perm[k].
func transpose4(v model.Value, perm []int) model.Value {
	size := v.DType.Size()
	s := v.Shape
	if size == 0 || len(v.Data) != model.NumElements(s)*size {
		return v // malformed: left to the shape and size checks
	}
	os := []int{s[perm[0]], s[perm[1]], s[perm[2]], s[perm[3]]}
	st := [4]int{s[1] * s[2] * s[3], s[2] * s[3], s[3], 1}
	data := make([]byte, len(v.Data))
	o := 0
	for a := 0; a < os[0]; a++ {
		for b := 0; b < os[1]; b++ {
			for c := 0; c < os[2]; c++ {
				base := a*st[perm[0]] + b*st[perm[1]] + c*st[perm[2]]
				for d := 0; d < os[3]; d++ {
					src := (base + d*st[perm[3]]) * size
					copy(data[o:o+size], v.Data[src:src+size])
					o += size
				}
			}
		}
	}
	return model.Value{Shape: os, DType: v.DType, Data: data}
}
