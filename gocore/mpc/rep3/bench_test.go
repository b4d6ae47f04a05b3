package rep3_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// bench sets up rep3 over pipes, shares two random vectors of lengths nx and ny, and times
// op on all three parties. It reports bytes sent per party per op (mean over parties) and
// rounds per op (the connection's send-then-receive counter, max over parties), and the CPU
// time of all three parties together per op (cpu-ms/op: on a loaded machine a steadier
// figure than the wall time).
func bench(b *testing.B, nx, ny int, op func(p mpc.Protocol, x, y mpc.AShare) error) {
	benchPrep(b, nx, ny, func(p mpc.Protocol, x, y mpc.AShare) (func() error, error) {
		return func() error { return op(p, x, y) }, nil
	})
}

// benchPrep is bench with an untimed preparation per party that returns the timed op.
func benchPrep(b *testing.B, nx, ny int, prep func(p mpc.Protocol, x, y mpc.AShare) (func() error, error)) {
	ps, err := local.New("rep3", 3)
	if err != nil {
		b.Fatal(err)
	}
	defer local.RunParties(ps, func(mpc.Protocol) error { return nil })
	r := rand.New(rand.NewPCG(1, 2))
	vx, vy := make([]uint64, nx), make([]uint64, ny)
	for i := range vx {
		vx[i] = r.Uint64()
	}
	for i := range vy {
		vy[i] = r.Uint64()
	}
	ops := make([]func() error, 3)
	err = local.Each(ps, func(p mpc.Protocol) error {
		var a, c []uint64
		if p.ID() == 0 {
			a, c = vx, vy
		}
		x, err := p.Input(0, a, nx)
		if err != nil {
			return err
		}
		y, err := p.Input(0, c, ny)
		if err != nil {
			return err
		}
		ops[p.ID()], err = prep(p, x, y)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var before [3]int64
	var beforeR [3]int64
	for i, p := range ps {
		s := p.Conn().Stats()
		before[i], beforeR[i] = s.BytesSent, s.Rounds
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	err = local.Each(ps, func(p mpc.Protocol) error {
		for range b.N {
			if err := ops[p.ID()](); err != nil {
				return err
			}
		}
		return nil
	})
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	var bytes, rounds int64
	for i, p := range ps {
		s := p.Conn().Stats()
		bytes += s.BytesSent - before[i]
		rounds = max(rounds, s.Rounds-beforeR[i])
	}
	b.ReportMetric(float64(bytes)/3/float64(b.N), "bytes/party")
	b.ReportMetric(float64(rounds)/float64(b.N), "rounds")
	b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
}

var benchSizes = []int{100_000, 1_000_000}

func BenchmarkMul(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			bench(b, n, n, func(p mpc.Protocol, x, y mpc.AShare) error {
				_, err := p.Mul(x, y)
				return err
			})
		})
	}
}

// BenchmarkMatMul: a convolution-like product [n/64, 72] x [72, 64] with n outputs.
func BenchmarkMatMul(b *testing.B) {
	for _, n := range benchSizes {
		m, k, c := n/64, 72, 64
		b.Run(fmt.Sprintf("m=%d/k=%d/n=%d", m, k, c), func(b *testing.B) {
			bench(b, m*k, k*c, func(p mpc.Protocol, x, y mpc.AShare) error {
				_, err := p.MatMul(x, y, m, k, c)
				return err
			})
		})
	}
}

func BenchmarkA2B(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("w=64/n=%d", n), func(b *testing.B) {
			bench(b, n, 1, func(p mpc.Protocol, x, y mpc.AShare) error {
				_, err := p.A2B(x, 64)
				return err
			})
		})
	}
}

func BenchmarkB2A(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("w=8/n=%d", n), func(b *testing.B) {
			benchPrep(b, n, 1, func(p mpc.Protocol, x, y mpc.AShare) (func() error, error) {
				xb, err := p.A2B(x, 8)
				return func() error { _, err := p.B2A(xb); return err }, err
			})
		})
	}
}

func BenchmarkBit2A(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			benchPrep(b, n, 1, func(p mpc.Protocol, x, y mpc.AShare) (func() error, error) {
				xb, err := p.A2B(x, 1)
				return func() error { _, err := p.Bit2A(xb); return err }, err
			})
		})
	}
}

func BenchmarkAND(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("w=64/n=%d", n), func(b *testing.B) {
			benchPrep(b, n, 1, func(p mpc.Protocol, x, y mpc.AShare) (func() error, error) {
				xb, err := p.A2B(x, 64)
				return func() error {
					_, err := p.AND([]mpc.BShare{xb}, []mpc.BShare{p.NOT(xb)})
					return err
				}, err
			})
		})
	}
}
