package tinyot

// The correlation-robust hash of the leaky AND: the tweakable TMMO construction of Guo,
// Katz, Wang, Yu, "Efficient and Secure Multiparty Computation from Fixed-Key Block
// Ciphers" (S&P 2020), as in package ot (hash.go there), with fixed-key AES-128 as the
// random permutation pi:
//
//	H(i, x) = pi(pi(x) xor i) xor pi(x)
//
// For a uniform secret Delta and distinct (tweak, input) pairs, the values H(i, x_i xor
// Delta) are pseudorandom given the x_i (tweakable correlation robustness). This package
// uses its own fixed key, so its queries never meet those of package ot; every tweak is
// used once per session and key owner (triples.go).

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"

	"github.com/qmpc/qmpc/gocore/ot"
)

// tcrKey is a fixed public key (the 16 bytes of the binary expansion of e's fractional part
// starting at bit 0).
var tcrKey = [16]byte{0xb7, 0xe1, 0x51, 0x62, 0x8a, 0xed, 0x2a, 0x6a, 0xbf, 0x71, 0x58, 0x80, 0x9c, 0xf4, 0xf3, 0xc7}

// hasher is the fixed-key hash. With AES-NI (ni) batch runs the assembly kernel of
// hash_amd64.s on the round keys rk, else crypto/aes's block cipher pi.
type hasher struct {
	pi cipher.Block
	rk *[176]byte
	ni bool
}

func newHasher() hasher {
	b, err := aes.NewCipher(tcrKey[:])
	if err != nil {
		panic("tinyot: " + err.Error()) // impossible: the key has a valid size
	}
	h := hasher{pi: b, ni: hasAESNI}
	if h.ni {
		rk := aesKeySchedule(tcrKey)
		h.rk = &rk
	}
	return h
}

// aesKeySchedule returns the eleven round keys of AES-128 with key k (FIPS 197, section
// 5.2), round i in bytes 16i..16i+15 in the order AESENC takes them. The key is public, so
// the table-driven S-box is no side channel. TestHashAESNI checks the kernel that uses
// them against crypto/aes.
func aesKeySchedule(k [16]byte) [176]byte {
	sbox := aesSbox()
	var w [176]byte
	copy(w[:], k[:])
	rcon := byte(1)
	for i := 4; i < 44; i++ {
		t := [4]byte(w[4*(i-1) : 4*i])
		if i%4 == 0 {
			t = [4]byte{sbox[t[1]] ^ rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]} // SubWord(RotWord) xor Rcon
			rcon = gfMul(rcon, 2)
		}
		for j := range 4 {
			w[4*i+j] = w[4*(i-4)+j] ^ t[j]
		}
	}
	return w
}

// gfMul multiplies in GF(2^8) modulo AES's polynomial x^8 + x^4 + x^3 + x + 1.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		if b&1 == 1 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// aesSbox returns AES's S-box: the inverse in GF(2^8) (0 to 0) followed by the affine map
// (FIPS 197, section 5.1.1).
func aesSbox() [256]byte {
	var s [256]byte
	for x := range 256 {
		inv := byte(0)
		for y := 1; y < 256 && x != 0; y++ {
			if gfMul(byte(x), byte(y)) == 1 {
				inv = byte(y)
				break
			}
		}
		b := inv
		for r := 1; r < 5; r++ {
			b ^= inv<<r | inv>>(8-r)
		}
		s[x] = b ^ 0x63
	}
	return s
}

// batch sets out[j] = H(base+j, x[j]) (out and x may be the same slice, len(out) >=
// len(x)). The blocks go through AES in groups so that the CPU overlaps independent
// encryptions: eight at a time in the AES-NI kernel, the rest (or all, without AES-NI)
// 128 at a time through crypto/aes.
func (h hasher) batch(out, x []ot.Block, base uint64) {
	if m := len(x) &^ 7; h.ni && m > 0 {
		_ = out[m-1] // the kernel writes out[:m]: bounds-check it here
		tmmo8AESNI(h.rk, &out[0], &x[0], m, base)
		out, x, base = out[m:], x[m:], base+uint64(m)
	}
	const g = 128
	var pb, yb [16 * g]byte
	for len(x) > 0 {
		k := min(len(x), g)
		for j := range k {
			binary.LittleEndian.PutUint64(pb[16*j:], x[j][0])
			binary.LittleEndian.PutUint64(pb[16*j+8:], x[j][1])
		}
		for j := range k {
			h.pi.Encrypt(pb[16*j:16*j+16], pb[16*j:16*j+16]) // pi(x)
		}
		for j := range k {
			lo := binary.LittleEndian.Uint64(pb[16*j:]) ^ (base + uint64(j))
			binary.LittleEndian.PutUint64(yb[16*j:], lo)
			copy(yb[16*j+8:16*j+16], pb[16*j+8:16*j+16])
		}
		for j := range k {
			h.pi.Encrypt(yb[16*j:16*j+16], yb[16*j:16*j+16]) // pi(pi(x) xor tweak)
		}
		for j := range k {
			out[j] = ot.Block{
				binary.LittleEndian.Uint64(yb[16*j:]) ^ binary.LittleEndian.Uint64(pb[16*j:]),
				binary.LittleEndian.Uint64(yb[16*j+8:]) ^ binary.LittleEndian.Uint64(pb[16*j+8:]),
			}
		}
		base += uint64(k)
		x, out = x[k:], out[k:]
	}
}
