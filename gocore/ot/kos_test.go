package ot

import (
	"crypto/aes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// malSessions returns malicious sessions of parties 0 and 1 (SoftSpoken k) over c0, c1.
func malSessions(t testing.TB, c0, c1 net.Conn, k int) (*Session, *Session) {
	t.Helper()
	var s0, s1 *Session
	run2(t, func() (err error) { s0, err = NewSessionMalicious(c0, 1, seeded(1), k); return },
		func() (err error) { s1, err = NewSessionMalicious(c1, 0, seeded(2), k); return })
	return s0, s1
}

// run2errs runs f0 and f1 concurrently and returns both errors.
func run2errs(f0, f1 func() error) (e0, e1 error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e0 = f0() }()
	go func() { defer wg.Done(); e1 = f1() }()
	wg.Wait()
	return e0, e1
}

// TestGFMulMatchesGHASH checks gfMul and polyHash against crypto/cipher's GCM: for one block
// A, GHASH is A*h^2 + L*h with h = AES_K(0) and L the length block (128 bits of AAD).
func TestGFMulMatchesGHASH(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 20 {
		var seed [32]byte
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		a := Block{r.Uint64(), r.Uint64()}
		b := Block{r.Uint64(), r.Uint64()}
		p := newPolyHash(seed)
		var h, zero, ab, L [16]byte
		blk, _ := aes.NewCipher(seed[:16])
		blk.Encrypt(h[:], zero[:])
		putBlock(ab[:], a)
		binary.BigEndian.PutUint64(L[:8], 128)
		want := gfMul(gfMul(ab, h), h)
		lh := gfMul(L, h)
		for i := range want {
			want[i] ^= lh[i]
		}
		if got := p.sum([]Block{a}); got != want {
			t.Fatalf("GHASH of one block %x, gfMul gives %x", got, want)
		}
		// Linearity in the rows and the unit: G(a xor 1) xor G(a) = h^2.
		g1 := p.sum([]Block{{a[0] ^ gfOne[0], a[1] ^ gfOne[1]}})
		g0 := p.sum([]Block{a})
		h2 := gfMul(h, h)
		for i := range g1 {
			if g1[i]^g0[i] != h2[i] {
				t.Fatalf("G(a+1)-G(a) = %x, want h^2 = %x", g1, h2)
			}
		}
		// Commutativity and the unit.
		var bb, one [16]byte
		putBlock(bb[:], b)
		putBlock(one[:], gfOne)
		if gfMul(ab, bb) != gfMul(bb, ab) || gfMul(ab, one) != ab {
			t.Fatal("gfMul is not commutative or 1 is not its unit")
		}
	}
}

// TestMaliciousHonest: honest parties on malicious sessions get the same correlations as
// on semi-honest ones, for each SoftSpoken parameter and every operation.
func TestMaliciousHonest(t *testing.T) {
	for _, k := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			p := net.NewPipes(2)
			s0, s1 := malSessions(t, p[0], p[1], k)
			if !s0.Malicious() || !s1.Malicious() {
				t.Fatal("sessions not malicious")
			}
			r := rand.New(rand.NewPCG(uint64(k), 13))
			for _, n := range sizes {
				var m0, m1, mc []Block
				var c []uint64
				run2(t, func() (err error) { m0, m1, err = s0.SendRandomOT(n); return },
					func() (err error) { c, mc, err = s1.RecvRandomOT(n); return })
				if len(c) != words(n) || len(mc) != n || len(m0) != n {
					t.Fatalf("n=%d: lengths", n)
				}
				for i := range n {
					want := m0[i]
					if bit(c, i) == 1 {
						want = m1[i]
					}
					if mc[i] != want || m0[i] == m1[i] {
						t.Fatalf("random OT n=%d, OT %d wrong", n, i)
					}
				}
				if n%64 != 0 && c[len(c)-1]>>(n%64) != 0 {
					t.Fatalf("n=%d: choice bits beyond n set", n)
				}
				const l = 2
				delta := make([]uint64, n*l)
				for i := range delta {
					delta[i] = r.Uint64()
				}
				ch := []uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
				var tt, y []uint64
				run2(t, func() (err error) { tt, err = s1.SendCOT(delta, l, 64); return },
					func() (err error) { y, err = s0.RecvCOT(ch, n, l, 64); return })
				for i := range n * l {
					if y[i] != tt[i]+bit(ch, i/l)*delta[i] {
						t.Fatalf("COT n=%d word %d wrong", n, i)
					}
				}
			}
			runProduct(t, s0, s1, 3, 5, 7, 8, 21)
			var a0, b0, c0, a1, b1, c1 []uint64
			run2(t, func() (err error) { a0, b0, c0, err = s0.ANDTriples(1000); return },
				func() (err error) { a1, b1, c1, err = s1.ANDTriples(1000); return })
			for w := range words(1000) {
				if (a0[w]^a1[w])&(b0[w]^b1[w]) != c0[w]^c1[w] {
					t.Fatalf("AND triples word %d wrong", w)
				}
			}
		})
	}
}

