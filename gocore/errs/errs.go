// Package errs gives qmpc's errors a stable kind, so that the Python layer can raise a typed
// exception (qmpc.UnsupportedOpError, qmpc.ShapeError, ...) from a Go error. The kind shows
// as a prefix of the message: "qmpc:<kind>: <message>".
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the Python layer.
type Kind string

// Error kinds. Each maps to one Python exception class.
const (
	Model         Kind = "model"          // malformed or inconsistent model file (qmpc.ModelError)
	UnsupportedOp Kind = "unsupported-op" // ops qmpc cannot evaluate (qmpc.UnsupportedOpError)
	Shape         Kind = "shape"          // wrong tensor shape (qmpc.ShapeError)
	DType         Kind = "dtype"          // wrong tensor element type (qmpc.DTypeError)
	Config        Kind = "config"         // bad or mismatched configuration (qmpc.ConfigError)
	Party         Kind = "party"          // a peer failed, disconnected, timed out or cheated (qmpc.PartyError)
	Cheating      Kind = "cheating"       // a malicious protocol's check failed (qmpc.CheatingDetected, a PartyError)
	Busy          Kind = "busy"           // the cluster serves its maximum of concurrent sessions (qmpc.ClusterBusy, a PartyError)
	Cancelled     Kind = "cancelled"      // the run was cancelled (KeyboardInterrupt)
	Internal      Kind = "internal"       // a bug in qmpc (recovered panic)
)

// Error is an error with a Kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return "qmpc:" + string(e.Kind) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a formatted message (%w wraps as in fmt.Errorf).
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of the outermost *Error in err's chain, or Internal if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
