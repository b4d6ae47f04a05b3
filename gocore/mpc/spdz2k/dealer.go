package spdz2k

// Trusted-dealer preprocessing (preprocessing "dealer"), used ONLY when the user asks for
// it: a third party trusted by both makes the MAC keys and every authenticated
// correlation. It is outside spdz2k's threat model (whoever runs the dealer knows the MAC
// keys and could forge any value); it exists to measure and test the online phase.
//
// Simulation: there is no third process. At setup both parties send a 16-byte random
// contribution and both seed the dealer's PRG with the XOR of the two; each then runs
// the whole dealer in lockstep and keeps its own components. So the simulation is NOT
// secure against either party (each knows the other's keys); it reproduces exactly the
// online phase, its messages and its checks (a tampered message is caught because the
// honest code never uses the other's keys). DealerBytes counts what a real dealer would
// send: party 0's components come from a seed it would share with the dealer, party 1
// receives its arithmetic components (x_1 and m_1, 32 bytes per element); for bits each
// party receives one 8-byte word per bit (a key or a MAC) and party 1 its bit.

import (
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// PreprocessingDealer is the preprocessing kind of the simulated dealer.
const PreprocessingDealer = "dealer"

// dealer is one party's view of the simulated trusted dealer.
type dealer struct {
	id     int
	g      *prg.PRG
	alpha  [2]uint64
	delta  [2]uint64
	amac   ring128.Scalar // alpha = alpha_0 + alpha_1 (65 bits)
	nbytes int64
	// scratch holds the other party's keys in authBits (reused).
	scratch []uint64
}

// simulatedDealer sets up the simulation: one 16-byte message each way.
func simulatedDealer(conn net.Conn, rng *prg.PRG) (*dealer, error) {
	k, err := mpc.SimulatedDealerKey(conn, rng, Name)
	if err != nil {
		return nil, err
	}
	d := &dealer{id: conn.ID(), g: prg.New(k)}
	keys := d.g.Uint64s(6)
	d.alpha = [2]uint64{keys[0], keys[1]}
	d.delta = [2]uint64{keys[2], keys[3]}
	d.amac = ring128.Scalar{Lo: keys[0]}.Add(ring128.Scalar{Lo: keys[1]})
	return d, nil
}

func (d *dealer) Kind() string       { return PreprocessingDealer }
func (d *dealer) DealerBytes() int64 { return d.nbytes }

func (d *dealer) Keys() (uint64, uint64) { return d.alpha[d.id], d.delta[d.id] }

func (d *dealer) randVec(n int) ring128.Vec {
	v := ring128.Vec{Lo: d.g.Uint64s(n), Hi: d.g.Uint64s(n)}
	return v
}

// auth returns this party's authenticated share of v.
func (d *dealer) auth(v ring128.Vec) *AShare {
	n := v.Len()
	x0, m0 := d.randVec(n), d.randVec(n)
	if d.id == 1 {
		d.nbytes += 32 * int64(n)
	}
	if d.id == 0 {
		return &AShare{x: x0, m: m0}
	}
	x1, m1 := ring128.Make(n), ring128.Make(n)
	ring128.Sub(x1, v, x0)
	ring128.MulScalar(m1, v, d.amac)
	ring128.Sub(m1, m1, m0)
	return &AShare{x: x1, m: m1}
}

// authBits returns this party's authenticated share of the public planes v (n elements,
// w planes).
func (d *dealer) authBits(v []uint64, n, w int) *BShare {
	s := newBShare(n, w)
	d.g.Fill(s.x) // x_0
	// The keys K_0 and K_1, in this order at both parties: this party's in s.k, the
	// other's (which gives this party's MACs) in scratch.
	if len(d.scratch) < n*w {
		d.scratch = make([]uint64, n*w)
	}
	kj := d.scratch[:n*w]
	if d.id == 0 {
		d.g.Fill(s.k)
		d.g.Fill(kj)
	} else {
		d.g.Fill(kj)
		d.g.Fill(s.k)
	}
	d.nbytes += 8 * int64(n*w)
	if d.id == 1 {
		d.nbytes += int64(len(v)) * 8
		ring.Xor(s.x, s.x, v)
	}
	// M_i = K_j ^ x_i * Delta_j.
	dj := d.delta[1-d.id]
	W := ring.Words(n)
	for j := 0; j < w; j++ {
		for i := 0; i < n; i += 64 {
			word := s.x[j*W+i/64]
			q := j*n + i
			m := s.m[q : q+min(64, n-i)]
			kq := kj[q:][:len(m)]
			for u := range m {
				m[u] = kq[u] ^ dj&-(word>>u&1)
			}
		}
	}
	return s
}

func (d *dealer) InputMask(owner, n int) (ring128.Vec, *AShare, error) {
	r := d.randVec(n)
	s := d.auth(r)
	if d.id != owner {
		return ring128.Vec{}, s, nil
	}
	if owner == 1 {
		d.nbytes += 16 * int64(n)
	}
	return r, s, nil
}

func (d *dealer) Random(n int) (*AShare, error) { return d.auth(d.randVec(n)), nil }

func (d *dealer) Triple(f bilinear) (a, b, c *AShare, err error) {
	nx, nw, nz := f.sizes()
	A, B, C := d.randVec(nx), d.randVec(nw), ring128.Make(nz)
	f.apply(C, A, B)
	return d.auth(A), d.auth(B), d.auth(C), nil
}

func (d *dealer) randPlanes(n, w int) []uint64 {
	v := d.g.Uint64s(w * ring.Words(n))
	W := ring.Words(n)
	for j := 0; j < w; j++ {
		ring.MaskTail(v[j*W:(j+1)*W], n)
	}
	return v
}

func (d *dealer) ANDTriples(n, w int) (a, b, c *BShare, err error) {
	av, bv := d.randPlanes(n, w), d.randPlanes(n, w)
	cv := make([]uint64, len(av))
	ring.And(cv, av, bv)
	return d.authBits(av, n, w), d.authBits(bv, n, w), d.authBits(cv, n, w), nil
}

func (d *dealer) DaBits(n, w int) (*BShare, *AShare, error) {
	v := d.randPlanes(n, w)
	W := ring.Words(n)
	vals := ring128.Make(n * w)
	for j := 0; j < w; j++ {
		for i := 0; i < n; i++ {
			vals.Lo[j*n+i] = bitAt(v, W, j, i)
		}
	}
	return d.authBits(v, n, w), d.auth(vals), nil
}

// EdaBits gives r uniform in Z_2^128 and the bits of r mod 2^m (the OT source's loose
// edaBits with their uniform high part).
func (d *dealer) EdaBits(n, m int) (*BShare, *AShare, error) {
	r := d.randVec(n)
	v := make([]uint64, n)
	for i := range v {
		v[i] = lowBits(r.Lo[i], m)
	}
	return d.authBits(ring.ToPlanes(v, m), n, m), d.auth(r), nil
}

// CarryEdaBits gives EdaBits(n, 64) and the prefix products of the planes from w on
// (Source), computed by the dealer from the bits it dealt.
func (d *dealer) CarryEdaBits(n, w int) (*BShare, *AShare, *BShare, error) {
	r := d.randVec(n)
	planes := ring.ToPlanes(r.Lo, 64)
	W := ring.Words(n)
	np := 63 - w
	pre := make([]uint64, np*W)
	copy(pre, planes[w*W:(w+1)*W])
	for t := 1; t < np; t++ {
		ring.And(pre[t*W:(t+1)*W], pre[(t-1)*W:t*W], planes[(w+t)*W:(w+t+1)*W])
	}
	return d.authBits(planes, n, 64), d.auth(r), d.authBits(pre, n, np), nil
}
