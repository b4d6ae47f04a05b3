package rep3mal_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/rep3mal"
	"github.com/qmpc/qmpc/gocore/net"
)

// budgetRun runs batches check batches, each a Mul and an AND verified, with the run's
// soundness budget set to budget units of 2^-64 (0: the default); it returns each party's
// batch index of the first failed Verify (-1: none) and its error.
func budgetRun(t *testing.T, batches int, budget uint64) (failedAt [3]int, errsOut [3]error) {
	t.Helper()
	ps, err := local.NewOver(rep3mal.Name, net.NewPipes(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if budget > 0 {
		for _, p := range ps {
			rep3mal.SetErrorBudget(p, budget)
		}
	}
	err = local.RunParties(ps, func(p mpc.Protocol) error {
		id := p.ID()
		failedAt[id] = -1
		x := []uint64{3, 5, 7, 11}
		X, err := p.Input(0, x, len(x))
		if err != nil {
			return err
		}
		B, err := p.A2B(X, 8)
		if err != nil {
			return err
		}
		for b := range batches {
			if _, err := p.Mul(X, X); err != nil {
				return err
			}
			if _, err := p.AND([]mpc.BShare{B}, []mpc.BShare{B}); err != nil {
				return err
			}
			if err := mpc.Verify(p); err != nil {
				failedAt[id], errsOut[id] = b, err
				// A refusal is final: the next check is refused too, and nothing is opened.
				if err2 := mpc.Verify(p); err2 == nil {
					return errors.New("a check after the refusal passed")
				}
				if _, err2 := p.Open(X, -1); err2 == nil {
					return errors.New("an opening after the refusal succeeded")
				}
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return failedAt, errsOut
}

// TestSoundnessBudgetRefuses: a run is refused at the first check batch that would take
// its soundness error past the budget (all three parties at the same batch, with an
// errs.Config error naming the limit), and not before; the default budget (2^-40) allows
// 217 batches of both proofs and refuses the 218th.
func TestSoundnessBudgetRefuses(t *testing.T) {
	// The first batch also checks the A2B's AND words and products: it costs one bound too.
	for _, tc := range []struct {
		name             string
		batches, allowed int
		budget           uint64
	}{
		{"three batches", 5, 3, 3*rep3mal.BatchErrorBound + rep3mal.BatchErrorBound/2},
		{"one batch", 2, 1, rep3mal.BatchErrorBound},
		{"enough", 4, 4, 4 * rep3mal.BatchErrorBound},
		{"default 2^-40", 219, 217, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.budget == 0 && testing.Short() {
				t.Skip("219 check batches")
			}
			failedAt, errsOut := budgetRun(t, tc.batches, tc.budget)
			for id := range 3 {
				if tc.allowed >= tc.batches {
					if errsOut[id] != nil {
						t.Fatalf("party %d: %v", id, errsOut[id])
					}
					continue
				}
				err := errsOut[id]
				if failedAt[id] != tc.allowed || errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), "at most 217 check batches") {
					t.Fatalf("party %d: refused at batch %d (want %d): %v", id, failedAt[id], tc.allowed, err)
				}
			}
		})
	}
}

// TestSoundnessBudgetPerRelease: the budget covers the batches since the last release; a
// verified opening starts it again, so a protocol instance that serves many inferences
// (a cluster's lane) is not refused after a fixed number of them.
func TestSoundnessBudgetPerRelease(t *testing.T) {
	ps, err := local.NewOver(rep3mal.Name, net.NewPipes(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		rep3mal.SetErrorBudget(p, 2*rep3mal.BatchErrorBound)
	}
	err = local.RunParties(ps, func(p mpc.Protocol) error {
		x := []uint64{3, 5, 7, 11}
		X, err := p.Input(0, x, len(x))
		if err != nil {
			return err
		}
		// Each "inference": one batch of both proofs, then its output opened. Without the
		// release the third batch would be refused.
		for i := range 5 {
			B, err := p.A2B(X, 8)
			if err != nil {
				return err
			}
			if _, err := p.AND([]mpc.BShare{B}, []mpc.BShare{B}); err != nil {
				return err
			}
			Y, err := p.Mul(X, X)
			if err != nil {
				return err
			}
			if err := mpc.Verify(p); err != nil {
				return fmt.Errorf("inference %d: %w", i, err)
			}
			y, err := p.Open(Y, -1)
			if err != nil {
				return fmt.Errorf("inference %d: opening: %w", i, err)
			}
			if y[3] != 121 {
				return fmt.Errorf("inference %d: 11^2 = %d", i, y[3])
			}
		}
		// Two batches without a release still exceed the budget of two.
		for b := range 3 {
			if _, err := p.Mul(X, X); err != nil {
				return err
			}
			if _, err := p.AND([]mpc.BShare{}, []mpc.BShare{}); err != nil {
				return err
			}
			if err := mpc.Verify(p); err != nil {
				if b < 2 || errs.KindOf(err) != errs.Config {
					return fmt.Errorf("batch %d after the last release: %w", b, err)
				}
				return nil
			}
		}
		return errors.New("three batches after the last release passed a budget of two")
	})
	if err != nil {
		t.Fatal(err)
	}
}
