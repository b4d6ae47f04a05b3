package ot_test

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// The one-sided matrix triple: party 0 (the model owner) holds W in the clear, the input X
// is additively shared (X0 at party 0, X1 at party 1). Offline, party 1 draws R and the two
// run a Gilboa product of W and R; online, party 1 sends D = X1 - R and party 0 adds W*(X0 +
// D) to its share. The shares sum to W*X.
func Example_oneSidedMatrixTriple() {
	const m, k, n, bits = 2, 3, 4, 8
	w := []int64{1, -2, 3, -128, 127, 0} // [m,k], the owner's 8-bit weights
	x0 := prg.New(prg.Key{1}).Uint64s(k * n)
	x1 := prg.New(prg.Key{2}).Uint64s(k * n)

	conns := net.NewPipes(2)
	var z0, z1 []uint64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // party 0: the owner of W
		defer wg.Done()
		s, err := ot.NewSession(conns[0], 1, rand.Reader)
		if err != nil {
			panic(err)
		}
		u, err := s.ProductW(w, m, k, n, bits) // offline
		if err != nil {
			panic(err)
		}
		msg, err := conns[0].Recv(1) // online: D = X1 - R
		if err != nil {
			panic(err)
		}
		z0 = u
		for i := range m {
			for p := range k {
				for q := range n {
					d := binary.LittleEndian.Uint64(msg[8*(p*n+q):])
					z0[i*n+q] += uint64(w[i*k+p]) * (x0[p*n+q] + d)
				}
			}
		}
	}()
	go func() { // party 1: holds X1, draws R
		defer wg.Done()
		s, err := ot.NewSession(conns[1], 0, rand.Reader)
		if err != nil {
			panic(err)
		}
		r := prg.New(prg.NewKey()).Uint64s(k * n)
		v, err := s.ProductX(r, m, k, n, bits) // offline
		if err != nil {
			panic(err)
		}
		msg := make([]byte, 8*k*n) // online: D = X1 - R
		for i := range r {
			binary.LittleEndian.PutUint64(msg[8*i:], x1[i]-r[i])
		}
		if err := conns[1].Send(0, msg); err != nil {
			panic(err)
		}
		z1 = v
	}()
	wg.Wait()

	ok := true
	for i := range m {
		for q := range n {
			var want uint64
			for p := range k {
				want += uint64(w[i*k+p]) * (x0[p*n+q] + x1[p*n+q])
			}
			ok = ok && z0[i*n+q]+z1[i*n+q] == want
		}
	}
	fmt.Println("shares of W*X:", ok)
	// Output: shares of W*X: true
}

// spdz2k's offline step for a linear layer, on malicious sessions: the owner (party 0)
// multiplies its plaintext weights W by two matrices of party 1 over Z_2^128, a mask R and a
// MAC mask R', with one set of OTs (ProductW128/ProductX128, nx = 2). Each pair of outputs
// is an additive sharing of W*R and W*R' mod 2^128.
func Example_product128TwoMasks() {
	const m, k, n, bits = 2, 3, 4, 8
	w := []int64{1, -2, 3, -128, 127, 0} // [m,k]
	r := ring128.Vec{Lo: prg.New(prg.Key{3}).Uint64s(k * n), Hi: prg.New(prg.Key{4}).Uint64s(k * n)}
	r2 := ring128.Vec{Lo: prg.New(prg.Key{5}).Uint64s(k * n), Hi: prg.New(prg.Key{6}).Uint64s(k * n)}

	conns := net.NewPipes(2)
	var u, v []ring128.Vec
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // party 0: the owner of W, OT receiver choosing with W's bits
		defer wg.Done()
		s, err := ot.NewSessionMalicious(conns[0], 1, rand.Reader, ot.DefaultK)
		if err != nil {
			panic(err)
		}
		if u, err = s.ProductW128(w, m, k, n, bits, 2); err != nil {
			panic(err)
		}
	}()
	go func() { // party 1: holds R and R', OT sender
		defer wg.Done()
		s, err := ot.NewSessionMalicious(conns[1], 0, rand.Reader, ot.DefaultK)
		if err != nil {
			panic(err)
		}
		if v, err = s.ProductX128([]ring128.Vec{r, r2}, m, k, n, bits); err != nil {
			panic(err)
		}
	}()
	wg.Wait()

	wv := ring128.Make(m * k) // W as ring elements (sign-extended)
	for i, x := range w {
		wv.Lo[i], wv.Hi[i] = uint64(x), uint64(x>>63)
	}
	for x, mask := range []ring128.Vec{r, r2} {
		want := ring128.Make(m * n)
		ring128.MatMulAdd(want, wv, mask, m, k, n)
		got := ring128.Make(m * n)
		ring128.Add(got, u[x], v[x])
		ok := true
		for i := range m * n {
			ok = ok && got.At(i) == want.At(i)
		}
		fmt.Printf("shares of W*mask %d: %v\n", x, ok)
	}
	// Output:
	// shares of W*mask 0: true
	// shares of W*mask 1: true
}
