package mpc_test

import (
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// hides embeds the Protocol interface: the extensions of the wrapped protocol are not
// methods of it, so a type assertion on the wrapper loses them.
type hides struct{ mpc.Protocol }

// keeps is the same wrapper with Unwrap.
type keeps struct{ mpc.Protocol }

func (k keeps) Unwrap() mpc.Protocol { return k.Protocol }

// TestWrapperKeepsExtensions: through a wrapper with Unwrap, mpc.Ext finds rep3's
// extensions, and a requantization sends exactly what it sends on rep3 itself, in as many
// rounds (so the production paths A2BSplit, A2BHigh and MaskB run); without Unwrap the
// extensions are lost and the same block takes more rounds (the general path).
func TestWrapperKeepsExtensions(t *testing.T) {
	type cost struct{ bytes, rounds int64 }
	sent := func(wrap func(mpc.Protocol) mpc.Protocol) (cost, bool) {
		ps, err := local.New("rep3", 0)
		if err != nil {
			t.Fatal(err)
		}
		var total cost
		found := true
		err = local.RunParties(ps, func(p mpc.Protocol) error {
			w := wrap(p)
			_, h := mpc.Ext[mpc.HighA2B](w)
			_, m := mpc.Ext[mpc.PublicMasker](w)
			_, g := mpc.Ext[mpc.GatherMulSummer](w)
			_, s := mpc.Ext[mpc.A2BSplitter](w)
			if !(h && m && g && s) && p.ID() == 0 {
				found = false
			}
			x, err := w.Input(0, make([]uint64, 256), 256)
			if err != nil {
				return err
			}
			before := w.Conn().Stats()
			_, err = mpc.Requantize(w, x, []int32{1518500250}, []int{-8}, nil, 3, -128, 127, 32)
			if p.ID() == 0 {
				d := w.Conn().Stats().Sub(before)
				total = cost{d.BytesSent, d.Rounds}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return total, found
	}
	direct, _ := sent(func(p mpc.Protocol) mpc.Protocol { return p })
	kept, found := sent(func(p mpc.Protocol) mpc.Protocol { return keeps{p} })
	lost, foundLost := sent(func(p mpc.Protocol) mpc.Protocol { return hides{p} })
	if !found || kept != direct {
		t.Errorf("with Unwrap: extensions found %v, %+v (rep3 itself: %+v)", found, kept, direct)
	}
	if foundLost || lost.rounds <= direct.rounds {
		t.Errorf("without Unwrap: extensions found %v, %+v (rep3 itself: %+v): the test cannot tell", foundLost, lost, direct)
	}
}
