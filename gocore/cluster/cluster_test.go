package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/net/freeport"
)

// sumComp is a test computation: the client deals additive shares of a vector; each
// party sends its share to all others (rounds times, sleeping delay before each round)
// and returns the sum, which must equal the client's vector.
type sumComp struct {
	id      int
	conn    net.Conn
	rounds  int
	delay   time.Duration
	stall   func(id int) bool // if true, this party hangs in Run until release is closed
	release chan struct{}
	// hook, if set, runs at the start of every Run, given the number of elements (which
	// the client chooses, unlike its shares).
	hook func(id int, elements int) error
	// slow, if not 0, makes requests of this many elements take 2000 rounds; then
	// slowEnded, if set, receives when they return.
	slow      int
	slowEnded chan struct{}
}

func (c *sumComp) Start(conn net.Conn) error { return nil }
func (c *sumComp) Info() ([]byte, error)     { return []byte(`{"what":"sum"}`), nil }

// Lane returns the computation on one lane: a copy of c on its own channel.
func (c *sumComp) Lane(conn net.Conn) (Lane, error) {
	l := *c
	l.conn = conn
	return &l, nil
}

func (c *sumComp) Close() {}

func (c *sumComp) Run(in []byte) ([]byte, json.RawMessage, error) {
	if c.stall != nil && c.stall(c.id) {
		<-c.release
	}
	if c.hook != nil {
		if err := c.hook(c.id, len(in)/8); err != nil {
			return nil, nil, err
		}
	}
	sum := u64s(in)
	rounds, delay := c.rounds, c.delay
	if c.slow > 0 && len(in)/8 == c.slow {
		rounds, delay = 2000, 10*time.Millisecond // 20 s unless the lane ends
		if c.slowEnded != nil {
			defer func() { c.slowEnded <- struct{}{} }()
		}
	}
	for r := 0; r < rounds; r++ {
		time.Sleep(delay)
		for j := range c.conn.N() {
			if j != c.id {
				c.conn.Send(j, in)
			}
		}
		for j := range c.conn.N() {
			if j != c.id {
				b, err := c.conn.Recv(j)
				if err != nil {
					return nil, nil, fmt.Errorf("round %d: %w", r, err)
				}
				if r == 0 {
					for i, v := range u64s(b) {
						sum[i] += v
					}
				}
			}
		}
	}
	st, _ := json.Marshal(c.conn.Stats())
	return bytesOf(sum), st, nil
}

func u64s(b []byte) []uint64 {
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}

