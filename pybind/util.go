package pybind

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// detailsPrefix starts the last line of an exported error message when it carries
// machine-readable details (a JSON object) for the Python layer.
const detailsPrefix = "\nqmpc-details: "

// guard turns a panic into an errs.Internal error stored in *err, and passes any error
// through export. Every exported function and method starts with `defer guard(&err)`.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = errs.New(errs.Internal, "internal error (a bug in qmpc, please report it): panic: %v\n%s", r, debug.Stack())
	}
	*err = export(*err)
}

// exported marks an error that export already processed, so that nested guards do not
// append details twice.
type exported struct{ error }

func (e exported) Unwrap() error { return e.error }

// export prepares an error for the Python layer: it keeps the message (with its
// "qmpc:<kind>: " prefix) and appends a details line for error types that carry structured
// data. It returns nil for nil.
func export(err error) error {
	if err == nil {
		return nil
	}
	var done exported
	if errors.As(err, &done) {
		return err
	}
	details := map[string]any{"kind": string(errs.KindOf(err))}
	var unsupported *model.UnsupportedOpsError
	if errors.As(err, &unsupported) {
		details["ops"] = unsupported.Names()
	}
	b, jerr := json.Marshal(details)
	if jerr != nil {
		return exported{err}
	}
	return exported{fmt.Errorf("%w%s%s", err, detailsPrefix, b)}
}

// toJSON marshals v for the Python layer.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", errs.New(errs.Internal, "encoding JSON: %w", err)
	}
	return string(b), nil
}
