package ot

import "golang.org/x/sys/cpu"

// hasAESNI selects the AES-NI kernel of the k = 4 extension (ctrsum_amd64.s) for the
// extensions created while it is set. Tests switch it off to run the portable path.
var hasAESNI = cpu.X86.HasAES

// expandKeyAESNI writes the eleven AES-128 round keys of key into rk (AESKEYGENASSIST; the
// key is secret, the instruction's time does not depend on it).
//
//go:noescape
func expandKeyAESNI(key *[16]byte, rk *[176]byte)

// sums16AESNI computes the subset sums of nw words of the sixteen masked AES-CTR streams
// of round keys rk from counter block ctr on (ctrsum_amd64.s): column i (i < 4) at
// cols + i*stride bytes, u at u.
//
//go:noescape
func sums16AESNI(rk *[16][176]byte, mask *[16][16]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int)