func bytesOf(v []uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

func deal(v []uint64, n int) [][]byte {
	shares := make([][]uint64, n)
	last := append([]uint64(nil), v...)
	for j := 0; j < n-1; j++ {
		r := make([]byte, 8*len(v))
		rand.Read(r)
		shares[j] = u64s(r)
		for i := range last {
			last[i] -= shares[j][i]
		}
	}
	shares[n-1] = last
	out := make([][]byte, n)
	for j := range out {
		out[j] = bytesOf(shares[j])
	}
	return out
}

type testCluster struct {
	t         *testing.T
	cfg       *Config
	path      string
	comp      func(id int) *sumComp
	keys      []string // per party: its private key (default: the config's)
	clientKey string
	cancels   []context.CancelFunc
	done      []chan error
}

func newTestCluster(t *testing.T, n int, step time.Duration, comp func(id int) *sumComp) *testCluster {
	return newTestClusterWith(t, n, step, nil, comp)
}

// testConfig writes a cluster config of n parties on free loopback ports.
func testConfig(t *testing.T, n int, step time.Duration) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	path, err := Generate(dir, CertOptions{Parties: n, Protocol: "plain", Timeouts: Timeouts{Step: Duration(step), Connect: Duration(10 * time.Second), Handshake: Duration(2 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Parties {
		cfg.Parties[i].Address = freeAddr(t)
	}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	if cfg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// freeAddr is a loopback address outside the ephemeral port range (see package freeport:
// a port from "127.0.0.1:0" can be taken by another test's outgoing connection before the
// party listens on it).
func freeAddr(t *testing.T) string { return freeport.Must(t) }

func quietLogger() *slog.Logger {
	if os.Getenv("QMPC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (tc *testCluster) start(i int) {
	tc.t.Helper()
	var p *Party
	var err error
	for try := 0; try < 50; try++ { // the port of a stopped party may take a moment to free
		key := ""
		if i < len(tc.keys) {
			key = tc.keys[i]
		}
		p, err = NewParty(PartyOptions{Config: tc.cfg, ID: i, KeyPath: key, Logger: quietLogger(),
			Computation: func(id int) (Computation, error) { return tc.comp(id), nil }})
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		tc.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tc.cancels[i] = cancel
	done := make(chan error, 1)
	tc.done[i] = done
	go func() { done <- p.Run(ctx) }()
}

func (tc *testCluster) stop(i int) {
	if tc.cancels[i] != nil {
		tc.cancels[i]()
		<-tc.done[i]
		tc.cancels[i] = nil
	}
}

func (tc *testCluster) infer(v []uint64) ([]uint64, error) {
	c, err := NewClient(tc.cfg, tc.clientKey)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	s, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if _, err := s.Info(ctx); err != nil {
		return nil, err
	}
	outs, _, err := s.Run(ctx, deal(v, tc.cfg.N()))
	if err != nil {
		return nil, err
	}
	for j, o := range outs {
		got := u64s(o)
		for i := range v {
			if got[i] != v[i] {
				return nil, fmt.Errorf("party %d returned %v, want %v", j, got, v)
			}
		}
	}
	return u64s(outs[0]), nil
}

// newTestClusterWith is newTestCluster with the config changed by edit before the parties start.
func newTestClusterWith(t *testing.T, n int, step time.Duration, edit func(*Config), comp func(id int) *sumComp) *testCluster {
	t.Helper()
	tc := &testCluster{t: t}
	tc.cfg, tc.path = testConfig(t, n, step)
	if edit != nil {
		edit(tc.cfg)
		if err := tc.cfg.Save(tc.path); err != nil {
			t.Fatal(err)
		}
		var err error
		if tc.cfg, err = Load(tc.path); err != nil {
			t.Fatal(err)
		}
	}
	tc.comp, tc.cancels, tc.done = comp, make([]context.CancelFunc, n), make([]chan error, n)
	for i := range n {
		tc.start(i)
	}
	t.Cleanup(func() {
		for i := range n {
			tc.stop(i)
		}
	})
	return tc
}

// inferMany runs one request per vector at the same time, each from its own client.
func (tc *testCluster) inferMany(vs [][]uint64) []error {
	errl := make([]error, len(vs))
	var wg sync.WaitGroup
	for k, v := range vs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errl[k] = tc.infer(v)
		}()
	}
	wg.Wait()
	return errl
}

// barrier returns a hook that makes party 0's Run of its first want requests wait until
// all of them run at the same time (or fail after a generous bound: then they did not).
func barrier(want int) func(id, elements int) error {
	hook, _ := barrierDone(want)
	return hook
}

// barrierDone is barrier, also returning the channel closed when all want run.
func barrierDone(want int) (func(id, elements int) error, chan struct{}) {
	var mu sync.Mutex
	in := 0
	all := make(chan struct{})
	return func(id, elements int) error {
		if id != 0 {
			return nil
		}
		mu.Lock()
		if in >= want {
			mu.Unlock()
			return nil
		}
		if in++; in == want {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-time.After(20 * time.Second):
			return fmt.Errorf("%d requests did not run at the same time", want)
		}
	}, all
}

// Several clients are served at the same time, each on its own lane: party 0 holds every
// request until all of them are running.
func TestClusterServesConcurrentSessions(t *testing.T) {
	hook := barrier(3)
	tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxSessions = 3 },
		func(id int) *sumComp { return &sumComp{id: id, rounds: 3, hook: hook} })
	vs := [][]uint64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	for k, err := range tc.inferMany(vs) {
		if err != nil {
			t.Errorf("client %d: %v", k, err)
		}
	}
	// The lanes stay open for the next requests.
	for k, err := range tc.inferMany([][]uint64{{1}, {2}, {3}, {4}, {5}, {6}}[:3]) {
		if err != nil {
			t.Errorf("second round, client %d: %v", k, err)
		}
	}
}

// Beyond max_sessions requests in flight, the leader refuses at once with a busy error
// naming the bound; once a session is free again, requests are served.
func TestClusterRefusesBeyondMaxSessions(t *testing.T) {
	hold := make(chan struct{})
	var running sync.WaitGroup
	running.Add(2)
	tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxSessions = 2 },
		func(id int) *sumComp {
			return &sumComp{id: id, rounds: 1, hook: func(id, elements int) error {
				if id == 0 && elements == 2 {
					running.Done()
					<-hold
				}
				return nil
			}}
		})
	errc := make(chan []error, 1)
	go func() { errc <- tc.inferMany([][]uint64{{1, 2}, {3, 4}}) }()
	running.Wait() // both sessions serve a request
	_, err := tc.infer([]uint64{5})
	if errs.KindOf(err) != errs.Busy || !strings.Contains(err.Error(), "maximum of 2 concurrent sessions") || !strings.Contains(err.Error(), "max_sessions") {
		t.Errorf("third request: got %v, want a busy error naming the bound", err)
	}
	close(hold)
	for k, err := range <-errc {
		if err != nil {
			t.Errorf("held request %d: %v", k, err)
		}
	}
	if _, err := tc.infer([]uint64{6}); err != nil {
		t.Errorf("after the sessions ended: %v", err)
	}
}

// A request that fails on one party ends its own lane on every party; the request on
// another lane at the same time, and later ones, are served.
func TestClusterFailedSessionSparesOthers(t *testing.T) {
	hook, both := barrierDone(2)
	tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxSessions = 2 },
		func(id int) *sumComp {
			return &sumComp{id: id, rounds: 5, hook: func(id, elements int) error {
				if err := hook(id, elements); err != nil {
					return err
				}
				if id == 2 && elements == 2 {
					<-both // fails once both requests run at party 0
					return fmt.Errorf("party 2 cannot do this request")
				}
				return nil
			}}
		})
	errl := tc.inferMany([][]uint64{{1, 2}, {3, 4, 5}})
	if errl[0] == nil || !strings.Contains(errl[0].Error(), "party 2 cannot do this request") {
		t.Errorf("failing request: got %v", errl[0])
	}
	if errl[1] != nil {
		t.Errorf("the other session: %v", errl[1])
	}
	for k, err := range tc.inferMany([][]uint64{{7, 8, 9}, {1, 1, 1}}) {
		if err != nil {
			t.Errorf("afterwards, client %d: %v", k, err)
		}
	}
}

