package ot

// Semi-honest OT extension: SoftSpoken OT (Roy, "SoftSpokenOT: Quieter OT Extension from
// Small-Field Silent VOLE in the Minicrypt Model", CRYPTO 2022), semi-honest variant, with
// parameter k dividing 128. For k = 1 it is exactly IKNP (Ishai, Kilian, Nissim, Petrank,
// CRYPTO 2003) with the ALSZ optimisations (Asharov, Lindell, Schneider, Zohner, CCS 2013):
// base OTs on PRG seeds, and random OTs need no sender message. Larger k divides the
// receiver's bytes by k at the cost of 2^k/k PRG streams per matrix column.
//
// Roles: the extension receiver R (chooses bits) and sender S (holds a uniform secret s in
// {0,1}^128, cut into 128/k blocks Delta_b of k bits; bit i of Delta_b is s_{b*k+i}).
//
// Setup, per block b (after the base OTs of baseot.go, where R is the base-OT sender with keys
// k0_i, k1_i and S the base-OT receiver with choices NOT s_i):
//
//	R draws a GGM tree (Goldreich, Goldwasser, Micali) of depth k from a random root (node
//	children: the first 32 bytes of the AES-CTR stream keyed by the node); its 2^k leaves
//	are seeds r_x, x in [0, 2^k). For each depth d it sends
//	    R -> S:  (L_d xor k0_i, R_d xor k1_i),  i = b*k + (k-1-d)
//	where L_d, R_d are the XORs of the left and right children at depth d+1. S, knowing the
//	key of the side off its path to leaf Delta_b, rebuilds every leaf except r_{Delta_b} (a
//	punctured PRF: (2^k - 1)-out-of-2^k OT from k base OTs). 32 bytes per base OT, 4 KB.
//
// One extension of n OTs with R's choices c in {0,1}^n. Each seed r_x keys an AES-CTR stream
// G_x (AES_{r_x} of the 128-bit big-endian counter from 0, package prg's stream) that runs on
// across calls; R_x are its next n bits, drawn a tile of tw <= tileWords 64-bit words at a
// time and always in whole AES blocks (a tile of odd tw leaves its last block's high half
// unused; both parties skip the same half blocks, and no stream output is used twice). For
// k = 4 with AES-NI the streams are generated and summed in registers (ctrsum.go), else by
// package prg and sumTree; the values are the same. With VAES the kernel also applies the
// corrections below before its stores (R: d_b = u_b xor c into the message; S: Q_{b,i}
// from d_b), the same words as the separate passes of the other paths.
//
//	R: u_b = XOR_x R_x,  T_{b,i} = XOR_{x: x_i = 1} R_x        (i < k, the matrix columns)
//	S: Q'_{b,i} = XOR_{x != Delta_b: (x xor Delta_b)_i = 1} R_x  = T_{b,i} xor Delta_{b,i} u_b
//	R -> S:  d_b = u_b xor c  for every block b
//	         (for random choices c := u_0, and d_0 is not sent)
//	S: Q_{b,i} = Q'_{b,i} xor Delta_{b,i} d_b = T_{b,i} xor s_{b*k+i} c
//
// so the 128 columns satisfy q_j = t_j xor c_j*s row-wise after the transpose (transpose.go),
// the IKNP correlation; outputs are H(j', q_j), H(j', q_j xor s) for S and H(j', t_j) for R
// with H the TCR hash of hash.go and j' = ctr + j (a per-extension counter, the tweak).
//
// Security (semi-honest, kappa = 128; Roy's theorem for the semi-honest protocol):
//   - S's view: the GGM messages, masked by the keys k^{s_i}_i S never received (base-OT
//     security), reveal only the off-path sums; r_{Delta_b} is pseudorandom to S (GGM
//     puncturing), so every u_b, which XORs in R_{Delta_b}, is pseudorandom (the blocks'
//     punctured seeds are independent), and d_b = u_b xor c hides c (for random choices,
//     c = u_0 is pseudorandom to S).
//   - R's view: its own seeds and the t_j; s is uniform and independent of R's view (S's
//     base-OT choices are hidden by base-OT security), so H(j', t_j xor s) is pseudorandom
//     by the TCR property.
//
// Bytes from R per OT: 128/k bits (chosen choices) or 128/k - 1 bits (random choices), n
// rounded up to a multiple of 64. Work per OT: 128*2^k/k PRG bits on R's side, about as
// many on S's, plus 2(2^k - 1) word XORs per 64 OTs per block (sumTree).

