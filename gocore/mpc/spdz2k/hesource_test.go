package spdz2k

import (
	"fmt"
	"os"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/hemat"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// hePair sets up the two parties' HE sources (always: HE wherever hemat lays f out).
func hePair(t testing.TB, conns []net.Conn) [2]*heSource {
	t.Helper()
	o := otPair(t, conns)
	var s [2]*heSource
	for i := range s {
		var err error
		if s[i], err = newHESource(o[i], true); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var heDepthwise = hemat.Depthwise{H: 5, W: 4, C: 3, KH: 3, KW: 3, Stride: 2, PadT: 1, PadL: 0, OH: 3, OW: 2}

// TestDepthwiseOf: the geometry is recognised from the index maps exactly (SAME and
// VALID padding, strides 1 and 2, non-square), and maps that are not a depthwise
// convolution (an altered entry, a plain MulSum, depth multiplier 2) are not.
func TestDepthwiseOf(t *testing.T) {
	for _, d := range []hemat.Depthwise{
		heDepthwise,
		{H: 8, W: 8, C: 4, KH: 3, KW: 3, Stride: 1, PadT: 1, PadL: 1, OH: 8, OW: 8},
		{H: 8, W: 8, C: 4, KH: 3, KW: 3, Stride: 2, PadT: 0, PadL: 0, OH: 4, OW: 4},
		{H: 6, W: 7, C: 2, KH: 3, KW: 3, Stride: 1, PadT: 0, PadL: 0, OH: 4, OW: 5},
		{H: 4, W: 4, C: 1, KH: 1, KW: 1, Stride: 1, OH: 4, OW: 4},
	} {
		g := depthwiseGather(d)
		got, ok := depthwiseOf(g)
		if !ok {
			t.Fatalf("%+v not recognised", d)
		}
		// another geometry may give the same maps (it is then the same bilinear): check
		// its maps
		if h := depthwiseGather(got); fmt.Sprint(h.xIdx, h.wIdx) != fmt.Sprint(g.xIdx, g.wIdx) {
			t.Fatalf("%+v recognised as %+v with other index maps", d, got)
		}
		g.xIdx[len(g.xIdx)/2]++
		if _, ok := depthwiseOf(g); ok {
			t.Fatalf("%+v with an altered entry recognised", d)
		}
	}
	if _, ok := depthwiseOf(gatherMul{xLen: 9, wLen: 9, k: 3}); ok {
		t.Fatal("MulSum recognised")
	}
	g := depthwiseGather(hemat.Depthwise{H: 4, W: 4, C: 2, KH: 3, KW: 3, Stride: 1, PadT: 1, PadL: 1, OH: 4, OW: 4})
	for j := range g.xIdx { // depth multiplier 2: 4 output channels from 2 inputs
		if g.xIdx[j] >= 0 {
			g.xIdx[j] /= 2
		}
	}
	g.xLen /= 2
	if _, ok := depthwiseOf(g); ok {
		t.Fatal("depth multiplier 2 recognised")
	}
}

// TestHESourceTriples: triples by HE for matrix products in both orientations and a
// depthwise convolution, and by Π_Triple for what hemat does not lay out, are correct
// and authenticated; the key pair is made once.
func TestHESourceTriples(t *testing.T) {
	if testing.Short() {
		t.Skip("HE key generation and proofs: about a minute of CPU")
	}
	conns := net.NewPipes(2)
	s := hePair(t, conns)
	alpha := alphaOf([2]*otSource{s[0].otSource, s[1].otSource})
	he := 0
	for _, tc := range []struct {
		name string
		f    bilinear
		he   bool
	}{
		{"matmul 3x4x2", matMul{3, 4, 2}, true},
		{"matmul 2048x9x4 (transposed)", matMul{2048, 9, 4}, true},
		{"depthwise", depthwiseGather(heDepthwise), true},
		{"mul 5", gatherMul{xLen: 5, wLen: 5, k: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkedTriple(t, conns, [2]tripler{s[0], s[1]}, alpha, tc.name, tc.f)
			if tc.he {
				he++
			}
			if s[0].heTriples != he || s[1].heTriples != he {
				t.Fatalf("%d / %d HE triples, want %d", s[0].heTriples, s[1].heTriples, he)
			}
		})
	}
	if s[0].keys != 1 || s[1].keys != 1 {
		t.Fatalf("key pairs %d / %d, want 1", s[0].keys, s[1].keys)
	}
	orient := map[bool]int{}
	for _, hp := range s[0].plans {
		if hp != nil {
			orient[hp.plan.EncryptLeft]++
		}
	}
	if orient[true] == 0 || orient[false] == 0 {
		t.Fatalf("plans by EncryptLeft %v: want both orientations", orient)
	}
}

// TestHESourceNewKeys: with a response limit of 3 polynomials per key, each triple of a
// one-polynomial plan (two responses) needs a new key pair (two triples here), and the triples stay correct;
// without ensureKeys' change of keys, hemat's Respond refuses the response past the limit.
func TestHESourceNewKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("HE key generation and proofs")
	}
	conns := net.NewPipes(2)
	s := hePair(t, conns)
	for i := range s {
		p, err := s[i].params.WithResponseLimit(3)
		if err != nil {
			t.Fatal(err)
		}
		s[i].params = p
	}
	alpha := alphaOf([2]*otSource{s[0].otSource, s[1].otSource})
	f := matMul{2, 3, 2}
	for rep := range 2 {
		var a, b, c [2]*AShare
		mustBoth(t, conns,
			func() (err error) { a[0], b[0], c[0], err = s[0].Triple(f); return },
			func() (err error) { a[1], b[1], c[1], err = s[1].Triple(f); return })
		A := checkShared(t, "A", alpha, a, nil)
		B := checkShared(t, "B", alpha, b, nil)
		C := ring128.Make(4)
		f.apply(C, A, B)
		checkShared(t, "C", alpha, c, &C)
		if s[0].keys != rep+1 || s[1].keys != rep+1 {
			t.Fatalf("triple %d: key pairs %d / %d, want %d", rep, s[0].keys, s[1].keys, rep+1)
		}
	}
	// the last key pair has 2 of its 3 response polynomials: hemat's Respond makes a third
	// and refuses a fourth (ensureKeys changes keys before it comes to that)
	pl := s[0].plans["matmul 2 3 2"].plan
	up, err := s[0].sk.Encrypt(pl, ring128.Make(pl.EncLen()), s[0].rng)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s[1].params.ReadUpload(pl, s[1].peer, up)
	if err != nil {
		t.Fatal(err)
	}
	w := ring128.Make(pl.PlainLen())
	if _, _, err := s[1].params.Respond(u, w, s[1].rng); err != nil {
		t.Fatalf("third response polynomial under the key: %v", err)
	}
	if _, _, err := s[1].params.Respond(u, w, s[1].rng); errs.KindOf(err) != errs.Config {
		t.Fatalf("fourth response polynomial under the key: %v, want hemat's Config refusal", err)
	}
}

// TestHESourceTamper: a party whose proven upload encrypts another X_i than it
// authenticates, or that responds with another W'_i (a malicious multiplier), is caught
// by the sacrifice; a party that alters its public key (in b or in the key's proof), its
// upload (a ciphertext or a proof) or its responses (c1 of the triple's response or a
// wanted coefficient of the sacrifice's) on the wire makes the honest party end in
// errs.Cheating: the proofs catch the key and the upload, the sacrifice (or the
// residue check) the responses. Both parties cheat in turn.
func TestHESourceTamper(t *testing.T) {
	if testing.Short() {
		t.Skip("each case repeats the OT setup and the HE key generation")
	}
	f := matMul{3, 4, 2}
	cases := []struct {
		kind string
		at   func(n int) int // the byte altered in a message of n bytes
	}{
		{"public key", func(n int) int { return 100 }},
		{"upload", func(n int) int { return 100 }},
		{"responses", func(n int) int { return 100 }},
		{"public key", func(n int) int { return n - 1000 }},
		{"upload", func(n int) int { return n - 1000 }},
		{"responses", func(n int) int { return n - 10 }},
	}
	for _, tc := range []struct {
		name string
		set  func(s *heSource)
	}{
		{"encrypts X_i + 1 at entry 0", func(s *heSource) { s.beforeUpload = func(x ring128.Vec) { x.Lo[0]++ } }},
		{"multiplies by W'_i + 2^40 at entry 1", func(s *heSource) { s.beforeRespond = func(w, w2 ring128.Vec) { w2.Lo[1] += 1 << 40 } }},
	} {
		for cheater := range 2 {
			conns := net.NewPipes(2)
			s := hePair(t, conns)
			tc.set(s[cheater])
			e0, e1 := both(conns, func() error { _, _, _, err := s[0].Triple(f); return err },
				func() error { _, _, _, err := s[1].Triple(f); return err })
			if eh := []error{e0, e1}[1-cheater]; errs.KindOf(eh) != errs.Cheating {
				t.Fatalf("party %d %s: honest party's error %v", cheater, tc.name, eh)
			}
		}
	}
	if os.Getenv("QMPC_HE_TAMPER_ALL") == "" {
		cases = cases[:3] // QMPC_HE_TAMPER_ALL=1: also the proofs and the sacrifice's response
	}
	for _, tc := range cases {
		for cheater := range 2 {
			conns := net.NewPipes(2)
			s := hePair(t, conns)
			fired := false
			s[cheater].sending = func(kind string, msg []byte) {
				if kind == tc.kind && !fired {
					msg[tc.at(len(msg))] ^= 0x01
					fired = true
				}
			}
			e0, e1 := both(conns, func() error { _, _, _, err := s[0].Triple(f); return err },
				func() error { _, _, _, err := s[1].Triple(f); return err })
			eh := []error{e0, e1}[1-cheater]
			if !fired || errs.KindOf(eh) != errs.Cheating {
				t.Fatalf("%s altered by party %d (fired %v): honest party's error %v", tc.kind, cheater, fired, eh)
			}
			t.Logf("%s altered by party %d: %v", tc.kind, cheater, eh)
		}
	}
}

// TestHESourceResponseMasked (the responder's view argument, checked): what the
// encryptor decrypts from a response, f(X_i, W_j) - R_j, has balanced bits at every one
// of the 128 positions whether W_j is 0 or random, for a fixed X_i: the mask R_j, fresh per
// response, hides W_j. (Without the mask, W_j = 0 decrypts to 0.)
func TestHESourceResponseMasked(t *testing.T) {
	p, err := hemat.NewParams()
	if err != nil {
		t.Fatal(err)
	}
	rng := seededReader(9)
	sk, pk, err := p.KeyGen(rng)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.BestMatMul(64, 8, 64, 2)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	x := ring128.Vec{Lo: rng.Uint64s(pl.EncLen()), Hi: rng.Uint64s(pl.EncLen())}
	up, err := sk.Encrypt(pl, x, rng)
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.ReadUpload(pl, pk, up)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"W = 0", "W random"} {
		w := ring128.Make(pl.PlainLen())
		if name == "W random" {
			w = ring128.Vec{Lo: rng.Uint64s(w.Len()), Hi: rng.Uint64s(w.Len())}
		}
		resp, _, err := p.Respond(u, w, rng)
		if err != nil {
			t.Fatal(err)
		}
		d, err := sk.Decrypt(pl, resp)
		if err != nil {
			t.Fatal(err)
		}
		n := d.Len()
		for b := range 128 {
			ones := 0
			for e := range n {
				v := d.Lo[e]
				if b >= 64 {
					v = d.Hi[e]
				}
				ones += int(v >> (b % 64) & 1)
			}
			if fr := float64(ones) / float64(n); fr < 0.45 || fr > 0.55 {
				t.Fatalf("%s: bit %d of the decrypted values set in %.3f of %d", name, b, fr, n)
			}
		}
	}
}
