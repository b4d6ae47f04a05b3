package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
)

// UnsupportedOp is one kind of operator (or operator variant, such as "CONV_2D(fused TANH)")
// that qmpc cannot evaluate, with the indices of the ops of that kind in the source graph.
type UnsupportedOp struct {
	Name string
	Ops  []int // op indices in the source model, in order
}

// Count is the number of ops of this kind.
func (u UnsupportedOp) Count() int { return len(u.Ops) }

// UnsupportedOpsError lists every unsupported operator of a model, in order of first
// occurrence. Importers return it wrapped in an errs.UnsupportedOp error (see
// NewUnsupportedOpsError), so errs.KindOf reports errs.UnsupportedOp and errors.As finds
// the list.
type UnsupportedOpsError struct {
	Ops []UnsupportedOp
}

// Error lists the ops with their counts: "unsupported ops: LSTM (2), TANH (1)".
func (e *UnsupportedOpsError) Error() string {
	var b strings.Builder
	b.WriteString("unsupported ops: ")
	for i, u := range e.Ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d)", u.Name, len(u.Ops))
	}
	return b.String()
}

// Names returns the names of the unsupported ops, in order of first occurrence.
func (e *UnsupportedOpsError) Names() []string {
	out := make([]string, len(e.Ops))
	for i, u := range e.Ops {
		out[i] = u.Name
	}
	return out
}

// UnsupportedCollector gathers unsupported ops while an importer scans a model.
// The zero value is ready to use.
type UnsupportedCollector struct {
	ops   []UnsupportedOp
	index map[string]int
}

// Add records that op number opIndex is the unsupported kind name.
func (c *UnsupportedCollector) Add(name string, opIndex int) {
	if c.index == nil {
		c.index = map[string]int{}
	}
	i, ok := c.index[name]
	if !ok {
		i = len(c.ops)
		c.index[name] = i
		c.ops = append(c.ops, UnsupportedOp{Name: name})
	}
	c.ops[i].Ops = append(c.ops[i].Ops, opIndex)
}

// Err returns nil if nothing was added, else the errs.UnsupportedOp error wrapping an
// *UnsupportedOpsError with everything added so far, in order of first occurrence in the
// model (ops may be added out of order, e.g. after constant folding).
func (c *UnsupportedCollector) Err() error {
	if len(c.ops) == 0 {
		return nil
	}
	ops := slices.Clone(c.ops)
	for i := range ops {
		ops[i].Ops = slices.Clone(ops[i].Ops)
		slices.Sort(ops[i].Ops)
	}
	slices.SortStableFunc(ops, func(a, b UnsupportedOp) int { return a.Ops[0] - b.Ops[0] })
	return NewUnsupportedOpsError(ops)
}

// NewUnsupportedOpsError returns an errs.UnsupportedOp error wrapping
// &UnsupportedOpsError{Ops: ops}.
func NewUnsupportedOpsError(ops []UnsupportedOp) error {
	return errs.New(errs.UnsupportedOp, "%w", &UnsupportedOpsError{Ops: ops})
}