import (
	"crypto/subtle"
	"encoding/binary"
	"unsafe"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/prg"
)

// DefaultK is the SoftSpoken parameter NewSession uses (see docs/design-notes.md for the
// measurements behind the choice).
const DefaultK = 4

// extSender is S's state of one extension.
type extSender struct {
	k   int
	s   Block        // the secret; Delta_b = bits b*k .. b*k+k-1
	g   [][]*prg.PRG // g[b][x], nil at x = Delta_b (portable path)
	aes *aesStreams  // the streams on the AES-NI kernel (k = 4), or nil
	ctr uint64       // tweak counter: OTs extended so far
}

// extReceiver is R's state of one extension.
type extReceiver struct {
	k   int
	g   [][]*prg.PRG // g[b][x] (portable path)
	aes *aesStreams  // the streams on the AES-NI kernel (k = 4), or nil
	ctr uint64
}

// useAESNI is whether an extension of parameter k takes the AES-NI kernel (ctrsum.go).
func useAESNI(k int) bool { return k == 4 && hasAESNI }

func xorKey(a, b [16]byte) [16]byte {
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

// ggmChildren returns the two children of a GGM node.
func ggmChildren(node [16]byte) (l, r [16]byte) {
	var b [32]byte
	prg.New(prg.Key(node)).Read(b[:])
	copy(l[:], b[:16])
	copy(r[:], b[16:])
	return l, r
}

// delta returns block b of s as an integer (bit i = s_{b*k+i}).
func blockBits(s Block, b, k int) int {
	lo := b * k
	return int(s[lo/64]>>(lo%64)) & (1<<k - 1)
}

// newExtReceiver draws R's GGM trees from rng and returns R's state and the setup message
// for S. k0, k1 are R's base-OT keys.
func newExtReceiver(k int, k0, k1 [][16]byte, rng *prg.PRG) (*extReceiver, []byte) {
	nb := Kappa / k
	e := &extReceiver{k: k}
	msg := make([]byte, 0, 32*Kappa)
	leaves, holes := make([][][16]byte, nb), make([]int, nb)
	for b := range nb {
		var root [16]byte
		rng.Read(root[:])
		level := [][16]byte{root}
		for d := range k {
			next := make([][16]byte, 2*len(level))
			var sum [2][16]byte
			for j, node := range level {
				next[2*j], next[2*j+1] = ggmChildren(node)
				sum[0] = xorKey(sum[0], next[2*j])
				sum[1] = xorKey(sum[1], next[2*j+1])
			}
			i := b*k + k - 1 - d
			l, r := xorKey(sum[0], k0[i]), xorKey(sum[1], k1[i])
			msg = append(append(msg, l[:]...), r[:]...)
			level = next
		}
		leaves[b], holes[b] = level, -1
	}
	e.aes, e.g = newStreams(k, leaves, holes)
	return e, msg
}

// newStreams keys the extension's streams from the leaves (leaves[b][x]; hole[b] is the
// punctured leaf of block b, or -1): on the AES-NI kernel or as prg streams (nil at the
// hole).
func newStreams(k int, leaves [][][16]byte, hole []int) (*aesStreams, [][]*prg.PRG) {
	if useAESNI(k) {
		return newAESStreams(leaves, hole), nil
	}
	g := make([][]*prg.PRG, len(leaves))
	for b, lv := range leaves {
		g[b] = make([]*prg.PRG, len(lv))
		for x, leaf := range lv {
			if x != hole[b] {
				g[b][x] = prg.New(prg.Key(leaf))
			}
		}
	}
	return nil, g
}

// newExtSender rebuilds S's punctured trees from R's setup message; keys[i] is S's base-OT
// key k^{NOT s_i}_i.
func newExtSender(k int, s Block, keys [][16]byte, msg []byte) (*extSender, error) {
	if len(msg) != 32*Kappa {
		return nil, errs.New(errs.Party, "ot: extension setup message has %d bytes, want %d", len(msg), 32*Kappa)
	}
	nb := Kappa / k
	e := &extSender{k: k, s: s}
	leaves, holes := make([][][16]byte, nb), make([]int, nb)
	for b := range nb {
		delta := blockBits(s, b, k)
		level := make([][16]byte, 1) // the root, unknown (the hole at p = 0)
		p := 0
		for d := range k {
			pbit := delta >> (k - 1 - d) & 1
			side := 1 - pbit // the sibling side of the path: S holds that key
			next := make([][16]byte, 2*len(level))
			var known [16]byte // XOR of the known children on side
			for j, node := range level {
				if j == p {
					continue
				}
				next[2*j], next[2*j+1] = ggmChildren(node)
				known = xorKey(known, next[2*j+side])
			}
			i := b*k + k - 1 - d
			var enc [16]byte
			copy(enc[:], msg[32*(b*k+d)+16*side:]) // R sends depth by depth
			next[2*p+side] = xorKey(xorKey(enc, keys[i]), known)
			p = 2*p + pbit
			level = next
		}
		leaves[b], holes[b] = level, delta
	}
	e.aes, e.g = newStreams(k, leaves, holes)
	return e, nil
}

// words returns the number of 64-bit words holding n bits.
func words(n int) int { return (n + 63) / 64 }

// tileWords is how many words of each column are processed at a time: a tile of the
// 128-column matrix (128 x tileWords words, 128 KB) is built from the streams and transposed
// into rows while it is in cache.
const tileWords = 128

// tileStride is the distance in words between a tile's columns: tileWords and one cache
// line more, so that the 128 columns' words at one offset fall into different cache sets
// (at 1 KB apart they shared four of L1's 64 sets and the transpose reloaded them from L2).
const tileStride = tileWords + 8

// extend is R's step. With choice bits r (at least words(n) words) it uses them; with r ==
// nil the choices are u_0, uniform (the bits from n on cleared), and block 0's correction is
// not sent. It returns the choices, the rows t_j, the tweak base of this extension and the
// message (the d_b, little-endian words, block-major).
func (e *extReceiver) extend(r []uint64, n int) (c []uint64, t []Block, base uint64, msg []byte) {
	return e.extendInto(nil, r, n)
}

// rows returns dst[:n] if dst can hold n rows (every row is overwritten), else a new
// slice of n rows.
func rows(dst []Block, n int) []Block {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]Block, n)
}

