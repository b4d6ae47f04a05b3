package ot

// Correlated OT over Z_2^w with vector correlations, from the OT extension (softspoken.go)
// with the ALSZ correction: for OT j (tweak j') with correlation vector delta_j of l words
// and width w_j,
//
//	S:  x0 = E(H(j', q_j)), x1 = E(H(j', q_j xor s))   (E: the expansion of hash.go, l words)
//	S -> R:  y_j = x1 - x0 - delta_j  mod 2^{w_j}, l values packed at w_j bits each
//	S outputs t_j = x0 mod 2^{w_j};  R outputs E(H(j', t_j)) - r_j*y_j = t_j + r_j*delta_j.
//
// Messages: R's extension message (128/k bits per OT, 4 bytes for k = 4; pseudorandom,
// softspoken.go), then S's packed corrections, sum over j of l*w_j bits, cut into chunks of
// at most maxChunkBytes so that neither side holds more than a chunk of expanded vectors
// (all chunks are sent before R reads any: one round trip in all).
//
// Security (semi-honest): S's view is R's extension message, as in softspoken.go. R's view
// adds the y_j; R knows x_{r_j}, but x_{1-r_j} is the expansion of H(j', t_j xor s) with s
// unknown to R: by the TCR property of H and the PRG property of E it is pseudorandom given
// R's view, so y_j = +/- (x_{1-r_j} - x_{r_j}) - delta_j (mod 2^w) is uniform and
// independent of delta_j. R's output t_j + r_j*delta_j is what the functionality gives it.
// Width w_j only truncates; the words' high bits are never sent, so a correlation used
// after multiplication by 2^(64-w) costs w bits per word.

import (
	"encoding/binary"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
)

// maxChunkBytes bounds one correction message.
const maxChunkBytes = 8 << 20

// cotLayout describes a batch of n correlated OTs of l words, OT o at width(o) bits.
type cotLayout struct {
	n, l  int
	width func(o int) int
}

// chunks cuts [0, n) into ranges whose packed corrections take at most maxChunkBytes
// (at least one OT per chunk) and returns their ends and byte sizes.
func (L cotLayout) chunks() (ends, sizes []int) {
	bits := 0
	for o := range L.n {
		b := L.l * L.width(o)
		if bits > 0 && (bits+b+63)/64*8 > maxChunkBytes {
			ends = append(ends, o)
			sizes = append(sizes, (bits+63)/64*8)
			bits = 0
		}
		bits += b
	}
	if L.n > 0 {
		ends = append(ends, L.n)
		sizes = append(sizes, (bits+63)/64*8)
	}
	return ends, sizes
}

func widthMask(w int) uint64 { return ^uint64(0) >> (64 - w) }

// bitWriter packs values of 1..64 bits, least significant first, into little-endian words.
type bitWriter struct {
	out []byte
	acc uint64
	n   int // bits in acc, < 64
}

// writeVec writes every value of vs (each below 2^w) at width w.
func (b *bitWriter) writeVec(vs []uint64, w int) {
	acc, n, out := b.acc, b.n, b.out
	if n == 0 && w == 64 {
		for _, v := range vs {
			out = binary.LittleEndian.AppendUint64(out, v)
		}
		b.out = out
		return
	}
	for _, v := range vs {
		acc |= v << n
		if n+w >= 64 {
			out = binary.LittleEndian.AppendUint64(out, acc)
			acc = v >> (64 - n)
			n += w - 64
		} else {
			n += w
		}
	}
	b.acc, b.n, b.out = acc, n, out
}

func (b *bitWriter) bytes() []byte {
	if b.n > 0 {
		b.out = binary.LittleEndian.AppendUint64(b.out, b.acc)
		b.acc, b.n = 0, 0
	}
	return b.out
}

// bitReader reads what bitWriter wrote.
type bitReader struct {
	in  []byte
	cur uint64
	n   int // bits of cur consumed, < 64
	pos int
}

func newBitReader(in []byte) *bitReader {
	r := &bitReader{in: in}
	r.cur = r.next()
	return r
}

func (r *bitReader) next() uint64 {
	if r.pos+8 > len(r.in) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.in[r.pos:])
	r.pos += 8
	return v
}

// readVec reads len(dst) values of width w into dst.
func (r *bitReader) readVec(dst []uint64, w int) {
	cur, n := r.cur, r.n
	m := widthMask(w)
	for i := range dst {
		v := cur >> n
		if n+w >= 64 {
			var nxt uint64
			if r.pos+8 <= len(r.in) {
				nxt = binary.LittleEndian.Uint64(r.in[r.pos:])
				r.pos += 8
			}
			v |= nxt << (64 - n)
			cur = nxt
			n += w - 64
		} else {
			n += w
		}
		dst[i] = v & m
	}
	r.cur, r.n = cur, n
}

