//go:build !qmpctest

package registry

import "github.com/qmpc/qmpc/gocore/mpc"

// extra lists no protocols in a normal build (see toy.go for the test build).
func extra() []mpc.Spec { return nil }
