package model

import "github.com/qmpc/qmpc/gocore/errs"

// Validate checks that every tensor index of g is in range.
func (g *Graph) Validate() error {
	n := len(g.Tensors)
	check := func(where string, idx []int, optional bool) error {
		for _, i := range idx {
			if i >= n || i < -1 || (i == -1 && !optional) {
				return errs.New(errs.Model, "%s: tensor index %d out of range [0,%d)", where, i, n)
			}
		}
		return nil
	}
	if err := check("graph inputs", g.Inputs, false); err != nil {
		return err
	}
	if err := check("graph outputs", g.Outputs, false); err != nil {
		return err
	}
	for i, op := range g.Ops {
		if err := check(op.Kind.String(), op.Inputs, true); err != nil {
			return err
		}
		if err := check(op.Kind.String(), op.Outputs, false); err != nil {
			_ = i
			return err
		}
	}
	return nil
}
