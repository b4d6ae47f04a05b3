package tinyot

// Authenticated AND triples: the leaky AND and bucket combining of Wang, Ranellucci, Katz,
// "Authenticated Garbling and Efficient Maliciously Secure Two-Party Computation" (CCS
// 2017, section 3 "leaky AND" and "combining leaky ANDs"; WRK17), in the symmetric form of
// its authors' implementation (both parties send the same messages). Notation: this party
// P, the peer Q, Delta_P P's key; [v] an authenticated bit with P's share v_P, MAC
// M_P[v_P] = K_Q[v_P] xor v_P*Delta_Q and key K_P[v_Q]; H the TCR hash of hash.go with a
// fresh tweak per (triple, key owner); lsb the lowest bit of a block.
//
// Leaky AND, for each of N = l*B triples j (H(K) is short for H(tweak_j, K) with the
// tweak of the key's owner; "bits 1..127" means bit 0 cleared):
//
//	(1) random aBits [x], [y], [r]                                  (abits.go; 3 bits each)
//	(2) P -> Q:  u_P = lsb H(K_P[x_Q]) xor lsb H(K_P[x_Q] xor Delta_P) xor y_P    (1 bit)
//	             G_P = bits 1..127 of H(K_P[x_Q]) xor H(K_P[x_Q] xor Delta_P) xor C_P
//	             with C_P = K_P[y_Q] xor M_P[y_P] xor y_P*Delta_P               (16 bytes)
//	    (party 0 adds a commitment SHA-256("tinyot-seed" || rho || s_0) to a seed s_0)
//	    P's share of z, from two half-ANDs (one per cross term):
//	      z_P = x_P y_P xor lsb H(K_P[x_Q]) xor lsb H(M_P[x_P]) xor x_P u_Q
//	(3) P -> Q:  d_P = z_P xor r_P (1 bit); [z] = [r] with Q's key K_Q[z_P] = K_Q[r_P]
//	    xor d_P*Delta_Q (the standard way to authenticate a chosen bit from a random one)
//	    Check value, bits 1..127 of
//	      G'_P = H(M_P[x_P]) xor H(K_P[x_Q]) xor M_P[z_P] xor K_P[z_Q]
//	             xor x_P (G_Q xor C_P) xor z_P*Delta_P,
//	    appended to the check hash; Check (open.go) tests G'_0 = G'_1 for every j.
//
// WRK17 computes z with the leaky AND's own hashes; here bit 0 of the one hash H serves the
// two half-ANDs and bits 1..127 the check, so each party hashes three blocks per leaky
// triple (H(K), H(K xor Delta), H(M)). Bit 0 and bits 1..127 of the hash at the point the
// receiver cannot compute are independent pseudorandom pads, one for y_P, one for C_P.
//
// Correctness: C_0 xor C_1 = y (Delta_0 xor Delta_1), since K_P[y_Q] xor M_Q[y_Q] =
// y_Q Delta_P. The party holding M[x_P] = K_Q[x_P] xor x_P Delta_Q gets from G_Q exactly
// H(K_Q[x_P]) xor x_P C_Q on bits 1..127 (if x_P = 1, H(M) = H(K xor Delta) and the two
// hashes swap), so G'_0 xor G'_1 = (z xor x y)(Delta_0 xor Delta_1) on bits 1..127: zero
// iff z = x AND y, except with probability 2^-127 over the honest party's Delta. The
// half-ANDs are the same trick on bit 0: lsb H(M_P[x_P]) xor x_P u_Q = lsb H(K_Q[x_P]) xor
// x_P y_Q, and Q keeps lsb H(K_Q[x_P]), so the cross terms x_P y_Q are XOR-shared.
//
// Leakage (WRK17's F_LaAND): Q's hash at K_Q[x_P] xor Delta_Q is pseudorandom to P (TCR,
// Delta_Q unknown), so u_Q and G_Q are one-time padded; d_Q is padded by the random r_Q.
// A cheating P can change u_P or G_P by an error e; this changes Q's z_Q or G'_Q by
// x_Q*e, so the check fails exactly when x_Q = 1: P learns x_Q from passing, and is caught
// with probability 1/2 (a guess of x_Q). Any other deviation (a wrong d_P, a wrong z, a
// share without its MAC) shifts G'_Q by a multiple of Delta_Q, which P would have to
// guess (2^-127). So every passing triple is correct, and each attacked one leaks its
// x_Q at the price of a 1/2 chance of being caught.
//
// Combining (WRK17), after every leaky triple is fixed:
//
//	(4) party 1 -> 0:  s_1 (16 bytes), sent only after party 1 has received d_0;
//	    party 0 -> 1:  rho, s_0 (opens the commitment).  Seed s = s_0 xor s_1.
//	(5) A permutation of the N triples from the PRG keyed by s (uniform: permutation) cuts them
//	    into l buckets of B. In a bucket (x^1, y^1, z^1), ..., (x^B, y^B, z^B) the parties
//	    open d^k = y^1 xor y^k for k >= 2 (Open: one message each way, MACs checked by
//	    Check) and output
//	      x = XOR_k x^k,   y = y^1,   z = z^1 xor XOR_{k>=2} (z^k xor d^k x^k)
//	    (x^k y^1 = x^k y^k xor x^k d^k). The opened d^k reveal nothing: y^k is uniform and
//	    discarded. x leaks only if every x^k in the bucket leaked; bucket.go gives B.
//	(6) Check (open.go): the G' values and the MACs of the d^k.
//
// Messages per party and leaky triple: 3 aBits (three Delta-COT extension messages, 3 x
// 128/k bits, 12 bytes for k = 4), u and d (2 bits), G (16 bytes); per batch 32 + 16 + 32
// bytes of seed and commitment, (B-1) bits of openings per output triple, and the 96 bytes
// of the check. For B = 3: about 3 x 28.3 = 85 bytes per AND triple and party; for B =
// 4, 113. Rounds per batch: the three extension messages and the keys (1), u and G (1), d
// (1), the seed (1.5), the openings (1), the check (1.5).
//
// KRRW18 (Katz, Ranellucci, Rosulek, Wang, "Optimizing Authenticated Garbling for Faster
// Secure Two-Party Computation", CRYPTO 2018, eprint 2018/578) is not a cheaper leaky AND
// for these triples (session 10, issue 14; design notes). Its leaky AND (Fig. 5, as its
// authors implement it in emp-ag2pc: backend/triple_pool.h, leaky_and_halfgate) is the
// half-gate form above: three COTs per leaky triple and direction, one kappa-bit G =
// H(K[x]) xor H(K[x] xor Delta) xor C each way, and one bit each way (it pins bit 1 of the
// two Deltas to 1 and 0 and opens bit 1 of the check value to fix z, where this file
// sends u and d: the same count), then buckets of B with one opened bit per extra member.
// Its bytes per leaky triple equal this file's, 16.25 plus the COTs. Its other saving,
// the function-dependent leaky AND of section 5.2 (the bucket's first triple built on the
// gate's own input masks: 3B-2 COTs instead of 3B and no Beaver opening, about 9 % here),
// needs the AND's inputs when the triple is made: Triples' callers take triples before
// their inputs exist, and in this symmetric form the leak (the honest share of x) would
// fall on a real input's share.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/bits"
	"runtime"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
)

