package spdz2k

import (
	"golang.org/x/sys/cpu"

	"github.com/qmpc/qmpc/gocore/ot"
)

// hasCLMUL selects the PCLMULQDQ kernels for gfDot and gfMulDot (the rest is SSE2).
// Tests switch it off to check the portable path.
var hasCLMUL = cpu.X86.HasPCLMULQDQ

// gfDotAsm adds to acc (lo, mid, hi: the 256-bit product lo + mid X^64 + hi X^128 before
// reduction) the carry-less products p[i] x[i] for i < len(p) <= len(x); gfReduce256
// reduces. Constant time.
//
//go:noescape
func gfDotAsm(acc *[3]ot.Block, p, x []ot.Block)

// gfMulDotAsm adds to acc (as gfDotAsm's) the carry-less products p[i] (a[i] b[i]) for i <
// len(p) <= len(a), len(b), a[i] b[i] reduced in F_{2^128} first. Constant time.
//
//go:noescape
func gfMulDotAsm(acc *[3]ot.Block, p, a, b []ot.Block)
