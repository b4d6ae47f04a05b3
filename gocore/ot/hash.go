package ot

// The correlation-robust hash and the seed expansion, both from fixed-key AES.
//
// Source: Guo, Katz, Wang, Yu, "Efficient and Secure Multiparty Computation from Fixed-Key
// Block Ciphers" (S&P 2020). Modelling fixed-key AES-128 as a random permutation pi, their
// TMMO construction
//
//	H(i, x) = pi(pi(x) xor i) xor pi(x)
//
// is a tweakable correlation-robust (TCR) hash: for a uniform secret s and distinct
// (tweak, input) pairs chosen by the adversary, the values H(i, x_i xor s) look uniform
// (their Theorem on TMMO, about q^2/2^128 distinguishing advantage after q queries). IKNP's
// outputs are H(j, q_j) and H(j, q_j xor s) with the OT index j as tweak: the receiver knows
// q_j xor r_j*s = t_j but not s, so the other output is pseudorandom. (In the semi-honest
// setting the t_j are uniform and thus distinct anyway; the tweak makes the argument not
// depend on that.) The tweak is a 64-bit counter that runs on across calls of one
// extension, so no (tweak, input) pair repeats within a session.
//
// Long OT messages (vector correlations of more than two words) expand the 128-bit hash
// output h with a second fixed-key AES permutation pi' in counter mode from h: block b is
// pi'(h + b) (128-bit addition; Go's AES-CTR computes exactly this, with its pipelined
// AES-NI code). For h unknown to the adversary, the inputs h+b are unqueried points of a
// random permutation and the blocks are uniform up to the birthday bound; the party that
// knows h learns nothing it could not compute anyway. The two keys are fixed public
// constants (any value serves in the random-permutation model); separate keys keep the
// hash's and the expansion's permutation queries apart.

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"unsafe"
)

// Fixed public keys (the first 32 bytes of the binary expansion of pi's fractional part).
var (
	hashKey   = [16]byte{0x24, 0x3f, 0x6a, 0x88, 0x85, 0xa3, 0x08, 0xd3, 0x13, 0x19, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x44}
	expandKey = [16]byte{0xa4, 0x09, 0x38, 0x22, 0x29, 0x9f, 0x31, 0xd0, 0x08, 0x2e, 0xfa, 0x98, 0xec, 0x4e, 0x6c, 0x89}
)

// hasher holds the two fixed-key permutations. It is immutable after newHasher and safe for
// concurrent use.
type hasher struct {
	pi, piExp cipher.Block
}

func newHasher() *hasher {
	a, err := aes.NewCipher(hashKey[:])
	if err != nil {
		panic("ot: " + err.Error()) // impossible: the key has a valid size
	}
	b, err := aes.NewCipher(expandKey[:])
	if err != nil {
		panic("ot: " + err.Error())
	}
	return &hasher{pi: a, piExp: b}
}

func putBlock(b []byte, x Block) {
	binary.LittleEndian.PutUint64(b[0:8], x[0])
	binary.LittleEndian.PutUint64(b[8:16], x[1])
}

func getBlock(b []byte) Block {
	return Block{binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])}
}

// perm returns pi(x).
func (h *hasher) perm(x Block) Block {
	var b [16]byte
	putBlock(b[:], x)
	h.pi.Encrypt(b[:], b[:])
	return getBlock(b[:])
}

// tcr returns H(tweak, x) = pi(pi(x) xor tweak) xor pi(x), the tweak in the low word.
func (h *hasher) tcr(tweak uint64, x Block) Block {
	p := h.perm(x)
	y := h.perm(Block{p[0] ^ tweak, p[1]})
	return Block{y[0] ^ p[0], y[1] ^ p[1]}
}

// tcrBatch sets out[j] = H(base+j, x[j]) for every j (out and x may be the same slice).
// The blocks go through AES in batches at distinct addresses so that the CPU overlaps the
// independent encryptions (about 3x faster than one reused buffer).
func (h *hasher) tcrBatch(out, x []Block, base uint64) {
	const batch = 256
	var pb, yb [batch]Block
	p, y := pb[:], yb[:]
	pBytes := blockBytes(p)
	yBytes := blockBytes(y)
	for len(x) > 0 {
		k := min(len(x), batch)
		copy(p, x[:k])
		toLE(p[:k])
		for j := range k {
			b := pBytes[16*j : 16*j+16]
			h.pi.Encrypt(b, b) // p_j = pi(x_j)
		}
		fromLE(p[:k])
		for j := range k {
			y[j] = Block{p[j][0] ^ (base + uint64(j)), p[j][1]}
		}
		toLE(y[:k])
		for j := range k {
			b := yBytes[16*j : 16*j+16]
			h.pi.Encrypt(b, b) // pi(p_j xor tweak)
		}
		fromLE(y[:k])
		for j := range k {
			out[j] = Block{y[j][0] ^ p[j][0], y[j][1] ^ p[j][1]}
		}
		base += uint64(k)
		x, out = x[k:], out[k:]
	}
}

// blockBytes views blocks as bytes (native word order; see toLE).
func blockBytes(b []Block) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 16*len(b))
}

// toLE puts blocks into the little-endian byte order AES reads them in (a no-op on
// little-endian hosts); fromLE undoes it.
func toLE(b []Block) {
	if littleEndian {
		return
	}
	for j := range b {
		var t [16]byte
		putBlock(t[:], b[j])
		b[j] = *(*Block)(unsafe.Pointer(&t))
	}
}

func fromLE(b []Block) {
	if littleEndian {
		return
	}
	for j := range b {
		t := *(*[16]byte)(unsafe.Pointer(&b[j]))
		b[j] = getBlock(t[:])
	}
}

// expander turns 128-bit seeds into word vectors; it keeps a scratch buffer, so it is not
// safe for concurrent use.
type expander struct {
	h     *hasher
	buf   []byte
	zeros []byte // never written: the plaintext the keystream is XORed onto
}

// littleEndian reports whether the host stores words little-endian (then expand writes the
// keystream straight into the words).
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// expand fills dst with the words of seed's expansion: the first two words are seed
// itself when len(dst) <= 2, else the stream pi'(seed+0), pi'(seed+1), ... read as
// little-endian words.
func (e *expander) expand(dst []uint64, seed Block) {
	if len(dst) <= 2 {
		copy(dst, seed[:])
		return
	}
	var iv [16]byte
	// CTR's counter is the IV read as a big-endian 128-bit integer; any fixed encoding of
	// the seed serves.
	binary.BigEndian.PutUint64(iv[0:8], seed[1])
	binary.BigEndian.PutUint64(iv[8:16], seed[0])
	ctr := cipher.NewCTR(e.h.piExp, iv[:])
	n := 8 * len(dst)
	if len(e.zeros) < n {
		e.zeros = make([]byte, n)
	}
	if littleEndian {
		ctr.XORKeyStream(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), n), e.zeros[:n])
		return
	}
	if cap(e.buf) < n {
		e.buf = make([]byte, n)
	}
	buf := e.buf[:n]
	ctr.XORKeyStream(buf, e.zeros[:n])
	for i := range dst {
		dst[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
}