// cotSenderPhase runs S's side after receiving R's extension message umsg: it sends the
// correction chunks (without flushing) and hands each OT's output t (l words, reused
// scratch) to sink. delta(o, scratch) returns OT o's correlation (l words; it may return
// scratch after filling it).
func (s *Session) cotSenderPhase(umsg []byte, L cotLayout, delta func(o int, scratch []uint64) []uint64, sink func(o int, t []uint64)) error {
	scratch := make([]uint64, L.l)
	return s.cotSendChunks(umsg, L, L.l, func(o int, x0, x1 []uint64, bw *bitWriter) {
		w := L.width(o)
		m := widthMask(w)
		d := delta(o, scratch)
		d = d[:len(x0)]
		for i := range x0 {
			x1[i] = (x1[i] - x0[i] - d[i]) & m
			x0[i] &= m
		}
		bw.writeVec(x1, w)
		sink(o, x0)
	})
}

// cotSendChunks is the sender's side of every correlated OT of the session (cot.go's
// Z_2^w elements, gilboa128.go's Z_2^128 ones), once the receiver's extension message
// umsg is in: per chunk of L it hashes the rows (h0 = H(q_j) beside q, then q_j becomes
// H(q_j xor s)), expands both pads of OT o into words words x0 and x1 and lets elem turn
// them into the receiver's correction (written to bw) and the sender's output; then it
// sends the chunk's corrections.
func (s *Session) cotSendChunks(umsg []byte, L cotLayout, words int, elem func(o int, x0, x1 []uint64, bw *bitWriter)) error {
	q, base, err := s.sndExtend(umsg, L.n, false)
	if err != nil {
		return err
	}
	x0 := make([]uint64, words)
	x1 := make([]uint64, words)
	var h0 []Block
	ends, sizes := L.chunks()
	o := 0
	for ci, end := range ends {
		a := o
		h0 = slices.Grow(h0[:0], end-a)[:end-a]
		s.h.tcrBatch(h0, q[a:end], base+uint64(a))
		for j := a; j < end; j++ {
			q[j][0] ^= s.snd.s[0]
			q[j][1] ^= s.snd.s[1]
		}
		s.h.tcrBatch(q[a:end], q[a:end], base+uint64(a))
		bw := bitWriter{out: make([]byte, 0, sizes[ci])}
		for ; o < end; o++ {
			s.ex.expand(x0, h0[o-a])
			s.ex.expand(x1, q[o])
			elem(o, x0, x1, &bw)
		}
		if err := s.sendNoFlush(bw.bytes()); err != nil {
			return err
		}
	}
	return nil
}

// cotReceiverPhase runs R's side once its extension message is sent: t and base are from
// extReceiver.extend with choice bits c; it receives the correction chunks and hands each
// OT's output (l words, reused scratch) to sink.
func (s *Session) cotReceiverPhase(t []Block, base uint64, c []uint64, L cotLayout, sink func(o int, out []uint64)) error {
	y := make([]uint64, L.l)
	return s.cotRecvChunks(t, base, L, "COT", L.l, func(o int, x []uint64, br *bitReader) {
		w := L.width(o)
		m := widthMask(w)
		sel := -(c[o/64] >> (o % 64) & 1)
		br.readVec(y, w)
		for i := range x {
			x[i] = (x[i] - y[i]&sel) & m
		}
		sink(o, x)
	})
}

// cotRecvChunks is the receiver's side of every correlated OT of the session (the twin of
// cotSendChunks): per chunk of L it hashes its rows t, receives the chunk's corrections
// (what names the kind in errors), expands OT o's pad into words words x and lets elem
// apply the correction read from br.
func (s *Session) cotRecvChunks(t []Block, base uint64, L cotLayout, what string, words int, elem func(o int, x []uint64, br *bitReader)) error {
	x := make([]uint64, words)
	ends, sizes := L.chunks()
	o := 0
	for ci, end := range ends {
		s.h.tcrBatch(t[o:end], t[o:end], base+uint64(o))
		msg, err := s.recv(what + " corrections")
		if err != nil {
			return err
		}
		if len(msg) != sizes[ci] {
			return errs.New(errs.Party, "ot: %s correction chunk %d has %d bytes, want %d", what, ci, len(msg), sizes[ci])
		}
		br := newBitReader(msg)
		for ; o < end; o++ {
			s.ex.expand(x, t[o])
			elem(o, x, br)
		}
	}
	return nil
}

func checkCOT(n, l, bits int) error {
	if n < 0 || l < 1 || bits < 1 || bits > 64 {
		return errs.New(errs.Internal, "ot: correlated OT with n = %d, l = %d, bits = %d (want n >= 0, l >= 1, 1 <= bits <= 64)", n, l, bits)
	}
	return nil
}