// A client that disconnects during its request ends that request's lane on every party
// at once (not after its 20 s or a step timeout); another client's request at the same time
// is served, and both sessions are free again right after.
func TestClusterClientLeavesMidRequest(t *testing.T) {
	started, ended := make(chan struct{}, 3), make(chan struct{}, 3)
	tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxSessions = 2 },
		func(id int) *sumComp {
			return &sumComp{id: id, rounds: 1, slow: 4, slowEnded: ended, hook: func(id, elements int) error {
				if elements == 4 {
					started <- struct{}{}
				}
				return nil
			}}
		})
	c, err := NewClient(tc.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, _, err := s.Run(ctx, deal([]uint64{1, 2, 3, 4}, 3)); errc <- err }()
	for range 3 {
		<-started
	}
	if _, err := tc.infer([]uint64{9, 9}); err != nil {
		t.Errorf("the other client, while the first one's request runs: %v", err)
	}
	cancel()
	s.Close()
	<-errc
	// Every party's slow Run returns at once (its lane ended), not after its 20 s.
	for range 3 {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatal("the request of the client that left still runs")
		}
	}
	for k, err := range tc.inferMany([][]uint64{{1}, {2}}) {
		if err != nil {
			t.Errorf("afterwards, client %d: %v", k, err)
		}
	}
}

