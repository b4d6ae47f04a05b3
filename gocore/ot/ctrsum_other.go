//go:build !amd64

package ot

// hasAESNI and hasVAES are false off amd64: the extension takes the portable path.
var hasAESNI, hasVAES = false, false

func expandKeyAESNI(key *[16]byte, rk *[176]byte) { panic("ot: no AES-NI kernel") }

func sums16AESNI(rk *[16][176]byte, mask *[16][16]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int) {
	panic("ot: no AES-NI kernel")
}

func sums16VAES(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int) {
	panic("ot: no VAES kernel")
}

func sums16VAESFix(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *byte, fix *[4][16]byte) {
	panic("ot: no VAES kernel")
}

func sums16VAESXor(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *uint64) {
	panic("ot: no VAES kernel")
}
