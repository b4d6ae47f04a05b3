package hemat

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tuneinsight/lattigo/v5/ring"

	"github.com/qmpc/qmpc/gocore/ring128"
)

// BenchmarkSteps times each step on full polynomials: [127,1]x[1,129] in one block (one
// upload polynomial, one plaintext polynomial, one product, one response polynomial of
// 16,383 wanted coefficients) and [16,16]x[16,1023] in blocks 16x1x1023 (16 upload and
// 16 plaintext polynomials, 16 products summed into one response of 16,368 wanted
// coefficients).
func BenchmarkSteps(b *testing.B) {
	p, sk, pk := benchKeys(b)
	for _, c := range []struct {
		name                string
		m, k, n, mw, kw, nw int
	}{
		{"1 product", 127, 1, 129, 127, 1, 129},
		{"16 products", 16, 16, 1023, 16, 1, 1023},
	} {
		pl, err := MatMulPlan(c.m, c.k, c.n, c.mw, c.kw, c.nw, false)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		x, w := randVec(r, pl.EncLen()), randVec(r, pl.PlainLen())
		up, err := sk.Encrypt(pl, x, crand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		u, err := p.ReadUpload(pl, pk, up)
		if err != nil {
			b.Fatal(err)
		}
		resp, _, err := p.Respond(u, w, crand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/Encrypt", func(b *testing.B) {
			b.SetBytes(int64(len(up)))
			for i := 0; i < b.N; i++ {
				if _, err := sk.Encrypt(pl, x, crand.Reader); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*pl.XPolys)*1e3, "ms/ciphertext")
		})
		b.Run(c.name+"/ReadUpload", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := p.ReadUpload(pl, pk, up); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*pl.XPolys)*1e3, "ms/ciphertext")
		})
		b.Run(c.name+"/Respond", func(b *testing.B) {
			b.SetBytes(int64(len(resp)))
			for i := 0; i < b.N; i++ {
				if _, _, err := p.Respond(u, w, crand.Reader); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*pl.OutPolys())*1e3, "ms/response")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.m*c.k*c.n), "ns/MAC")
		})
		b.Run(c.name+"/Decrypt", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := sk.Decrypt(pl, resp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*pl.OutPolys())*1e3, "ms/response")
		})
	}
}

// BenchmarkMatMulTriple runs both directions of a sacrificed matrix triple's products for
// [1024,32]x[32,32] (MobileNetV1 0.25_128's 8th layer) with the best plan: per party an
// upload, two responses and two decryptions; both parties in this process.
func BenchmarkMatMulTriple(b *testing.B) {
	p, err := NewParams()
	if err != nil {
		b.Fatal(err)
	}
	m, k, n := 1024, 32, 32
	c, err := p.BestMatMul(m, k, n, 2)
	if err != nil {
		b.Fatal(err)
	}
	pl, err := c.Plan()
	if err != nil {
		b.Fatal(err)
	}
	ps := newParties(b, p, 9)
	r := rand.New(rand.NewPCG(1, 3))
	var xs [2]ring128.Vec
	var ws [2][2]ring128.Vec
	for i := range xs {
		xs[i] = randVec(r, pl.EncLen())
		ws[i] = [2]ring128.Vec{randVec(r, pl.PlainLen()), randVec(r, pl.PlainLen())}
	}
	sent := 0
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		sent = 0
		for i := 0; i < 2; i++ {
			j := 1 - i
			up, err := ps[i].sk.Encrypt(pl, xs[i], crand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			sent += len(up)
			u, err := p.ReadUpload(pl, ps[i].pk, up)
			if err != nil {
				b.Fatal(err)
			}
			for t := 0; t < 2; t++ {
				resp, _, err := p.Respond(u, ws[j][t], crand.Reader)
				if err != nil {
					b.Fatal(err)
				}
				sent += len(resp)
				if _, err := ps[i].sk.Decrypt(pl, resp); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	macs := float64(m * k * n)
	b.ReportMetric(float64(sent)/2/macs, "B/MAC/party")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/macs*1e9, "ns/MAC(both)")
	b.ReportMetric(float64(sent)/2/1e6, "MB/party")
}

// BenchmarkProof times the proofs alone: an upload group's proof (prove and verify) for
// U = 1, 8 and 32 ciphertexts, reported per proven ciphertext with its bytes, and the
// public key's proof (KeyGen, which makes it, and UnmarshalPublicKey, which verifies it).
func BenchmarkProof(b *testing.B) {
	p, sk, pk := benchKeys(b)
	rel := p.ctRelation(pk)
	for _, u := range []int{1, 8, 32} {
		pl, err := MatMulPlan(u, 1, 1, 1, 1, 1, false)
		if err != nil || pl.XPolys != u {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 4))
		wits, err := p.witnesses(pl, randVec(r, u), crand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		stmt := make([][]ring.Poly, u)
		for k := range stmt {
			stmt[k] = []ring.Poly{p.r.NewPoly(), p.r.NewPoly()}
			rel.apply(wits[k], stmt[k])
			for _, s := range stmt[k] {
				p.r.INTT(s, s)
			}
		}
		digest := []byte("benchmark statement")
		proof, err := rel.prove(digest, wits, crand.Reader, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("U=%d/Prove", u), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := rel.prove(digest, wits, crand.Reader, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*u)*1e3, "ms/ciphertext")
			b.ReportMetric(float64(len(proof))/float64(u), "B/ciphertext")
		})
		b.Run(fmt.Sprintf("U=%d/Verify", u), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := rel.verify(digest, stmt, proof); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*u)*1e3, "ms/ciphertext")
		})
	}
	_ = sk
	key := p.MarshalPublicKey(pk)
	b.Run("Key/KeyGen", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := p.KeyGen(crand.Reader); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(key)), "B/key")
	})
	b.Run("Key/Verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := p.UnmarshalPublicKey(key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchKeys returns the package's parameters and a fresh key pair.
func benchKeys(b *testing.B) (*Params, *SecretKey, *PublicKey) {
	b.Helper()
	p := params(b)
	sk, pk, err := p.KeyGen(crand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return p, sk, pk
}