// Triples returns this party's shares of n authenticated AND triples: with the peer's
// shares, (a_0 xor a_1) AND (b_0 xor b_1) = c_0 xor c_1 for every triple, all MAC
// relations holding. Both parties call it. It runs in batches of p.Batch triples with the
// bucket size of BucketSize(batch, batches), batches counted over max(n, p.TotalTriples)
// triples, or p.Bucket if larger, and ends with Check (so it also checks any openings
// pending before the call): errs.Cheating if the peer deviated. Memory: about 650 bytes
// per triple of a batch while it runs (bucket size 3), of which 642 (the Delta-COT
// outputs, leaky records, check values and permutation: scratch.go) stay with the Party
// for the next batch until Release, and 96 bytes per triple returned.
func (p *Party) Triples(n int) (a, b, c Bits, err error) {
	if n < 0 || p.Batch < 1 {
		return Bits{}, Bits{}, Bits{}, errs.New(errs.Internal, "tinyot: %d triples in batches of %d", n, p.Batch)
	}
	if n == 0 {
		return NewBits(0), NewBits(0), NewBits(0), nil
	}
	batches := (max(n, p.TotalTriples) + p.Batch - 1) / p.Batch
	a, b, c = NewBits(n), NewBits(n), NewBits(n)
	for off := 0; off < n && err == nil; off += p.Batch {
		l := min(p.Batch, n-off)
		bs := max(BucketSize(l, batches), p.Bucket)
		if off%64 == 0 { // in place (every batch unless Batch is not a multiple of 64)
			err = p.triplesBatch(view(a, off, l), view(b, off, l), view(c, off, l), bs)
			continue
		}
		ta, tb, tc := NewBits(l), NewBits(l), NewBits(l)
		err = p.triplesBatch(ta, tb, tc, bs)
		place(&a, ta, off)
		place(&b, tb, off)
		place(&c, tc, off)
	}
	if err != nil {
		return Bits{}, Bits{}, Bits{}, err
	}
	if err := p.Check(); err != nil {
		return Bits{}, Bits{}, Bits{}, err
	}
	return a, b, c, nil
}

