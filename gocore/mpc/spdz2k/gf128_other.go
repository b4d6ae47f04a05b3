//go:build !amd64

package spdz2k

import "github.com/qmpc/qmpc/gocore/ot"

var hasCLMUL = false

func gfDotAsm(acc *[3]ot.Block, p, x []ot.Block) { panic("spdz2k: no PCLMULQDQ") }

func gfMulDotAsm(acc *[3]ot.Block, p, a, b []ot.Block) { panic("spdz2k: no PCLMULQDQ") }
