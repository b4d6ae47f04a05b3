package ot_test

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/prg"
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
