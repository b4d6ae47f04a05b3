package tinyot

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ot"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTriples: authenticated AND triples, both parties in one process over pipes,
// one batch of n per iteration on one pair of parties for all of a size's runs (as
// spdz2k makes its batches: a Party keeps its batch buffers, so every batch after the
// first reuses them; the first run, b.N = 1, pays their page faults). n = 2^21 is
// near spdz2k's batches for MobileNetV1 0.25_128 (2.3 M). Metrics: triples per second
// (wall clock), CPU time of both parties together per triple, bytes sent per triple (the
// larger party; the two differ only by the seed messages), TriplesBytes' prediction and
// the bucket size.
func BenchmarkTriples(b *testing.B) {
	for _, n := range []int{1 << 16, 1 << 20, 1 << 21} {
		var ps [2]*Party
		var conns []net.Conn
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			if ps[0] == nil {
				ps, conns = pair(b)
			}
			benchTriples(b, ps, conns, n, ot.DefaultK)
		})
	}
}

// BenchmarkTriplesSoftSpoken: BenchmarkTriples for 2^20 triples on malicious OT sessions
// with SoftSpoken parameter k (ot.NewSessionMalicious accepts 1, 2, 4, 8): the trade of
// OT extension bytes against its CPU (k = 4 is the default, 8 is for comparison).
func BenchmarkTriplesSoftSpoken(b *testing.B) {
	for _, k := range []int{4, 8} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			conns := net.NewPipes(2)
			ps, e0, e1 := newPartiesK(conns, k)
			if e0 != nil || e1 != nil {
				b.Fatalf("setup: %v; %v", e0, e1)
			}
			benchTriples(b, ps, conns, 1<<20, k)
		})
	}
}

// benchTriples runs Triples(n) in batches of n b.N times on the parties ps (over conns,
// OT sessions with SoftSpoken parameter k) and reports BenchmarkTriples' metrics.
func benchTriples(b *testing.B, ps [2]*Party, conns []net.Conn, n, k int) {
	ps[0].Batch, ps[1].Batch = n, n
	s0, s1 := conns[0].Stats(), conns[1].Stats()
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		must2(b, conns, func() error { _, _, _, err := ps[0].Triples(n); return err },
			func() error { _, _, _, err := ps[1].Triples(n); return err })
	}
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "triples/s")
	b.ReportMetric(float64(cpuTime()-cpu)/total, "cpu-ns/triple")
	sent := max(conns[0].Stats().Sub(s0).BytesSent, conns[1].Stats().Sub(s1).BytesSent)
	b.ReportMetric(float64(sent)/total, "B/triple")
	b.ReportMetric(float64(TriplesBytes(n, n, 0, k, true))/float64(n), "predicted-B/triple")
	b.ReportMetric(float64(BucketSize(n, 1)), "bucket")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkOpenCheck: opening n bits and checking their MACs (the online cost per opened
// bit).
func BenchmarkOpenCheck(b *testing.B) {
	const n = 1 << 20
	ps, conns := pair(b)
	var x [2]Bits
	must2(b, conns, func() (err error) { x[0], err = ps[0].Random(n); return },
		func() (err error) { x[1], err = ps[1].Random(n); return })
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		must2(b, conns, func() error {
			if _, err := ps[0].Open(x[0]); err != nil {
				return err
			}
			return ps[0].Check()
		}, func() error {
			if _, err := ps[1].Open(x[1]); err != nil {
				return err
			}
			return ps[1].Check()
		})
	}
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "bits/s")
	b.ReportMetric(float64(cpuTime()-cpu)/total, "cpu-ns/bit")
	b.ReportMetric(0, "ns/op")
}
