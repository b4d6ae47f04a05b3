package ot

// Semi-honest OT extension: IKNP (Ishai, Kilian, Nissim, Petrank, "Extending Oblivious
// Transfers Efficiently", CRYPTO 2003) with the optimisations of ALSZ (Asharov, Lindell,
// Schneider, Zohner, "More Efficient Oblivious Transfer and Extensions for Faster Secure
// Computation", CCS 2013): base OTs on PRG seeds (the extension receiver is the base-OT
// sender), random OT with no sender message, and one correction word per correlated OT.
//
// Setup (baseot.go, once per direction): the extension receiver R holds seed pairs
// (k0_i, k1_i), i < 128; the extension sender S holds a uniform s in {0,1}^128 and k_{s_i}_i.
// Each seed keys an AES-CTR stream G (package prg) that runs on across calls.
//
// One extension of n OTs, R's choice bits r in {0,1}^n:
//
//	R -> S:  u_i = G(k0_i) xor G(k1_i) xor r,   i < 128   (the next n bits of each stream)
//
// S computes q_i = G(k_{s_i}_i) xor s_i*u_i = t_i xor s_i*r with t_i = G(k0_i); transposed
// into rows, q_j = t_j xor r_j*s (j < n). R holds t_j. The random OT outputs are
// H(j', q_j) and H(j', q_j xor s) for S and H(j', t_j) = H(j', q_j xor r_j*s) for R, with H
// the TCR hash of hash.go and j' = ctr + j a per-extension counter (the tweak).
//
// Security (semi-honest, kappa = 128): S's view is u_i, each masked by the stream
// G(k_{1-s_i}_i) whose seed S never saw (base-OT receiver security), so u is pseudorandom
// and independent of r. R's view is its seeds and t; the output it must not learn is
// H(j', t_j xor s) for the unknown uniform s, pseudorandom by the TCR property of H. Bytes:
// 16 per OT from R (rounded up to a multiple of 64 OTs); S sends nothing for random OT.

import (
	"encoding/binary"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
)

// extSender is S's state of one extension.
type extSender struct {
	s   Block           // the base-OT choices
	g   [Kappa]*prg.PRG // streams of k_{s_i}_i
	ctr uint64          // tweak counter: OTs extended so far
}

// extReceiver is R's state of one extension.
type extReceiver struct {
	g0, g1 [Kappa]*prg.PRG
	ctr    uint64
}

func newExtSender(s Block, keys [][16]byte) *extSender {
	e := &extSender{s: s}
	for i := range Kappa {
		e.g[i] = prg.New(prg.Key(keys[i]))
	}
	return e
}

func newExtReceiver(k0, k1 [][16]byte) *extReceiver {
	e := &extReceiver{}
	for i := range Kappa {
		e.g0[i] = prg.New(prg.Key(k0[i]))
		e.g1[i] = prg.New(prg.Key(k1[i]))
	}
	return e
}

// words returns the number of 64-bit words holding n bits.
func words(n int) int { return (n + 63) / 64 }

// extend is R's step: for choice bits r (at least words(n) words) it returns the rows t_j,
// the tweak base of this extension and the message u (128 columns of words(n) words,
// little-endian).
func (e *extReceiver) extend(r []uint64, n int) (t []Block, base uint64, msg []byte) {
	nw := words(n)
	cols := make([]uint64, Kappa*nw)
	col1 := make([]uint64, nw)
	msg = make([]byte, 8*Kappa*nw)
	for i := range Kappa {
		c := cols[i*nw : (i+1)*nw]
		e.g0[i].Fill(c)
		e.g1[i].Fill(col1)
		for w := range nw {
			binary.LittleEndian.PutUint64(msg[8*(i*nw+w):], c[w]^col1[w]^r[w])
		}
	}
	t = make([]Block, n)
	colsToRows(t, cols, nw)
	base = e.ctr
	e.ctr += uint64(n)
	return t, base, msg
}

// extend is S's step: from R's message it returns the rows q_j = t_j xor r_j*s and the tweak
// base.
func (e *extSender) extend(msg []byte, n int) (q []Block, base uint64, err error) {
	nw := words(n)
	if len(msg) != 8*Kappa*nw {
		return nil, 0, errs.New(errs.Party, "ot: extension message has %d bytes, want %d for %d OTs", len(msg), 8*Kappa*nw, n)
	}
	cols := make([]uint64, Kappa*nw)
	for i := range Kappa {
		c := cols[i*nw : (i+1)*nw]
		e.g[i].Fill(c)
		mask := -(e.s[i/64] >> (i % 64) & 1) // all ones iff s_i = 1
		for w := range nw {
			c[w] ^= binary.LittleEndian.Uint64(msg[8*(i*nw+w):]) & mask
		}
	}
	q = make([]Block, n)
	colsToRows(q, cols, nw)
	base = e.ctr
	e.ctr += uint64(n)
	return q, base, nil
}
