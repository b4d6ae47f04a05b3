// Package qnn is qmpc's cleartext integer evaluator: TFLite's quantized kernels with
// gemmlowp's fixed-point arithmetic, bit-exact with LiteRT. It is the oracle of the
// secure engine, which reuses the integer parameters prepared here (Prepare* functions,
// or Plan.Params) and never re-derives quantization logic.
//
// # Which LiteRT
//
// The reference is LiteRT 2.3.0's builtin kernels without the default XNNPACK delegate
// (Python: Interpreter(..., experimental_op_resolver_type=
// OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)), i.e. TFLite's "optimized" kernels
// as built for x86-64 (ruy for CONV_2D / FULLY_CONNECTED, TFLite's NEON code paths
// compiled for SSE through its NEON-to-SSE layer elsewhere). Those kernels do not all
// round alike: the vector loops and scalar tails of one kernel can differ on exact ties.
// qnn reproduces this with RoundMode and Schedule (documented on each parameter struct);
// they were established from the LiteRT source and checked by measurement with
// tools/refdump/probe_rounding.py. The thread count does not change LiteRT's results.
//
// Other kernel sets differ, measured with tools/refdump/compare_resolvers.py on the
// ../shared/models files and tests/gen_models.py models (3 random inputs each):
//   - the default resolver (XNNPACK delegate, what Interpreter(model_path) uses) differs
//     on 2.7% of output elements overall, by up to 14 (a classifier logit); XNNPACK
//     requantizes with a single rounding (RoundSingle) and computes ADD, MUL, MEAN and
//     the float edges differently;
//   - BUILTIN_REF (TFLite's reference kernels: RoundAway everywhere, fixed-point
//     softmax) differs on 1.0% of output elements, by up to 16.
//
// Per-layer CONV_2D rounding was also checked on MobileNetV1 and V2 (uint8 and int8):
// RoundUp (ruy) is the only mode consistent with every output of every layer.
//
// # Arithmetic
//
// All ops keep tensors as int32 values (float32 only around QUANTIZE/DEQUANTIZE).
// CONV_2D and FULLY_CONNECTED run as im2col + an int16 GEMM with int32 accumulation
// (AVX2 on amd64, plain Go elsewhere or with -tags purego); DEPTHWISE_CONV_2D is a direct
// loop. Float steps that TFLite performs in float32 (SOFTMAX and LOGISTIC tables, uint8
// CONCATENATION rescaling, QUANTIZE, DEQUANTIZE, parts of MEAN's parameters) are done in
// float32 with the same operation order; expf is glibc's algorithm (Expf).
package qnn
