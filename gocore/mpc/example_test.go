package mpc_test

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// Requantize int32 accumulators to int8 outputs on three rep3 parties: party 0 inputs
// the accumulators, the result is opened to party 0 only.
func ExampleRequantize() {
	acc := []int64{-70000, -1, 0, 255, 12345, 1 << 22}
	err := local.Run("rep3", 3, func(p mpc.Protocol) error {
		var v []uint64
		if p.ID() == 0 {
			v = u64s(acc)
		}
		x, err := p.Input(0, v, len(acc))
		if err != nil {
			return err
		}
		// multiplier 0.75 * 2^-8: M = 0.75 * 2^31, shift -8; output zero point -3
		y, err := mpc.Requantize(p, x, []int32{3 << 29}, []int{-8}, nil, -3, -128, 127, 24)
		if err != nil {
			return err
		}
		out, err := p.Open(y, 0)
		if p.ID() == 0 {
			for _, o := range out {
				fmt.Print(int64(o), " ")
			}
			fmt.Println()
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: -128 -3 -3 -2 33 127
}
