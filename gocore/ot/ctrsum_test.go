package ot

import (
	"crypto/aes"
	"encoding/binary"
	"fmt"
	"testing"
)

// streamWord is word w of the AES-CTR stream of key (bytes 8w..8w+7, native order), from
// crypto/aes block by block: the definition both paths of blockSums must meet.
func streamWord(key [16]byte, w uint64) uint64 {
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	var ctr, out [16]byte
	binary.BigEndian.PutUint64(ctr[8:], w/2)
	blk.Encrypt(out[:], ctr[:])
	return binary.LittleEndian.Uint64(out[8*(w%2):])
}

// TestAESStreamsMatchPortable runs the AES-NI kernel's and the portable path's block sums
// over the same leaves through a sequence of tiles (odd and even sizes, so the streams skip
// half blocks) and compares both with the sums of crypto/aes's blocks, with and without a
// punctured leaf. It fails when a round key, the counter, a mask, a column or a tail word
// of the kernel is wrong.
func TestAESStreamsMatchPortable(t *testing.T) {
	if !hasAESNI {
		t.Skip("no AES-NI")
	}
	const k = 4
	rng := seeded(7)
	leaves := make([][][16]byte, 3)
	for b := range leaves {
		leaves[b] = make([][16]byte, 1<<k)
		for x := range leaves[b] {
			rng.Read(leaves[b][x][:])
		}
	}
	holes := []int{-1, 5, 15}
	has := hasVAES
	defer func() { hasVAES = has }()
	for _, vaes := range []bool{false, true} {
		if vaes && !has {
			t.Log("no VAES: only the AES-NI kernel")
			continue
		}
		hasVAES = vaes
		t.Run(fmt.Sprintf("vaes=%v", vaes), func(t *testing.T) { checkStreams(t, leaves, holes) })
	}
}

func checkStreams(t *testing.T, leaves [][][16]byte, holes []int) {
	const k = 4
	kern := newBlockSums(newAESStreams(leaves, holes), nil, k)
	if kern.aes.vaes != hasVAES {
		t.Fatal("kernel not as intended")
	}
	_, g := newStreams(0, leaves, holes) // k = 0: never the kernel
	port := newBlockSums(nil, g, k)
	pos := uint64(0) // the streams' word position (whole blocks per tile)
	for _, tw := range []int{1, 2, 3, 64, 127, 128, 5, 2, 1, 128} {
		tk := make([]uint64, len(leaves)*k*tileStride)
		tp := make([]uint64, len(leaves)*k*tileStride)
		kern.start(tk)
		port.start(tp)
		for b := range leaves {
			uk := append([]uint64(nil), kern.block(b, tk, tw)...)
			up := append([]uint64(nil), port.block(b, tp, tw)...)
			for w := range tw {
				var want [k + 1]uint64
				for x, key := range leaves[b] {
					if x == holes[b] {
						continue
					}
					r := streamWord(key, pos+uint64(w))
					want[k] ^= r
					for i := range k {
						if x>>i&1 == 1 {
							want[i] ^= r
						}
					}
				}
				for i := range k {
					c := (b*k+i)*tileStride + w
					if tk[c] != want[i] || tp[c] != want[i] {
						t.Fatalf("tw=%d block %d word %d column %d: kernel %x, portable %x, want %x", tw, b, w, i, tk[c], tp[c], want[i])
					}
				}
				if uk[w] != want[k] || up[w] != want[k] {
					t.Fatalf("tw=%d block %d word %d u: kernel %x, portable %x, want %x", tw, b, w, uk[w], up[w], want[k])
				}
			}
		}
		kern.next(tw)
		port.next(tw)
		pos += uint64(tw + tw&1)
	}
}

