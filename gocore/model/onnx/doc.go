// Package onnx imports quantized ONNX models into qmpc's graph IR (package model).
//
// It reads both forms that ONNX Runtime's quantizer (onnxruntime.quantization) writes,
// and the models qmpc's PyTorch exporter (python/qmpc/torch.py) writes:
//
//   - QOperator: QuantizeLinear, QLinearConv, QLinearMatMul, QGemm, QLinearAdd,
//     QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat,
//     DequantizeLinear, and MaxPool, Reshape, Flatten, Transpose on quantized tensors;
//   - QDQ: DequantizeLinear -> float op -> QuantizeLinear, for Conv, Gemm, MatMul, Add,
//     Mul, AveragePool, GlobalAveragePool, Concat, MaxPool, Reshape, Flatten, with Relu and
//     Clip between the float op and its QuantizeLinear fused into the output clamp;
//   - data movement on activations (either form): Transpose, Slice, Split, Gather with
//     constant indices, Squeeze, Unsqueeze, DepthToSpace (DCR) and SpaceToDepth.
//
// Shape subgraphs on values known at import time (Shape, Gather, Unsqueeze, Squeeze,
// Slice, Concat, Cast, integer Add/Sub/Mul/Div, ReduceProd, Reshape of constants, as
// exporters write x.view(x.size(0), -1)) are folded into constants with
// model.EvalConstant, the TFLite reader's folding, so a Reshape with a computed shape
// imports as one with a constant shape.
//
// Activations and weights may be uint8 or int8 (also mixed, uint8 activations with int8
// weights as fbgemm and ORT's U8S8 use), weights per tensor or per output channel.
// Supported opsets: ai.onnx 10 to 21 (the operators above as those versions define them;
// block-quantized DequantizeLinear of opset 21 is not supported) and com.microsoft 1.
// Anything else is listed, all at once, in one errs.UnsupportedOp error.
//
// # Arithmetic
//
// Every op that requantizes gets Op.Rounding = model.RoundHalfEven: ONNX Runtime and
// PyTorch multiply the int32 accumulator by a float32 multiplier and round half to even;
// qmpc evaluates the same multiplier exactly (see qnn.MulHalfEven), which equals the
// runtime's result except where the runtime's float32 product is itself inexact (then by
// one LSB at most; tests/test_onnx.py measures how often).
//
// # Layout
//
// ONNX is NCHW; the IR is NHWC, as TFLite. Convolution weights are transposed to OHWI
// (depthwise to [1,KH,KW,C*M]), constants that broadcast against 4-D activations are
// transposed likewise, channel axes of Concat and per-channel quantization are remapped,
// and a Flatten/Reshape of an NCHW tensor that feeds a Gemm/MatMul has its permutation
// folded into the weights. Graph inputs and outputs have the ONNX model's shapes: a 4-D
// input is followed by a TRANSPOSE to NHWC, and a 4-D output held as NHWC gets a TRANSPOSE
// back, so every caller passes and receives NCHW tensors, as ONNX Runtime does. Ops that
// reshape or move data in ONNX terms (Transpose, a Reshape of an NCHW map other than a
// flatten, Slice, ...) work on the tensor in ONNX order, with a TRANSPOSE from NHWC first
// and one back to NHWC before the next image op. A symbolic batch dimension is fixed to 1.
package onnx
