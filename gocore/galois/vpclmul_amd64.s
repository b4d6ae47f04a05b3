#include "textflag.h"

// func cpuidVPCLMUL() bool: CPUID leaf 7, subleaf 0, ECX bit 10 (VPCLMULQDQ).
TEXT ·cpuidVPCLMUL(SB), NOSPLIT, $0-1
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	SHRL $10, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET
