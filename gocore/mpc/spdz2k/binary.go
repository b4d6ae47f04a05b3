package spdz2k

// The binary half of spdz2k: TinyOT-style authenticated bits (Nielsen, Nordholt, Orlandi,
// Burra, CRYPTO 2012) in the bit-sliced layout of package mpc. Party i holds, for every
// bit of a shared value, its XOR component x_i, the MAC M_i = K_j ^ x_i*Delta_j of that
// component under the other party's key, and its own key K_i for the other's component.
// XOR is local on all three; XOR with a public bit c flips party 0's component and sets
// party 1's key K_1 ^= c*Delta_1 (then M_0 = K_1 ^ x_0*Delta_1 still holds); AND with a
// public bit zeroes the three where c = 0. AND of two shared bits uses an authenticated
// triple (the message is in the package doc). A party that sends a wrong bit b' = b ^ 1
// must send the MAC K ^ b'*Delta = M ^ Delta of the other's key, i.e. guess Delta: the
// hash comparison in Verify fails except with probability 2^-64 (Delta is uniform to
// it).

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
)

// BShare is one party's share of n elements of w bits, bit-sliced: plane j is words
// [j*W, (j+1)*W) of x with W = ring.Words(n) (padding bits unspecified), and the MAC and
// key of bit i of plane j are m[j*n+i] and k[j*n+i]. A public share (pub) holds the
// value itself in x at both parties and no MACs.
type BShare struct {
	n, w int
	pub  bool
	x    []uint64
	m, k []uint64 // MACs of own bits and keys of the other's bits, in GF(2)^64
}

// Len is the number of elements.
func (x *BShare) Len() int { return x.n }

// Width is the number of bits per element.
func (x *BShare) Width() int { return x.w }

func bs(x mpc.BShare) *BShare {
	s, ok := x.(*BShare)
	if !ok {
		panic(fmt.Sprintf("spdz2k: binary share of type %T", x))
	}
	return s
}

// bitAt returns bit i of plane j of words x with W words per plane.
func bitAt(x []uint64, W, j, i int) uint64 { return x[j*W+i/64] >> (i % 64) & 1 }

// mask returns all ones if b is 1 and zero if it is 0.
func mask(b uint64) uint64 { return -b }

// BPublic shares public w-bit values (no communication).
func (p *Protocol) BPublic(vals []uint64, w int) mpc.BShare {
	v := make([]uint64, len(vals))
	for i, x := range vals {
		if w < 64 {
			x &= 1<<w - 1
		}
		v[i] = x
	}
	return &BShare{n: len(vals), w: w, pub: true, x: ring.ToPlanes(v, w)}
}

// shared returns x as an authenticated share (a public value becomes party 0's
// component, with party 1 holding the key c*Delta_1).
func (p *Protocol) shared(x *BShare) *BShare {
	if !x.pub {
		return x
	}
	y := newBShare(x.n, x.w)
	if p.id == 0 {
		copy(y.x, x.x)
	} else {
		p.xorKeys(y, x.x)
	}
	return y
}

// xorKeys sets k ^= c*Delta for every bit c of the public planes c (party 1's side of
// XOR with a public value).
func (p *Protocol) xorKeys(y *BShare, c []uint64) {
	n, W, delta := y.n, ring.Words(y.n), p.delta
	for j := 0; j < y.w; j++ {
		for i := 0; i < n; i += 64 {
			word := c[j*W+i/64]
			k := y.k[j*n+i:][:min(64, n-i)]
			for u := range k {
				k[u] ^= delta & -(word >> u & 1)
			}
		}
	}
}

// forBits calls f(j*n+i, mask) for bit i of every plane j of the planes c (n bits each),
// mask being all ones where the bit is 1 and zero where it is 0, one word of 64 bits at
// a time.
func forBits(c []uint64, n, w int, f func(q int, m uint64)) {
	W := ring.Words(n)
	for j := 0; j < w; j++ {
		for i := 0; i < n; i += 64 {
			word := c[j*W+i/64]
			q := j*n + i
			for u := range min(64, n-i) {
				f(q+u, -(word >> u & 1))
			}
		}
	}
}

func clone(x *BShare) *BShare {
	if x.pub {
		return &BShare{n: x.n, w: x.w, pub: true, x: append([]uint64(nil), x.x...)}
	}
	y := newBShare(x.n, x.w)
	copy(y.x, x.x)
	copy(y.m, x.m)
	copy(y.k, x.k)
	return y
}

