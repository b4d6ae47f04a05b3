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

type hasher struct{ pi cipher.Block }

func newHasher() hasher {
	b, err := aes.NewCipher(tcrKey[:])
	if err != nil {
		panic("tinyot: " + err.Error()) // impossible: the key has a valid size
	}
	return hasher{pi: b}
}

// batch sets out[j] = H(base+j, x[j]) (out and x may be the same slice). The blocks go
// through AES in groups so that the CPU overlaps independent encryptions.
func (h hasher) batch(out, x []ot.Block, base uint64) {
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
