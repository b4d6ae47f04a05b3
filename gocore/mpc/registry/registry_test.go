package registry_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
)

// The paper's eight columns in the paper's order (DESIGN.md §1, the artifact's README).
var paperOrder = []string{"semi2k", "semi", "replicated-ring", "rep-field", "spdz2k", "cowgear", "ps-rep-ring", "ps-rep-field"}

func TestRegistryListsThePapersSettingsInOrder(t *testing.T) {
	var papers []string
	names := map[string]bool{}
	for _, s := range registry.All() {
		if names[s.Name] {
			t.Errorf("protocol %q listed twice", s.Name)
		}
		names[s.Name] = true
		if s.Paper != "" {
			papers = append(papers, s.Paper)
		}
		if s.DefaultParties < s.MinParties || (s.MaxParties > 0 && s.DefaultParties > s.MaxParties) {
			t.Errorf("%s: default %d parties outside [%d, %d]", s.Name, s.DefaultParties, s.MinParties, s.MaxParties)
		}
		if s.Dealer && !s.Offline {
			t.Errorf("%s: a dealer without an offline phase to replace", s.Name)
		}
	}
	if !slices.Equal(papers, paperOrder) {
		t.Errorf("paper columns %v, want %v", papers, paperOrder)
	}
}

func TestLookup(t *testing.T) {
	if s, err := registry.Lookup("rep3"); err != nil || !s.Available() || s.Security != mpc.SemiHonest {
		t.Errorf("rep3: %+v, %v", s, err)
	}
	for _, name := range []string{"rep3-field-mal", "no-such-protocol"} {
		if _, err := registry.Lookup(name); errs.KindOf(err) != errs.Config {
			t.Errorf("%s: err = %v, want a config error", name, err)
		}
	}
	if _, err := local.Parties("rep3", 2); errs.KindOf(err) != errs.Config {
		t.Errorf("rep3 with 2 parties: err = %v", err)
	}
}

// TestEveryAvailableProtocolComputes: each available protocol, constructed through the
// registry with its default party count, inputs, multiplies and opens correctly, and two
// runs with the same deterministic randomness send the same amounts.
func TestEveryAvailableProtocolComputes(t *testing.T) {
	for _, spec := range registry.Available() {
		t.Run(spec.Name, func(t *testing.T) {
			run := func(seed uint64) (got []uint64, sent []int64) {
				ps, err := local.NewWith(spec.Name, 0, func(id int) mpc.Options {
					return mpc.Options{Rand: rand.NewChaCha8([32]byte{byte(seed), byte(id)})}
				})
				if err != nil {
					t.Fatal(err)
				}
				n := len(ps)
				sent = make([]int64, n)
				client := min(1, n-1)
				err = local.RunParties(ps, func(p mpc.Protocol) error {
					var a, b []uint64
					if p.ID() == 0 {
						a = []uint64{3, 1 << 40, ^uint64(0)}
					}
					if p.ID() == client {
						b = []uint64{5, 7, 2}
					}
					x, err := p.Input(0, a, 3)
					if err != nil {
						return err
					}
					y, err := p.Input(client, b, 3)
					if err != nil {
						return err
					}
					z, err := p.Mul(x, y)
					if err != nil {
						return err
					}
					if err := mpc.Verify(p); err != nil {
						return err
					}
					out, err := p.Open(z, client)
					if p.ID() == client {
						got = out
					}
					sent[p.ID()] = p.Conn().Stats().BytesSent
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return got, sent
			}
			got, sent := run(1)
			if want := []uint64{15, 7 << 40, ^uint64(1)}; !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if _, sent2 := run(1); !slices.Equal(sent, sent2) {
				t.Errorf("bytes sent differ between identical runs: %v, %v", sent, sent2)
			}
		})
	}
}
