package galois

import "golang.org/x/sys/cpu"

// hasCLMUL selects the PCLMULQDQ instruction for carry-less products.
var hasCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41

// clmulAsm returns the carry-less product of a and b with PCLMULQDQ.
//
//go:noescape
func clmulAsm(a, b uint64) (hi, lo uint64)

// clmulDotAsm returns the XOR of the carry-less products a[i]*b[i], i < len(a) <= len(b).
//
//go:noescape
func clmulDotAsm(a, b []uint64) (hi, lo uint64)

// clmulAccAsm XORs the carry-less products a[i]*c into (hi[i], lo[i]), i < len(a) <=
// len(hi), len(lo).
//
//go:noescape
func clmulAccAsm(hi, lo, a []uint64, c uint64)
