package tinyot

import (
	"golang.org/x/sys/cpu"

	"github.com/qmpc/qmpc/gocore/ot"
)

// hasAESNI selects the AES-NI kernel of hasher.batch (hash_amd64.s).
var hasAESNI = cpu.X86.HasAES && cpu.X86.HasSSE41

// tmmo8AESNI sets out[j] = H(base+j, x[j]) for j < n (n a multiple of 8) with the round
// keys rk of the fixed key (hash_amd64.s).
//
//go:noescape
func tmmo8AESNI(rk *[176]byte, out, x *ot.Block, n int, base uint64)
