package tflite_test

import (
	"errors"
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

func ExampleRead() {
	// A one-layer uint8 model written with the flatbuffers builder.
	data, err := tflitetest.Encode(tflitetest.TinyConv(model.Uint8, 4, 4, 1, 2, 1), nil)
	if err != nil {
		panic(err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		panic(err)
	}
	in, out := g.Tensors[g.Inputs[0]], g.Tensors[g.Outputs[0]]
	fmt.Println(in.Shape, in.DType, model.QuantString(in.Quant))
	fmt.Println(g.Ops[0].Kind, g.Ops[0].Activation, out.Shape)
	// Output:
	// [1 4 4 1] uint8 s=0.015625 zp=128
	// CONV_2D RELU [1 4 4 2]
}

func ExampleRead_unsupported() {
	// Turn two ops of a generated model into ops qmpc does not evaluate.
	g := tflitetest.AllOps(model.Int8, 1)
	data, err := tflitetest.Encode(g, &tflitetest.Options{
		OpCode: map[int]fb.BuiltinOperator{3: fb.BuiltinOperatorLSTM, 5: fb.BuiltinOperatorLSTM},
	})
	if err != nil {
		panic(err)
	}
	_, err = tflite.Read(data)
	fmt.Println(errs.KindOf(err))
	var ue *model.UnsupportedOpsError
	if errors.As(err, &ue) {
		fmt.Println(ue.Ops[0].Name, ue.Ops[0].Ops)
	}
	fmt.Println(err)
	// Output:
	// unsupported-op
	// LSTM [3 5]
	// tflite: qmpc:unsupported-op: unsupported ops: LSTM (2)
}
