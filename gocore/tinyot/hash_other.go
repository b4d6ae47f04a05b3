//go:build !amd64

package tinyot

import "github.com/qmpc/qmpc/gocore/ot"

var hasAESNI = false

func tmmo8AESNI(rk *[176]byte, out, x *ot.Block, n int, base uint64) {
	panic("tinyot: no AES-NI")
}
