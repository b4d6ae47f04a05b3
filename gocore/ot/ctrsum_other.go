//go:build !amd64

package ot

// hasAESNI is false off amd64: the extension takes the portable path.
var hasAESNI = false

func expandKeyAESNI(key *[16]byte, rk *[176]byte) { panic("ot: no AES-NI kernel") }

func sums16AESNI(rk *[16][176]byte, mask *[16][16]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int) {
	panic("ot: no AES-NI kernel")
}
