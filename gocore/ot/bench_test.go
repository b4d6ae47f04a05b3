package ot

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/ring128"
)

// benchPair returns two sessions and their conns (for byte counts).
func benchPair(b *testing.B) (*Session, *Session, []net.Conn) {
	c := net.NewPipes(2)
	s0, s1 := sessions(b, c[0], c[1])
	return s0, s1, c
}

// report adds per-item rates, the CPU time of both parties together per item (robust to
// other load on the machine) and the bytes each party sent per item (the larger of the two
// parties) since before.
func report(b *testing.B, c []net.Conn, before snapshot, items int, unit string) {
	total := float64(items) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(float64(cpuTime()-before.cpu)/total, "cpu-ns/"+unit)
	sent := max(c[0].Stats().Sub(before.net[0]).BytesSent, c[1].Stats().Sub(before.net[1]).BytesSent)
	b.ReportMetric(float64(sent)/total, "B/"+unit)
	b.ReportMetric(0, "ns/op")
}

// snapshot is the traffic of both parties and the process's CPU time at one moment.
type snapshot struct {
	net [2]net.Stats
	cpu time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func stats(c []net.Conn) snapshot {
	return snapshot{[2]net.Stats{c[0].Stats(), c[1].Stats()}, cpuTime()}
}

func BenchmarkOT(b *testing.B) {
	const n = 1 << 20
	b.Run("n=1M", func(b *testing.B) {
		s0, s1, c := benchPair(b)
		before := stats(c)
		b.ResetTimer()
		for range b.N {
			run2(b, func() error { _, _, err := s0.SendRandomOT(n); return err },
				func() error { _, _, err := s1.RecvRandomOT(n); return err })
		}
		report(b, c, before, n, "OT")
	})
}

func BenchmarkCOT(b *testing.B) {
	const n = 1 << 20
	b.Run("n=1M/l=1/bits=64", func(b *testing.B) {
		s0, s1, c := benchPair(b)
		delta := make([]uint64, n)
		choice := make([]uint64, words(n))
		before := stats(c)
		b.ResetTimer()
		for range b.N {
			run2(b, func() error { _, err := s0.SendCOT(delta, 1, 64); return err },
				func() error { _, err := s1.RecvCOT(choice, n, 1, 64); return err })
		}
		report(b, c, before, n, "OT")
	})
}

func BenchmarkANDTriples(b *testing.B) {
	const n = 1 << 20
	s0, s1, c := benchPair(b)
	before := stats(c)
	b.ResetTimer()
	for range b.N {
		run2(b, func() error { _, _, _, err := s0.ANDTriples(n); return err },
			func() error { _, _, _, err := s1.ANDTriples(n); return err })
	}
	report(b, c, before, n, "triple")
}

func BenchmarkBeaverTriples(b *testing.B) {
	const n = 1 << 14
	s0, s1, c := benchPair(b)
	before := stats(c)
	b.ResetTimer()
	for range b.N {
		run2(b, func() error { _, _, _, err := s0.BeaverTriples(n); return err },
			func() error { _, _, _, err := s1.BeaverTriples(n); return err })
	}
	report(b, c, before, n, "triple")
}

func BenchmarkGilboa(b *testing.B) {
	const m, k, n, bw = 64, 576, 256, 8
	b.Run("m=64/k=576/n=256/bits=8", func(b *testing.B) {
		s0, s1, c := benchPair(b)
		w := make([]int64, m*k)
		x := make([]uint64, k*n)
		before := stats(c)
		b.ResetTimer()
		for range b.N {
			run2(b, func() error { _, err := s0.ProductW(w, m, k, n, bw); return err },
				func() error { _, err := s1.ProductX(x, m, k, n, bw); return err })
		}
		report(b, c, before, m*k*bw, "OT")
		b.ReportMetric(float64(c[1].Stats().Sub(before.net[1]).BytesSent)/float64(b.N)/1e6, "MB-B/op")
		b.ReportMetric(float64(c[0].Stats().Sub(before.net[0]).BytesSent)/float64(b.N)/1e6, "MB-A/op")
	})
}

func BenchmarkBaseOT(b *testing.B) {
	for range b.N {
		c := net.NewPipes(2)
		sessions(b, c[0], c[1])
	}
}

// BenchmarkSoftSpoken compares the SoftSpoken parameter k (k = 1 is IKNP) on 1M random OTs
// and 1M AND triples.
func BenchmarkSoftSpoken(b *testing.B) {
	const n = 1 << 20
	for _, k := range []int{1, 2, 4, 8} {
		setup := func(b *testing.B) (*Session, *Session, []net.Conn) {
			c := net.NewPipes(2)
			var s0, s1 *Session
			run2(b, func() (err error) { s0, err = NewSessionK(c[0], 1, seeded(1), k); return },
				func() (err error) { s1, err = NewSessionK(c[1], 0, seeded(2), k); return })
			return s0, s1, c
		}
		b.Run(fmt.Sprintf("k=%d/ROT", k), func(b *testing.B) {
			s0, s1, c := setup(b)
			before := stats(c)
			b.ResetTimer()
			for range b.N {
				run2(b, func() error { _, _, err := s0.SendRandomOT(n); return err },
					func() error { _, _, err := s1.RecvRandomOT(n); return err })
			}
			report(b, c, before, n, "OT")
		})
		b.Run(fmt.Sprintf("k=%d/AND", k), func(b *testing.B) {
			s0, s1, c := setup(b)
			before := stats(c)
			b.ResetTimer()
			for range b.N {
				run2(b, func() error { _, _, _, err := s0.ANDTriples(n); return err },
					func() error { _, _, _, err := s1.ANDTriples(n); return err })
			}
			report(b, c, before, n, "triple")
		})
	}
}

// BenchmarkMalicious compares the malicious extension (KOS check, NewSessionMalicious) with
// the semi-honest one on 1M random OTs and 1M correlated OTs (one word at 64 bits), for
// SoftSpoken k = 1 and 4.
func BenchmarkMalicious(b *testing.B) {
	const n = 1 << 20
	for _, k := range []int{1, 4} {
		for _, mal := range []bool{false, true} {
			mode := "semi-honest"
			if mal {
				mode = "malicious"
			}
			setup := func(b *testing.B) (*Session, *Session, []net.Conn) {
				c := net.NewPipes(2)
				var s0, s1 *Session
				run2(b, func() (err error) { s0, err = newSession(c[0], 1, seeded(1), k, mal); return },
					func() (err error) { s1, err = newSession(c[1], 0, seeded(2), k, mal); return })
				return s0, s1, c
			}
			b.Run(fmt.Sprintf("k=%d/%s/ROT", k, mode), func(b *testing.B) {
				s0, s1, c := setup(b)
				before := stats(c)
				b.ResetTimer()
				for range b.N {
					run2(b, func() error { _, _, err := s0.SendRandomOT(n); return err },
						func() error { _, _, err := s1.RecvRandomOT(n); return err })
				}
				report(b, c, before, n, "OT")
			})
			b.Run(fmt.Sprintf("k=%d/%s/COT", k, mode), func(b *testing.B) {
				s0, s1, c := setup(b)
				delta := make([]uint64, n)
				choice := make([]uint64, words(n))
				before := stats(c)
				b.ResetTimer()
				for range b.N {
					run2(b, func() error { _, err := s0.SendCOT(delta, 1, 64); return err },
						func() error { _, err := s1.RecvCOT(choice, n, 1, 64); return err })
				}
				report(b, c, before, n, "OT")
			})
		}
	}
}

// BenchmarkGilboa128 is the one-sided product over Z_2^128 with nx = 2 matrices (spdz2k's
// mask and MAC mask) sharing the OTs: W [16 x 576] (8-bit) times X, X' [576 x 64], on
// semi-honest and malicious sessions. Items are OTs (each carries 2 x 64 elements).
func BenchmarkGilboa128(b *testing.B) {
	const m, k, n, bw, nx = 16, 576, 64, 8, 2
	for _, mal := range []bool{false, true} {
		b.Run(fmt.Sprintf("m=%d/k=%d/n=%d/bits=%d/nx=%d/malicious=%v", m, k, n, bw, nx, mal), func(b *testing.B) {
			c := net.NewPipes(2)
			var s0, s1 *Session
			run2(b, func() (err error) { s0, err = newSession(c[0], 1, seeded(1), DefaultK, mal); return },
				func() (err error) { s1, err = newSession(c[1], 0, seeded(2), DefaultK, mal); return })
			w := make([]int64, m*k)
			for i := range w {
				w[i] = int64(i%255) - 127
			}
			xs := []ring128.Vec{ring128.Make(k * n), ring128.Make(k * n)}
			before := stats(c)
			b.ResetTimer()
			for range b.N {
				run2(b, func() error { _, err := s0.ProductW128(w, m, k, n, bw, nx); return err },
					func() error { _, err := s1.ProductX128(xs, m, k, n, bw); return err })
			}
			report(b, c, before, m*k*bw, "OT")
		})
	}
}

// BenchmarkVOLE128 is n = 16K products of 128-bit scalars by single 128-bit elements (l = 1,
// nbits = 128): the cross term of a Beaver triple over Z_2^128, 128 correlated OTs each.
func BenchmarkVOLE128(b *testing.B) {
	const n = 1 << 14
	for _, mal := range []bool{false, true} {
		b.Run(fmt.Sprintf("n=16K/l=1/nbits=128/malicious=%v", mal), func(b *testing.B) {
			c := net.NewPipes(2)
			var s0, s1 *Session
			run2(b, func() (err error) { s0, err = newSession(c[0], 1, seeded(1), DefaultK, mal); return },
				func() (err error) { s1, err = newSession(c[1], 0, seeded(2), DefaultK, mal); return })
			a := ring128.Make(n)
			x := ring128.Make(n)
			before := stats(c)
			b.ResetTimer()
			for range b.N {
				run2(b, func() error { _, err := s0.VOLEW128(a, 1, 128); return err },
					func() error { _, err := s1.VOLEX128(x, 1, 128); return err })
			}
			report(b, c, before, n, "product")
		})
	}
}

// BenchmarkKOSCheck times the pieces of the malicious extension's check on 1M rows: the
// Fiat-Shamir seed over a k = 4 message (4 bytes per row), the receiver's two GHASH passes
// (kosProve) and the sender's one (kosVerify).
func BenchmarkKOSCheck(b *testing.B) {
	const n = 1 << 20
	rows := make([]Block, n)
	x := make([]uint64, words(n))
	msg := make([]byte, 4*n)
	var sid [32]byte
	b.Run("seed", func(b *testing.B) {
		for range b.N {
			kosSeed(sid, 0, n, msg)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	b.Run("prove", func(b *testing.B) {
		for range b.N {
			kosProve(sid, rows, x)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	b.Run("verify", func(b *testing.B) {
		chk := make([]byte, 32)
		for range b.N {
			kosVerify(sid, rows, Block{}, chk)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
}

// BenchmarkColsToRows: the extension's transpose of one tile (128 columns of tileWords
// words), per row, on the default path (AVX2 where available) and the portable one.
func BenchmarkColsToRows(b *testing.B) {
	cols := make([]uint64, Kappa*tileStride)
	for i := range cols {
		cols[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	rows := make([]Block, 64*tileWords)
	has := hasAVX2
	defer func() { hasAVX2 = has }()
	for _, avx := range []bool{has, false} {
		name := "portable"
		if avx {
			name = "avx2"
		}
		b.Run(name, func(b *testing.B) {
			hasAVX2 = avx
			before := cpuTime()
			for b.Loop() {
				colsToRows(rows, cols, tileWords, tileStride)
			}
			b.ReportMetric(float64(cpuTime()-before)/float64(b.N*len(rows)), "cpu-ns/row")
		})
	}
}

// BenchmarkDeltaCOT is one batch of 2^20 Delta-COTs (SendDeltaCOT/RecvDeltaCOT) at the
// default SoftSpoken k, semi-honest and malicious (KOS check): the OT extension TinyOT's
// AND triples and authenticated bits run on. cpu-ns/COT counts both parties.
func BenchmarkDeltaCOT(b *testing.B) {
	const n = 1 << 20
	for _, mal := range []bool{false, true} {
		b.Run(fmt.Sprintf("n=1M/malicious=%v", mal), func(b *testing.B) {
			c := net.NewPipes(2)
			var s0, s1 *Session
			run2(b, func() (err error) { s0, err = newSession(c[0], 1, seeded(1), DefaultK, mal); return },
				func() (err error) { s1, err = newSession(c[1], 0, seeded(2), DefaultK, mal); return })
			choice := make([]uint64, words(n))
			for i := range choice {
				choice[i] = uint64(i) * 0x9e3779b97f4a7c15
			}
			before := stats(c)
			b.ResetTimer()
			for range b.N {
				run2(b, func() error { _, err := s0.SendDeltaCOT(n); return err },
					func() error { _, err := s1.RecvDeltaCOT(choice, n); return err })
			}
			report(b, c, before, n, "COT")
		})
	}
}

// BenchmarkStreamSums: one block's sixteen streams summed by the k = 4 kernels over a
// tile (tileWords words), per AES block of the streams (16 per counter block).
func BenchmarkStreamSums(b *testing.B) {
	if !hasAESNI {
		b.Skip("no AES-NI")
	}
	leaves := [][][16]byte{make([][16]byte, 16)}
	for x := range leaves[0] {
		leaves[0][x][0] = byte(x + 1)
	}
	has := hasVAES
	defer func() { hasVAES = has }()
	for _, vaes := range []bool{false, true} {
		if vaes && !has {
			continue
		}
		b.Run(fmt.Sprintf("vaes=%v", vaes), func(b *testing.B) {
			hasVAES = vaes
			a := newAESStreams(leaves, []int{-1})
			cols, u := make([]uint64, 4*tileStride), make([]uint64, tileWords)
			before := cpuTime()
			for b.Loop() {
				a.sums(0, cols, tileWords, tileStride, u)
				a.next(tileWords)
			}
			b.ReportMetric(float64(cpuTime()-before)/float64(b.N*16*tileWords/2), "cpu-ns/AES-block")
		})
	}
}
