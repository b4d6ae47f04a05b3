package spdz2k

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/count"
	"github.com/qmpc/qmpc/gocore/net"
)

// andCounter is a Source that counts the AND triples drawn from it (ANDTriples, and the
// carry products CarryEdaBits makes with AND triples in the OT source) and the edaBits
// by length.
type andCounter struct {
	Source
	n   *int64
	eda map[int]int64
}

func (c andCounter) ANDTriples(n, w int) (a, b, d *BShare, err error) {
	*c.n += int64(n * w)
	return c.Source.ANDTriples(n, w)
}

func (c andCounter) CarryEdaBits(n, w int) (*BShare, *AShare, *BShare, error) {
	*c.n += int64(n * (62 - w))
	c.eda[64] += int64(n)
	return c.Source.CarryEdaBits(n, w)
}

func (c andCounter) EdaBits(n, m int) (*BShare, *AShare, error) {
	c.eda[m] += int64(n)
	return c.Source.EdaBits(n, m)
}

// TestPredictedANDTriples: the AND triples and edaBits (by length) PredictOffline
// charges, and Preprocess plans (plan.go), for the conversions
// the requantization makes (A2BHigh of 63 bits at the planes it keeps, A2B, B2A of 8
// bits and of the widths of every B2A path) equal those a run draws, exactly, with the
// default circuits and with lowDepth: the counting protocol leaves out the gates with a
// public operand, as spdz2k does.
func TestPredictedANDTriples(t *testing.T) {
	for _, lowDepth := range []bool{false, true} {
		t.Run(fmt.Sprintf("lowDepth=%v", lowDepth), func(t *testing.T) { testPredictedANDTriples(t, lowDepth) })
	}
}

func testPredictedANDTriples(t *testing.T, lowDepth bool) {
	const n = 70
	for _, tc := range []struct {
		name string
		run  func(p mpc.Protocol, x mpc.AShare) error
	}{
		{"A2BHigh63/31", func(p mpc.Protocol, x mpc.AShare) error { _, err := p.(mpc.HighA2B).A2BHigh(x, 63, 31); return err }},
		{"A2BHigh63/40", func(p mpc.Protocol, x mpc.AShare) error { _, err := p.(mpc.HighA2B).A2BHigh(x, 63, 40); return err }},
		{"A2B16", func(p mpc.Protocol, x mpc.AShare) error { _, err := p.A2B(x, 16); return err }},
		{"A2B63", func(p mpc.Protocol, x mpc.AShare) error { _, err := p.A2B(x, 63); return err }},
		{"B2A", func(p mpc.Protocol, x mpc.AShare) error {
			for _, w := range []int{4, 8, 33, 62, 63, 64} {
				b, err := p.A2B(x, w)
				if err != nil {
					return err
				}
				if _, err := p.B2A(b); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := count.New(0, 2)
			x, _ := cp.Input(0, make([]uint64, n), n)
			if err := tc.run(cp, x); err != nil {
				t.Fatal(err)
			}
			_, pred, err := predictPlan(cp.Take(), lowDepth, nil)
			if err != nil {
				t.Fatal(err)
			}
			conns := net.NewPipes(2)
			p := newPair(t, conns, PreprocessingDealer)
			var got [2]int64
			eda := [2]map[int]int64{{}, {}}
			for i := range p {
				p[i].src = andCounter{p[i].src, &got[i], eda[i]}
				p[i].lowDepth = lowDepth
			}
			run := func(i int) func() error {
				return func() error {
					x, err := p[i].Input(0, make([]uint64, n), n)
					if err != nil {
						return err
					}
					return tc.run(p[i], x)
				}
			}
			mustBoth(t, conns, run(0), run(1))
			ands := pred.counts.ands // less the edaBit refills' adders (the dealer has none)
			for m, n := range pred.counts.eda {
				ands -= edaAdderANDs(n, m)
			}
			if got[0] != got[1] || got[0] != ands {
				t.Errorf("AND triples drawn %d / %d, predicted %d", got[0], got[1], ands)
			}
			if fmt.Sprint(eda[0]) != fmt.Sprint(pred.counts.eda) || fmt.Sprint(eda[1]) != fmt.Sprint(pred.counts.eda) {
				t.Errorf("edaBits drawn by length %v / %v, predicted %v", eda[0], eda[1], pred.counts.eda)
			}
		})
	}
}

// TestMaxOffline: the offline budget is MaxOfflineBytes unless MaxOfflineEnv holds a
// positive number of GB; anything else is a Config error naming the variable.
func TestMaxOffline(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want float64
		ok   bool
	}{
		{"", MaxOfflineBytes, true},
		{"  ", MaxOfflineBytes, true},
		{"60", 60e9, true},
		{" 0.5 ", 0.5e9, true},
		{"1e3", 1e12, true},
		{"0", 0, false},
		{"-5", 0, false},
		{"sixty", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
	} {
		got, err := maxOffline(func(k string) string {
			if k != MaxOfflineEnv {
				t.Fatalf("read %q, want %q", k, MaxOfflineEnv)
			}
			return tc.env
		})
		switch {
		case tc.ok && (err != nil || got != tc.want):
			t.Errorf("%q: got %v, %v; want %v", tc.env, got, err, tc.want)
		case !tc.ok && (errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), MaxOfflineEnv)):
			t.Errorf("%q: got %v, %v; want a Config error naming %s", tc.env, got, err, MaxOfflineEnv)
		}
	}
}
