//go:build !qmpcwip

package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/qmpc/qmpc/gocore/errs"
)

// engineCommands: this build has no secure engine yet (it is built with -tags qmpcwip).
func engineCommands() []command {
	missing := func(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error {
		return errs.New(errs.Config, "this qmpc was built without the secure engine (build with -tags qmpcwip)")
	}
	return []command{{"party", missing}, {"infer", missing}}
}