// TestMaliciousTamperedExtension: an alteration of the receiver's extension message in
// transit (the project's net.Tamperer) is caught by the sender with an errs.Cheating error,
// whichever word it hits: body words change the sender's rows and the challenge, check words
// the check values. The same alteration on a semi-honest session goes undetected and breaks
// the correlation.
func TestMaliciousTamperedExtension(t *testing.T) {
	const n = 300
	cases := []struct {
		name string
		word func(nw, nb int) int // nw words per block, nb blocks sent
		xor  uint64
	}{
		{"first word, one bit", func(nw, nb int) int { return 0 }, 1},
		{"first word, all bits", func(nw, nb int) int { return 0 }, ^uint64(0)},
		{"middle block, bit 37", func(nw, nb int) int { return nw*(nb/2) + 1 }, 1 << 37},
		{"last block, last word", func(nw, nb int) int { return nw*nb - 1 }, 1 << 63},
		{"extra rows' word", func(nw, nb int) int { return nw*3 - 1 }, 0x10},
		{"check tt", func(nw, nb int) int { return nw * nb }, 1},
		{"check xx", func(nw, nb int) int { return nw*nb + 3 }, 1 << 5},
	}
	for _, k := range []int{1, 4} {
		nw := words(kosRows(n))
		nb := Kappa/k - 1 // random OT: block 0 is not sent
		for _, tc := range cases {
			t.Run(fmt.Sprintf("k=%d/%s", k, tc.name), func(t *testing.T) {
				p := net.NewPipes(2)
				tp, err := net.NewTamperer(p[1], net.Tamper{Message: 3, Word: tc.word(nw, nb), Xor: tc.xor})
				if err != nil {
					t.Fatal(err)
				}
				s0, s1 := malSessions(t, p[0], tp, k)
				eS, eR := run2errs(func() error { _, _, err := s0.SendRandomOT(n); return err },
					func() error { _, _, err := s1.RecvRandomOT(n); return err })
				if !tp.Tampered() {
					t.Fatal("message not altered")
				}
				if eR != nil {
					t.Fatalf("receiver: %v", eR)
				}
				if eS == nil || errs.KindOf(eS) != errs.Cheating || !strings.Contains(eS.Error(), "KOS consistency check") {
					t.Fatalf("sender: %v, want a cheating error naming the check", eS)
				}
			})
		}
	}
	t.Run("semi-honest", func(t *testing.T) {
		p := net.NewPipes(2)
		tp, _ := net.NewTamperer(p[1], net.Tamper{Message: 3, Word: 0, Xor: ^uint64(0)})
		s0, s1 := sessions(t, p[0], tp)
		if blockBits(s0.snd.s, 1, DefaultK) == 0 {
			t.Skip("the altered block of s is zero for this seed")
		}
		var m0, m1, mc []Block
		var c []uint64
		run2(t, func() (err error) { m0, m1, err = s0.SendRandomOT(n); return },
			func() (err error) { c, mc, err = s1.RecvRandomOT(n); return })
		wrong := 0
		for i := range n {
			want := m0[i]
			if bit(c, i) == 1 {
				want = m1[i]
			}
			if mc[i] != want {
				wrong++
			}
		}
		if wrong == 0 {
			t.Fatal("semi-honest run with a tampered message gave correct OTs")
		}
	})
}

