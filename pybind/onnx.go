package pybind

import (
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model/onnx"
)

// LoadONNX parses a quantized ONNX model (QOperator or QDQ form, as ONNX Runtime's
// quantizer and qmpc.from_torch write them). Its 4-D inputs and outputs are NCHW, as in
// ONNX Runtime: the imported graph takes and returns them so (its TRANSPOSE ops convert to
// and from the NHWC its image ops use).
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
