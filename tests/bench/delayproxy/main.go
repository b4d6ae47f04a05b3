// Command delayproxy forwards TCP connections with an emulated link: a one-way delay and a
// bandwidth limit per direction. It stands in for `tc netem` where the kernel lacks
// sch_netem (tests/bench/netem.sh uses it then). Loopback use only.
//
//	delayproxy -delay 20ms -rate 100 -map 127.0.0.1:7200=127.0.0.1:7100 [-map ...]
//
// Each direction of each connection is a FIFO link: a chunk read at time t leaves after
// the previous chunk has been serialized at -rate Mbit/s and arrives -delay later.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type maps []string

func (m *maps) String() string     { return strings.Join(*m, ",") }
func (m *maps) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	var m maps
	delay := flag.Duration("delay", 0, "one-way delay per direction")
	rate := flag.Float64("rate", 0, "bandwidth per direction in Mbit/s (0: unlimited)")
	flag.Var(&m, "map", "listen=target (repeatable)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file (until SIGTERM)")
	flag.Parse()
	if len(m) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, s := range m {
		listen, target, ok := strings.Cut(s, "=")
		if !ok {
			log.Fatalf("-map %q: want listen=target", s)
		}
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			log.Fatal(err)
		}
		go serve(ln, target, *delay, *rate)
	}
	fmt.Println("delayproxy ready")
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Printf("delayproxy: %d bytes in %d reads, %d writes\n", nBytes.Load(), nReads.Load(), nWrites.Load())
}

func serve(ln net.Listener, target string, delay time.Duration, rate float64) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			t, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				c.Close()
				return
			}
			go link(c, t, delay, rate)
			go link(t, c, delay, rate)
		}()
	}
}

// Emulation units. A read of up to readSize bytes is cut into segments of at most segSize
// bytes, each with its own delivery time, exactly as if the segments had been read one
// after the other at the same instant: the segment is the link's unit of store and forward
// (as the reads of at most 32 KiB were before the reads grew).
const (
	readSize = 256 << 10
	segSize  = 32 << 10
	// smallRead: reads up to this size are copied out of the pooled buffer, so that the
	// buffers in flight (one per read, held for the link's delay) stay few.
	smallRead = 16 << 10
)

// segment is bytes of one read that arrive at the far end at time at.
type segment struct {
	at   time.Time
	data []byte
	buf  *[]byte // the pooled read buffer data lies in (or nil), returned by its last segment
	last bool
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, readSize); return &b }}

// Counters over all links, printed at exit (the proxy's own work: reads, writes, bytes).
var nReads, nWrites, nBytes atomic.Int64

// link copies src to dst through an emulated link and closes dst's write side at EOF.
//
// The reader timestamps what it reads: a segment of n bytes read at time t starts on the
// emulated wire when the wire is free (max(t, end of the previous segment)), occupies it
// for n*8/rate, and arrives delay after its last bit is on the wire. The writer sleeps
// until the first queued segment is due, then writes every segment due by then in one
// writev (FIFO order is the queue's order), so a wakeup carries all bytes that have
// arrived instead of one chunk each.
func link(src, dst net.Conn, delay time.Duration, rate float64) {
	q := make(chan segment, 8192)
	go func() {
		defer close(q)
		var free time.Time // when the emulated wire is free again
		for {
			bp := bufPool.Get().(*[]byte)
			n, err := src.Read(*bp)
			nReads.Add(1)
			nBytes.Add(int64(n))
			data := (*bp)[:n]
			if n <= smallRead {
				// A small read (most messages): its own buffer, the pool's back at once.
				data = append([]byte(nil), data...)
				bufPool.Put(bp)
				bp = nil
			}
			if n > 0 {
				now := time.Now()
				for off := 0; off < n; off += segSize {
					end := min(off+segSize, n)
					start := now
					if free.After(now) {
						start = free
					}
					if rate > 0 {
						free = start.Add(time.Duration(float64((end-off)*8) / (rate * 1e6) * float64(time.Second)))
					} else {
						free = start
					}
					q <- segment{at: free.Add(delay), data: data[off:end], buf: bp, last: end == n}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var batch []segment
	var iov net.Buffers
	failed := false
	for s := range q {
		if failed {
			release(s)
			continue
		}
		sleepUntil(s.at, len(q) == 0)
		batch = append(batch[:0], s)
		// Every further queued segment that is due by now leaves in the same write.
		var held *segment
	gather:
		for {
			select {
			case t, ok := <-q:
				if !ok {
					break gather
				}
				if t.at.After(time.Now()) {
					held = &t
					break gather
				}
				batch = append(batch, t)
			default:
				break gather
			}
		}
		iov = iov[:0]
		for _, b := range batch {
			iov = append(iov, b.data)
		}
		w := iov // WriteTo consumes its receiver
		nWrites.Add(1)
		if _, err := w.WriteTo(dst); err != nil {
			src.Close()
			dst.Close()
			failed = true // let the reader finish: drain the queue
		}
		for _, b := range batch {
			release(b)
		}
		for held != nil {
			// A segment not yet due: wait for it, then carry on gathering behind it.
			h := *held
			held = nil
			if failed {
				release(h)
				break
			}
			sleepUntil(h.at, len(q) == 0)
			nWrites.Add(1)
			if _, err := dst.Write(h.data); err != nil {
				src.Close()
				dst.Close()
				failed = true
			}
			release(h)
		}
	}
	if failed {
		return
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

func release(s segment) {
	if s.last && s.buf != nil {
		bufPool.Put(s.buf)
	}
}

// sleepUntil returns at t (or at once if t has passed). The Go runtime's timers wake up
// to a millisecond late (its network poller waits in whole milliseconds), which would add
// up to a millisecond to every one-way hop; if precise, the last 2 ms are a nanosleep on
// this goroutine's thread instead, within about the kernel's timer slack (50 us). The
// writer asks for precision only for the last queued segment: an earlier segment that
// leaves late delays nothing behind it (its successor is due at least one segment's
// serialization later, 2.6 ms at 100 Mbit/s), and the nanosleep costs a thread handoff.
func sleepUntil(t time.Time, precise bool) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	if !precise {
		time.Sleep(d)
		return
	}
	if d > 2*time.Millisecond {
		time.Sleep(d - 2*time.Millisecond)
		d = time.Until(t)
	}
	if d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
	}
}