// extendInto is extend writing the rows into dst when it holds n of them (the callers
// that gather batches into one output extend in place instead of copying).
func (e *extReceiver) extendInto(dst []Block, r []uint64, n int) (c []uint64, t []Block, base uint64, msg []byte) {
	k, nw := e.k, words(n)
	nb := Kappa / k
	random := r == nil
	first := 0
	if random {
		r = make([]uint64, nw)
		first = 1
	}
	msg = make([]byte, 8*(nb-first)*nw, 8*(nb-first)*nw+kosCheckBytes)
	t = rows(dst, n)
	tile := make([]uint64, Kappa*tileStride)
	sum := newBlockSums(e.aes, e.g, k)
	for w0 := 0; w0 < nw; w0 += tileWords {
		tw := min(tileWords, nw-w0)
		sum.start(tile)
		for b := range nb {
			off := 8 * ((b-first)*nw + w0)
			if !(b == 0 && random) && sum.corrections(b, tile, tw, msg[off:off+8*tw], r[w0:w0+tw]) {
				continue // the kernel wrote d_b = u_b xor c into the message
			}
			ub := sum.block(b, tile, tw)
			if b == 0 && random {
				copy(r[w0:], ub)
				if w0+tw == nw && n%64 != 0 {
					r[nw-1] &= 1<<(n%64) - 1
				}
				continue
			}
			for w := range ub {
				binary.LittleEndian.PutUint64(msg[off+8*w:], ub[w]^r[w0+w])
			}
		}
		sum.next(tw)
		colsToRows(t[min(n, 64*w0):min(n, 64*(w0+tw))], tile, tw, tileStride)
	}
	base = e.ctr
	e.ctr += uint64(n)
	return r, t, base, msg
}

// msgLen is the size of R's message for n OTs.
func msgLen(k, n int, random bool) int {
	nb := Kappa / k
	if random {
		nb--
	}
	return 8 * nb * words(n)
}

// extend is S's step: from R's message (random: R used u_0 as choices) it returns the rows
// q_j = t_j xor c_j*s and the tweak base.
func (e *extSender) extend(msg []byte, n int, random bool) (q []Block, base uint64, err error) {
	return e.extendInto(nil, msg, n, random)
}

