package plain

import (
	"github.com/qmpc/qmpc/gocore/mpc"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/net"
)

func TestExternalRoundTrip(t *testing.T) {
	v := []uint64{3, 1 << 63, 0}
	d := Dealer{N: 2}
	pl, err := d.Deal(v)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([][]byte, 2)
	for i, c := range net.NewPipes(2) {
		p, _ := New(c, mpc.Options{})
		s, err := p.ImportShares(pl[i], len(v))
		if err != nil {
			t.Fatal(err)
		}
		outs[i], _ = p.ExportShares(p.AddPublic(s, []uint64{1}))
	}
	got, err := d.Reconstruct(outs, len(v))
	if err != nil {
		t.Fatal(err)
	}
	for k := range v {
		if got[k] != v[k]+1 {
			t.Errorf("element %d: %d", k, got[k])
		}
	}
	outs[1] = append([]byte(nil), outs[1]...)
	outs[1][8] ^= 1
	if _, err := d.Reconstruct(outs, len(v)); err == nil || !strings.Contains(err.Error(), "parties 0 and 1") {
		t.Errorf("got %v", err)
	}
}
