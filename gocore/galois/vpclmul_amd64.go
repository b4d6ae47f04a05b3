package galois

// HasVPCLMULQDQ reports whether the processor has VPCLMULQDQ with VEX encoding (carry-less
// products of two or four 64-bit pairs per instruction on YMM registers; CPUID leaf 7, ECX
// bit 10). golang.org/x/sys/cpu reports the instruction only together with AVX-512, so
// the kernels of other packages that use it on AVX2 machines (ot's GHASH, rep3mal's AND
// proof) ask here; they check AVX2 themselves.
var HasVPCLMULQDQ = cpuidVPCLMUL()

// cpuidVPCLMUL reports the VPCLMULQDQ bit of CPUID leaf 7 (ECX bit 10).
func cpuidVPCLMUL() bool
