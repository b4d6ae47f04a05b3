package spdz2k

import (
	"crypto/aes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/ot"
)

// gf128MulRef is the schoolbook product in F_2[X]/(X^128 + X^7 + X^2 + X + 1): shift and
// add, one bit of b at a time.
func gf128MulRef(a, b ot.Block) ot.Block {
	var z ot.Block
	for k := range 128 {
		if b[k/64]>>(k%64)&1 == 1 {
			z = xorBlock(z, a)
		}
		a = gfMulX(a)
	}
	return z
}

// TestGFMul: gfMul equals the schoolbook product on random and extreme operands, X^128
// reduces to X^7 + X^2 + X + 1, and the product is commutative and distributive.
func TestGFMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ones := ot.Block{^uint64(0), ^uint64(0)}
	cases := [][2]ot.Block{{ones, ones}, {{1, 0}, ones}, {{0, 1 << 63}, {0, 1 << 63}}, {{0, 0}, ones}}
	for range 2000 {
		cases = append(cases, [2]ot.Block{{r.Uint64(), r.Uint64()}, {r.Uint64(), r.Uint64()}})
	}
	for _, c := range cases {
		if got, want := gfMul(c[0], c[1]), gf128MulRef(c[0], c[1]); got != want {
			t.Fatalf("gfMul(%x, %x) = %x, want %x", c[0], c[1], got, want)
		}
		if gfMul(c[0], c[1]) != gfMul(c[1], c[0]) {
			t.Fatalf("gfMul(%x, %x) not commutative", c[0], c[1])
		}
		d := ot.Block{r.Uint64(), r.Uint64()}
		if gfMul(c[0], xorBlock(c[1], d)) != xorBlock(gfMul(c[0], c[1]), gfMul(c[0], d)) {
			t.Fatalf("gfMul not distributive at %x, %x, %x", c[0], c[1], d)
		}
	}
	// X^64 * X^64 = X^128 = X^7 + X^2 + X + 1
	if got := gfMul(ot.Block{0, 1}, ot.Block{0, 1}); got != (ot.Block{0x87, 0}) {
		t.Fatalf("X^128 = %x, want 0x87", got)
	}
}

func BenchmarkGFMul(b *testing.B) {
	x, y := ot.Block{0x0123456789abcdef, 0xfedcba9876543210}, ot.Block{0x1111, 0x2222}
	for b.Loop() {
		x = gfMul(x, y)
	}
	_ = x
}

// TestGFHash: gfHash's sum is GHASH in gf128.go's field: sum(x) xor sum(0) = sum_g
// x_g H^(len+1-g) for g = 0 .. len-1 (the data, then the length block), evaluated by
// Horner with gfMul, H = AES_K(0) in gf128.go's bit order.
func TestGFHash(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	h, err := newGFHash(seed)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := aes.NewCipher(seed[:16])
	var hb [16]byte
	blk.Encrypt(hb[:], hb[:])
	H := ot.Block{gcmWord(binary.LittleEndian.Uint64(hb[:])), gcmWord(binary.LittleEndian.Uint64(hb[8:]))}
	for _, n := range []int{1, 2, 7, 100} {
		x := make([]ot.Block, n)
		var acc ot.Block
		for g := range x {
			x[g] = ot.Block{r.Uint64(), r.Uint64()}
			acc = gfMul(xorBlock(acc, x[g]), H)
		}
		if got := xorBlock(h.sum(x), h.sum(make([]ot.Block, n))); got != gfMul(acc, H) {
			t.Fatalf("n = %d: hash difference %x, want %x", n, got, acc)
		}
	}
}
