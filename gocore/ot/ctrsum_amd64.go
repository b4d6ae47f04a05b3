package ot

import "golang.org/x/sys/cpu"

// hasAESNI selects the AES-NI kernel of the k = 4 extension (ctrsum_amd64.s) for the
// extensions created while it is set; hasVAES its VAES form (two streams per AESENC on
// YMM registers; x/sys/cpu reports VAES only with AVX-512, hence the CPUID of
// cpuidVAES). Tests switch them off to run the other paths.
var (
	hasAESNI = cpu.X86.HasAES
	hasVAES  = cpu.X86.HasAES && cpu.X86.HasAVX2 && cpuidVAES()
)

// cpuidVAES reports the VAES bit of CPUID leaf 7 (the operating system's support of YMM
// state is cpu.X86.HasAVX2's).
func cpuidVAES() bool

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

// sums16VAES is sums16AESNI with the round keys and masks of stream pairs (2p, 2p+1)
// interleaved: rk[p][r] holds round r of stream 2p then of stream 2p+1.
//
//go:noescape
func sums16VAES(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int)

// sums16VAESFix is sums16VAES with the sender's correction (extSender.extendInto) applied
// before the stores: u ^= d (nw little-endian words of R's message), T_i ^= u AND fix[i].
//
//go:noescape
func sums16VAESFix(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *byte, fix *[4][16]byte)

// sums16VAESXor is sums16VAES storing u xor d at u (the receiver's correction d_b = u_b
// xor c, extReceiver.extendInto).
//
//go:noescape
func sums16VAESXor(rk *[8][11][32]byte, mask *[8][32]byte, ctr uint64, cols *uint64, stride uintptr, u *uint64, nw int, d *uint64)
