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
// extensions, and a requantization sends exactly what it sends on rep3 itself (so the
// production paths A2BHigh and MaskB run); without Unwrap the extensions are lost and the
// same block sends more.
func TestWrapperKeepsExtensions(t *testing.T) {
	sent := func(wrap func(mpc.Protocol) mpc.Protocol) (int64, bool) {
		ps, err := local.New("rep3", 0)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		found := true
		err = local.RunParties(ps, func(p mpc.Protocol) error {
			w := wrap(p)
			_, h := mpc.Ext[mpc.HighA2B](w)
			_, m := mpc.Ext[mpc.PublicMasker](w)
			_, g := mpc.Ext[mpc.GatherMulSummer](w)
			if !(h && m && g) && p.ID() == 0 {
				found = false
			}
			x, err := w.Input(0, make([]uint64, 256), 256)
			if err != nil {
				return err
			}
			before := w.Conn().Stats()
			_, err = mpc.Requantize(w, x, []int32{1518500250}, []int{-8}, nil, 3, -128, 127, 32)
			if p.ID() == 0 {
				total = w.Conn().Stats().Sub(before).BytesSent
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
		t.Errorf("with Unwrap: extensions found %v, %d bytes (rep3 itself: %d)", found, kept, direct)
	}
	if foundLost || lost <= direct {
		t.Errorf("without Unwrap: extensions found %v, %d bytes (rep3 itself: %d): the test cannot tell", foundLost, lost, direct)
	}
}