func TestClusterServesManyRequests(t *testing.T) {
	tc := newTestCluster(t, 3, 2*time.Second, func(id int) *sumComp { return &sumComp{id: id, rounds: 2} })
	for k := range 5 {
		v := []uint64{uint64(k), 7, 1 << 63}
		if _, err := tc.infer(v); err != nil {
			t.Fatalf("request %d: %v", k, err)
		}
	}
}

// faultSlack is what the tests allow beyond the documented bound (one step timeout) for
// passing an error on and for scheduling.
const faultSlack = time.Second

// Party 2 shuts down (in process: it aborts its links) during an inference of 20 rounds;
// the real faults (SIGKILL, SIGSTOP, a hang, at a chosen layer, in separate processes) are
// tested in gocore/cmd/qmpc (TestProcessesFaultMidInference).
func TestClusterPartyDiesMidInferenceAndComesBack(t *testing.T) {
	const step = time.Second
	tc := newTestCluster(t, 3, step, func(id int) *sumComp { return &sumComp{id: id, rounds: 20, delay: 20 * time.Millisecond} })
	if _, err := tc.infer([]uint64{1}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	start := time.Now()
	go func() { _, err := tc.infer([]uint64{2}); errc <- err }()
	time.Sleep(150 * time.Millisecond)
	tc.stop(2)
	err := <-errc
	if err == nil {
		t.Fatal("inference succeeded without party 2")
	}
	if d := time.Since(start); d > 150*time.Millisecond+step+faultSlack {
		t.Errorf("failure took %v, want within one step (%v) of the stop", d, step)
	}
	if errs.KindOf(err) != errs.Party || !strings.Contains(err.Error(), "party 2") || !strings.Contains(err.Error(), "round") {
		t.Errorf("error %q: want a party error naming party 2 and the step", err)
	}
	t.Log(err)
	// While party 2 is away, requests fail within a bounded time.
	start = time.Now()
	if _, err := tc.infer([]uint64{3}); err == nil || !strings.Contains(err.Error(), "party 2") {
		t.Errorf("without party 2: %v", err)
	}
	if d := time.Since(start); d > step+faultSlack {
		t.Errorf("refusal took %v, want within one step (%v)", d, step)
	}
	tc.start(2)
	var lastErr error
	for try := 0; try < 50; try++ {
		if _, lastErr = tc.infer([]uint64{4, 5}); lastErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("after party 2 came back: %v", lastErr)
	}
}

func TestClusterStalledParty(t *testing.T) {
	const step = 500 * time.Millisecond
	var stall sync.Map
	release := make(chan struct{})
	tc := newTestCluster(t, 3, step, func(id int) *sumComp {
		return &sumComp{id: id, rounds: 1, stall: func(id int) bool { _, ok := stall.Load(id); return ok }, release: release}
	})
	defer close(release)
	if _, err := tc.infer([]uint64{1}); err != nil {
		t.Fatal(err)
	}
	stall.Store(1, true)
	start := time.Now()
	_, err := tc.infer([]uint64{2})
	if err == nil || !strings.Contains(err.Error(), "party 1 sent no message") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > step+faultSlack {
		t.Errorf("took %v, want within one step (%v)", d, step)
	}
	t.Log(err)
}

func TestConfigMismatchIsRefused(t *testing.T) {
	dir := t.TempDir()
	path, err := Generate(dir, CertOptions{Parties: 2, Protocol: "plain", Timeouts: Timeouts{Connect: Duration(3 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := Load(path)
	cfg.Parties[0].Address, cfg.Parties[1].Address = freeAddr(t), freeAddr(t)
	cfg.Save(path)
	cfgA, _ := Load(path)
	cfgB, _ := Load(path)
	cfgB.Reveal = "argmax"
	run := func(cfg *Config, id int, errc chan error) {
		p, err := NewParty(PartyOptions{Config: cfg, ID: id, Logger: quietLogger(),
			Computation: func(id int) (Computation, error) { return &sumComp{id: id}, nil }})
		if err != nil {
			errc <- err
			return
		}
		errc <- p.Run(context.Background())
	}
	ea, eb := make(chan error, 1), make(chan error, 1)
	go run(cfgA, 0, ea)
	go run(cfgB, 1, eb)
	for _, e := range []error{<-ea, <-eb} {
		if e == nil || errs.KindOf(e) != errs.Config || !strings.Contains(e.Error(), `reveal: this side has`) {
			t.Errorf("got %v, want a config error naming reveal", e)
		}
	}
}

func TestLoadRejectsBadConfigs(t *testing.T) {
	dir := t.TempDir()
	path, err := Generate(dir, CertOptions{Parties: 3})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	if fi, _ := os.Stat(filepath.Join(dir, "party1.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode())
	}
	if _, err := Generate(dir, CertOptions{Parties: 3}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("second Generate: %v", err)
	}
	tests := []struct{ name, from, to, want string }{
		{"protocol", `"protocol": "rep3"`, `"protocol": "spdz"`, "protocol \"spdz\""},
		{"address", `"address": "127.0.0.1:7101"`, `"address": "nowhere"`, "party 1 address"},
		{"duplicate cert", `"cert": "party2.crt"`, `"cert": "party1.crt"`, "same certificate key as party 1"},
		{"missing cert", `"cert": "client.crt"`, `"cert": "nope.crt"`, "client certificate"},
		{"unknown field", `"protocol"`, `"protocl"`, "unknown field"},
		{"timeout", `"step": "30s"`, `"step": "soon"`, "soon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := strings.Replace(string(good), tc.from, tc.to, 1)
			if s == string(good) {
				t.Fatalf("%q not in config:\n%s", tc.from, good)
			}
			p := filepath.Join(dir, "bad.json")
			os.WriteFile(p, []byte(s), 0o644)
			_, err := Load(p)
			if err == nil || errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a config error containing %q", err, tc.want)
			}
		})
	}
}

// A party whose heap holds more than max_memory_mb refuses new requests with a busy error
// naming the bound (the test process's heap is well over 1 MB).
func TestClusterRefusesOverMemoryBound(t *testing.T) {
	tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxMemoryMB = 1 },
		func(id int) *sumComp { return &sumComp{id: id, rounds: 1} })
	keep := make([]byte, 4<<20) // at least this much heap
	_, err := tc.infer([]uint64{1})
	if errs.KindOf(err) != errs.Busy || !strings.Contains(err.Error(), "max_memory_mb") {
		t.Errorf("got %v, want a busy error naming max_memory_mb", err)
	}
	_ = keep[len(keep)-1]
}

// After concurrent sessions, a failed one, a client that left and the parties' shutdown,
// no goroutine is left behind (lanes, readers, workers, links).
func TestClusterLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		hook, both := barrierDone(2)
		tc := newTestClusterWith(t, 3, 30*time.Second, func(c *Config) { c.MaxSessions = 3 },
			func(id int) *sumComp {
				return &sumComp{id: id, rounds: 3, slow: 4, hook: func(id, elements int) error {
					if err := hook(id, elements); err != nil {
						return err
					}
					if id == 1 && elements == 2 {
						<-both
						return fmt.Errorf("party 1 fails this one")
					}
					return nil
				}}
			})
		tc.inferMany([][]uint64{{1, 2}, {3, 4, 5}})
		c, err := NewClient(tc.cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		s.Run(ctx, deal([]uint64{1, 2, 3, 4}, 3)) // slow: the client gives up and leaves
		cancel()
		s.Close()
		for i := range 3 {
			tc.stop(i)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
