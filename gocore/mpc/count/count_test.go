package count_test

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/count"
)

// TestCountsWithoutData: the counting protocol runs a whole requantization and an argmax
// with no values at all (its inputs are nil even at the owner), sends nothing, and
// records the calls with the owner's and the client's operands marked as held.
func TestCountsWithoutData(t *testing.T) {
	p := count.New(0, 3)
	w, err := p.Input(0, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Input(1, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := p.MatMul(x, w, 8, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	q, err := mpc.Requantize(p, acc, []int32{1 << 30}, []int{-3}, nil, 0, -128, 127, 32)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mpc.Argmax(p, q, 8, 10); err != nil {
		t.Fatal(err)
	}
	if st := p.Conn().Stats(); st.BytesSent != 0 || st.Messages != 0 {
		t.Fatalf("the counting protocol sent %+v", st)
	}
	d := p.Take()
	s := d.Summary()
	if s["input"] != 128 || s["macs_one_sided"] != 512 || s["and"] == 0 || s["a2b_bits"] == 0 || s["b2a_bits"] == 0 {
		t.Fatalf("summary %v", s)
	}
	for _, c := range d.Calls {
		if c.Op == "MatMul" && (c.HolderA != 1 || c.HolderB != 0) {
			t.Errorf("MatMul holders %d, %d: want the client's input (1) and the owner's weights (0)", c.HolderA, c.HolderB)
		}
	}
	if len(p.Take().Calls) != 0 {
		t.Error("Take did not start a new count")
	}
}