// TestAESKeyExpansion checks expandKeyAESNI against FIPS 197 appendix A.1 (the last round
// key of 2b7e1516...) and, for random keys, that one AES-CTR block with its round keys
// (through the kernel, a single stream unmasked) is crypto/aes's.
func TestAESKeyExpansion(t *testing.T) {
	if !hasAESNI {
		t.Skip("no AES-NI")
	}
	key := [16]byte{0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c}
	var rk [176]byte
	expandKeyAESNI(&key, &rk)
	if got := fmt.Sprintf("%x", rk[160:]); got != "d014f9a8c9ee2589e13f0cc8b6630ca6" {
		t.Fatalf("round key 10 = %s", got)
	}
	rng := seeded(9)
	for range 20 {
		var kk [16]byte
		rng.Read(kk[:])
		lv := [][][16]byte{make([][16]byte, 16)}
		lv[0][3] = kk // stream 3 alone enters T_0 and T_1
		s := newAESStreams(lv, []int{-1})
		ctr := rng.Uint64s(1)[0] >> 1
		s.ctr = ctr
		cols, u := make([]uint64, 8), make([]uint64, 2)
		s.sums(0, cols, 2, 2, u)
		var zero [16]byte
		z0, z1 := streamWord(zero, 2*ctr), streamWord(zero, 2*ctr+1)
		// Every other stream has the zero key: XOR their 15 equal blocks (odd count) back out.
		w0, w1 := streamWord(kk, 2*ctr), streamWord(kk, 2*ctr+1)
		if u[0] != w0^z0 || u[1] != w1^z1 {
			t.Fatalf("key %x ctr %d: u = %x %x, want %x %x", kk, ctr, u[0], u[1], w0^z0, w1^z1)
		}
	}
}

// TestExtensionAcrossPaths runs the k = 4 extension with the receiver on one path (the
// VAES kernel, the AES-NI kernel or the portable prg streams) and the sender on another,
// over several calls of odd and even word counts and both choice modes, and checks the
// IKNP correlation q_j = t_j xor c_j*s: two parties on different machines agree whatever
// their CPUs.
func TestExtensionAcrossPaths(t *testing.T) {
	if !hasAESNI {
		t.Skip("no AES-NI")
	}
	aesni, vaes := hasAESNI, hasVAES
	defer func() { hasAESNI, hasVAES = aesni, vaes }()
	const portable, kernel, kernelVAES = 0, 1, 2
	set := func(path int) { hasAESNI, hasVAES = path >= kernel, path == kernelVAES && vaes }
	for _, paths := range [][2]int{{kernel, portable}, {portable, kernel}, {kernelVAES, portable}, {portable, kernelVAES}, {kernel, kernelVAES}, {kernelVAES, kernel}} {
		rcvPath, sndPath := paths[0], paths[1]
		rng := seeded(11)
		k0, k1, keys := make([][16]byte, Kappa), make([][16]byte, Kappa), make([][16]byte, Kappa)
		var s Block
		s[0], s[1] = rng.Uint64s(1)[0], rng.Uint64s(1)[0]
		for i := range Kappa {
			rng.Read(k0[i][:])
			rng.Read(k1[i][:])
			keys[i] = k1[i] // S holds k^{NOT s_i}_i
			if s[i/64]>>(i%64)&1 == 1 {
				keys[i] = k0[i]
			}
		}
		set(rcvPath)
		rcv, setup := newExtReceiver(4, k0, k1, rng)
		set(sndPath)
		snd, err := newExtSender(4, s, keys, setup)
		if err != nil {
			t.Fatal(err)
		}
		if (rcv.aes != nil) != (rcvPath >= kernel) || (snd.aes != nil) != (sndPath >= kernel) {
			t.Fatal("paths not as intended")
		}
		for call, n := range []int{1, 64 * 129, 100, 64 * 300, 64*128 + 5} {
			random := call%2 == 1
			var c []uint64
			if !random {
				c = rng.Uint64s(words(n))
			}
			c, tr, _, msg := rcv.extend(c, n)
			q, _, err := snd.extend(msg, n, random)
			if err != nil {
				t.Fatal(err)
			}
			for j := range n {
				m := -(c[j/64] >> (j % 64) & 1)
				if q[j][0] != tr[j][0]^s[0]&m || q[j][1] != tr[j][1]^s[1]&m {
					t.Fatalf("paths %v, call %d (n=%d): row %d breaks q = t xor c*s", paths, call, n, j)
				}
			}
		}
	}
}
