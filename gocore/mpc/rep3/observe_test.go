package rep3_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring"
)

// record is one observed step of one party.
type record struct {
	kind    string // input, product, open
	rel     rep3.Relation
	xor     bool
	x, y, z rep3.Pair
}

type observer struct {
	mu   sync.Mutex
	recs []record
}

func clone(p rep3.Pair) rep3.Pair { return rep3.Pair{A: slices.Clone(p.A), B: slices.Clone(p.B)} }

func (r *observer) Input(owner int, xor bool, c rep3.Pair) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, record{kind: "input", xor: xor, z: clone(c)})
}

func (r *observer) Product(rel rep3.Relation, x, y, z rep3.Pair) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, record{kind: "product", rel: rel, xor: rel.Kind == "and", x: clone(x), y: clone(y), z: clone(z)})
}

func (r *observer) Open(to int, xor bool, c rep3.Pair, _ []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, record{kind: "open", xor: xor, z: clone(c)})
}

// reveal checks that the three parties' pairs are a consistent replicated sharing
// (party i's second component is party i+1's first) and returns the value.
func reveal(t *testing.T, what string, ps [3]rep3.Pair, xor bool) []uint64 {
	t.Helper()
	for i := range 3 {
		if !slices.Equal(ps[i].B, ps[(i+1)%3].A) {
			t.Fatalf("%s: party %d's second component is not party %d's first", what, i, (i+1)%3)
		}
	}
	v := make([]uint64, len(ps[0].A))
	for i := range 3 {
		if xor {
			ring.Xor(v, v, ps[i].A)
		} else {
			ring.Add(v, v, ps[i].A)
		}
	}
	return v
}

// apply computes the relation in the clear.
func apply(r rep3.Relation, x, y []uint64) []uint64 {
	switch r.Kind {
	case "mul":
		z := make([]uint64, len(x))
		for i := range z {
			z[i] = x[i] * y[i]
		}
		return z
	case "and":
		z := make([]uint64, len(x))
		for i := range z {
			z[i] = x[i] & y[i]
		}
		return z
	case "mulsum":
		z := make([]uint64, len(x)/r.K)
		for i := range z {
			for j := range r.K {
				z[i] += x[i*r.K+j] * y[i*r.K+j]
			}
		}
		return z
	case "gathermulsum":
		z := make([]uint64, len(r.XIdx)/r.K)
		for i := range z {
			for j := range r.K {
				if q := r.XIdx[i*r.K+j]; q >= 0 {
					z[i] += x[q] * y[r.YIdx[i*r.K+j]]
				}
			}
		}
		return z
	case "matmul":
		z := make([]uint64, r.M*r.N)
		ring.MatMulAdd(z, x, y, r.M, r.K, r.N)
		return z
	}
	return nil
}

// TestObserverSeesEveryProduct: with an Observer in every party, a computation that
// uses every communicating method and the generic blocks (requantization: A2BHigh, AND,
// B2A; argmax: Bit2A; an opening) is observed step by step, in the same order by all
// parties; every observed product reconstructs to z = f(x, y) and every input, operand,
// result and opening is a consistent replicated sharing (B2A's own input of its bits is
// the x of its observed multiply-sum). This is what a checked variant (rep3-mal)
// verifies, without copying rep3.
func TestObserverSeesEveryProduct(t *testing.T) {
	conns := net.NewPipes(3)
	obs := [3]*observer{{}, {}, {}}
	ps := make([]mpc.Protocol, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := rep3.NewObserved(conns[i], mpc.Options{}, obs[i])
			if err != nil {
				t.Error(err)
				return
			}
			ps[i] = p
		}()
	}
	wg.Wait()
	const n = 200
	err := local.RunParties(ps, func(p mpc.Protocol) error {
		v := make([]uint64, n)
		for i := range v {
			v[i] = uint64(int64(i*7919%4001) - 2000)
		}
		mine := func(owner int) []uint64 {
			if p.ID() == owner {
				return v
			}
			return nil
		}
		x, err := p.Input(0, mine(0), n)
		if err != nil {
			return err
		}
		y, err := p.Input(1, mine(1), n)
		if err != nil {
			return err
		}
		if _, err := p.Mul(x, y); err != nil {
			return err
		}
		if _, err := p.MatMul(x, y, 10, 20, 10); err != nil {
			return err
		}
		idx := make([]int32, 2*n)
		for i := range idx {
			idx[i] = int32(i*3%n) - int32(i%17/16) // a few -1 (zero) entries
		}
		g, _ := mpc.Ext[mpc.GatherMulSummer](p)
		acc, err := g.GatherMulSum(x, idx, y, idx, 4)
		if err != nil {
			return err
		}
		acc = p.Concat(acc, acc, acc, acc) // 200 elements again
		q, err := mpc.Requantize(p, acc, []int32{1518500250}, []int{-5}, nil, 3, -128, 127, 32)
		if err != nil {
			return err
		}
		idxA, err := mpc.Argmax(p, q, 20, 10)
		if err != nil {
			return err
		}
		_, err = p.Open(idxA, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m := len(obs[0].recs)
	if m == 0 || len(obs[1].recs) != m || len(obs[2].recs) != m {
		t.Fatalf("observed %d / %d / %d steps", m, len(obs[1].recs), len(obs[2].recs))
	}
	kinds := map[string]int{}
	var bytes [3]int64
	for k := range m {
		var rs [3]record
		for i := range 3 {
			rs[i] = obs[i].recs[k]
		}
		r := rs[0]
		if rs[1].kind != r.kind || rs[2].kind != r.kind || rs[1].rel.Kind != r.rel.Kind {
			t.Fatalf("step %d: parties observed %s/%s/%s", k, r.kind, rs[1].kind, rs[2].kind)
		}
		get := func(f func(record) rep3.Pair) [3]rep3.Pair { return [3]rep3.Pair{f(rs[0]), f(rs[1]), f(rs[2])} }
		z := reveal(t, r.kind+" "+r.rel.Kind, get(func(r record) rep3.Pair { return r.z }), r.xor)
		name := r.kind
		if r.kind == "product" {
			name = r.rel.Kind
			xv := reveal(t, "x of "+name, get(func(r record) rep3.Pair { return r.x }), r.xor)
			yv := reveal(t, "y of "+name, get(func(r record) rep3.Pair { return r.y }), r.xor)
			if want := apply(r.rel, xv, yv); !slices.Equal(z, want) {
				t.Fatalf("step %d (%s): z != f(x, y)", k, name)
			}
			// Each party reshares one word per output, except in the checked B2A's t =
			// b0 b1, party 0's input (convert_checked.go: b2aProduct), which only party 0
			// sends and whose component z_2 (party 1's B, party 2's A) is zero.
			senders := []int{0, 1, 2}
			if name == "mul" && !r.xor && allZeroWords(rs[1].z.B) && allZeroWords(rs[2].z.A) {
				senders = []int{0}
			}
			for _, i := range senders {
				bytes[i] += 8 * int64(len(z))
			}
		}
		kinds[name]++
	}
	for _, want := range []string{"input", "mul", "matmul", "gathermulsum", "and", "mulsum", "open"} {
		if kinds[want] == 0 {
			t.Errorf("no %s observed (observed %v)", want, kinds)
		}
	}
	// The observed products' reshares are part of what each party sent.
	for i, p := range ps {
		if sent := p.Conn().Stats().BytesSent; sent < bytes[i] {
			t.Errorf("party %d sent %d bytes, fewer than its observed products' %d", i, sent, bytes[i])
		}
	}
	t.Logf("observed steps: %v", kinds)
}

func allZeroWords(v []uint64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