// xorPublic returns x ^ c for public planes c.
func (p *Protocol) xorPublic(x *BShare, c []uint64) *BShare {
	y := clone(x)
	if x.pub || p.id == 0 {
		ring.Xor(y.x, y.x, c)
		return y
	}
	p.xorKeys(y, c)
	return y
}

func sameShape(op string, a, b *BShare) {
	if a.n != b.n || a.w != b.w {
		panic(fmt.Sprintf("spdz2k %s: shapes %dx%d and %dx%d", op, a.n, a.w, b.n, b.w))
	}
}

// XOR is local.
func (p *Protocol) XOR(a, b mpc.BShare) mpc.BShare {
	x, y := bs(a), bs(b)
	sameShape("XOR", x, y)
	switch {
	case x.pub:
		return p.xorPublic(y, x.x)
	case y.pub:
		return p.xorPublic(x, y.x)
	}
	z := newBShare(x.n, x.w)
	ring.Xor(z.x, x.x, y.x)
	ring.Xor(z.m, x.m, y.m)
	ring.Xor(z.k, x.k, y.k)
	return z
}

// NOT complements every bit (XOR with the public all-ones value). Local.
func (p *Protocol) NOT(a mpc.BShare) mpc.BShare {
	x := bs(a)
	ones := make([]uint64, len(x.x))
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	return p.xorPublic(x, ones)
}

// andPublic returns x & c for public planes c (local).
func andPublic(x *BShare, c []uint64) *BShare {
	if x.pub {
		y := &BShare{n: x.n, w: x.w, pub: true, x: make([]uint64, len(x.x))}
		ring.And(y.x, x.x, c)
		return y
	}
	y := newBShare(x.n, x.w)
	ring.And(y.x, x.x, c)
	n, W := x.n, ring.Words(x.n)
	for j := 0; j < x.w; j++ {
		for i := 0; i < n; i += 64 {
			word := c[j*W+i/64]
			q := j*n + i
			ym := y.m[q : q+min(64, n-i)]
			yk, xm, xk := y.k[q:][:len(ym)], x.m[q:][:len(ym)], x.k[q:][:len(ym)]
			for u := range ym {
				mk := -(word >> u & 1)
				ym[u] = xm[u] & mk
				yk[u] = xk[u] & mk
			}
		}
	}
	return y
}

