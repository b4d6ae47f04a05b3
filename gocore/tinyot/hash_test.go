package tinyot

import (
	"crypto/aes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
)

// refHash is H(tweak, x) = pi(pi(x) xor tweak) xor pi(x) block by block with crypto/aes,
// the definition the batched paths must match.
func refHash(t *testing.T, x ot.Block, tweak uint64) ot.Block {
	c, err := aes.NewCipher(tcrKey[:])
	if err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	putBlock(b[:], x)
	c.Encrypt(b[:], b[:])
	p := ot.Block{leUint64(b[:8]), leUint64(b[8:])}
	putBlock(b[:], ot.Block{p[0] ^ tweak, p[1]})
	c.Encrypt(b[:], b[:])
	return ot.Block{leUint64(b[:8]) ^ p[0], leUint64(b[8:]) ^ p[1]}
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// TestAESKeySchedule: the key schedule of the AES-NI kernel against FIPS 197's example
// (appendix A.1: key 2b7e1516..., round keys 1 and 10).
func TestAESKeySchedule(t *testing.T) {
	k, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	rk := aesKeySchedule([16]byte(k))
	for _, c := range []struct {
		round int
		want  string
	}{{0, "2b7e151628aed2a6abf7158809cf4f3c"}, {1, "a0fafe1788542cb123a339392a6c7605"}, {10, "d014f9a8c9ee2589e13f0cc8b6630ca6"}} {
		if got := hex.EncodeToString(rk[16*c.round : 16*c.round+16]); got != c.want {
			t.Errorf("round key %d = %s, want %s", c.round, got, c.want)
		}
	}
}

// TestHashAESNI: hasher.batch, with and without the AES-NI kernel, equals the block-by-block
// definition for lengths around the kernel's groups of eight, tweaks that wrap past 2^64,
// and out aliasing x.
func TestHashAESNI(t *testing.T) {
	g := prg.New(prg.Key{7})
	for _, ni := range []bool{false, true} {
		if ni && !hasAESNI {
			t.Log("no AES-NI on this CPU: kernel not tested")
			continue
		}
		h := newHasher()
		h.ni = ni
		for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 129, 4096 + 3} {
			for _, base := range []uint64{0, 12345, ^uint64(0) - 5} {
				for _, alias := range []bool{false, true} {
					t.Run(fmt.Sprintf("ni=%v/n=%d/base=%d/alias=%v", ni, n, base, alias), func(t *testing.T) {
						x := make([]ot.Block, n)
						for j := range x {
							w := g.Uint64s(2)
							x[j] = ot.Block{w[0], w[1]}
						}
						want := make([]ot.Block, n)
						for j := range x {
							want[j] = refHash(t, x[j], base+uint64(j))
						}
						out := make([]ot.Block, n)
						if alias {
							out = append(out[:0], x...)
							h.batch(out, out, base)
						} else {
							h.batch(out, x, base)
						}
						for j := range want {
							if out[j] != want[j] {
								t.Fatalf("block %d: %x, want %x", j, out[j], want[j])
							}
						}
					})
				}
			}
		}
	}
}
