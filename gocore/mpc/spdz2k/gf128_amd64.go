package spdz2k

import (
	"golang.org/x/sys/cpu"

	"github.com/qmpc/qmpc/gocore/ot"
)

// hasCLMUL selects the PCLMULQDQ kernel for gfMulVec (SSE4.1 for PEXTRQ). Tests switch it
// off to check the portable path.
var hasCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41

// gfMulVecAsm sets dst[i] = a[i]*b[i] in F_{2^128} for i < len(a) <= len(b), len(dst):
// four PCLMULQDQ products per element (schoolbook over the 64-bit halves), then gfMul's
// reduction in general-purpose registers (the same shifts). PCLMULQDQ's time does not
// depend on its operands, and there are no branches or lookups on them.
//
//go:noescape
func gfMulVecAsm(dst, a, b []ot.Block)
