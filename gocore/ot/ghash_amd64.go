package ot

import (
	"unsafe"

	"github.com/qmpc/qmpc/gocore/galois"
	"golang.org/x/sys/cpu"
)

// hasGHASH selects the incremental GHASH of ghash_amd64.s (the standard library's
// carry-less-multiply GHASH, which needs these extensions). Tests switch it off to run the
// KOS check's whole-batch path.
var hasGHASH = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3

// hasVPCLMUL selects ghash16VPCLMUL (VPCLMULQDQ on YMM registers; x/sys/cpu reports it
// only with AVX-512, hence galois.HasVPCLMULQDQ). Tests switch it off.
var hasVPCLMUL = hasGHASH && cpu.X86.HasAVX2 && galois.HasVPCLMULQDQ

// ghashInit writes the table of the powers H^16, ..., H^1 of H = AES_ks(0^128) (ks: AES
// round keys) and their Karatsuba sums, 32 bytes per power; ghashData and ghashFinish take
// its upper half (H^8, ..., H^1).
//
//go:noescape
func ghashInit(productTable *[512]byte, ks []uint32)

// ghashData hashes data (a multiple of 16 bytes here) into the running value *T.
//
//go:noescape
func ghashData(productTable *[256]byte, data []byte, T *[16]byte)

// ghash16VPCLMUL is ghashData for a positive multiple of 256 bytes, sixteen blocks per
// reduction with VPCLMULQDQ on YMM registers; pairs holds the table's powers two by two.
//
//go:noescape
func ghash16VPCLMUL(pairs *[8][64]byte, data []byte, T *[16]byte)

// ghashFinish hashes the length block (pLen, dLen bytes of ciphertext and additional
// data) into *T and writes *T xor tagMask, byte order restored, to *T.
//
//go:noescape
func ghashFinish(productTable *[256]byte, tagMask, T *[16]byte, pLen, dLen uint64)

// ghashInc is GHASH with the key of one KOS check computed piece by piece: after writes of
// rows a_0, ..., a_{N-1} (in any pieces), sum returns G(a) = polyHash.sum(a), the value
// GCM's tag of an empty plaintext with the rows as additional data has before its mask.
type ghashInc struct {
	tbl   [512]byte
	pairs [8][64]byte // tbl's powers in pairs for ghash16VPCLMUL
	t     [16]byte
	n     uint64 // bytes written
}

// newGHASHInc returns the incremental GHASH of the check seeded by seed (key seed[:16],
// as newPolyHash), or nil where ghash_amd64.s does not run (then the caller hashes the
// whole batch with polyHash).
func newGHASHInc(seed [32]byte) *ghashInc {
	if !hasGHASH || !hasAESNI {
		return nil
	}
	g := new(ghashInc)
	key := [16]byte(seed[:16])
	var rk [176]byte
	expandKeyAESNI(&key, &rk)
	ghashInit(&g.tbl, unsafe.Slice((*uint32)(unsafe.Pointer(&rk[0])), 44))
	clear(rk[:])
	for p := range g.pairs { // tbl holds H^(16-i) at 32i and its Karatsuba sum at 32i+16
		copy(g.pairs[p][0:16], g.tbl[64*p:])
		copy(g.pairs[p][16:32], g.tbl[64*p+32:])
		copy(g.pairs[p][32:48], g.tbl[64*p+16:])
		copy(g.pairs[p][48:64], g.tbl[64*p+48:])
	}
	return g
}

// write hashes the next rows (their little-endian bytes, as polyHash.sum).
func (g *ghashInc) write(rows []Block) {
	if len(rows) == 0 {
		return
	}
	b := blockBytes(rows)
	if hasVPCLMUL && len(b) >= 256 {
		m := len(b) &^ 255
		ghash16VPCLMUL(&g.pairs, b[:m], &g.t)
		b = b[m:]
	}
	if len(b) > 0 {
		ghashData(g.low(), b, &g.t)
	}
	g.n += 16 * uint64(len(rows))
}

// sum returns G of the rows written so far.
func (g *ghashInc) sum() [16]byte {
	var zero [16]byte
	t := g.t
	ghashFinish(g.low(), &zero, &t, 0, g.n)
	return t
}

// low is the standard library's table: the upper half of tbl (H^8, ..., H^1).
func (g *ghashInc) low() *[256]byte { return (*[256]byte)(g.tbl[256:]) }
