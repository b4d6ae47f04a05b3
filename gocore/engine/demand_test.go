package engine

import (
	"maps"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// tally wraps a real protocol and counts its calls as mpc.Demand.Summary names them
// (without the one-sided split, which needs the count protocol's holder tracking).
type tally struct {
	mpc.Protocol
	mu sync.Mutex
	n  map[string]int64
}

func (t *tally) Unwrap() mpc.Protocol { return t.Protocol }

func (t *tally) add(k string, v int64) {
	t.mu.Lock()
	t.n[k] += v
	t.mu.Unlock()
}

func (t *tally) Input(o int, v []uint64, n int) (mpc.AShare, error) {
	t.add("input", int64(n))
	return t.Protocol.Input(o, v, n)
}
func (t *tally) Mul(a, b mpc.AShare) (mpc.AShare, error) {
	t.add("mul", int64(a.Len()))
	return t.Protocol.Mul(a, b)
}
func (t *tally) MulSum(a, b mpc.AShare, k int) (mpc.AShare, error) {
	t.add("macs", int64(a.Len()))
	return t.Protocol.MulSum(a, b, k)
}
func (t *tally) MatMul(a, b mpc.AShare, m, k, n int) (mpc.AShare, error) {
	t.add("macs", int64(m*k*n))
	return t.Protocol.MatMul(a, b, m, k, n)
}
func (t *tally) GatherMulSum(x mpc.AShare, xi []int32, w mpc.AShare, wi []int32, k int) (mpc.AShare, error) {
	t.add("macs", int64(len(xi)))
	g, _ := mpc.Ext[mpc.GatherMulSummer](t.Protocol)
	return g.GatherMulSum(x, xi, w, wi, k)
}
func (t *tally) AND(a, b []mpc.BShare) ([]mpc.BShare, error) {
	for _, x := range a {
		t.add("and", int64(x.Len()*x.Width()))
	}
	return t.Protocol.AND(a, b)
}
func (t *tally) A2B(x mpc.AShare, w int) (mpc.BShare, error) {
	t.add("a2b_bits", int64(x.Len()*w))
	return t.Protocol.A2B(x, w)
}
func (t *tally) A2BHigh(x mpc.AShare, w, lo int) (mpc.BShare, error) {
	t.add("a2b_bits", int64(x.Len()*(w-lo)))
	h, _ := mpc.Ext[mpc.HighA2B](t.Protocol)
	return h.A2BHigh(x, w, lo)
}
func (t *tally) A2BSplit(x mpc.AShare, w int) (mpc.BShare, mpc.BShare, error) {
	t.add("a2b_split_bits", int64(x.Len()*w))
	s, _ := mpc.Ext[mpc.A2BSplitter](t.Protocol)
	return s.A2BSplit(x, w)
}
func (t *tally) LeafSplits() bool { return mpc.HasLeafSplits(t.Protocol) }
func (t *tally) A2BSplitLeaves(x mpc.AShare, w, bits int, l *mpc.SplitLeaves) (mpc.BShare, mpc.BShare, []mpc.BShare, error) {
	in := bits
	seen := map[[2]int]bool{}
	for _, lf := range l.Leaves {
		if k := [2]int{lf.Lo, lf.K}; !seen[k] {
			seen[k] = true
			in += 1 << uint(lf.K)
		}
	}
	t.add("leaf_split_bits", int64(x.Len()*in))
	t.add("leaves", int64(x.Len()*len(l.Leaves)))
	s, _ := mpc.Ext[mpc.LeafSplitter](t.Protocol)
	return s.A2BSplitLeaves(x, w, bits, l)
}
func (t *tally) A2BSplitArithLeaves(x mpc.AShare, w int, l []mpc.ArithLeaf) ([]mpc.AShare, error) {
	in := 0
	seen := map[[2]int]bool{}
	for _, lf := range l {
		if k := [2]int{lf.Lo, lf.K}; !seen[k] {
			seen[k] = true
			in += 1 << uint(lf.K)
		}
	}
	t.add("arith_leaf_split_words", int64(x.Len()*in))
	t.add("arith_leaves", int64(x.Len()*len(l)))
	s, _ := mpc.Ext[mpc.ArithLeafSplitter](t.Protocol)
	return s.A2BSplitArithLeaves(x, w, l)
}
func (t *tally) B2AAnd(x, c, beta mpc.BShare) (mpc.AShare, error) {
	t.add("b2a_bits", int64(x.Len()*x.Width()))
	t.add("b2a_and", int64(x.Len()))
	s, _ := mpc.Ext[mpc.LeafSplitter](t.Protocol)
	return s.B2AAnd(x, c, beta)
}
func (t *tally) ChunkB2A(l *mpc.SplitLeaves, sel mpc.BShare, xs []mpc.BShare, ws []uint64, c, beta mpc.BShare) (mpc.AShare, error) {
	t.add("chunk_b2a_words", int64(sel.Len()*(5+len(xs))))
	s, _ := mpc.Ext[mpc.ChunkB2Aer](t.Protocol)
	return s.ChunkB2A(l, sel, xs, ws, c, beta)
}
func (t *tally) B2A(x mpc.BShare) (mpc.AShare, error) {
	t.add("b2a_bits", int64(x.Len()*x.Width()))
	return t.Protocol.B2A(x)
}
func (t *tally) Bit2A(x mpc.BShare) (mpc.AShare, error) {
	t.add("bit2a", int64(x.Len()))
	return t.Protocol.Bit2A(x)
}
func (t *tally) Open(x mpc.AShare, to int) ([]uint64, error) {
	t.add("open", int64(x.Len()))
	return t.Protocol.Open(x, to)
}

// TestDemandEqualsRealCalls: the demand the counting protocol (package mpc/count) finds on
// the public graph, without any data, equals the calls a real rep3 inference makes,
// counted at the protocol boundary of party 0 (the model owner's weights excluded: they
// are the setup's demand).
func TestDemandEqualsRealCalls(t *testing.T) {
	for _, g := range []*model.Graph{digitsGraph(t), sharedModel(t, "tflm/person_detect.tflite")} {
		c, err := Compile(g)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Owner: 0, Client: 1}
		ps, err := local.New("rep3", 3)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.DemandOf(ps[0], g, opt) // rep3 has mpc.A2BSplitter: counted with it
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for k, v := range d.Infer.Summary() {
			switch k {
			case "macs_one_sided", "macs_shared":
				want["macs"] += v
			case "mul_one_sided":
				want["mul"] += v
			default:
				want[k] += v
			}
		}
		var t0 *tally
		pub := PublicGraph(g)
		err = local.RunParties(ps, func(p mpc.Protocol) error {
			gp := pub
			if p.ID() == 0 {
				gp = g
			}
			e, err := NewPartyCompiled(p, gp, c, opt)
			if err != nil {
				return err
			}
			if err := e.Setup(); err != nil {
				return err
			}
			if p.ID() == 0 {
				t0 = &tally{Protocol: p, n: map[string]int64{}}
				e.p = t0
			}
			var in []model.Value
			if p.ID() == 1 {
				in = zeroInputs(g)
			}
			_, err = e.Infer(in)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if t0.n["and"] == 0 || t0.n["macs"] == 0 || !maps.Equal(t0.n, want) {
			t.Errorf("%s: real calls %v, counted demand %v", g.Description, t0.n, want)
		}
		if testing.Verbose() {
			t.Logf("%s: %v", g.Description, t0.n)
		}
	}
}
