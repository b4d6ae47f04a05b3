package local

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
)

func TestRunReturnsRealError(t *testing.T) {
	done := make(chan error)
	go func() {
		done <- Run("plain", 3, func(p mpc.Protocol) error {
			if p.ID() == 1 {
				return errs.New(errs.Shape, "boom")
			}
			// The others wait for a message that never comes.
			_, err := p.Conn().Recv((p.ID() + 1) % 3)
			return err
		})
	}()
	select {
	case err := <-done:
		if errs.KindOf(err) != errs.Shape || !strings.Contains(err.Error(), "party 1") {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run hangs after a party failed")
	}
}

func TestRunPanic(t *testing.T) {
	err := Run("plain", 2, func(p mpc.Protocol) error {
		if p.ID() == 0 {
			panic("oops")
		}
		_, err := p.Conn().Recv(0)
		return err
	})
	if errs.KindOf(err) != errs.Internal || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("Run = %v", err)
	}
}

func TestNew(t *testing.T) {
	ps, err := New("plain", 0)
	if err != nil || len(ps) != 3 || ps[2].ID() != 2 || ps[0].Name() != "plain" {
		t.Fatalf("New = %v, %v", ps, err)
	}
	if _, err := New("nope", 3); errs.KindOf(err) != errs.Config {
		t.Fatalf("unknown protocol: %v", err)
	}
	var e *errs.Error
	if err := Run("plain", 1, func(p mpc.Protocol) error { return nil }); err != nil || errors.As(err, &e) {
		t.Fatalf("Run one party: %v", err)
	}
}