// TestMaliciousCheatingReceiver plays a malicious receiver that stays consistent with the
// transcript: it flips its correction d_b for row j (so that the sender's row j becomes
// t_j xor c_j*s xor s_b, with s_b the k bits of block b of s: rows inconsistent with any
// choice bit when s_b != 0), computes the challenge over what it sends, and adjusts tt by
// g*h^{e_j} for a guess g of s_b. The check passes exactly when the guess is right: the
// selective-failure leakage KOS bounds (k bits at probability 2^-k), nothing more; the honest
// check values (guess 0) are caught whenever s_b != 0.
func TestMaliciousCheatingReceiver(t *testing.T) {
	const n = 200
	for _, k := range []int{1, 4} {
		p := net.NewPipes(2)
		s0, s1 := malSessions(t, p[0], p[1], k) // one session: s stays, each call is a new extension
		for _, pos := range []struct{ b, j int }{{1, 0}, {2, 77}, {Kappa/k - 1, 199}, {3, n + 5}} {
			passes := 0
			for g := range 1 << k {
				nw := words(kosRows(n))
				s1.cheat = &rcvCheat{
					body: func(msg []byte, N int) {
						off := 8*((pos.b-1)*nw+pos.j/64) + (pos.j%64)/8 // random OT: block 0 not sent
						msg[off] ^= 1 << (pos.j % 8)
					},
					check: func(seed [32]byte, N int, check []byte) {
						// g as the k bits of block b of a 128-bit string, in row j.
						var gs Block
						gs[(pos.b*k)/64] = uint64(g) << ((pos.b * k) % 64)
						rows := make([]Block, N)
						ph := newPolyHash(seed)
						g0 := ph.sum(rows)
						rows[pos.j] = gs
						g1 := ph.sum(rows)
						for i := range 16 {
							check[i] ^= g0[i] ^ g1[i]
						}
					},
				}
				eS, eR := run2errs(func() error { _, _, err := s0.SendRandomOT(n); return err },
					func() error { _, _, err := s1.RecvRandomOT(n); return err })
				if eR != nil {
					t.Fatalf("receiver: %v", eR)
				}
				sb := blockBits(s0.snd.s, pos.b, k)
				switch {
				case sb == g && eS != nil:
					t.Fatalf("k=%d block %d row %d: right guess of s_b, yet: %v", k, pos.b, pos.j, eS)
				case sb == g:
					passes++
				case eS == nil || errs.KindOf(eS) != errs.Cheating:
					t.Fatalf("k=%d block %d row %d: wrong guess %d of s_b = %d: %v", k, pos.b, pos.j, g, sb, eS)
				}
			}
			if passes != 1 {
				t.Fatalf("k=%d block %d: %d guesses passed, want exactly 1", k, pos.b, passes)
			}
		}
		s1.cheat = nil
		runProduct(t, s0, s1, 2, 3, 4, 8, 5) // the session still works honestly
	}
}