// extendInto is extend writing the rows into dst when it holds n of them.
func (e *extSender) extendInto(dst []Block, msg []byte, n int, random bool) (q []Block, base uint64, err error) {
	return e.extendHashed(dst, msg, n, random, nil)
}

// extendHashed is extendInto that also hashes the rows into g (when not nil) a tile at a
// time, right after the transpose writes them and while they are in cache (the KOS check's
// GHASH at S, kos.go): g receives all n rows in order.
func (e *extSender) extendHashed(dst []Block, msg []byte, n int, random bool, g *ghashInc) (q []Block, base uint64, err error) {
	k, nw := e.k, words(n)
	nb := Kappa / k
	if want := msgLen(k, n, random); len(msg) != want {
		return nil, 0, errs.New(errs.Party, "ot: extension message has %d bytes, want %d for %d OTs", len(msg), want, n)
	}
	first := 0
	if random {
		first = 1
	}
	q = rows(dst, n)
	tile := make([]uint64, Kappa*tileStride)
	sum := newBlockSums(e.aes, e.g, k)
	for w0 := 0; w0 < nw; w0 += tileWords {
		tw := min(tileWords, nw-w0)
		sum.start(tile)
		for b := range nb {
			// With R_Delta taken as zero, T'_i = XOR_{x_i = 1} R_x and u' = XOR_x R_x (what
			// R computes, less R_Delta): Q'_i = T'_i xor Delta_i*u', and Q_i = Q'_i xor
			// Delta_i*d_b. The punctured stream is zero (a zero leaf of the tree, or a
			// zero mask in the kernel).
			delta := blockBits(e.s, b, k)
			if b >= first && sum.fixed(b, tile, tw, msg[8*((b-first)*nw+w0):], delta) {
				continue // the kernel applied the correction below
			}
			ub := sum.block(b, tile, tw)
			if b >= first {
				off := 8 * ((b-first)*nw + w0)
				for w := range ub {
					ub[w] ^= binary.LittleEndian.Uint64(msg[off+8*w:])
				}
			}
			for i := range k {
				xorMasked(tile[(b*k+i)*tileStride:][:tw], ub, -uint64(delta>>i&1))
			}
		}
		sum.next(tw)
		qt := q[min(n, 64*w0):min(n, 64*(w0+tw))]
		colsToRows(qt, tile, tw, tileStride)
		if g != nil {
			g.write(qt)
		}
	}
	base = e.ctr
	e.ctr += uint64(n)
	return q, base, nil
}

// blockSums computes one block's columns and u_b for a tile, on the AES-NI kernel or the
// portable sumTree over prg streams.
type blockSums struct {
	aes  *aesStreams
	g    [][]*prg.PRG
	k    int
	tree *sumTree
	u    []uint64 // the kernel's u
}

func newBlockSums(a *aesStreams, g [][]*prg.PRG, k int) *blockSums {
	if a != nil {
		return &blockSums{aes: a, k: k, u: make([]uint64, tileWords)}
	}
	return &blockSums{g: g, k: k, tree: newSumTree(k)}
}

// start prepares the tile: the portable path XORs into the columns, so it clears them
// (the kernel stores every column).
func (s *blockSums) start(tile []uint64) {
	if s.aes == nil {
		clear(tile)
	}
}

// block writes block b's columns T_{b,i} (tw words at tile[(b*k+i)*tileStride:]) and returns
// u_b (valid until the next call). Every stream draws whole AES blocks: tw words rounded
// up to even, the last word unused when tw is odd.
func (s *blockSums) block(b int, tile []uint64, tw int) []uint64 {
	k := s.k
	if s.aes != nil {
		s.aes.sums(b, tile[b*k*tileStride:], tw, tileStride, s.u)
		return s.u[:tw]
	}
	g := s.g[b]
	return s.tree.sums(k, tw, func(x int, dst []uint64) {
		if g[x] == nil { // the punctured stream: a zero leaf (the one test of x against Delta_b)
			clear(dst)
			return
		}
		g[x].Fill(dst[:len(dst)+len(dst)&1]) // whole AES blocks (node buffers hold tileWords, even)
	}, func(i int) []uint64 { return tile[(b*k+i)*tileStride:][:tw] })
}

