package prg

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"fmt"
	"math/bits"
	"testing"
)

// TestVector checks the stream against the AES-128 block of counter 0 and 1 computed with
// the block cipher directly (FIPS-197 key).
func TestVector(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	var k Key
	copy(k[:], key)
	got := make([]byte, 32)
	New(k).Read(got)
	blk, _ := aes.NewCipher(key)
	want := make([]byte, 32)
	var ctr [16]byte
	blk.Encrypt(want[:16], ctr[:])
	ctr[15] = 1
	blk.Encrypt(want[16:], ctr[:])
	if !bytes.Equal(got, want) {
		t.Fatalf("stream %x, want %x", got, want)
	}
	// FIPS-197 appendix C.1 with plaintext 00112233...: a sanity check of the block cipher.
	pt, _ := hex.DecodeString("00112233445566778899aabbccddeeff")
	ct := make([]byte, 16)
	blk.Encrypt(ct, pt)
	if hex.EncodeToString(ct) != "69c4e0d86a7b0430d8cdb78070b4c55a" {
		t.Fatalf("AES-128 block = %x", ct)
	}
}

func TestLockstepAndChunking(t *testing.T) {
	k := NewKey()
	if k == (Key{}) || k == NewKey() {
		t.Fatal("NewKey is not random")
	}
	a, b := New(k), New(k)
	x := a.Uint64s(1000)
	// Drawing in different chunk sizes gives the same stream.
	var y []uint64
	for _, n := range []int{1, 2, 3, 500, 494} {
		y = append(y, b.Uint64s(n)...)
	}
	if fmt.Sprint(x) != fmt.Sprint(y) {
		t.Fatal("chunked stream differs")
	}
	// XorInto XORs the same stream.
	c, d := New(k), New(k)
	v := []uint64{1, 2, 3}
	c.XorInto(v)
	w := d.Uint64s(3)
	if v[0] != w[0]^1 || v[1] != w[1]^2 || v[2] != w[2]^3 {
		t.Fatalf("XorInto = %v, stream %v", v, w)
	}
	long := New(k).Uint64s(5000) // longer than the internal zero block
	if fmt.Sprint(long[:1000]) != fmt.Sprint(x) {
		t.Fatal("long draw differs")
	}
	// Rough uniformity: about half the bits are set.
	ones := 0
	for _, v := range x {
		ones += bits.OnesCount64(v)
	}
	if ones < 31000 || ones > 33000 {
		t.Fatalf("%d of 64000 bits set", ones)
	}
	if fmt.Sprint(New(NewKey()).Uint64s(4)) == fmt.Sprint(New(k).Uint64s(4)) {
		t.Fatal("different keys, same stream")
	}
}

func BenchmarkFill(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("words=%d", n), func(b *testing.B) {
			g := New(NewKey())
			v := make([]uint64, n)
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				g.Fill(v)
			}
		})
	}
}