// TestMaliciousTamperedSweep alters each word of the receiver's extension message of a COT
// (one bit, a random position) and of the setup message (the GGM level sums) in turn:
// every alteration is caught (errs.Cheating at the sender: the challenge covers the setup
// message and the extension message, and the rows change) or, should one pass, leaves the
// correlation correct; no run may end with wrong outputs and no error.
func TestMaliciousTamperedSweep(t *testing.T) {
	const n, l = 130, 1
	r := rand.New(rand.NewPCG(17, 18))
	for _, k := range []int{1, 4} {
		caught, harmless := 0, 0
		for _, msgIdx := range []int{2, 3} {
			words := 32 * Kappa / 8
			if msgIdx == 3 {
				words = (msgLen(k, kosRows(n), false) + kosCheckBytes) / 8
			}
			step := max(1, words/15)
			for w := 0; w < words; w += step {
				x := uint64(1) << r.IntN(64)
				p := net.NewPipes(2)
				tp, _ := net.NewTamperer(p[1], net.Tamper{Message: msgIdx, Word: w, Xor: x})
				var s0, s1 *Session
				e0, e1 := run2errs(func() (err error) { s0, err = NewSessionMalicious(p[0], 1, seeded(1), k); return },
					func() (err error) { s1, err = NewSessionMalicious(tp, 0, seeded(2), k); return })
				if e0 != nil || e1 != nil {
					t.Fatalf("setup: %v %v", e0, e1)
				}
				delta := make([]uint64, n*l)
				for i := range delta {
					delta[i] = r.Uint64()
				}
				ch := []uint64{r.Uint64(), r.Uint64(), r.Uint64()}
				var tt, y []uint64
				eS, eR := run2errs(func() (err error) {
					if tt, err = s0.SendCOT(delta, l, 64); err != nil {
						p[0].Close() // as a party does on an error: the peer's Recv fails
					}
					return
				},
					func() (err error) { y, err = s1.RecvCOT(ch, n, l, 64); return })
				if eS != nil {
					if errs.KindOf(eS) != errs.Cheating {
						t.Fatalf("message %d word %d: sender error %v, want cheating", msgIdx, w, eS)
					}
					caught++
					continue
				}
				if eR != nil {
					t.Fatalf("receiver: %v with the sender's check passed", eR)
				}
				for i := range n * l {
					if y[i] != tt[i]+bit(ch, i/l)*delta[i] {
						t.Fatalf("k=%d message %d word %d xor %x: check passed, COT %d wrong", k, msgIdx, w, x, i)
					}
				}
				harmless++
			}
		}
		t.Logf("k=%d: %d caught, %d passed with correct outputs", k, caught, harmless)
		if caught == 0 {
			t.Fatalf("k=%d: nothing caught", k)
		}
	}
}

// TestMaliciousCosts compares MaliciousExtensionBytes with the connection counters.
func TestMaliciousCosts(t *testing.T) {
	p := net.NewPipes(2)
	s0, s1 := malSessions(t, p[0], p[1], DefaultK)
	for _, n := range []int{1, 64, 1000} {
		for _, random := range []bool{true, false} {
			b := p[1].Stats().BytesSent
			if random {
				run2(t, func() error { _, _, err := s0.SendRandomOT(n); return err },
					func() error { _, _, err := s1.RecvRandomOT(n); return err })
			} else {
				run2(t, func() error { _, err := s0.SendCOT(make([]uint64, n), 1, 8); return err },
					func() error { _, err := s1.RecvCOT(make([]uint64, words(n)), n, 1, 8); return err })
			}
			if got, want := p[1].Stats().BytesSent-b, MaliciousExtensionBytes(n, DefaultK, random); got != want {
				t.Fatalf("n=%d random=%v: receiver sent %d bytes, cost says %d", n, random, got, want)
			}
		}
	}
}

// TestMaliciousModeMismatch: a malicious and a semi-honest session do not pair up.
func TestMaliciousModeMismatch(t *testing.T) {
	p := net.NewPipes(2)
	e0, e1 := run2errs(func() error { _, err := NewSessionMalicious(p[0], 1, seeded(1), 4); return err },
		func() error { _, err := NewSessionK(p[1], 0, seeded(2), 4); return err })
	if e0 == nil || e1 == nil || errs.KindOf(e0) != errs.Config {
		t.Fatalf("errors %v, %v; want config errors on both sides", e0, e1)
	}
}

