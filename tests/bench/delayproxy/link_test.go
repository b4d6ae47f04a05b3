package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// TestLinkCarriesBytesInOrder sends random data of several read sizes through the proxy
// to an echo server and back, then half-closes: the bytes come back equal and in order,
// and the end of the stream reaches the far side (the echo server's EOF) and returns.
func TestLinkCarriesBytesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		rate  float64
	}{{"unlimited", 0, 0}, {"delayed", time.Millisecond, 0}, {"rate", 0, 2000}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", startProxy(t, tc.delay, tc.rate))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			var sent bytes.Buffer
			got := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(c); got <- b }()
			for _, n := range []int{1, 100, segSize - 1, segSize, segSize + 1, readSize, 3*readSize + 7, 5} {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				sent.Write(b)
				if _, err := c.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			c.(*net.TCPConn).CloseWrite()
			select {
			case b := <-got:
				if !bytes.Equal(b, sent.Bytes()) {
					t.Fatalf("received %d bytes, want the %d sent (equal: %v)", len(b), sent.Len(), bytes.Equal(b[:min(len(b), sent.Len())], sent.Bytes()[:min(len(b), sent.Len())]))
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the stream did not end: the half-close was not forwarded")
			}
		})
	}
}

// startProxy runs the proxy in front of an echo server and returns the proxy's address.
func startProxy(tb testing.TB, delay time.Duration, rate float64) string {
	tb.Helper()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go serve(ln, echo.Addr().String(), delay, rate)
	return ln.Addr().String()
}

// pingPong sends size bytes through the proxy to the echo server and waits for them back.
func pingPong(tb testing.TB, c net.Conn, buf []byte) time.Duration {
	start := time.Now()
	if _, err := c.Write(buf); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkPingPong reports how far a round trip through the proxy to an echo server
// exceeds the emulated link's (40 ms RTT, 100 Mbit/s): the proxy's own latency (timer
// wakeups, copies), twice per round trip.
func BenchmarkPingPong(b *testing.B) {
	for _, tc := range []struct {
		name string
		size int
	}{{"64B", 64}, {"64KB", 64 << 10}, {"1MB", 1 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			const delay, rate = 20 * time.Millisecond, 100.0
			c, err := net.Dial("tcp", startProxy(b, delay, rate))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, tc.size)
			pingPong(b, c, buf) // connect
			// The echo overlaps the directions: the first segment returns while the rest
			// goes out, so the ideal is the RTT, the message's serialization once and its
			// first segment's once more.
			ser := func(n int) time.Duration { return time.Duration(float64(n*8) / (rate * 1e6) * float64(time.Second)) }
			ideal := 2*delay + ser(tc.size) + ser(min(tc.size, segSize))
			var over time.Duration
			b.ResetTimer()
			for range b.N {
				over += pingPong(b, c, buf) - ideal
			}
			b.ReportMetric(float64(over.Microseconds())/float64(b.N), "us-over-ideal/op")
		})
	}
}

// BenchmarkPingPongNoDelay is a round trip of 64 bytes through the proxy with no delay
// and no rate limit: the proxy's own cost per round trip (two one-way hops).
func BenchmarkPingPongNoDelay(b *testing.B) {
	c, err := net.Dial("tcp", startProxy(b, 0, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	pingPong(b, c, buf)
	b.ResetTimer()
	for range b.N {
		pingPong(b, c, buf)
	}
}

// BenchmarkBulk sends 4 MB through the proxy (40 ms RTT, 100 Mbit/s) to an echo server
// and reads it back; the echo overlaps the two directions, so the elapsed time less the
// round trip and one segment's serialization is the time to serialize 4 MB once. Reports
// the rate achieved (want 100 Mbit/s).
func BenchmarkBulk(b *testing.B) {
	const delay, rate, size = 20 * time.Millisecond, 100.0, 4 << 20
	c, err := net.Dial("tcp", startProxy(b, delay, rate))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pingPong(b, c, make([]byte, 1))
	buf := make([]byte, size)
	seg := time.Duration(float64(segSize*8) / (rate * 1e6) * float64(time.Second))
	var busy time.Duration
	b.ResetTimer()
	for range b.N {
		busy += pingPong(b, c, buf) - 2*delay - seg
	}
	b.ReportMetric(float64(size*8*b.N)/busy.Seconds()/1e6, "Mbit/s")
}