// view returns bits [off, off+l) of x, sharing x's memory (off a multiple of 64).
func view(x Bits, off, l int) Bits {
	return Bits{N: l, X: x.X[off/64 : off/64+words(l)], M: x.M[off : off+l], K: x.K[off : off+l]}
}

// place copies src into dst at bit offset off (dst's bits there zero unless off is a
// multiple of 64).
func place(dst *Bits, src Bits, off int) {
	if off%64 == 0 {
		copy(dst.X[off/64:], src.X)
	} else {
		putBitsAt(dst.X, off, src.X, src.N)
	}
	copy(dst.M[off:], src.M)
	copy(dst.K[off:], src.K)
}

// maxLeaky bounds the leaky triples of one batch (the permutation's int32 entries).
const maxLeaky = math.MaxInt32

// hashChunk is how many blocks are hashed at a time (scratch buffers of this size).
const hashChunk = 4096

// triplesBatch makes a.N triples from a.N*bs leaky ones, into a, b and c (zero on entry,
// a.N bits each).
func (p *Party) triplesBatch(a, b, c Bits, bs int) error {
	l := a.N
	N := l * bs
	if N > maxLeaky {
		return errs.New(errs.Config, "tinyot: a batch of %d triples with buckets of %d needs %d leaky triples, more than %d", l, bs, N, maxLeaky)
	}
	nw := words(N)
	sc := &p.scratch
	// (1) x, y, r: three Delta-COTs each way. Their MACs and keys stay in the six COT
	// outputs (read in order by steps 2 and 3) until step 3 gathers them into one record
	// per leaky triple (lt: one or two cache lines per triple instead of six for the
	// combining step's random accesses), written once with the final z keys.
	// The six outputs are written in place into sc.cot (every row returned overwritten).
	x, y, r := p.rng.Uint64s(nw), p.rng.Uint64s(nw), p.rng.Uint64s(nw)
	var macs, keys [3][]ot.Block
	rows := p.ot.DeltaCOTRows(N)
	cot := blockSlice(&sc.cot, 6*rows)
	for i, bits := range [][]uint64{x, y, r} {
		clearTail(bits, N)
		var err error
		if macs[i], err = p.ot.RecvDeltaCOTInto(cot[i*rows:(i+1)*rows], bits, N); err != nil { // sends: all three go out before any key arrives
			return err
		}
	}
	for i := range keys {
		var err error
		if keys[i], err = p.ot.SendDeltaCOTInto(cot[(3+i)*rows:(4+i)*rows], N); err != nil {
			return err
		}
	}

	if p.leakyX != nil {
		p.leakyX(x)
	}
	me, other := uint64(0), uint64(1)
	if !p.first {
		me, other = 1, 0
	}
	base := p.tweak
	p.tweak += 2 * uint64(N)
	tweak := func(owner uint64) uint64 { return base + owner*uint64(N) }

	// (2) u, G; keep lsb H(K_P[x_Q]), lsb H(M_P[x_P]) and V = H(M_P[x_P]) xor H(K_P[x_Q])
	// xor x_P C_P (bits 1..127) for the check value.
	delta := p.delta
	u := make([]uint64, nw)
	h0k := make([]uint64, nw)
	h0m := make([]uint64, nw)
	v := blockSlice(&sc.v, N) // every entry written below
	seedLen := 0
	if p.first {
		seedLen = 32
	}
	msg2 := make([]byte, 8*nw+16*N, 8*nw+16*N+seedLen) // fresh: the connection may keep it
	gOut := msg2[8*nw:]
	var s0, rho [16]byte
	{
		kd := make([]ot.Block, hashChunk)
		hk := make([]ot.Block, hashChunk)
		hd := make([]ot.Block, hashChunk)
		hm := make([]ot.Block, hashChunk)
		for lo := 0; lo < N; lo += hashChunk {
			hi := min(N, lo+hashChunk)
			m := hi - lo
			kx, mx := keys[0][lo:hi], macs[0][lo:hi]
			ky, my := keys[1][lo:hi], macs[1][lo:hi]
			for j := range m {
				kd[j] = xorBlock(kx[j], delta)
			}
			p.h.batch(hk[:m], kx, tweak(me)+uint64(lo))
			p.h.batch(hd[:m], kd[:m], tweak(me)+uint64(lo))
			p.h.batch(hm[:m], mx, tweak(other)+uint64(lo))
			// Word by word (lo is a multiple of 64): the bits of u, lsb H(K) and lsb
			// H(M) gather in registers, the blocks' halves are plain words.
			d0, d1 := delta[0], delta[1]
			for j0 := 0; j0 < m; j0 += 64 {
				w := (lo + j0) / 64
				xw, yw := x[w], y[w]
				var uw, kw, mw uint64
				for b := range min(64, m-j0) {
					j := j0 + b
					i := lo + j
					xm, ym := -(xw >> b & 1), -(yw >> b & 1)
					k0, k1 := hk[j][0], hk[j][1]
					h0, h1 := k0^hd[j][0], k1^hd[j][1]
					m0, m1 := hm[j][0], hm[j][1]
					uw |= h0 & 1 << b
					kw |= k0 & 1 << b
					mw |= m0 & 1 << b
					c0 := ky[j][0] ^ my[j][0] ^ d0&ym // C_P
					c1 := ky[j][1] ^ my[j][1] ^ d1&ym
					binary.LittleEndian.PutUint64(gOut[16*i:], (h0^c0)&^1)
					binary.LittleEndian.PutUint64(gOut[16*i+8:], h1^c1)
					v[i] = ot.Block{(m0 ^ k0 ^ c0&xm) &^ 1, m1 ^ k1 ^ c1&xm}
				}
				u[w], h0k[w], h0m[w] = uw, kw, mw
			}
		}
	}
	for w := range nw {
		u[w] ^= y[w]
		binary.LittleEndian.PutUint64(msg2[8*w:], u[w])
	}
	if p.first {
		p.rng.Read(s0[:])
		p.rng.Read(rho[:])
		msg2 = append(msg2, seedCommit(rho[:], s0[:])...)
	}
	if err := p.send(msg2); err != nil {
		return err
	}
	peerSeedLen := 32 - seedLen
	in2, err := p.recv("leaky-AND message", 8*nw+16*N+peerSeedLen)
	if err != nil {
		return err
	}
	peerCommit := in2[8*nw+16*N:]

	// z_P and (3) d_P.
	z := make([]uint64, nw)
	d := make([]byte, 8*nw)
	for w := range nw {
		uq := binary.LittleEndian.Uint64(in2[8*w:])
		z[w] = x[w]&y[w] ^ h0k[w] ^ h0m[w] ^ x[w]&uq
		if w == nw-1 {
			clearTail(z[w:], N)
		}
		binary.LittleEndian.PutUint64(d[8*w:], z[w]^r[w])
	}
	if err := p.send(d); err != nil {
		return err
	}
	in3, err := p.recv("leaky-AND d", 8*nw)
	if err != nil {
		return err
	}
	dq := make([]uint64, nw)
	for w := range dq {
		dq[w] = binary.LittleEndian.Uint64(in3[8*w:])
	}
	clearTail(dq, N)
	// [z]: this party's MACs are those of r (mz); its keys for the peer's z shares (kz)
	// move by d_Q. G'_P into the check hash, and each leaky triple's record into lt
	// (every entry written).
	lt := leakySlice(&sc.lt, N)
	{
		buf := make([]byte, 16*hashChunk)
		gq := in2[8*nw:]
		for lo := 0; lo < N; lo += hashChunk {
			hi := min(N, lo+hashChunk)
			for i := lo; i < hi; i++ {
				dm, xm, zm := mask(dq, i), mask(x, i), mask(z, i)
				mz, kz := macs[2][i], keys[2][i]
				kz = ot.Block{kz[0] ^ delta[0]&dm, kz[1] ^ delta[1]&dm}
				lt[i] = leaky{mx: macs[0][i], kx: keys[0][i], my: macs[1][i], ky: keys[1][i], mz: mz, kz: kz}
				g0 := binary.LittleEndian.Uint64(gq[16*i:])
				g1 := binary.LittleEndian.Uint64(gq[16*i+8:])
				gp0 := v[i][0] ^ mz[0] ^ kz[0] ^ g0&xm ^ delta[0]&zm
				gp1 := v[i][1] ^ mz[1] ^ kz[1] ^ g1&xm ^ delta[1]&zm
				binary.LittleEndian.PutUint64(buf[16*(i-lo):], gp0&^1) // bit 0 is the half-AND's (see the file comment)
				binary.LittleEndian.PutUint64(buf[16*(i-lo)+8:], gp1)
			}
			p.sym.Write(buf[:16*(hi-lo)])
		}
		p.pending = true
	}
	v, in2, macs, keys = nil, nil, [3][]ot.Block{}, [3][]ot.Block{}

	// (4) The bucket seed: party 1 reveals s_1 after d_0 arrived, then party 0 opens s_0.
	var seed prg.Key
	if p.first {
		s1, err := p.recv("bucket seed", 16)
		if err != nil {
			return err
		}
		if err := p.send(append(append([]byte(nil), rho[:]...), s0[:]...)); err != nil {
			return err
		}
		for i := range seed {
			seed[i] = s0[i] ^ s1[i]
		}
	} else {
		var s1 [16]byte
		p.rng.Read(s1[:])
		if err := p.send(s1[:]); err != nil {
			return err
		}
		open, err := p.recv("bucket seed opening", 32)
		if err != nil {
			return err
		}
		if !bytes.Equal(seedCommit(open[:16], open[16:]), peerCommit) {
			return errs.New(errs.Cheating, "tinyot: party %d's bucket seed does not match its commitment", p.peer)
		}
		for i := range seed {
			seed[i] = open[16+i] ^ s1[i]
		}
	}

	// (5) Buckets and the openings d^k = y^1 xor y^k. First the opened shares (they need
	// only y) and Open's message; then one pass over the buckets (the only random accesses
	// to lt) makes the outputs, d^k x^k terms included, and records the openings' MAC
	// check values as Open does (record, in opening order), chunk by chunk.
	perm := int32Slice(&sc.perm, N)
	permutation(prg.New(seed), perm, uint16Slice(&sc.labels, N))
	nd := l * (bs - 1)
	mine := make([]uint64, words(nd))
	for i := range l {
		yf := getBit(y, int(perm[i*bs]))
		for k := 1; k < bs; k++ {
			o := i*(bs-1) + k - 1
			mine[o/64] |= (yf ^ getBit(y, int(perm[i*bs+k]))) << (o % 64)
		}
	}
	peerD, err := p.exchangeBits(mine, nd)
	if err != nil {
		return err
	}
	dOpen := mine
	for w := range dOpen {
		dOpen[w] ^= peerD[w]
	}
	// Buckets in chunks of cb (a multiple of 64, so that each chunk's openings start at a
	// word of peerD), with the openings' MACs and keys of a chunk in dM and dK.
	cb := 64 * max(1, hashChunk/(64*(bs-1)))
	dM := make([]ot.Block, cb*(bs-1))
	dK := make([]ot.Block, cb*(bs-1))
	for i0 := 0; i0 < l; i0 += cb {
		i1 := min(l, i0+cb)
		for i := i0; i < i1; i++ {
			if i%touchBuckets == 0 {
				touch(lt, x, y, z, perm[i*bs:min(l, i+touchBuckets)*bs])
			}
			f := int(perm[i*bs])
			tf := &lt[f]
			xb, zb := getBit(x, f), getBit(z, f)
			xm, xk := tf.mx, tf.kx
			zm, zk := tf.mz, tf.kz
			for k := 1; k < bs; k++ {
				e := int(perm[i*bs+k])
				te := &lt[e]
				o := i*(bs-1) + k - 1
				dM[o-i0*(bs-1)] = xorBlock(tf.my, te.my)
				dK[o-i0*(bs-1)] = xorBlock(tf.ky, te.ky)
				dm := mask(dOpen, o)
				xe := getBit(x, e)
				xb ^= xe
				xm, xk = xorBlock(xm, te.mx), xorBlock(xk, te.kx)
				zb ^= getBit(z, e) ^ xe&dm
				zm = xorBlock(zm, xorBlock(te.mz, andBlock(te.mx, dm)))
				zk = xorBlock(zk, xorBlock(te.kz, andBlock(te.kx, dm)))
			}
			a.X[i/64] |= xb << (i % 64)
			a.M[i], a.K[i] = xm, xk
			b.X[i/64] |= getBit(y, f) << (i % 64)
			b.M[i], b.K[i] = tf.my, tf.ky
			c.X[i/64] |= zb << (i % 64)
			c.M[i], c.K[i] = zm, zk
		}
		o0, o1 := i0*(bs-1), i1*(bs-1)
		p.record(dM[:o1-o0], dK[:o1-o0], peerD[o0/64:])
	}
	runtime.KeepAlive(sc) // cot, lt, v and perm view sc's mappings (scratch.go's cleanup)
	return nil
}

