//go:build !amd64

package spdz2k

import "github.com/qmpc/qmpc/gocore/ot"

var hasCLMUL = false

func gfMulVecAsm(dst, a, b []ot.Block) { panic("spdz2k: no PCLMULQDQ") }
