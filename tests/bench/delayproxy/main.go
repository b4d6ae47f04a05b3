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
	"strings"
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
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
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

type chunk struct {
	at   time.Time // delivery time
	data []byte
}

// link copies src to dst through an emulated link and closes dst's write side at EOF.
func link(src, dst net.Conn, delay time.Duration, rate float64) {
	q := make(chan chunk, 4096)
	go func() {
		defer close(q)
		var free time.Time // when the emulated wire is free again
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				now := time.Now()
				start := now
				if free.After(now) {
					start = free
				}
				if rate > 0 {
					free = start.Add(time.Duration(float64(n*8) / (rate * 1e6) * float64(time.Second)))
				} else {
					free = start
				}
				q <- chunk{free.Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if d := time.Until(c.at); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			src.Close()
			dst.Close()
			for range q { // let the reader finish
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}
