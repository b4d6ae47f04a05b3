//go:build !amd64

package galois

var hasCLMUL = false

func clmulAsm(a, b uint64) (hi, lo uint64) { panic("galois: no PCLMULQDQ") }

func clmulDotAsm(a, b []uint64) (hi, lo uint64) { panic("galois: no PCLMULQDQ") }

func clmulAccAsm(hi, lo, a []uint64, c uint64) { panic("galois: no PCLMULQDQ") }
