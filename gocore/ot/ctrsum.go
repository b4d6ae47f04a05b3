package ot

// The SoftSpoken extension's streams for k = 4 on the AES-NI kernel (ctrsum_amd64.s). Each
// GGM leaf r_x keys the AES-CTR stream G_x(j) = AES_{r_x}(j) (j the 128-bit big-endian
// counter block from 0, the stream of package prg); the kernel computes the sixteen
// streams of one block b a counter block at a time and sums them in registers into the
// columns T_{b,i} and u_b (softspoken.go), so the 2^k expanded streams never reach memory.
// The streams and sums are exactly those of the portable path (sumTree over prg streams):
// both draw whole AES blocks, ceil(tw/2) per tile of tw words (a tile of an odd number of
// words leaves the last block's high half unused), so two parties on different paths agree
// (TestAESStreamsMatchPortable, TestExtensionAcrossPaths). The leaves are secret: their
// round keys come from AESKEYGENASSIST (not a table-driven schedule), and the kernels'
// instructions and addresses do not depend on them or on which leaf is punctured (a zero
// mask instead of a branch). The VAES kernel has two variants that finish a block's
// extension step in registers (sumsXor: R's correction d_b = u_b xor c stored into R's
// message; sumsFix: S's columns corrected by d_b under masks of Delta_b's bits, no branch on
// them), checked against the portable path by TestExtensionAcrossPaths.

import (
	"crypto/subtle"
	"unsafe"
)

// aesStreams holds one extension's streams in the kernel's form: per block b the leaves'
// round keys and masks (all ones; zero for the sender's punctured leaf), in stream order
// for sums16AESNI or in stream pairs for sums16VAES (vaes), and the counter block every
// stream has reached (the streams advance in lockstep).
type aesStreams struct {
	vaes  bool
	rk    [][16][176]byte
	mask  [][16][16]byte
	rkv   [][8][11][32]byte
	maskv [][8][32]byte
	ctr   uint64
}

// newAESStreams expands the leaves (leaves[b][x], 16 per block); hole[b] is the punctured
// leaf of block b (its stream is taken as zero), or -1.
func newAESStreams(leaves [][][16]byte, hole []int) *aesStreams {
	nb := len(leaves)
	a := &aesStreams{vaes: hasVAES}
	if a.vaes {
		a.rkv, a.maskv = make([][8][11][32]byte, nb), make([][8][32]byte, nb)
	} else {
		a.rk, a.mask = make([][16][176]byte, nb), make([][16][16]byte, nb)
	}
	for b, lv := range leaves {
		for x := range 16 {
			k := lv[x]
			var rk [176]byte
			expandKeyAESNI(&k, &rk)
			m := byte(subtle.ConstantTimeEq(int32(x), int32(hole[b]))) - 1 // 0 at the hole, else 0xff
			if a.vaes {
				p, h := x/2, 16*(x%2)
				for r := range 11 {
					copy(a.rkv[b][p][r][h:h+16], rk[16*r:])
				}
				for i := range 16 {
					a.maskv[b][p][h+i] = m
				}
				continue
			}
			a.rk[b][x] = rk
			for i := range 16 {
				a.mask[b][x][i] = m
			}
		}
	}
	return a
}

// sums stores the next tw words of block b's sums: T_i in cols[i*stride:][:tw] (i < 4,
// stride >= tw), u in u[:tw]. The counter advances only by next, once per tile for all
// blocks.
func (a *aesStreams) sums(b int, cols []uint64, tw, stride int, u []uint64) {
	if tw == 0 {
		return
	}
	_, _ = cols[3*stride+tw-1], u[tw-1] // bounds: the kernel writes exactly these words
	if stride < tw {
		panic("ot: aesStreams.sums: columns overlap")
	}
	if a.vaes {
		sums16VAES(&a.rkv[b], &a.maskv[b], a.ctr, &cols[0], uintptr(8*stride), &u[0], tw)
		return
	}
	sums16AESNI(&a.rk[b], &a.mask[b], a.ctr, &cols[0], uintptr(8*stride), &u[0], tw)
}

// sumsFix is sums with the sender's correction fused into the VAES kernel (ok false and
// nothing done without VAES): u ^= d (tw little-endian words), then T_i ^= u AND fix[i],
// fix[i] all ones where bit i of Delta_b is set. The stored columns are S's Q_{b,i}.
func (a *aesStreams) sumsFix(b int, cols []uint64, tw, stride int, u []uint64, d []byte, fix *[4][16]byte) (ok bool) {
	if !a.vaes {
		return false
	}
	if tw == 0 {
		return true
	}
	_, _, _ = cols[3*stride+tw-1], u[tw-1], d[8*tw-1] // bounds: the kernel reads and writes exactly these
	if stride < tw {
		panic("ot: aesStreams.sumsFix: columns overlap")
	}
	sums16VAESFix(&a.rkv[b], &a.maskv[b], a.ctr, &cols[0], uintptr(8*stride), &u[0], tw, &d[0], fix)
	return true
}

// sumsXor is sums storing u xor c (tw words of R's choices) at dst, tw little-endian words
// (R's message), on the VAES kernel (ok false and nothing done without VAES or off a
// little-endian host).
func (a *aesStreams) sumsXor(b int, cols []uint64, tw, stride int, dst []byte, c []uint64) (ok bool) {
	if !a.vaes || !littleEndian {
		return false
	}
	if tw == 0 {
		return true
	}
	_, _, _ = cols[3*stride+tw-1], dst[8*tw-1], c[tw-1] // bounds: the kernel reads and writes exactly these
	if stride < tw {
		panic("ot: aesStreams.sumsXor: columns overlap")
	}
	sums16VAESXor(&a.rkv[b], &a.maskv[b], a.ctr, &cols[0], uintptr(8*stride), (*uint64)(unsafe.Pointer(&dst[0])), tw, &c[0])
	return true
}

// next advances the counter past a tile of tw words.
func (a *aesStreams) next(tw int) {
	if a.ctr+uint64(tw+1)/2 < a.ctr {
		panic("ot: extension stream counter wrapped") // 2^68 bytes per stream: unreachable
	}
	a.ctr += uint64(tw+1) / 2
}
