// Package prg is qmpc's pseudorandom generator: AES-128 in counter mode (crypto/aes and
// crypto/cipher, which use the AES instructions of the CPU where available), keyed with a
// 16-byte key. Two parties that hold the same key and draw the same amounts in the same
// order get the same stream; this is how replicated protocols derive correlated randomness
// (PRF zero-sharings, shared random components) without communication.
package prg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"unsafe"
)

// KeySize is the size of a PRG key in bytes.
const KeySize = 16

// Key is a PRG key.
type Key [KeySize]byte

// NewKey returns a fresh uniformly random key from crypto/rand.
func NewKey() Key {
	var k Key
	rand.Read(k[:]) // never fails (Go 1.24+: crashes the program if the OS source fails)
	return k
}

// ReadKey reads a key from r (crypto/rand in production; a deterministic reader in tests).
func ReadKey(r io.Reader) (Key, error) {
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return k, fmt.Errorf("prg: reading a key: %w", err)
	}
	return k, nil
}

// PRG is an AES-CTR keystream. It is not safe for concurrent use.
type PRG struct {
	stream cipher.Stream
}

// New returns the PRG of key k (the counter starts at zero).
func New(k Key) *PRG {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic("prg: " + err.Error()) // impossible: the key has a valid size
	}
	var iv [aes.BlockSize]byte
	return &PRG{stream: cipher.NewCTR(block, iv[:])}
}

// zeros is the all-zero plaintext the keystream is generated from (never written).
var zeros [16 << 10]byte

// Read fills b with the next len(b) bytes of the stream. It never fails.
func (g *PRG) Read(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), len(zeros))
		g.stream.XORKeyStream(b[:k], zeros[:k])
		b = b[k:]
	}
	return n, nil
}

// XorInto XORs the next 8*len(dst) bytes of the stream into dst.
func (g *PRG) XorInto(dst []uint64) {
	if len(dst) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 8*len(dst))
	g.stream.XORKeyStream(b, b)
}

// Fill fills dst with the next 8*len(dst) bytes of the stream, read as native-endian words.
func (g *PRG) Fill(dst []uint64) {
	if len(dst) == 0 {
		return
	}
	g.Read(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 8*len(dst)))
}

// Uint64s returns n fresh words from the stream.
func (g *PRG) Uint64s(n int) []uint64 {
	v := make([]uint64, n)
	g.Fill(v)
	return v
}
