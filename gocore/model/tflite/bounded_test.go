package tflite

import (
	"strings"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/qmpc/qmpc/gocore/errs"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

// TestSharedVectorsBounded builds a file whose 40,000 operators all point at one input
// vector of 100,000 entries: flatbuffers allow such sharing, and a reader that walks
// every op's inputs would do 4e9 steps on a 1.3 MB file. Read must stop early.
func TestSharedVectorsBounded(t *testing.T) {
	const nOps, nIn = 40000, 100000
	b := flatbuffers.NewBuilder(1 << 20)
	fb.TensorStartShapeVector(b, 1)
	b.PrependInt32(1)
	shape := b.EndVector(1)
	fb.TensorStart(b)
	fb.TensorAddShape(b, shape)
	fb.TensorAddType(b, fb.TensorTypeUINT8)
	tensor := fb.TensorEnd(b)
	fb.SubGraphStartTensorsVector(b, 1)
	b.PrependUOffsetT(tensor)
	tensors := b.EndVector(1)

	fb.OperatorStartInputsVector(b, nIn)
	for range nIn {
		b.PrependInt32(0)
	}
	ins := b.EndVector(nIn)
	ops := make([]flatbuffers.UOffsetT, nOps)
	for i := range ops {
		fb.OperatorStart(b)
		fb.OperatorAddInputs(b, ins)
		fb.OperatorAddOutputs(b, ins)
		ops[i] = fb.OperatorEnd(b)
	}
	fb.SubGraphStartOperatorsVector(b, nOps)
	for i := nOps - 1; i >= 0; i-- {
		b.PrependUOffsetT(ops[i])
	}
	opVec := b.EndVector(nOps)
	fb.SubGraphStart(b)
	fb.SubGraphAddTensors(b, tensors)
	fb.SubGraphAddOperators(b, opVec)
	sg := fb.SubGraphEnd(b)
	fb.ModelStartSubgraphsVector(b, 1)
	b.PrependUOffsetT(sg)
	sgs := b.EndVector(1)
	fb.OperatorCodeStart(b)
	fb.OperatorCodeAddBuiltinCode(b, fb.BuiltinOperatorADD)
	code := fb.OperatorCodeEnd(b)
	fb.ModelStartOperatorCodesVector(b, 1)
	b.PrependUOffsetT(code)
	codes := b.EndVector(1)
	fb.ModelStart(b)
	fb.ModelAddVersion(b, 3)
	fb.ModelAddSubgraphs(b, sgs)
	fb.ModelAddOperatorCodes(b, codes)
	b.FinishWithFileIdentifier(fb.ModelEnd(b), []byte("TFL3"))
	data := b.FinishedBytes()

	start := time.Now()
	_, err := Read(data)
	if el := time.Since(start); el > 20*time.Second { // about 0.05 s; quadratic work takes minutes
		t.Errorf("Read took %v on a %d-byte file", el, len(data))
	}
	if errs.KindOf(err) != errs.Model || !strings.Contains(err.Error(), "too many vector elements") {
		t.Errorf("got %v, want a model error about too many vector elements", err)
	}
}