// corrections is block for the receiver with its correction written by the kernel
// (aesStreams.sumsXor): block b's columns T_{b,i} into the tile and d_b = u_b xor c (c the
// tile's choice words) into dst, tw little-endian words of the message; it reports whether
// it did (false: the caller computes d_b from block's u_b).
func (s *blockSums) corrections(b int, tile []uint64, tw int, dst []byte, c []uint64) bool {
	return s.aes != nil && s.aes.sumsXor(b, tile[b*s.k*tileStride:], tw, tileStride, dst, c)
}

// fixed is block for the sender with its correction fused into the kernel (aesStreams.
// sumsFix): it writes block b's columns Q_{b,i} = T_{b,i} xor Delta_{b,i}(u_b xor d_b),
// with d the tile's words of R's correction for block b (little-endian) and delta =
// Delta_b, and reports whether it did (false: the caller corrects as the portable path).
func (s *blockSums) fixed(b int, tile []uint64, tw int, d []byte, delta int) bool {
	if s.aes == nil || s.k != 4 {
		return false
	}
	var fix [4][16]byte
	for i := range fix {
		m := byte(-(delta >> i & 1)) // all ones where bit i of Delta_b is set; no branch on it
		for j := range fix[i] {
			fix[i][j] = m
		}
	}
	return s.aes.sumsFix(b, tile[b*4*tileStride:], tw, tileStride, s.u, d, &fix)
}

// next moves the kernel's streams past a tile of tw words (the prg streams move as they
// are read).
func (s *blockSums) next(tw int) {
	if s.aes != nil {
		s.aes.next(tw)
	}
}

// sumTree computes one block's sums of both sides, u = XOR_x R_x and T_i = XOR_{x: x_i =
// 1} R_x (i < k), by a binary tree over x instead of XORing every stream into every
// column it enters: a node at level l is the XOR of the 2^l streams below it, a right node
// (bit l of its x set) enters column l, and it merges into its left sibling to form their
// parent, so the root is u. That is 2(2^k - 1) stream XORs instead of 2^k (1 + k/2) (k = 8:
// 510 instead of 1280), with the same results; the streams are read once each, in
// increasing x, as before. node[l] holds the pending left node of level l, node[k] is the
// buffer of a right leaf.
type sumTree struct{ node [][]uint64 }

func newSumTree(k int) *sumTree {
	t := &sumTree{node: make([][]uint64, k+1)}
	for l := range t.node {
		t.node[l] = make([]uint64, tileWords)
	}
	return t
}

// sums runs the tree over tw words of the 2^k streams: leaf(x, dst) writes stream x's next
// tw words into dst, col(i) is column i (tw words, XORed into). It returns u, which stays
// valid until the next call.
func (t *sumTree) sums(k, tw int, leaf func(x int, dst []uint64), col func(i int) []uint64) []uint64 {
	nd := t.node
	for x := 0; x < 1<<k; x++ {
		if x&1 == 0 {
			leaf(x, nd[0][:tw])
			continue
		}
		cur := nd[k][:tw]
		leaf(x, cur)
		for l := 0; ; l++ {
			// cur is a right node at level l and nd[l] its left sibling: cur enters column
			// l, and the sibling becomes their parent (level l+1).
			xorInto(col(l), cur)
			xorInto(nd[l][:tw], cur)
			if l+1 == k {
				return nd[l][:tw] // x = 2^k - 1: the root
			}
			if x>>(l+1)&1 == 1 {
				cur = nd[l][:tw] // the parent is a right node too
				continue
			}
			nd[l], nd[l+1] = nd[l+1], nd[l] // the parent waits as the left node of level l+1
			break
		}
	}
	panic("ot: sumTree without a root") // unreachable for k >= 1
}

// xorInto XORs src into dst (len(dst) words; crypto/subtle's vectorised XOR on their bytes).
func xorInto(dst, src []uint64) {
	src = src[:len(dst)] // bounds: the byte view below must not run past src
	if len(dst) == 0 {
		return
	}
	d := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 8*len(dst))
	subtle.XORBytes(d, d, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 8*len(dst)))
}

// xorMasked XORs src AND mask into dst (mask all zeros or all ones: S's secret decides
// which columns a stream enters without a branch).
func xorMasked(dst, src []uint64, mask uint64) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] ^= src[i] & mask
	}
}
