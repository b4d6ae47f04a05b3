package spdz2k

import (
	"crypto/aes"
	"encoding/binary"
	"math/bits"
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
	for range 1000 {
		if w := r.Uint64(); gcmWord(w) != bits.ReverseBytes64(bits.Reverse64(w)) {
			t.Fatalf("gcmWord(%#x) = %#x, want each byte's bits reversed", w, gcmWord(w))
		}
	}
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
		// In parts: the same difference for every part length dividing n.
		for _, pn := range []int{1, n / 2, n} {
			if pn == 0 || n%pn != 0 {
				continue
			}
			a, a0 := h.parts(pn), h.parts(pn)
			for p := 0; p < n; p += pn {
				a.add(x[p : p+pn])
				a0.add(make([]ot.Block, pn))
			}
			if got := xorBlock(a.sum(), a0.sum()); got != gfMul(acc, H) {
				t.Fatalf("n = %d in parts of %d: hash difference %x, want %x", n, pn, got, gfMul(acc, H))
			}
		}
	}
}

// TestGFMulVec: gfMulVec equals gfMul elementwise on both paths (PCLMULQDQ where the
// processor has it, and the portable one), for lengths 0, 1 and more, with dst aliasing a.
func TestGFMulVec(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ones := ot.Block{^uint64(0), ^uint64(0)}
	has := hasCLMUL
	defer func() { hasCLMUL = has }()
	for _, path := range []struct {
		name string
		on   bool
	}{{"clmul", has}, {"portable", false}} {
		if path.name == "clmul" && !has {
			t.Log("no PCLMULQDQ: only the portable path")
			continue
		}
		hasCLMUL = path.on
		for _, n := range []int{0, 1, 5, 1000} {
			a, b := make([]ot.Block, n), make([]ot.Block, n+3)
			for i := range a {
				a[i] = ot.Block{r.Uint64(), r.Uint64()}
				b[i] = ot.Block{r.Uint64(), r.Uint64()}
			}
			if n >= 5 {
				a[0], b[0] = ones, ones
				a[1], b[1] = ot.Block{0, 1}, ot.Block{0, 1} // X^64 X^64 = X^128
				a[2], b[2] = ot.Block{0, 1 << 63}, ot.Block{0, 1 << 63}
				b[3] = ot.Block{}
			}
			want := make([]ot.Block, n)
			for i := range a {
				want[i] = gf128MulRef(a[i], b[i])
			}
			gfMulVec(a, a, b)
			for i := range want {
				if a[i] != want[i] {
					t.Fatalf("%s, n = %d: element %d = %x, want %x", path.name, n, i, a[i], want[i])
				}
			}
		}
	}
}

func BenchmarkGFMulVec(b *testing.B) {
	x, y := make([]ot.Block, 4096), make([]ot.Block, 4096)
	for i := range x {
		x[i], y[i] = ot.Block{uint64(i) * 0x9e3779b97f4a7c15, ^uint64(i)}, ot.Block{0x1111 + uint64(i), 0x2222}
	}
	for b.Loop() {
		gfMulVec(x, x, y)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/product")
}