// SendCOT is the sender's end of n = len(delta)/l correlated OTs over Z_2^bits with vector
// correlations: OT i has correlation delta[i*l : (i+1)*l]. It returns t (n*l words, uniform
// mod 2^bits, high bits zero); the receiver (RecvCOT) gets t + c_i*delta_i mod 2^bits. Only
// the low bits of each delta word matter (1 <= bits <= 64): use bits = 64-j when the result
// is to be multiplied by 2^j. The sender receives the receiver's 128/k bits per OT and sends
// n*l*bits bits of packed corrections: one round trip.
func (s *Session) SendCOT(delta []uint64, l, bits int) (t []uint64, err error) {
	if l < 1 || len(delta)%l != 0 {
		return nil, errs.New(errs.Internal, "ot: SendCOT: %d correlation words are not a multiple of l = %d", len(delta), l)
	}
	n := len(delta) / l
	if err := checkCOT(n, l, bits); err != nil || n == 0 {
		return nil, err
	}
	umsg, err := s.recv("COT extension")
	if err != nil {
		return nil, err
	}
	t = make([]uint64, n*l)
	L := cotLayout{n: n, l: l, width: func(int) int { return bits }}
	err = s.cotSenderPhase(umsg, L,
		func(o int, _ []uint64) []uint64 { return delta[o*l : (o+1)*l] },
		func(o int, x []uint64) { copy(t[o*l:], x) })
	if err != nil {
		return nil, err
	}
	return t, s.flush()
}

// RecvCOT is the receiver's end of SendCOT: c holds the n choice bits (packed 64 per word,
// at least words(n) words); it returns t + c_i*delta_i mod 2^bits (n*l words, high bits
// zero).
func (s *Session) RecvCOT(c []uint64, n, l, bits int) ([]uint64, error) {
	if err := checkCOT(n, l, bits); err != nil || n == 0 {
		return nil, err
	}
	if len(c) < words(n) {
		return nil, errs.New(errs.Internal, "ot: RecvCOT: %d choice words for %d OTs", len(c), n)
	}
	_, t, base, umsg := s.rcvExtend(c, n)
	if err := s.send(umsg); err != nil {
		return nil, err
	}
	out := make([]uint64, n*l)
	L := cotLayout{n: n, l: l, width: func(int) int { return bits }}
	err := s.cotReceiverPhase(t, base, c, L, func(o int, x []uint64) { copy(out[o*l:], x) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SendCOTWidths is SendCOT with a width per OT: OT i works mod 2^widths[i] (1..64), n =
// len(widths) = len(delta)/l. The typical use is a Gilboa-style product where OT i's output
// is multiplied by 2^j_i: widths[i] = 64 - j_i. The receiver calls RecvCOTWidths with the
// same widths.
func (s *Session) SendCOTWidths(delta []uint64, l int, widths []uint8) (t []uint64, err error) {
	n := len(widths)
	if l < 1 || len(delta) != n*l {
		return nil, errs.New(errs.Internal, "ot: SendCOTWidths: %d correlation words for %d OTs of l = %d", len(delta), n, l)
	}
	if err := checkWidths(widths); err != nil || n == 0 {
		return nil, err
	}
	umsg, err := s.recv("COT extension")
	if err != nil {
		return nil, err
	}
	t = make([]uint64, n*l)
	L := cotLayout{n: n, l: l, width: func(o int) int { return int(widths[o]) }}
	err = s.cotSenderPhase(umsg, L,
		func(o int, _ []uint64) []uint64 { return delta[o*l : (o+1)*l] },
		func(o int, x []uint64) { copy(t[o*l:], x) })
	if err != nil {
		return nil, err
	}
	return t, s.flush()
}

// RecvCOTWidths is the receiver's end of SendCOTWidths: c holds the len(widths) choice bits.
func (s *Session) RecvCOTWidths(c []uint64, l int, widths []uint8) ([]uint64, error) {
	n := len(widths)
	if l < 1 {
		return nil, errs.New(errs.Internal, "ot: RecvCOTWidths with l = %d", l)
	}
	if err := checkWidths(widths); err != nil || n == 0 {
		return nil, err
	}
	if len(c) < words(n) {
		return nil, errs.New(errs.Internal, "ot: RecvCOTWidths: %d choice words for %d OTs", len(c), n)
	}
	_, t, base, umsg := s.rcvExtend(c, n)
	if err := s.send(umsg); err != nil {
		return nil, err
	}
	out := make([]uint64, n*l)
	L := cotLayout{n: n, l: l, width: func(o int) int { return int(widths[o]) }}
	err := s.cotReceiverPhase(t, base, c, L, func(o int, x []uint64) { copy(out[o*l:], x) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkWidths(widths []uint8) error {
	for i, w := range widths {
		if w < 1 || w > 64 {
			return errs.New(errs.Internal, "ot: OT %d has width %d (want 1..64)", i, w)
		}
	}
	return nil
}