// touchBuckets is how many buckets' leaky triples touch loads ahead of their use.
const touchBuckets = 32

// touch loads the two cache lines of every lt[e], e in idx, and e's words of the bit
// vectors x, y and z: a loop of independent loads that the CPU runs many at a time (the
// bucket loop's body is too long for its misses to overlap), so that the bucket loop then
// finds them in cache. The addresses are the public permutation's. Not inlined, so that
// the loads are not dropped as dead.
//
//go:noinline
func touch(lt []leaky, x, y, z []uint64, idx []int32) uint64 {
	var s uint64
	for _, e := range idx {
		t := &lt[e]
		s ^= t.mx[0] ^ t.kz[1] ^ x[e/64] ^ y[e/64] ^ z[e/64]
	}
	return s
}

// leaky is one leaky triple's MACs and keys.
type leaky struct{ mx, kx, my, ky, mz, kz ot.Block }

func seedCommit(rho, s []byte) []byte {
	h := sha256.New()
	h.Write([]byte("tinyot-seed"))
	h.Write(rho)
	h.Write(s)
	return h.Sum(nil)
}

// permutation sets perm to a uniformly random permutation of [0, n), n = len(perm) <=
// maxLeaky, drawn from g, in a cache-friendly way that is still exactly uniform (the
// scatter-then-shuffle of Rao 1961 and Sandelius 1962, one level): every i gets an
// independent uniform label in [0, K), K a power of two with n/K between 2^14 and 2^15
// entries (64 to 128 KB, in the L2 cache) unless n is larger than 2^24 K; the i are
// written bucket by bucket, in increasing order within a bucket (a counting sort by
// label: K sequential write streams); then each bucket is shuffled by Fisher-Yates with
// unbiased bounded integers (Lemire's multiply-and-reject) in cache. A Fisher-Yates
// over all n makes random swaps in n*4 bytes (30 MB at spdz2k's batches), each a cache
// miss. Uniformity: for any arrangement sigma and bucket sizes c_1..c_K, the result is
// sigma with these sizes exactly when the labels put sigma's first c_1 entries in bucket
// 1, the next c_2 in bucket 2, and so on (probability K^-n) and each bucket's shuffle
// orders its entries as sigma does (1/c_k!, independently), so Pr[sigma] = sum over the
// sizes of K^-n / prod_k c_k!, the same for every sigma. labels is scratch of n
// entries.
func permutation(g *prg.PRG, perm []int32, labels []uint16) {
	kb := 0
	for kb < permMaxBits && len(perm)>>(kb+15) > 0 {
		kb++
	}
	permuteBuckets(g, perm, labels, kb)
}

