// Package tflitetest builds small TFLite flatbuffers for tests: Encode writes a
// *model.Graph as a .tflite file (with options to produce old-style op codes, buffers
// stored after the flatbuffer, or unsupported ops), and the graph helpers build small
// quantized graphs that use every op kind of the IR.
//
// The files it writes load in LiteRT when the graph is one LiteRT supports, so tests in
// other packages (and Python tests) can use them as oracle inputs. AllOps(model.Int8, _)
// runs with LiteRT 2.3's default resolver; AllOps(model.Uint8, _) needs
// experimental_op_resolver_type=BUILTIN_WITHOUT_DEFAULT_DELEGATES (or BUILTIN_REF): the
// XNNPack delegate rejects its uint8 CONV_2D and then fails to prepare the partition
// holding the float->uint8 QUANTIZE before it (a LiteRT quirk; the builtin kernels run
// it). Both variants were checked with offset buffers and deprecated op codes too.
package tflitetest

import (
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/qmpc/qmpc/gocore/model"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

// Options changes how Encode writes a graph, mostly to produce inputs that test the
// reader's error paths and compatibility code.
type Options struct {
	// OpCode replaces the builtin operator written for op i (the op's inputs, outputs
	// and options stay those of its IR kind).
	OpCode map[int]fb.BuiltinOperator
	// CustomCode makes op i a CUSTOM op with this custom_code.
	CustomCode map[int]string
	// Activation replaces the fused activation written for op i (e.g. TANH).
	Activation map[int]fb.ActivationFunctionType
	// WeightsFormat sets a FULLY_CONNECTED op's weights_format.
	WeightsFormat map[int]fb.FullyConnectedOptionsWeightsFormat
	// DepthMultiplier replaces the depth_multiplier written for depthwise op i.
	DepthMultiplier map[int]int32
	// DeprecatedCodesOnly writes op codes as files from before schema 3a do: only
	// deprecated_builtin_code (builtin_code left at its default, 0).
	DeprecatedCodesOnly bool
	// OffsetBuffers stores constant data after the flatbuffer, addressed by the buffer
	// offset/size fields (schema 3c), as converters do for models over 2 GB.
	OffsetBuffers bool
	// Version is the schema version written (0 means 3).
	Version uint32
	// Description is the model description (default "qmpc tflitetest").
	Description string
}

var opCodes = map[model.OpKind]fb.BuiltinOperator{
	model.OpConv2D:          fb.BuiltinOperatorCONV_2D,
	model.OpDepthwiseConv2D: fb.BuiltinOperatorDEPTHWISE_CONV_2D,
	model.OpFullyConnected:  fb.BuiltinOperatorFULLY_CONNECTED,
	model.OpAveragePool2D:   fb.BuiltinOperatorAVERAGE_POOL_2D,
	model.OpMaxPool2D:       fb.BuiltinOperatorMAX_POOL_2D,
	model.OpAdd:             fb.BuiltinOperatorADD,
	model.OpMul:             fb.BuiltinOperatorMUL,
	model.OpMean:            fb.BuiltinOperatorMEAN,
	model.OpPad:             fb.BuiltinOperatorPAD,
	model.OpReshape:         fb.BuiltinOperatorRESHAPE,
	model.OpSqueeze:         fb.BuiltinOperatorSQUEEZE,
	model.OpConcatenation:   fb.BuiltinOperatorCONCATENATION,
	model.OpQuantize:        fb.BuiltinOperatorQUANTIZE,
	model.OpDequantize:      fb.BuiltinOperatorDEQUANTIZE,
	model.OpSoftmax:         fb.BuiltinOperatorSOFTMAX,
	model.OpLogistic:        fb.BuiltinOperatorLOGISTIC,
	model.OpTanh:            fb.BuiltinOperatorTANH,
	model.OpTranspose:       fb.BuiltinOperatorTRANSPOSE,
	model.OpSlice:           fb.BuiltinOperatorSLICE,
	model.OpStridedSlice:    fb.BuiltinOperatorSTRIDED_SLICE,
	model.OpPack:            fb.BuiltinOperatorPACK,
	model.OpGather:          fb.BuiltinOperatorGATHER,
	model.OpExpandDims:      fb.BuiltinOperatorEXPAND_DIMS,
	model.OpShape:           fb.BuiltinOperatorSHAPE,
	model.OpCast:            fb.BuiltinOperatorCAST,
	model.OpSub:             fb.BuiltinOperatorSUB,
	model.OpFloorDiv:        fb.BuiltinOperatorFLOOR_DIV,
	model.OpReduceProd:      fb.BuiltinOperatorREDUCE_PROD,
	model.OpDepthToSpace:    fb.BuiltinOperatorDEPTH_TO_SPACE,
	model.OpSpaceToDepth:    fb.BuiltinOperatorSPACE_TO_DEPTH,
}

var tensorTypes = map[model.DType]fb.TensorType{
	model.Float32: fb.TensorTypeFLOAT32,
	model.Int32:   fb.TensorTypeINT32,
	model.Uint8:   fb.TensorTypeUINT8,
	model.Int8:    fb.TensorTypeINT8,
	model.Int16:   fb.TensorTypeINT16,
	model.Int64:   fb.TensorTypeINT64,
	model.Bool:    fb.TensorTypeBOOL,
}

var activations = map[model.Activation]fb.ActivationFunctionType{
	model.ActNone:      fb.ActivationFunctionTypeNONE,
	model.ActRelu:      fb.ActivationFunctionTypeRELU,
	model.ActReluN1To1: fb.ActivationFunctionTypeRELU_N1_TO_1,
	model.ActRelu6:     fb.ActivationFunctionTypeRELU6,
}

// Encode writes g as a TFLite flatbuffer (one subgraph; tensor indices as in g). It does
// not validate g, so tests can encode inconsistent graphs on purpose.
func Encode(g *model.Graph, o *Options) ([]byte, error) {
	if o == nil {
		o = &Options{}
	}
	b := flatbuffers.NewBuilder(1 << 12)

	// Buffers: 0 is the empty buffer; then one per constant tensor.
	bufOf := make([]uint32, len(g.Tensors))
	var consts [][]byte
	for i, t := range g.Tensors {
		if t.Data != nil {
			consts = append(consts, t.Data)
			bufOf[i] = uint32(len(consts))
		}
	}
	bufOffs := make([]flatbuffers.UOffsetT, len(consts)+1)
	for i := len(consts); i >= 0; i-- {
		var data flatbuffers.UOffsetT
		if i > 0 && !o.OffsetBuffers {
			b.Prep(16, len(consts[i-1]))
			data = b.CreateByteVector(consts[i-1])
		}
		fb.BufferStart(b)
		if data != 0 {
			fb.BufferAddData(b, data)
		}
		if i > 0 && o.OffsetBuffers {
			// Placeholders, patched once the flatbuffer's size is known.
			fb.BufferAddOffset(b, math.MaxUint32)
			fb.BufferAddSize(b, uint64(len(consts[i-1])))
		}
		bufOffs[i] = fb.BufferEnd(b)
	}
	buffers := vectorOfOffsets(b, bufOffs, fb.ModelStartBuffersVector)

	tensors := make([]flatbuffers.UOffsetT, len(g.Tensors))
	for i, t := range g.Tensors {
		tt, ok := tensorTypes[t.DType]
		if !ok {
			return nil, fmt.Errorf("tensor %d: no TFLite type for %v", i, t.DType)
		}
		name := b.CreateString(t.Name)
		shape := int32Vector(b, t.Shape, fb.TensorStartShapeVector)
		var quant flatbuffers.UOffsetT
		if q := t.Quant; q != nil {
			fb.QuantizationParametersStartScaleVector(b, len(q.Scale))
			for j := len(q.Scale) - 1; j >= 0; j-- {
				b.PrependFloat32(q.Scale[j])
			}
			scale := b.EndVector(len(q.Scale))
			fb.QuantizationParametersStartZeroPointVector(b, len(q.ZeroPoint))
			for j := len(q.ZeroPoint) - 1; j >= 0; j-- {
				b.PrependInt64(q.ZeroPoint[j])
			}
			zp := b.EndVector(len(q.ZeroPoint))
			fb.QuantizationParametersStart(b)
			fb.QuantizationParametersAddScale(b, scale)
			fb.QuantizationParametersAddZeroPoint(b, zp)
			fb.QuantizationParametersAddQuantizedDimension(b, int32(q.Axis))
			quant = fb.QuantizationParametersEnd(b)
		}
		fb.TensorStart(b)
		fb.TensorAddShape(b, shape)
		fb.TensorAddType(b, tt)
		fb.TensorAddBuffer(b, bufOf[i])
		fb.TensorAddName(b, name)
		if quant != 0 {
			fb.TensorAddQuantization(b, quant)
		}
		tensors[i] = fb.TensorEnd(b)
	}
	tensorVec := vectorOfOffsets(b, tensors, fb.SubGraphStartTensorsVector)

	// Op codes, one per distinct (builtin, custom) pair, in order of first use.
	type codeKey struct {
		op     fb.BuiltinOperator
		custom string
	}
	var codes []codeKey
	codeIndex := map[codeKey]int{}
	ops := make([]flatbuffers.UOffsetT, len(g.Ops))
	for i, op := range g.Ops {
		key := codeKey{op: opCodes[op.Kind]}
		if c, ok := o.OpCode[i]; ok {
			key.op = c
		}
		if c, ok := o.CustomCode[i]; ok {
			key = codeKey{op: fb.BuiltinOperatorCUSTOM, custom: c}
		}
		ci, ok := codeIndex[key]
		if !ok {
			ci = len(codes)
			codeIndex[key] = ci
			codes = append(codes, key)
		}
		ins := int32Vector(b, op.Inputs, fb.OperatorStartInputsVector)
		outs := int32Vector(b, op.Outputs, fb.OperatorStartOutputsVector)
		optType, opts, err := options(b, op, i, o)
		if err != nil {
			return nil, err
		}
		fb.OperatorStart(b)
		fb.OperatorAddOpcodeIndex(b, uint32(ci))
		fb.OperatorAddInputs(b, ins)
		fb.OperatorAddOutputs(b, outs)
		if opts != 0 {
			fb.OperatorAddBuiltinOptionsType(b, optType)
			fb.OperatorAddBuiltinOptions(b, opts)
		}
		ops[i] = fb.OperatorEnd(b)
	}
	opVec := vectorOfOffsets(b, ops, fb.SubGraphStartOperatorsVector)

	codeOffs := make([]flatbuffers.UOffsetT, len(codes))
	for i, c := range codes {
		var custom flatbuffers.UOffsetT
		if c.custom != "" {
			custom = b.CreateString(c.custom)
		}
		fb.OperatorCodeStart(b)
		dep := int8(fb.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES)
		if c.op < fb.BuiltinOperatorPLACEHOLDER_FOR_GREATER_OP_CODES {
			dep = int8(c.op)
		}
		fb.OperatorCodeAddDeprecatedBuiltinCode(b, dep)
		if !o.DeprecatedCodesOnly {
			fb.OperatorCodeAddBuiltinCode(b, c.op)
		}
		if custom != 0 {
			fb.OperatorCodeAddCustomCode(b, custom)
		}
		fb.OperatorCodeAddVersion(b, 1)
		codeOffs[i] = fb.OperatorCodeEnd(b)
	}
	codeVec := vectorOfOffsets(b, codeOffs, fb.ModelStartOperatorCodesVector)

	sgIns := int32Vector(b, g.Inputs, fb.SubGraphStartInputsVector)
	sgOuts := int32Vector(b, g.Outputs, fb.SubGraphStartOutputsVector)
	sgName := b.CreateString("main")
	fb.SubGraphStart(b)
	fb.SubGraphAddTensors(b, tensorVec)
	fb.SubGraphAddInputs(b, sgIns)
	fb.SubGraphAddOutputs(b, sgOuts)
	fb.SubGraphAddOperators(b, opVec)
	fb.SubGraphAddName(b, sgName)
	sg := fb.SubGraphEnd(b)
	sgVec := vectorOfOffsets(b, []flatbuffers.UOffsetT{sg}, fb.ModelStartSubgraphsVector)

	desc := o.Description
	if desc == "" {
		desc = "qmpc tflitetest"
	}
	descOff := b.CreateString(desc)
	version := o.Version
	if version == 0 {
		version = 3
	}
	fb.ModelStart(b)
	fb.ModelAddVersion(b, version)
	fb.ModelAddOperatorCodes(b, codeVec)
	fb.ModelAddSubgraphs(b, sgVec)
	fb.ModelAddDescription(b, descOff)
	fb.ModelAddBuffers(b, buffers)
	root := fb.ModelEnd(b)
	b.FinishWithFileIdentifier(root, []byte("TFL3"))
	out := append([]byte(nil), b.FinishedBytes()...)

	if o.OffsetBuffers && len(consts) > 0 {
		m := fb.GetRootAsModel(out, 0)
		var buf fb.Buffer
		for i, d := range consts {
			for len(out)%16 != 0 {
				out = append(out, 0)
			}
			if !m.Buffers(&buf, i+1) || !buf.MutateOffset(uint64(len(out))) {
				return nil, fmt.Errorf("cannot patch the offset of buffer %d", i+1)
			}
			out = append(out, d...)
			m = fb.GetRootAsModel(out, 0)
		}
	}
	return out, nil
}

func int32Vector(b *flatbuffers.Builder, v []int, start func(*flatbuffers.Builder, int) flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	start(b, len(v))
	for j := len(v) - 1; j >= 0; j-- {
		b.PrependInt32(int32(v[j]))
	}
	return b.EndVector(len(v))
}

func vectorOfOffsets(b *flatbuffers.Builder, v []flatbuffers.UOffsetT, start func(*flatbuffers.Builder, int) flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	start(b, len(v))
	for j := len(v) - 1; j >= 0; j-- {
		b.PrependUOffsetT(v[j])
	}
	return b.EndVector(len(v))
}

func padding(p model.Padding) fb.Padding {
	if p == model.PadValid {
		return fb.PaddingVALID
	}
	return fb.PaddingSAME
}

// options writes the builtin options table of op (number i).
func options(b *flatbuffers.Builder, op *model.Op, i int, o *Options) (fb.BuiltinOptions, flatbuffers.UOffsetT, error) {
	act, ok := activations[op.Activation]
	if !ok {
		return 0, 0, fmt.Errorf("op %d: unknown activation %v", i, op.Activation)
	}
	if a, ok := o.Activation[i]; ok {
		act = a
	}
	switch op.Kind {
	case model.OpConv2D:
		fb.Conv2DOptionsStart(b)
		fb.Conv2DOptionsAddPadding(b, padding(op.Padding))
		fb.Conv2DOptionsAddStrideW(b, int32(op.StrideW))
		fb.Conv2DOptionsAddStrideH(b, int32(op.StrideH))
		fb.Conv2DOptionsAddFusedActivationFunction(b, act)
		fb.Conv2DOptionsAddDilationWFactor(b, int32(op.DilationW))
		fb.Conv2DOptionsAddDilationHFactor(b, int32(op.DilationH))
		return fb.BuiltinOptionsConv2DOptions, fb.Conv2DOptionsEnd(b), nil
	case model.OpDepthwiseConv2D:
		dm := int32(op.DepthMultiplier)
		if d, ok := o.DepthMultiplier[i]; ok {
			dm = d
		}
		fb.DepthwiseConv2DOptionsStart(b)
		fb.DepthwiseConv2DOptionsAddPadding(b, padding(op.Padding))
		fb.DepthwiseConv2DOptionsAddStrideW(b, int32(op.StrideW))
		fb.DepthwiseConv2DOptionsAddStrideH(b, int32(op.StrideH))
		fb.DepthwiseConv2DOptionsAddDepthMultiplier(b, dm)
		fb.DepthwiseConv2DOptionsAddFusedActivationFunction(b, act)
		fb.DepthwiseConv2DOptionsAddDilationWFactor(b, int32(op.DilationW))
		fb.DepthwiseConv2DOptionsAddDilationHFactor(b, int32(op.DilationH))
		return fb.BuiltinOptionsDepthwiseConv2DOptions, fb.DepthwiseConv2DOptionsEnd(b), nil
	case model.OpFullyConnected:
		fb.FullyConnectedOptionsStart(b)
		fb.FullyConnectedOptionsAddFusedActivationFunction(b, act)
		if f, ok := o.WeightsFormat[i]; ok {
			fb.FullyConnectedOptionsAddWeightsFormat(b, f)
		}
		fb.FullyConnectedOptionsAddKeepNumDims(b, op.KeepDims)
		return fb.BuiltinOptionsFullyConnectedOptions, fb.FullyConnectedOptionsEnd(b), nil
	case model.OpAveragePool2D, model.OpMaxPool2D:
		fb.Pool2DOptionsStart(b)
		fb.Pool2DOptionsAddPadding(b, padding(op.Padding))
		fb.Pool2DOptionsAddStrideW(b, int32(op.StrideW))
		fb.Pool2DOptionsAddStrideH(b, int32(op.StrideH))
		fb.Pool2DOptionsAddFilterWidth(b, int32(op.FilterW))
		fb.Pool2DOptionsAddFilterHeight(b, int32(op.FilterH))
		fb.Pool2DOptionsAddFusedActivationFunction(b, act)
		return fb.BuiltinOptionsPool2DOptions, fb.Pool2DOptionsEnd(b), nil
	case model.OpAdd:
		fb.AddOptionsStart(b)
		fb.AddOptionsAddFusedActivationFunction(b, act)
		return fb.BuiltinOptionsAddOptions, fb.AddOptionsEnd(b), nil
	case model.OpMul:
		fb.MulOptionsStart(b)
		fb.MulOptionsAddFusedActivationFunction(b, act)
		return fb.BuiltinOptionsMulOptions, fb.MulOptionsEnd(b), nil
	case model.OpMean:
		fb.ReducerOptionsStart(b)
		fb.ReducerOptionsAddKeepDims(b, op.KeepDims)
		return fb.BuiltinOptionsReducerOptions, fb.ReducerOptionsEnd(b), nil
	case model.OpReshape:
		if op.NewShape == nil {
			return 0, 0, nil
		}
		ns := int32Vector(b, op.NewShape, fb.ReshapeOptionsStartNewShapeVector)
		fb.ReshapeOptionsStart(b)
		fb.ReshapeOptionsAddNewShape(b, ns)
		return fb.BuiltinOptionsReshapeOptions, fb.ReshapeOptionsEnd(b), nil
	case model.OpSqueeze:
		sd := int32Vector(b, op.SqueezeDims, fb.SqueezeOptionsStartSqueezeDimsVector)
		fb.SqueezeOptionsStart(b)
		fb.SqueezeOptionsAddSqueezeDims(b, sd)
		return fb.BuiltinOptionsSqueezeOptions, fb.SqueezeOptionsEnd(b), nil
	case model.OpConcatenation:
		fb.ConcatenationOptionsStart(b)
		fb.ConcatenationOptionsAddAxis(b, int32(op.Axis))
		fb.ConcatenationOptionsAddFusedActivationFunction(b, act)
		return fb.BuiltinOptionsConcatenationOptions, fb.ConcatenationOptionsEnd(b), nil
	case model.OpSoftmax:
		fb.SoftmaxOptionsStart(b)
		fb.SoftmaxOptionsAddBeta(b, op.Beta)
		return fb.BuiltinOptionsSoftmaxOptions, fb.SoftmaxOptionsEnd(b), nil
	case model.OpPad:
		fb.PadOptionsStart(b)
		return fb.BuiltinOptionsPadOptions, fb.PadOptionsEnd(b), nil
	case model.OpQuantize:
		fb.QuantizeOptionsStart(b)
		return fb.BuiltinOptionsQuantizeOptions, fb.QuantizeOptionsEnd(b), nil
	case model.OpDequantize:
		fb.DequantizeOptionsStart(b)
		return fb.BuiltinOptionsDequantizeOptions, fb.DequantizeOptionsEnd(b), nil
	case model.OpLogistic, model.OpTanh, model.OpTranspose, model.OpSlice, model.OpExpandDims, model.OpCast,
		model.OpFloorDiv:
		return 0, 0, nil
	case model.OpShape: // int32 shapes (the IR takes the type from the output tensor)
		fb.ShapeOptionsStart(b)
		fb.ShapeOptionsAddOutType(b, fb.TensorTypeINT32)
		return fb.BuiltinOptionsShapeOptions, fb.ShapeOptionsEnd(b), nil
	case model.OpStridedSlice:
		fb.StridedSliceOptionsStart(b)
		fb.StridedSliceOptionsAddBeginMask(b, op.BeginMask)
		fb.StridedSliceOptionsAddEndMask(b, op.EndMask)
		fb.StridedSliceOptionsAddShrinkAxisMask(b, op.ShrinkAxisMask)
		fb.StridedSliceOptionsAddEllipsisMask(b, op.EllipsisMask)
		fb.StridedSliceOptionsAddNewAxisMask(b, op.NewAxisMask)
		fb.StridedSliceOptionsAddOffset(b, op.Offset)
		return fb.BuiltinOptionsStridedSliceOptions, fb.StridedSliceOptionsEnd(b), nil
	case model.OpPack:
		fb.PackOptionsStart(b)
		fb.PackOptionsAddValuesCount(b, int32(len(op.Inputs)))
		fb.PackOptionsAddAxis(b, int32(op.Axis))
		return fb.BuiltinOptionsPackOptions, fb.PackOptionsEnd(b), nil
	case model.OpGather:
		fb.GatherOptionsStart(b)
		fb.GatherOptionsAddAxis(b, int32(op.Axis))
		fb.GatherOptionsAddBatchDims(b, int32(op.BatchDims))
		return fb.BuiltinOptionsGatherOptions, fb.GatherOptionsEnd(b), nil
	case model.OpSub:
		fb.SubOptionsStart(b)
		fb.SubOptionsAddFusedActivationFunction(b, act)
		return fb.BuiltinOptionsSubOptions, fb.SubOptionsEnd(b), nil
	case model.OpDepthToSpace:
		fb.DepthToSpaceOptionsStart(b)
		fb.DepthToSpaceOptionsAddBlockSize(b, int32(op.BlockSize))
		return fb.BuiltinOptionsDepthToSpaceOptions, fb.DepthToSpaceOptionsEnd(b), nil
	case model.OpSpaceToDepth:
		fb.SpaceToDepthOptionsStart(b)
		fb.SpaceToDepthOptionsAddBlockSize(b, int32(op.BlockSize))
		return fb.BuiltinOptionsSpaceToDepthOptions, fb.SpaceToDepthOptionsEnd(b), nil
	case model.OpReduceProd:
		fb.ReducerOptionsStart(b)
		fb.ReducerOptionsAddKeepDims(b, op.KeepDims)
		return fb.BuiltinOptionsReducerOptions, fb.ReducerOptionsEnd(b), nil
	}
	return 0, 0, fmt.Errorf("op %d: cannot encode %v", i, op.Kind)
}
