package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestAffineFitConcatRescale: TFLite's float rescaling of uint8 CONCATENATION inputs,
// for random scale ratios and zero points, has an exact integer form, and applyFit
// computes it on shares (plain and rep3) equal to the float formula for all 256 inputs.
func TestAffineFitConcatRescale(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for trial := 0; trial < 20; trial++ {
		scale := float32(math.Exp(r.Float64()*4 - 2)) // ratios in [e^-2, e^2]
		zIn, zOut := int32(r.IntN(256)), int32(r.IntN(256))
		c := &qnn.ConcatParams{Scale: []float32{scale}, Bias: []float32{float32(-zIn) * scale},
			OutZeroPoint: zOut, OutMin: 0, OutMax: 255}
		f, err := fitAffineFloor(func(x int64) int64 { return int64(c.RescaleValue(0, int32(x))) }, 0, 255)
		if err != nil {
			t.Fatalf("scale %g: %v", scale, err)
		}
		xs := make([]uint64, 256)
		want := make([]uint64, 256)
		for x := range xs {
			xs[x] = uint64(x)
			want[x] = uint64(min(max(c.RescaleValue(0, int32(x)), 0), 255))
		}
		for _, proto := range []string{"plain", "rep3"} {
			err := local.Run(proto, 0, func(p mpc.Protocol) error {
				e := &Party{p: p}
				var in []uint64
				if p.ID() == 0 {
					in = xs
				}
				s, err := p.Input(0, in, len(xs))
				if err != nil {
					return err
				}
				y, err := e.applyFit(s, f, 0, 255)
				if err != nil {
					return err
				}
				got, err := p.Open(y, -1)
				if err != nil {
					return err
				}
				for x := range got {
					if got[x] != want[x] {
						t.Errorf("%s scale %g zp %d->%d: x=%d got %d want %d", proto, scale, zIn, zOut, x, got[x], want[x])
						break
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
