package semi2k

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// pair sets up both parties of semi2k over pipes with the given preprocessing.
func pair(t *testing.T, pre string) [2]*Protocol {
	t.Helper()
	conns := net.NewPipes(2)
	var ps [2]*Protocol
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps[i], errs[i] = New(conns[i], mpc.Options{Rand: rand.NewChaCha8([32]byte{byte(i), 9}), Preprocessing: pre})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// both runs f on both parties concurrently and returns their results.
func both[T any](t *testing.T, ps [2]*Protocol, f func(p *Protocol) (T, error)) [2]T {
	t.Helper()
	var out [2]T
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = f(ps[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sum(a, b []uint64) []uint64 {
	c := make([]uint64, len(a))
	ring.Add(c, a, b)
	return c
}

func xor(a, b []uint64) []uint64 {
	c := make([]uint64, len(a))
	ring.Xor(c, a, b)
	return c
}

type triple struct{ a, b, c []uint64 }

// TestSourceCorrelations checks every correlation of both sources against its cleartext
// relation.
func TestSourceCorrelations(t *testing.T) {
	for _, pre := range []string{mpc.PreprocessingDefault, mpc.PreprocessingDealer} {
		t.Run("preprocessing="+pre, func(t *testing.T) {
			ps := pair(t, pre)
			// AND triples.
			tr := both(t, ps, func(p *Protocol) (triple, error) {
				a, b, c, err := p.src.ANDTriples(5)
				return triple{a, b, c}, err
			})
			a, b, c := xor(tr[0].a, tr[1].a), xor(tr[0].b, tr[1].b), xor(tr[0].c, tr[1].c)
			for i := range a {
				if a[i]&b[i] != c[i] {
					t.Fatalf("AND triple word %d: a&b = %#x, c = %#x", i, a[i]&b[i], c[i])
				}
			}
			// Cross triples: a is party 0's, b party 1's.
			cr := both(t, ps, func(p *Protocol) (triple, error) {
				ab, c, err := p.src.CrossTriples(3)
				return triple{ab, nil, c}, err
			})
			c = xor(cr[0].c, cr[1].c)
			for i := range c {
				if cr[0].a[i]&cr[1].a[i] != c[i] {
					t.Fatalf("cross triple word %d", i)
				}
			}
			// daBits.
			da := both(t, ps, func(p *Protocol) (triple, error) {
				bin, ar, err := p.src.DaBits(2)
				return triple{bin, ar, nil}, err
			})
			bin, ar := xor(da[0].a, da[1].a), sum(da[0].b, da[1].b)
			for i := range ar {
				if ar[i] != bin[i/64]>>uint(i%64)&1 {
					t.Fatalf("daBit %d: arithmetic %d, binary %d", i, ar[i], bin[i/64]>>uint(i%64)&1)
				}
			}
			// Matrix and gather triples.
			m, k, n := 3, 5, 4
			mt := both(t, ps, func(p *Protocol) (triple, error) {
				a, b, c, err := p.src.MatTriples(m, k, n)
				return triple{a, b, c}, err
			})
			want := make([]uint64, m*n)
			ring.MatMul(want, sum(mt[0].a, mt[1].a), sum(mt[0].b, mt[1].b), m, k, n)
			if !slices.Equal(want, sum(mt[0].c, mt[1].c)) {
				t.Fatal("matrix triple: C != A B")
			}
			g := gatherMul{xLen: 6, wLen: 4, xIdx: []int32{0, -1, 5, 2, 3, 3}, wIdx: []int32{1, 0, 3, 2, 2, 1}, k: 2}
			gt := both(t, ps, func(p *Protocol) (triple, error) {
				a, b, c, err := p.src.GatherTriples(g.xLen, g.xIdx, g.wLen, g.wIdx, g.k)
				return triple{a, b, c}, err
			})
			want = make([]uint64, 3)
			g.Apply(want, sum(gt[0].a, gt[1].a), sum(gt[0].b, gt[1].b))
			if !slices.Equal(want, sum(gt[0].c, gt[1].c)) {
				t.Fatal("gather triple: C != f(A, B)")
			}
			// One-sided products (OT only): R from the non-owner, components of f(R, W).
			w := []uint64{3, ^uint64(0), 255, 1<<8 - 1, uint64(1<<64 - 256), 0, 7, 2, 1, 5, 9, 11, 13, 17, 19, 23, 29, 31, 37, 41}
			for _, f := range []Bilinear{matMul{m, k, n}, matMulLeft{m, k, n}, g} {
				for owner := range 2 {
					_, lw, lo := f.Sizes()
					os := both(t, ps, func(p *Protocol) (triple, error) {
						var wv []uint64
						if p.id == owner {
							wv = w[:lw]
						}
						r, z, err := p.src.OneSided(f, owner, wv, 9)
						if err == errNoOneSided && pre == mpc.PreprocessingDealer {
							return triple{}, nil // the dealer never sees weights
						}
						return triple{r, nil, z}, err
					})
					if pre == mpc.PreprocessingDealer {
						continue
					}
					want := make([]uint64, lo)
					f.Apply(want, os[1-owner].a, w[:lw])
					if !slices.Equal(want, sum(os[0].c, os[1].c)) {
						t.Fatalf("one-sided %T, owner %d: components do not sum to f(R, W)", f, owner)
					}
				}
			}
		})
	}
}

// TestHeldSharesAreLocal: inputs, and products of shares held by the same party, send
// nothing; a product with operands held by different parties does.
func TestHeldSharesAreLocal(t *testing.T) {
	ps := pair(t, mpc.PreprocessingDealer)
	before := ps[0].conn.Stats()
	out := both(t, ps, func(p *Protocol) ([]uint64, error) {
		var v []uint64
		if p.id == 0 {
			v = []uint64{2, 3, 4, 5}
		}
		x, err := p.Input(0, v, 4)
		if err != nil {
			return nil, err
		}
		y, err := p.Mul(x, p.AddPublic(x, []uint64{1}))
		if err != nil {
			return nil, err
		}
		z, err := p.MatMul(y, x, 2, 2, 2)
		if err != nil {
			return nil, err
		}
		if Held(z) != 0 {
			t.Errorf("product of party 0's shares held by %d", Held(z))
		}
		return Component(z), nil
	})
	if d := ps[0].conn.Stats().Sub(before); d.BytesSent != 0 {
		t.Fatalf("local products sent %d bytes", d.BytesSent)
	}
	// y = x (x+1) = [6, 12, 20, 30]; z = y [2x2] times x [2x2].
	if want := []uint64{6*2 + 12*4, 6*3 + 12*5, 20*2 + 30*4, 20*3 + 30*5}; !slices.Equal(out[0], want) || !slices.Equal(out[1], make([]uint64, 4)) {
		t.Fatalf("components %v / %v, want %v / zeros", out[0], out[1], want)
	}
}

// TestExternal: a client's dealt shares open to its values, and exported shares
// reconstruct.
func TestExternal(t *testing.T) {
	ps := pair(t, mpc.PreprocessingDealer)
	vals := []uint64{0, 1, ^uint64(0), 1 << 63, 42}
	pl, err := ClientDealer{}.Deal(vals)
	if err != nil {
		t.Fatal(err)
	}
	got := both(t, ps, func(p *Protocol) ([]byte, error) {
		x, err := p.ImportShares(pl[p.id], len(vals))
		if err != nil {
			return nil, err
		}
		if v, err := p.Open(x, -1); err != nil || !slices.Equal(v, vals) {
			t.Errorf("party %d opened %v (%v), want %v", p.id, v, err, vals)
		}
		return p.ExportShares(p.AddPublic(x, []uint64{1}))
	})
	rec, err := ClientDealer{}.Reconstruct(got[:], len(vals))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if rec[i] != v+1 {
			t.Fatalf("reconstructed %v, want vals+1", rec)
		}
	}
	if _, err := (ClientDealer{}).Reconstruct([][]byte{got[0]}, len(vals)); err == nil {
		t.Fatal("one payload reconstructed")
	}
}