// TestMaliciousDeltaCOT: on a malicious session, a Delta-COT whose extension message is
// altered in transit, or whose receiver flips one correction bit consistently with the
// transcript, is caught by the sender (errs.Cheating) before it returns any key.
func TestMaliciousDeltaCOT(t *testing.T) {
	const n = 1000
	b := make([]uint64, words(n))
	for i := range b {
		b[i] = 0x5555aaaa3333cccc * uint64(i+1)
	}
	for _, w := range []int{0, 17, 200} {
		p := net.NewPipes(2)
		tp, _ := net.NewTamperer(p[1], net.Tamper{Message: 3, Word: w, Xor: 1 << 9})
		s0, s1 := malSessions(t, p[0], tp, DefaultK)
		eS, eR := run2errs(func() error { _, err := s0.SendDeltaCOT(n); return err },
			func() error { _, err := s1.RecvDeltaCOT(b, n); return err })
		if eR != nil || errs.KindOf(eS) != errs.Cheating {
			t.Fatalf("word %d: sender %v, receiver %v; want a cheating error at the sender", w, eS, eR)
		}
	}
	p := net.NewPipes(2)
	s0, s1 := malSessions(t, p[0], p[1], DefaultK)
	caught := 0
	for blk := range Kappa / DefaultK {
		s1.cheat = &rcvCheat{body: func(msg []byte, N int) { msg[8*blk*words(N)] ^= 4 }} // row 2, block blk
		eS, eR := run2errs(func() error { _, err := s0.SendDeltaCOT(n); return err },
			func() error { _, err := s1.RecvDeltaCOT(b, n); return err })
		if eR != nil {
			t.Fatal(eR)
		}
		if (blockBits(s0.Delta(), blk, DefaultK) != 0) != (eS != nil) {
			t.Fatalf("block %d of Delta = %d, sender error %v", blk, blockBits(s0.Delta(), blk, DefaultK), eS)
		}
		if eS != nil {
			caught++
		}
	}
	if caught < Kappa/DefaultK/2 {
		t.Fatalf("only %d of %d blocks caught", caught, Kappa/DefaultK)
	}
}

// TestMaliciousGGMSetupDeviation plays a receiver that sends wrong GGM level sums in the
// SoftSpoken setup while keeping its own trees, and binds its challenges to what it sent
// (the alteration is made in its own buffer, net.Tamper.InPlace, before the session hashes
// it). The sender then rebuilds different seeds on the altered side. If that side is the one
// the sender uses (the sibling of its path to leaf Delta_b), the rows of block b differ and
// the first extension fails the check; if not, the alteration is invisible and the OTs are
// correct. The outcome reveals one bit of Delta_b, the selective failure KOS/Roy allow.
func TestMaliciousGGMSetupDeviation(t *testing.T) {
	const n = 500
	for _, k := range []int{1, 4} {
		caught, harmless := 0, 0
		for _, w := range []int{0, 2, 5, 17, 100, 257, 511} {
			p := net.NewPipes(2)
			tp, _ := net.NewTamperer(p[1], net.Tamper{Message: 2, Word: w, Xor: 1 << 3, InPlace: true})
			s0, s1 := malSessions(t, p[0], tp, k)
			pair := 8 * w / 32 // = b*k + d
			b, d := pair/k, pair%k
			side := (8 * w % 32) / 16
			pbit := blockBits(s0.snd.s, b, k) >> (k - 1 - d) & 1
			used := side == 1-pbit
			var m0, m1, mc []Block
			var c []uint64
			eS, eR := run2errs(func() (err error) { m0, m1, err = s0.SendRandomOT(n); return },
				func() (err error) { c, mc, err = s1.RecvRandomOT(n); return })
			if eR != nil {
				t.Fatal(eR)
			}
			if used {
				if errs.KindOf(eS) != errs.Cheating {
					t.Fatalf("k=%d word %d (block %d depth %d, used side): sender %v, want cheating", k, w, b, d, eS)
				}
				caught++
				continue
			}
			if eS != nil {
				t.Fatalf("k=%d word %d: unused side altered, yet %v", k, w, eS)
			}
			for i := range n {
				want := m0[i]
				if bit(c, i) == 1 {
					want = m1[i]
				}
				if mc[i] != want {
					t.Fatalf("k=%d word %d: OT %d wrong after a passed check", k, w, i)
				}
			}
			harmless++
		}
		t.Logf("k=%d: %d caught, %d on the unused side", k, caught, harmless)
		if caught == 0 {
			t.Fatalf("k=%d: no deviation caught", k)
		}
	}
}

