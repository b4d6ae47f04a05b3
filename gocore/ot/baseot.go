package ot

// Base OT: kappa = 128 random 1-out-of-2 OTs of 16-byte keys, the "simplest OT" protocol of
// Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer" (LATINCRYPT 2015), over
// the prime-order group Ristretto255 (cloudflare/circl's group package, G its generator).
//
// Messages (semi-honest, two rounds):
//
//	sender -> receiver:  A = a*G                          (32 bytes; a uniform scalar)
//	receiver -> sender:  B_i = b_i*G + c_i*A, i < 128     (128 x 32 bytes; b_i uniform)
//
// Outputs: the sender's keys k0_i = KDF(i, A, B_i, a*B_i) and k1_i = KDF(i, A, B_i,
// a*B_i - a*A); the receiver's key k_{c_i} = KDF(i, A, B_i, b_i*A), which equals the sender's
// k_{c_i} since a*B_i - c_i*a*A = a*b_i*G = b_i*A. KDF is SHA-256 over a domain string and
// the encodings, truncated to 16 bytes.
//
// Security (semi-honest): A is a uniform group element independent of everything else. B_i
// is uniform whatever c_i is (b_i*G is uniform and masks c_i*A perfectly), so the sender
// learns nothing about the choices. The receiver's view is A, its b_i and its own keys; the
// other key of OT i hashes a*b_i*G +/- a*A, and computing a*A = a^2*G from A is the
// computational Diffie-Hellman problem (the paper's proof, with the KDF as random oracle).
// Ristretto255 gives about 126-bit security, matching kappa = 128.
//
// A message of the wrong length, an A that is no group element or the identity, or a B_i
// that is no group element is refused with errs.Cheating: an honest party never sends one,
// so under a malicious protocol it is a detected deviation (the error names the message).
//
// Why not circl's ot/simot: it takes randomness from crypto/rand internally (tests need a
// seeded reader), draws a fresh sender scalar per OT (128 extra exponentiations), and adds
// a third message with AES-GCM encryptions of chosen messages that random OT does not need.
// This file uses the same protocol with circl's group directly.

import (
	"crypto/sha256"
	"encoding/binary"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/qmpc/qmpc/gocore/errs"
)

var baseGroup = group.Ristretto255

const elemSize = 32 // Ristretto255 element encoding

// baseKDF derives a 16-byte key from the transcript of one base OT and the shared point.
func baseKDF(i int, aEnc, bEnc []byte, p group.Element) ([16]byte, error) {
	pEnc, err := p.MarshalBinary()
	if err != nil {
		return [16]byte{}, err
	}
	h := sha256.New()
	h.Write([]byte("qmpc/ot base OT v1"))
	var ib [8]byte
	binary.LittleEndian.PutUint64(ib[:], uint64(i))
	h.Write(ib[:])
	h.Write(aEnc)
	h.Write(bEnc)
	h.Write(pEnc)
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k, nil
}

// baseSender is the sender's state between its two steps.
type baseSender struct {
	a    group.Scalar
	aEnc []byte
}

// baseSenderStart draws a and returns the first message A.
func baseSenderStart(rnd io.Reader) (*baseSender, []byte, error) {
	a := baseGroup.RandomNonZeroScalar(rnd)
	A := baseGroup.NewElement().MulGen(a)
	enc, err := A.MarshalBinary()
	if err != nil {
		return nil, nil, errs.New(errs.Internal, "ot: base OT: encode A: %w", err)
	}
	return &baseSender{a: a, aEnc: enc}, enc, nil
}

// baseReceive answers A with the B_i for choices c (bit i of c[i/64]) and returns the
// receiver's keys k_{c_i}.
func baseReceive(rnd io.Reader, aMsg []byte, c []uint64) (msg []byte, keys [][16]byte, err error) {
	A := baseGroup.NewElement()
	if len(aMsg) != elemSize {
		return nil, nil, errs.New(errs.Cheating, "ot: base OT: A has %d bytes, want %d", len(aMsg), elemSize)
	}
	if err := A.UnmarshalBinary(aMsg); err != nil || A.IsIdentity() {
		return nil, nil, errs.New(errs.Cheating, "ot: base OT: bad group element A from peer")
	}
	msg = make([]byte, 0, Kappa*elemSize)
	keys = make([][16]byte, Kappa)
	for i := range Kappa {
		b := baseGroup.RandomNonZeroScalar(rnd)
		bG := baseGroup.NewElement().MulGen(b)
		bGA := baseGroup.NewElement().Add(bG, A)
		B := bG.CMov(int(c[i/64]>>(i%64)&1), bGA)
		bEnc, err := B.MarshalBinary()
		if err != nil {
			return nil, nil, errs.New(errs.Internal, "ot: base OT: encode B: %w", err)
		}
		msg = append(msg, bEnc...)
		if keys[i], err = baseKDF(i, aMsg, bEnc, baseGroup.NewElement().Mul(A, b)); err != nil {
			return nil, nil, errs.New(errs.Internal, "ot: base OT: %w", err)
		}
	}
	return msg, keys, nil
}

// finish reads the B_i and returns both keys of every base OT.
func (s *baseSender) finish(bMsg []byte) (k0, k1 [][16]byte, err error) {
	if len(bMsg) != Kappa*elemSize {
		return nil, nil, errs.New(errs.Cheating, "ot: base OT: B message has %d bytes, want %d", len(bMsg), Kappa*elemSize)
	}
	aA := baseGroup.NewElement().MulGen(s.a)
	aA.Mul(aA, s.a)
	k0 = make([][16]byte, Kappa)
	k1 = make([][16]byte, Kappa)
	B := baseGroup.NewElement()
	for i := range Kappa {
		bEnc := bMsg[i*elemSize : (i+1)*elemSize]
		if err := B.UnmarshalBinary(bEnc); err != nil {
			return nil, nil, errs.New(errs.Cheating, "ot: base OT: bad group element B_%d from peer", i)
		}
		aB := baseGroup.NewElement().Mul(B, s.a)
		if k0[i], err = baseKDF(i, s.aEnc, bEnc, aB); err != nil {
			return nil, nil, errs.New(errs.Internal, "ot: base OT: %w", err)
		}
		neg := baseGroup.NewElement().Neg(aA)
		if k1[i], err = baseKDF(i, s.aEnc, bEnc, aB.Add(aB, neg)); err != nil {
			return nil, nil, errs.New(errs.Internal, "ot: base OT: %w", err)
		}
	}
	return k0, k1, nil
}