// permuteBuckets is permutation with 2^kb buckets (kb <= permMaxBits).
func permuteBuckets(g *prg.PRG, perm []int32, labels []uint16, kb int) {
	n := len(perm)
	nb := 1 << kb
	buf := make([]uint64, 1024)
	start := make([]int, nb+1) // first bucket sizes, then each bucket's start
	if kb > 0 {
		for lo := 0; lo < n; lo += 4 * len(buf) {
			hi := min(n, lo+4*len(buf))
			g.Fill(buf[:(hi-lo+3)/4])
			for i := lo; i < hi; i++ {
				lab := uint16(buf[(i-lo)/4]>>(16*((i-lo)%4))) & uint16(nb-1)
				labels[i] = lab
				start[lab+1]++
			}
		}
	} else {
		start[1] = n
	}
	for k := range nb {
		start[k+1] += start[k]
	}
	next := append([]int(nil), start[:nb]...)
	for i := range n {
		lab := 0
		if kb > 0 {
			lab = int(labels[i])
		}
		perm[next[lab]] = int32(i)
		next[lab]++
	}
	used := len(buf)
	rnd := func() uint64 {
		if used == len(buf) {
			g.Fill(buf)
			used = 0
		}
		used++
		return buf[used-1]
	}
	for k := range nb {
		seg := perm[start[k]:start[k+1]]
		for i := len(seg) - 1; i > 0; i-- {
			bound := uint64(i + 1)
			hi, lo := bits.Mul64(rnd(), bound)
			if lo < bound {
				thresh := -bound % bound
				for lo < thresh {
					hi, lo = bits.Mul64(rnd(), bound)
				}
			}
			seg[i], seg[hi] = seg[hi], seg[i]
		}
	}
}