// TestMaliciousReplayedExtension: the receiver's second extension message replaced by its
// first (same length: two calls of the same size) is caught; the challenge covers the tweak
// counter, and the replayed rows do not match the sender's new rows.
func TestMaliciousReplayedExtension(t *testing.T) {
	for _, k := range []int{1, 4} {
		p := net.NewPipes(2)
		tp, _ := net.NewTamperer(p[1], net.Tamper{Message: 4, Replay: 1})
		s0, s1 := malSessions(t, p[0], tp, k)
		for call := range 2 {
			eS, eR := run2errs(func() error { _, _, err := s0.SendRandomOT(777); return err },
				func() error { _, _, err := s1.RecvRandomOT(777); return err })
			if eR != nil {
				t.Fatal(eR)
			}
			if call == 0 && eS != nil {
				t.Fatalf("k=%d: first call failed: %v", k, eS)
			}
			if call == 1 && errs.KindOf(eS) != errs.Cheating {
				t.Fatalf("k=%d: replayed message: sender %v, want cheating", k, eS)
			}
		}
		if !tp.Tampered() {
			t.Fatal("nothing replayed")
		}
	}
}

// TestXXTables: the table-driven xx equals the two-GHASH one (which TestGFMulMatchesGHASH
// ties to GCM), for several sizes on both sides of xxTableRows.
func TestXXTables(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, W := range []int{1, 3, 64, 300, xxTableRows/64 + 3} {
		var seed [32]byte
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		N := 64 * W
		rows := make([]Block, N)
		for j := range rows {
			rows[j] = Block{r.Uint64(), r.Uint64()}
		}
		x := make([]uint64, W)
		for i := range x {
			x[i] = r.Uint64()
		}
		p := newPolyHash(seed)
		tt := p.sum(rows)
		want := xxGHASH(p, tt, rows, x)
		var h, zero [16]byte
		blk, _ := aes.NewCipher(seed[:16])
		blk.Encrypt(h[:], zero[:])
		if got := xxTables(h, x); got != want {
			t.Fatalf("W=%d: tables %x, GHASH %x", W, got, want)
		}
		if tt != p.sum(rows) {
			t.Fatal("xxGHASH did not restore the rows")
		}
	}
}

// TestMaliciousLargeExtension runs the table-driven receiver check (N >= xxTableRows):
// honest calls pass, a flipped correction in a block where s is nonzero is caught.
func TestMaliciousLargeExtension(t *testing.T) {
	const n = xxTableRows + 100
	p := net.NewPipes(2)
	s0, s1 := malSessions(t, p[0], p[1], DefaultK)
	b := 1
	for blockBits(s0.snd.s, b, DefaultK) == 0 {
		b++
	}
	for _, cheat := range []bool{false, true, false} {
		s1.cheat = nil
		if cheat {
			s1.cheat = &rcvCheat{body: func(msg []byte, N int) { msg[8*(b-1)*words(N)+1000] ^= 0x40 }}
		}
		var m0, m1, mc []Block
		var c []uint64
		eS, eR := run2errs(func() (err error) { m0, m1, err = s0.SendRandomOT(n); return },
			func() (err error) { c, mc, err = s1.RecvRandomOT(n); return })
		if eR != nil {
			t.Fatal(eR)
		}
		if cheat {
			if errs.KindOf(eS) != errs.Cheating {
				t.Fatalf("flipped correction in block %d: sender %v", b, eS)
			}
			continue
		}
		if eS != nil {
			t.Fatal(eS)
		}
		for i := range n {
			want := m0[i]
			if bit(c, i) == 1 {
				want = m1[i]
			}
			if mc[i] != want {
				t.Fatalf("OT %d wrong", i)
			}
		}
	}
}