// AND computes the pairs a[i] & b[i] in one round: pairs with a public operand locally,
// the others with authenticated triples (both parties send d = x ^ a and e = y ^ b for
// all pairs in one message; the MACs of the sent bits and the expected MACs of the
// received ones go into the check's hashes).
func (p *Protocol) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("spdz2k AND: %d left and %d right operands", len(a), len(b))
	}
	out := make([]mpc.BShare, len(a))
	type pending struct {
		i          int
		x, y       *BShare
		ta, tb, tc *BShare
		off        int // word offset of d in the message; e follows
	}
	var todo []pending
	words := 0
	for i := range a {
		x, y := bs(a[i]), bs(b[i])
		sameShape("AND", x, y)
		switch {
		case x.pub:
			out[i] = andPublic(y, x.x)
		case y.pub:
			out[i] = andPublic(x, y.x)
		default:
			todo = append(todo, pending{i: i, x: x, y: y, off: words})
			words += 2 * len(x.x)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	msg := make([]uint64, words)
	for t := range todo {
		q := &todo[t]
		err := p.offlineDo("ANDTriples", q.x.n, q.x.w, func() (err error) {
			q.ta, q.tb, q.tc, err = p.src.ANDTriples(q.x.n, q.x.w)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("spdz2k AND: triples: %w", err)
		}
		nw := len(q.x.x)
		ring.Xor(msg[q.off:q.off+nw], q.x.x, q.ta.x)
		ring.Xor(msg[q.off+nw:q.off+2*nw], q.y.x, q.tb.x)
		p.fillTail(msg[q.off:q.off+2*nw], q.x.n)
	}
	if err := p.send(ring.ToBytes(msg)); err != nil {
		return nil, fmt.Errorf("spdz2k AND: %w", err)
	}
	raw, err := p.recv("AND masks", 8*words)
	if err != nil {
		return nil, fmt.Errorf("spdz2k AND: %w", err)
	}
	peer, _ := ring.FromBytes(raw, words)
	for _, q := range todo {
		if err := p.checkTail("AND masks", peer[q.off:q.off+2*len(q.x.x)], q.x.n); err != nil {
			return nil, err
		}
	}
	gates := make([]andGate, len(todo))
	for t, q := range todo {
		nw := len(q.x.x)
		gates[t] = andGate{x: q.x, y: q.y, a: q.ta, b: q.tb, c: q.tc, own: msg[q.off : q.off+2*nw], peer: peer[q.off : q.off+2*nw]}
	}
	for t, z := range p.andFinish(gates) {
		out[todo[t].i] = z
	}
	if err := p.maybeVerify(); err != nil {
		return nil, err
	}
	return out, nil
}

// andGate is one AND pair of a call after the exchange: operands x, y, triple a, b, c,
// and the masks d = x ^ a, e = y ^ b as this party sent them (own) and as the other did
// (peer), d's planes then e's.
type andGate struct {
	x, y, a, b, c *BShare
	own, peer     []uint64
}

// andFinish completes the AND pairs of one call: with the opened d and e, z = c ^ d&b ^
// e&a ^ d&e; it also feeds the binary check with the D values of the opened bits (M ^ K
// ^ b_peer*Delta for d = x ^ a and for e = y ^ b; check.go), folded in GF(2^64) word by
// word (foldD in check.go: one 64-bit value per 64 opened bits). The MACs and keys are
// computed one word of bits at a time (the 64 bits' masks come from shifting the word),
// in chunks of andChunk elements of one plane spread over GOMAXPROCS workers; the folded
// values of a gate (plane by plane: d's words, then e's) go to the check's hash in the
// order of the gates, which depends only on public sizes. BenchmarkAndFinish.
func (p *Protocol) andFinish(gates []andGate) []*BShare {
	type unit struct{ g, j, i0, i1 int }
	var units []unit
	zs := make([]*BShare, len(gates))
	folds := make([][]uint64, len(gates))
	for g, q := range gates {
		n, w, nw := q.x.n, q.x.w, len(q.x.x)
		z := newBShare(n, w)
		own, peer := q.own, q.peer
		for t := range z.x {
			d, e := own[t]^peer[t], own[nw+t]^peer[nw+t]
			z.x[t] = q.c.x[t] ^ d&q.b.x[t] ^ e&q.a.x[t]
			if p.id == 0 {
				z.x[t] ^= d & e
			}
		}
		zs[g] = z
		folds[g] = make([]uint64, 2*nw)
		for j := 0; j < w; j++ {
			for i0 := 0; i0 < n; i0 += andChunk {
				units = append(units, unit{g, j, i0, min(i0+andChunk, n)})
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(units))
	var next atomic.Int64
	run := func() {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(units) {
				return
			}
			u := units[k]
			W := ring.Words(zs[u.g].n)
			f := folds[u.g][2*u.j*W:]
			p.finishChunk(gates[u.g], zs[u.g], u.j, u.i0, u.i1, f[u.i0/64:W], f[W+u.i0/64:2*W])
		}
	}
	if workers <= 1 || len(units)*andChunk < andParallelMin {
		run()
	} else {
		var wg sync.WaitGroup
		for range workers - 1 {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		}
		run()
		wg.Wait()
	}
	for g, f := range folds {
		p.check.hashFolded(f, 2*zs[g].n*zs[g].w)
	}
	return zs
}

// finishChunk computes elements [i0, i1) (i0 a multiple of 64) of plane j of z = x AND y
// (MACs and keys; z's bits are done) and the folds of their D values, d's into fd and
// e's into fe (one word per 64 elements).
func (p *Protocol) finishChunk(q andGate, z *BShare, j, i0, i1 int, fd, fe []uint64) {
	x, y, a, b, c := q.x, q.y, q.a, q.b, q.c
	n, nw := x.n, len(x.x)
	W := ring.Words(n)
	own, peer := q.own, q.peer
	delta, dl := p.delta, p.delta
	if p.id == 0 {
		dl = 0 // party 0 does not add the public d&e to its keys
	}
	for i := i0; i < i1; i += 64 {
		t := j*W + i/64
		dw, ew := own[t]^peer[t], own[nw+t]^peer[nw+t]
		pdw, pew := peer[t], peer[nw+t]
		q := j*n + i
		zm := z.m[q : q+min(64, i1-i)]
		zk := z.k[q:][:len(zm)]
		cm, ck := c.m[q:][:len(zm)], c.k[q:][:len(zm)]
		am, ak := a.m[q:][:len(zm)], a.k[q:][:len(zm)]
		bm, bk := b.m[q:][:len(zm)], b.k[q:][:len(zm)]
		xm, xk := x.m[q:][:len(zm)], x.k[q:][:len(zm)]
		ym, yk := y.m[q:][:len(zm)], y.k[q:][:len(zm)]
		var hd, he uint64 // Horner: fold = fold*X ^ D (foldD)
		for u := range zm {
			md, me := -(dw & 1), -(ew & 1)
			pd, pe := -(pdw & 1), -(pew & 1)
			dw, ew, pdw, pew = dw>>1, ew>>1, pdw>>1, pew>>1
			zm[u] = cm[u] ^ bm[u]&md ^ am[u]&me
			zk[u] = ck[u] ^ bk[u]&md ^ ak[u]&me ^ dl&md&me
			hd = hd<<1 ^ gf64Poly&-(hd>>63) ^ xm[u] ^ am[u] ^ xk[u] ^ ak[u] ^ delta&pd
			he = he<<1 ^ gf64Poly&-(he>>63) ^ ym[u] ^ bm[u] ^ yk[u] ^ bk[u] ^ delta&pe
		}
		fd[(i-i0)/64], fe[(i-i0)/64] = hd, he
	}
}

// andParallelMin is the number of gates (bits) from which andFinish uses workers.
const andParallelMin = 1 << 14

// andChunk is the number of elements of one plane in a unit of andFinish's work.
const andChunk = 1024

// newBShare returns a zero secret share of n elements and w planes (bits, MACs and
// keys in one allocation; each slice capped at its length).
func newBShare(n, w int) *BShare {
	nw, nm := w*ring.Words(n), n*w
	buf := make([]uint64, nw+2*nm)
	return &BShare{n: n, w: w, x: buf[:nw:nw], m: buf[nw : nw+nm : nw+nm], k: buf[nw+nm:]}
}

// Padding bits of bit messages. The bits past n in the last word of each plane carry
// no value; the sender fills them from a public pseudorandom stream (padOut, keyed by its
// party index) and the receiver checks them against its copy of that stream (padIn), so
// that a message's words look uniform whatever the values (the view tests) and an
// altered padding bit is reported like any other deviation.

// padKey is the public key of party id's padding stream.
func padKey(id int) prg.Key {
	h := sha256.Sum256([]byte{'s', 'p', 'd', 'z', '2', 'k', ' ', 'p', 'a', 'd', byte(id)})
	var k prg.Key
	copy(k[:], h[:])
	return k
}

// tailMask returns the padding mask of the last word of a plane of n bits (0: none).
func tailMask(n int) uint64 {
	if n%64 == 0 {
		return 0
	}
	return ^uint64(0) << (n % 64)
}

// fillTail sets the padding bits of the planes (n bits each) from padOut.
func (p *Protocol) fillTail(planes []uint64, n int) {
	m, W := tailMask(n), ring.Words(n)
	if m == 0 || W == 0 {
		return
	}
	for j := W - 1; j < len(planes); j += W {
		planes[j] = planes[j]&^m | p.padOut.Uint64s(1)[0]&m
	}
}

// checkTail returns an errs.Cheating error if the padding bits of a received bit message
// (planes of n bits) are not the sender's padding stream.
func (p *Protocol) checkTail(what string, planes []uint64, n int) error {
	m, W := tailMask(n), ring.Words(n)
	if m == 0 || W == 0 {
		return nil
	}
	bad := false
	for j := W - 1; j < len(planes); j += W {
		bad = bad || (planes[j]^p.padIn.Uint64s(1)[0])&m != 0
	}
	if bad {
		return errs.New(errs.Cheating, "spdz2k party %d: %s from party %d: padding bits altered", p.id, what, p.other)
	}
	return nil
}

// xorWords returns a ^ b as a new slice.
func xorWords(a, b []uint64) []uint64 {
	d := make([]uint64, len(a))
	ring.Xor(d, a, b)
	return d
}

// Bits extracts planes [lo, lo+w) of x (local).
func (p *Protocol) Bits(x mpc.BShare, lo, w int) mpc.BShare {
	s := bs(x)
	if lo < 0 || w < 0 || lo+w > s.w {
		panic(fmt.Sprintf("spdz2k Bits: planes [%d,%d) of %d", lo, lo+w, s.w))
	}
	W := ring.Words(s.n)
	y := &BShare{n: s.n, w: w, pub: s.pub, x: s.x[lo*W : (lo+w)*W]}
	if !s.pub {
		y.m, y.k = s.m[lo*s.n:(lo+w)*s.n], s.k[lo*s.n:(lo+w)*s.n]
	}
	return y
}

// JoinBits stacks the planes of xs, xs[0] lowest (local).
func (p *Protocol) JoinBits(xs ...mpc.BShare) mpc.BShare {
	if len(xs) == 0 {
		panic("spdz2k JoinBits: no shares")
	}
	pub := true
	for _, x := range xs {
		pub = pub && bs(x).pub
	}
	n := bs(xs[0]).n
	w := 0
	for _, x := range xs {
		if s := bs(x); s.n != n {
			panic(fmt.Sprintf("spdz2k JoinBits: lengths %d and %d", n, s.n))
		}
		w += bs(x).w
	}
	var y *BShare
	if pub {
		y = &BShare{n: n, w: w, pub: true, x: make([]uint64, w*ring.Words(n))}
	} else {
		y = newBShare(n, w)
	}
	px, pm := 0, 0
	for _, x := range xs {
		s := bs(x)
		switch {
		case pub:
		case !s.pub:
			copy(y.m[pm:], s.m)
			copy(y.k[pm:], s.k)
		case p.id == 1:
			// A public operand in a secret share: party 0 holds it as its component
			// (below), party 1 the keys c*Delta_1 (shared).
			forBits(s.x, n, s.w, func(q int, m uint64) { y.k[pm+q] = p.delta & m })
		}
		if pub || !s.pub || p.id == 0 {
			copy(y.x[px:], s.x)
		}
		px += len(s.x)
		pm += s.n * s.w
	}
	return y
}

// planesInto sets planes [j, j+cnt) of the secret share dst to planes [ja, ja+cnt) of a,
// XORed with planes [jb, jb+cnt) of b unless b is nil (local; a JoinBits of XORs without
// the intermediate shares).
func (p *Protocol) planesInto(dst *BShare, j int, a *BShare, ja int, b *BShare, jb, cnt int) {
	n, W := dst.n, ring.Words(dst.n)
	a = p.shared(a)
	dx, dm, dk := dst.x[j*W:(j+cnt)*W], dst.m[j*n:(j+cnt)*n], dst.k[j*n:(j+cnt)*n]
	ax, am, ak := a.x[ja*W:(ja+cnt)*W], a.m[ja*n:(ja+cnt)*n], a.k[ja*n:(ja+cnt)*n]
	if b == nil {
		copy(dx, ax)
		copy(dm, am)
		copy(dk, ak)
		return
	}
	b = p.shared(b)
	ring.Xor(dx, ax, b.x[jb*W:(jb+cnt)*W])
	ring.Xor(dm, am, b.m[jb*n:(jb+cnt)*n])
	ring.Xor(dk, ak, b.k[jb*n:(jb+cnt)*n])
}

// BGather is Gather for binary shares (idx[i] < 0 gives 0). Local.
func (p *Protocol) BGather(x mpc.BShare, idx []int32) mpc.BShare {
	s := bs(x)
	y := &BShare{n: len(idx), w: s.w, pub: s.pub, x: ring.GatherBits(s.x, s.n, s.w, idx)}
	if s.pub {
		return y
	}
	y.m, y.k = make([]uint64, len(idx)*s.w), make([]uint64, len(idx)*s.w)
	for j := 0; j < s.w; j++ {
		for i, q := range idx {
			if q >= 0 {
				y.m[j*y.n+i] = s.m[j*s.n+int(q)]
				y.k[j*y.n+i] = s.k[j*s.n+int(q)]
			}
		}
	}
	return y
}

// MaskB ANDs every plane of x with a public per-element bit mask (the layout of one
// plane), locally (mpc.PublicMasker).
func (p *Protocol) MaskB(x mpc.BShare, m []uint64) mpc.BShare {
	s := bs(x)
	planes := make([]uint64, len(s.x))
	W := ring.Words(s.n)
	for j := 0; j < s.w; j++ {
		copy(planes[j*W:(j+1)*W], m)
	}
	return andPublic(s, planes)
}