// permMaxBits bounds permutation's buckets at 2^permMaxBits (labels are uint16).
const permMaxBits = 12

// Take returns n triples from this party's pool of triples, first generating whole batches
// of p.Batch triples (Triples, so every batch gets the bucket size of a full batch) while
// the pool has fewer than n. Both parties call it with the same n. The pool keeps the
// unused rest (fewer than p.Batch triples) for the next call.
func (p *Party) Take(n int) (a, b, c Bits, err error) {
	if n < 0 || p.Batch < 1 {
		return Bits{}, Bits{}, Bits{}, errs.New(errs.Internal, "tinyot: Take %d triples in batches of %d", n, p.Batch)
	}
	have := p.pool[0].N
	if have < n {
		k := (n - have + p.Batch - 1) / p.Batch
		na, nb, nc, err := p.Triples(k * p.Batch)
		if err != nil {
			return Bits{}, Bits{}, Bits{}, err
		}
		if have == 0 {
			p.pool = [3]Bits{na, nb, nc}
		} else {
			p.pool = [3]Bits{Concat(p.pool[0], na), Concat(p.pool[1], nb), Concat(p.pool[2], nc)}
		}
	}
	var out [3]Bits
	for i, t := range p.pool {
		out[i] = t.Slice(0, n)
		p.pool[i] = t.Slice(n, t.N)
	}
	return out[0], out[1], out[2], nil
}
