package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// benchParties runs setup once and then op b.N times on every party of protocol name
// (parties stay connected across iterations), and reports bytes sent per party per
// element (the maximum over parties and the mean) and rounds per operation.
func benchParties(b *testing.B, name string, n int, setup func(p mpc.Protocol) (mpc.AShare, error), op func(p mpc.Protocol, x mpc.AShare) error) {
	base := strings.TrimSuffix(name, "+mask")
	ps, err := local.New(base, 0)
	if err != nil {
		b.Fatal(err)
	}
	if base != name {
		for i, p := range ps {
			ps[i] = maskRep3{p}
		}
	}
	defer func() {
		for _, p := range ps {
			p.Conn().Close()
		}
	}()
	xs := make([]mpc.AShare, len(ps))
	all := func(f func(i int, p mpc.Protocol) error) {
		var wg sync.WaitGroup
		errc := make(chan error, len(ps))
		for i, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(i, p); err != nil {
					errc <- err
				}
			}()
		}
		wg.Wait()
		close(errc)
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	all(func(i int, p mpc.Protocol) error {
		x, err := setup(p)
		xs[i] = x
		return err
	})
	before := make([]net.Stats, len(ps))
	offBefore := make([]net.Stats, len(ps))
	for i, p := range ps {
		before[i] = p.Conn().Stats()
		offBefore[i] = mpc.Offline(p).Net
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		all(func(i int, p mpc.Protocol) error { return op(p, xs[i]) })
	}
	b.StopTimer()
	// CPU time of all parties together (the process): on a shared machine wall time
	// depends on the load, CPU time does not; with all parties on 2 idle cores the wall
	// time is about half of it.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	var maxB, sumB, offB float64
	var rounds int64
	for i, p := range ps {
		d := p.Conn().Stats().Sub(before[i])
		per := float64(d.BytesSent) / float64(b.N) / float64(n)
		maxB = math.Max(maxB, per)
		sumB += per
		rounds = max(rounds, d.Rounds)
		offB += float64(mpc.Offline(p).Net.Sub(offBefore[i]).BytesSent) / float64(b.N) / float64(n)
	}
	b.ReportMetric(maxB, "B/elem/maxparty")
	b.ReportMetric(sumB/float64(len(ps)), "B/elem/party")
	b.ReportMetric(float64(rounds)/float64(b.N), "rounds/op")
	if offB > 0 { // protocols with an offline phase: its share of the bytes above
		b.ReportMetric(offB/float64(len(ps)), "offline-B/elem/party")
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// layerAcc returns MobileNet-like accumulators: mostly small, some large.
func layerAcc(n, bound int) []uint64 {
	r := rand.New(rand.NewPCG(uint64(n), uint64(bound)))
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(int64(r.NormFloat64() * float64(int64(1)<<(bound-4))))
	}
	return out
}

func inputAcc(p mpc.Protocol, acc []uint64) (mpc.AShare, error) {
	var v []uint64
	if p.ID() == 0 {
		v = acc
	}
	return p.Input(0, v, len(acc))
}

func BenchmarkRequantize(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, kind := range []string{"tensor", "channel", "channel+maskb"} {
			perChannel := kind != "tensor"
			proto := "rep3"
			if kind == "channel+maskb" {
				proto = "rep3+mask"
			}
			for _, accBound := range []int{32, 24} {
				b.Run(fmt.Sprintf("rep3/n=%d/%s/acc=%d", n, kind, accBound), func(b *testing.B) {
					acc := layerAcc(n, accBound)
					mult, shift := []int32{0}, []int{0}
					var channel []int32
					mult[0], shift[0] = qnn.QuantizeMultiplier(0.0037)
					if perChannel {
						const nc = 64
						r := rand.New(rand.NewPCG(1, 2))
						mult, shift = make([]int32, nc), make([]int, nc)
						for c := range nc {
							mult[c], shift[c] = qnn.QuantizeMultiplier(0.0005 + 0.01*r.Float64())
						}
						channel = make([]int32, n)
						for i := range channel {
							channel[i] = int32(i % nc)
						}
					}
					benchParties(b, proto, n, func(p mpc.Protocol) (mpc.AShare, error) { return inputAcc(p, acc) },
						func(p mpc.Protocol, x mpc.AShare) error {
							_, err := mpc.Requantize(p, x, mult, shift, channel, -128, -128, 127, accBound)
							return err
						})
				})
			}
		}
	}
}

func BenchmarkTruncFloor(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprintf("rep3/n=%d/bound=40/m=16", n), func(b *testing.B) {
			acc := layerAcc(n, 40)
			benchParties(b, "rep3", n, func(p mpc.Protocol) (mpc.AShare, error) { return inputAcc(p, acc) },
				func(p mpc.Protocol, x mpc.AShare) error {
					_, err := mpc.TruncFloor(p, x, 16, 40)
					return err
				})
		})
	}
}

func BenchmarkArgmax(b *testing.B) {
	b.Run("rep3/groups=1/classes=1001/bound=8", func(b *testing.B) {
		x := layerAcc(1001, 8)
		benchParties(b, "rep3", 1001, func(p mpc.Protocol) (mpc.AShare, error) { return inputAcc(p, x) },
			func(p mpc.Protocol, x mpc.AShare) error {
				_, err := mpc.Argmax(p, x, 1001, 8)
				return err
			})
	})
}

func BenchmarkMaxGroups(b *testing.B) {
	b.Run("rep3/n=100000/k=9/bound=8", func(b *testing.B) {
		x := layerAcc(900_000, 8)
		benchParties(b, "rep3", 100_000, func(p mpc.Protocol) (mpc.AShare, error) { return inputAcc(p, x) },
			func(p mpc.Protocol, x mpc.AShare) error {
				_, err := mpc.MaxGroups(p, x, 9, 8)
				return err
			})
	})
}

// BenchmarkLookupTable: an 8-bit lookup (LookupTable with a random int8 table) on a share
// that no party holds in the clear (the sum of two parties' inputs).
func BenchmarkLookupTable(b *testing.B) {
	const n = 100_000
	r := rand.New(rand.NewPCG(3, 4))
	table := make([]uint64, 256)
	for i := range table {
		table[i] = uint64(int64(r.IntN(256) - 128))
	}
	x := make([]uint64, n)
	for i := range x {
		x[i] = uint64(int64(r.IntN(256) - 128))
	}
	for _, proto := range []string{"rep3", "semi2k"} {
		b.Run(fmt.Sprintf("%s/n=%d", proto, n), func(b *testing.B) {
			benchParties(b, proto, n, func(p mpc.Protocol) (mpc.AShare, error) {
				a, err := inputAcc(p, x)
				if err != nil {
					return nil, err
				}
				last := p.N() - 1
				var z []uint64
				if p.ID() == last {
					z = make([]uint64, n)
				}
				zs, err := p.Input(last, z, n)
				if err != nil {
					return nil, err
				}
				return p.Add(a, zs), nil
			}, func(p mpc.Protocol, x mpc.AShare) error {
				_, err := mpc.LookupTable(p, x, -128, table)
				return err
			})
		})
	}
}
