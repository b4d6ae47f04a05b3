package main

// Multi-process tests: the qmpc binary is built into a temporary directory and three
// `qmpc party` processes run on loopback ports; `qmpc infer` is the client. Every wait is
// bounded and every process is killed at the end (by its PID).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/net/freeport"
)

const digitsModel = "../../../examples/digits/digits_cnn_int8.tflite"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// qmpcBinary builds the command once per test run (removed by TestMain).
func qmpcBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process test (skipped with -short)")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "qmpc-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "qmpc")
		out, err := exec.Command("go", "build", "-tags", buildTags, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type procCluster struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	model   string
	keys    []string // per party: --key (empty: the config's default)
	client  string   // the client's --key (empty: the config's default)
	env     [][]string
	parties []*proc
}

// newProcCluster writes a cluster with free loopback ports and the given step timeout.
func newProcCluster(t *testing.T, model string, step time.Duration) *procCluster {
	t.Helper()
	bin := qmpcBinary(t)
	dir := t.TempDir()
	path, err := cluster.Generate(dir, cluster.CertOptions{Parties: 3, Protocol: "rep3",
		Timeouts: cluster.Timeouts{Step: cluster.Duration(step), Connect: cluster.Duration(20 * time.Second), Handshake: cluster.Duration(3 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Parties {
		cfg.Parties[i].Address = freeport.Must(t)
	}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	pc := &procCluster{t: t, bin: bin, dir: dir, cfgPath: path, model: model, parties: make([]*proc, 3)}
	pc.cleanup()
	return pc
}

// cleanup kills the parties at the end of the test (and shows their logs if it failed).
func (pc *procCluster) cleanup() {
	t := pc.t
	t.Cleanup(func() {
		for i, p := range pc.parties {
			if p != nil {
				pc.kill(i, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			for i, p := range pc.parties {
				if p != nil {
					t.Logf("party %d log:\n%s", i, p.log.String())
				}
			}
		}
	})
}

func (pc *procCluster) start(i int, extra ...string) *proc {
	pc.t.Helper()
	args := []string{"party", "--config", pc.cfgPath, "--id", fmt.Sprint(i)}
	if i == 0 {
		args = append(args, "--model", pc.model)
	}
	if i < len(pc.keys) && pc.keys[i] != "" {
		args = append(args, "--key", pc.keys[i])
	}
	args = append(args, extra...)
	p := &proc{cmd: exec.Command(pc.bin, args...), log: &syncBuffer{}, done: make(chan struct{})}
	if i < len(pc.env) {
		p.cmd.Env = append(os.Environ(), pc.env[i]...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		pc.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	pc.parties[i] = p
	return p
}

func (pc *procCluster) kill(i int, sig syscall.Signal) {
	p := pc.parties[i]
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	pc.parties[i] = nil
}

// infer runs `qmpc infer` with a deadline; it returns the output file and the CLI's output.
func (pc *procCluster) infer(x model.Value, limit time.Duration) (model.Value, string, error) {
	pc.t.Helper()
	in := filepath.Join(pc.dir, "x.npy")
	out := filepath.Join(pc.dir, "y.npy")
	os.Remove(out)
	if err := writeNpy(in, x); err != nil {
		pc.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args := []string{"infer", "--config", pc.cfgPath, "--input", in, "--output", out}
	if pc.client != "" {
		args = append(args, "--key", pc.client)
	}
	cmd := exec.CommandContext(ctx, pc.bin, args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return model.Value{}, string(b), fmt.Errorf("%v: %s", err, b)
	}
	y, err := readNpy(out)
	return y, string(b), err
}

// inferUntil retries until an inference succeeds (parties still connecting).
func (pc *procCluster) inferUntil(x model.Value, within time.Duration) model.Value {
	pc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		y, _, err := pc.infer(x, within)
		if err == nil {
			return y
		}
		if time.Now().After(deadline) {
			pc.t.Fatalf("no successful inference within %v: %v", within, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func loadOrSkip(t *testing.T, path string) *model.Graph {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("model %s absent: %v", path, err)
	}
	g, err := loadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func inputFor(g *model.Graph, seed byte) model.Value {
	t := g.Tensors[g.Inputs[0]]
	v := model.Value{Shape: t.Shape, DType: t.DType, Data: make([]byte, t.NumElements()*t.DType.Size())}
	for i := range v.Data {
		v.Data[i] = byte(i*31+int(seed)*17) ^ seed
	}
	return v
}

func TestProcessesInferenceEqualsLocalRun(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	for i := range 3 {
		pc.start(i)
	}
	for k := range 3 { // parties serve many requests
		x := inputFor(g, byte(k+1))
		local, err := engine.RunLocal("rep3", g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
		if err != nil {
			t.Fatal(err)
		}
		y := pc.inferUntil(x, 30*time.Second)
		want := local.Outputs[0]
		if y.DType != want.DType || fmt.Sprint(y.Shape) != fmt.Sprint(want.Shape) || !bytes.Equal(y.Data, want.Data) {
			t.Fatalf("request %d: cluster output %v %v %v, local secure run %v %v %v", k, y.DType, y.Shape, y.Data, want.DType, want.Shape, want.Data)
		}
	}
	if s := pc.parties[0].log.String(); !strings.Contains(s, "msg=\"session ready\"") || strings.Count(s, "inference done") != 3 {
		t.Errorf("party 0 log:\n%s", s)
	}
}

// TestProcessesTamperRep3 runs a cheating party process (the QMPC_TEST_TAMPER testing
// aid): party 2 adds 2^40 to word 0 of its first message in the digits model's last
// FULLY_CONNECTED layer (the message index of a local run: the protocol's messages are
// counted alike; since rep3 defers resharings, that message is the resharing of the
// previous layer's B2A output, which the layer's product settles: its first half, 64 of
// 128 words, to party 1; the second half goes to party 0). Under rep3 (semi-honest) the client gets a wrong output without an
// error; the message is counted from the session's start, so the next request of the
// session is not tampered with and is right again.
func TestProcessesTamperRep3(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	x := inputFor(g, 3)
	local, err := engine.RunLocal("rep3", g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := local.Outputs[0]
	k := int64(-1)
	for _, r := range local.MessageRanges[2] {
		if r.Phase == "FULLY_CONNECTED" {
			k = r.From
		}
	}
	if k < 0 {
		t.Fatalf("party 2 sends no message in a FULLY_CONNECTED layer: %+v", local.MessageRanges[2])
	}
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	pc.env = [][]string{nil, nil, {fmt.Sprintf("QMPC_TEST_TAMPER=message=%d,add=0x10000000000", k)}}
	for i := range 3 {
		pc.start(i)
	}
	y := pc.inferUntil(x, 60*time.Second)
	if bytes.Equal(y.Data, want.Data) {
		t.Fatalf("tampered inference: the output %v is right", y.Data)
	}
	line := fmt.Sprintf("qmpc test hook: party 2 tampered with message %d (to party 1, 512 bytes, altered true)", k)
	if log := pc.waitLog(2, "qmpc test hook:", 1, 10*time.Second); !strings.Contains(log, line) {
		t.Errorf("party 2's log lacks %q:\n%s", line, log)
	}
	if y, out, err := pc.infer(x, 30*time.Second); err != nil || !bytes.Equal(y.Data, want.Data) {
		t.Errorf("the next request: %v %s, output %v, want %v", err, out, y.Data, want.Data)
	}
}

// waitLog waits until party i's log contains want count times (or more); it fails the
// test after limit.
func (pc *procCluster) waitLog(i int, want string, count int, limit time.Duration) string {
	pc.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := pc.parties[i].log.String()
		if strings.Count(s, want) >= count {
			return s
		}
		select {
		case <-pc.parties[i].done:
			pc.t.Fatalf("party %d exited while waiting for %q: %v\n%s", i, want, pc.parties[i].err, s)
		default:
		}
		if time.Now().After(deadline) {
			pc.t.Fatalf("party %d: no %q within %v:\n%s", i, want, limit, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var pausedRE = regexp.MustCompile(`qmpc test hook: party (\d+) paused in layer (\d+)`)

// The documented bound (docs/deploy.md, "Faults and timeouts"): a party that dies or
// stalls during an inference makes the client's inference fail within one step timeout,
// plus this allowance for passing the error on and for process scheduling.
const faultSlack = time.Second

// For each party and for each fault (SIGKILL: dies; SIGSTOP: stalls, its links go silent;
// no signal: its computation hangs while its process still answers pings), the fault
// happens while an inference is under way: the party runs with the
// QMPC_TEST_PAUSE_AT_LAYER hook, and the signal is sent only after it reported that it
// paused in that layer and while the client is still waiting. The client must then fail
// within the documented bound with a party error that names the party and the layer's
// op; the survivors stay up, and once the party is back the cluster serves the same
// output again.
func TestProcessesFaultMidInference(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	const step = 3 * time.Second
	pc := newProcCluster(t, digitsModel, step)
	for i := range 3 {
		pc.start(i)
	}
	x := inputFor(g, 7)
	want := pc.inferUntil(x, 60*time.Second)
	local, err := engine.RunLocal("rep3", g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	var layers []engine.LayerCost // the secure layers, in the hook's numbering
	for _, l := range local.Layers {
		if l.Op >= 0 {
			layers = append(layers, l)
		}
	}
	if len(layers) < 4 {
		t.Fatalf("the digits model has %d secure layers; the test needs 4", len(layers))
	}
	cases := []struct {
		party, layer int
		sig          syscall.Signal
	}{
		{2, 1, syscall.SIGKILL}, {0, 2, syscall.SIGKILL}, {1, 3, syscall.SIGKILL},
		{1, 1, syscall.SIGSTOP}, {2, 2, syscall.SIGSTOP}, {0, 3, syscall.SIGSTOP},
		{2, 2, 0}, // hangs: the hook's pause alone
	}
	// What the client's error says about party p itself, per fault.
	symptom := map[syscall.Signal]string{syscall.SIGKILL: "party %d disconnected", syscall.SIGSTOP: "party %d sent nothing for 3s",
		0: "party %d sent no message for 3s"}
	prev := -1 // the party of the previous case (killed or stopped)
	for _, tc := range cases {
		name := fmt.Sprintf("party%d/%v/layer%d", tc.party, tc.sig, tc.layer)
		if tc.sig == 0 {
			name = fmt.Sprintf("party%d/hang/layer%d", tc.party, tc.layer)
		}
		p := tc.party
		// Restart the previous case's party without the hook and party p with it; wait
		// until every party is in the new session.
		ready := make([]int, 3)
		for i := range 3 {
			ready[i] = strings.Count(pc.parties[i].log.String(), "session ready") + 1
		}
		for _, i := range []int{prev, p} {
			if i < 0 {
				continue
			}
			pc.kill(i, syscall.SIGKILL)
			if i == p {
				pc.env = make([][]string, 3)
				pc.env[p] = []string{fmt.Sprintf("QMPC_TEST_PAUSE_AT_LAYER=%d", tc.layer)}
			}
			pc.start(i)
			pc.env = nil
			ready[i] = 1
		}
		prev = p
		for i := range 3 {
			pc.waitLog(i, "session ready", ready[i], 60*time.Second)
		}
		// The inference, and the fault once party p paused in it.
		type outcome struct {
			out string
			err error
			at  time.Time
		}
		client := make(chan outcome, 1)
		go func() {
			_, out, err := pc.infer(x, 60*time.Second)
			client <- outcome{out, err, time.Now()}
		}()
		log := pc.waitLog(p, "qmpc test hook:", 1, 30*time.Second)
		m := pausedRE.FindStringSubmatch(log)
		if m == nil || m[1] != fmt.Sprint(p) {
			t.Fatalf("%s: party %d's hook line: %q", name, p, log)
		}
		layer, _ := strconv.Atoi(m[2])
		if layer < tc.layer || layer >= len(layers) {
			t.Fatalf("%s: paused in layer %d", name, layer)
		}
		select {
		case o := <-client:
			t.Fatalf("%s: the client finished before the fault (err %v): %s", name, o.err, o.out)
		default:
		}
		faultAt := time.Now()
		if tc.sig != 0 {
			pc.parties[p].cmd.Process.Signal(tc.sig)
		}
		o := <-client
		took := o.at.Sub(faultAt)
		if o.err == nil {
			t.Fatalf("%s: the inference succeeded: %s", name, o.out)
		}
		op := fmt.Sprintf("op %d %s %q", layers[layer].Op, layers[layer].Kind, layers[layer].Name)
		sym := fmt.Sprintf(symptom[tc.sig], p)
		if !strings.Contains(o.out, "qmpc:party:") || !strings.Contains(o.out, sym) || !strings.Contains(o.out, op) {
			t.Errorf("%s: client error %q: want a party error with %q and %s", name, o.out, sym, op)
		}
		if took > step+faultSlack {
			t.Errorf("%s: the client failed %v after the fault; the documented bound is one step (%v) + %v", name, took, step, faultSlack)
		}
		t.Logf("%s: failed after %v: %s", name, took.Round(time.Millisecond), strings.TrimSpace(o.out))
		for i := range 3 { // the survivors stay up
			if i == p {
				continue
			}
			select {
			case <-pc.parties[i].done:
				t.Fatalf("%s: party %d exited: %v\n%s", name, i, pc.parties[i].err, pc.parties[i].log)
			default:
			}
		}
	}
	// Back without the hook: the cluster serves the same output.
	last := cases[len(cases)-1].party
	pc.kill(last, syscall.SIGKILL)
	pc.start(last)
	if y := pc.inferUntil(x, 60*time.Second); !bytes.Equal(y.Data, want.Data) {
		t.Error("output after the faults differs")
	}
}

func TestProcessesRefuseStrangersAndGarbage(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	for i := range 3 {
		pc.start(i)
	}
	x := inputFor(g, 3)
	want := pc.inferUntil(x, 30*time.Second)

	// Garbage and silence on a party's port.
	cfg, _ := cluster.Load(pc.cfgPath)
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), bytes.Repeat([]byte{0x16, 3, 3, 0, 0xff}, 1000), {}} {
		c, err := stdnet.DialTimeout("tcp", cfg.Parties[1].Address, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		// The party must close the connection itself, within the handshake timeout (3 s
		// here); the read deadline is only a backstop.
		sent := time.Now()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		_, rerr := c.Read(buf)
		for rerr == nil {
			_, rerr = c.Read(buf)
		}
		c.Close()
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			t.Errorf("junk %.20q: party 1 kept the connection open for 10 s", junk)
		} else if d := time.Since(sent); d > 3*time.Second+faultSlack {
			t.Errorf("junk %.20q: party 1 closed the connection after %v, want within the handshake timeout (3 s)", junk, d)
		}
	}
	// A client with a certificate outside the config is refused at the handshake.
	other := t.TempDir()
	if _, err := cluster.Generate(other, cluster.CertOptions{Parties: 3}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(pc.cfgPath)
	strangerCfg := filepath.Join(pc.dir, "stranger.json")
	s := strings.Replace(string(b), `"cert": "client.crt"`, fmt.Sprintf(`"cert": %q`, filepath.Join(other, "client.crt")), 1)
	s = strings.Replace(s, `"key": "client.key"`, fmt.Sprintf(`"key": %q`, filepath.Join(other, "client.key")), 1)
	os.WriteFile(strangerCfg, []byte(s), 0o644)
	in := filepath.Join(pc.dir, "x.npy")
	writeNpy(in, x)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pc.bin, "infer", "--config", strangerCfg, "--input", in, "--output", filepath.Join(pc.dir, "z.npy")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "party 0") {
		t.Errorf("stranger client: err %v, output %s", err, out)
	}
	// The parties logged the refusals and still serve.
	time.Sleep(200 * time.Millisecond)
	log1 := pc.parties[1].log.String()
	for _, w := range []string{"refused connection", "not one of the configuration's"} {
		if !strings.Contains(log1, w) {
			t.Errorf("party 1 log lacks %q", w)
		}
	}
	if y := pc.inferUntil(x, 30*time.Second); !bytes.Equal(y.Data, want.Data) {
		t.Error("output changed")
	}
}

func TestProcessesMismatchedConfigRefused(t *testing.T) {
	loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	b, _ := os.ReadFile(pc.cfgPath)
	bad := filepath.Join(pc.dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(string(b), `"owner": 0`, `"owner": 0, "reveal": "argmax"`, 1)), 0o644)
	pc.start(0)
	pc.start(1)
	p2 := &proc{cmd: exec.Command(pc.bin, "party", "--config", bad, "--id", "2"), log: &syncBuffer{}, done: make(chan struct{})}
	p2.cmd.Stdout, p2.cmd.Stderr = p2.log, p2.log
	if err := p2.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p2.err = p2.cmd.Wait(); close(p2.done) }()
	pc.parties[2] = p2
	select {
	case <-p2.done:
	case <-time.After(30 * time.Second):
		t.Fatal("mismatched party 2 did not stop")
	}
	if code := p2.cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if s := p2.log.String(); !strings.Contains(s, "configuration mismatch") || !strings.Contains(s, `reveal: this side has "argmax"`) {
		t.Errorf("party 2 output:\n%s", s)
	}
	pc.parties[2] = nil
}

// startParty starts party i with the given config and arguments (not through procCluster:
// for start-up failures).
func startParty(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, append([]string{"party"}, args...)...), log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func waitExit(t *testing.T, p *proc, limit time.Duration) (int, string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("party still running after %v:\n%s", limit, p.log)
	}
	return p.cmd.ProcessState.ExitCode(), p.log.String()
}

// A party that cannot reach all the others within the connect timeout exits, naming the
// missing party.
func TestProcessesStartupMissingParty(t *testing.T) {
	loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	cfg, _ := cluster.Load(pc.cfgPath)
	cfg.Timeouts.Connect = cluster.Duration(3 * time.Second)
	cfg.Save(pc.cfgPath)
	start := time.Now()
	p0 := startParty(t, pc.bin, "--config", pc.cfgPath, "--id", "0", "--model", digitsModel)
	p1 := startParty(t, pc.bin, "--config", pc.cfgPath, "--id", "1")
	for i, p := range []*proc{p0, p1} {
		code, out := waitExit(t, p, 30*time.Second)
		want := fmt.Sprintf("party 2 at %s not reachable", cfg.Parties[2].Address)
		if code != 1 || !strings.Contains(out, "qmpc party: party "+fmt.Sprint(i)+": forming the cluster") || !strings.Contains(out, want) {
			t.Errorf("party %d: exit %d, want 1 and %q:\n%s", i, code, want, out)
		}
	}
	if d := time.Since(start); d > 3*time.Second+5*time.Second {
		t.Errorf("the parties gave up after %v; the connect timeout is 3 s", d)
	}
}

// --listen: the party listens there, while the others reach it at the configured address
// (here a forwarding proxy holds that address, as NAT or a load balancer would).
func TestProcessesListen(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	cfg, _ := cluster.Load(pc.cfgPath)
	front, err := stdnet.Listen("tcp", cfg.Parties[1].Address)
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	back := freeport.Must(t)
	var mu sync.Mutex
	forwarded := 0
	go func() {
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			forwarded++
			mu.Unlock()
			go func() {
				defer c.Close()
				b, err := stdnet.Dial("tcp", back)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { io.Copy(b, c); b.Close() }()
				io.Copy(c, b)
			}()
		}
	}()
	pc.start(0)
	pc.start(1, "--listen", back)
	pc.start(2)
	x := inputFor(g, 9)
	local, err := engine.RunLocal("rep3", g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	if y := pc.inferUntil(x, 30*time.Second); !bytes.Equal(y.Data, local.Outputs[0].Data) {
		t.Fatal("output differs from the local run")
	}
	mu.Lock()
	defer mu.Unlock()
	if forwarded == 0 { // party 0 and the client reach party 1 only through the proxy
		t.Error("no connection went through the configured address")
	}
	if s := pc.parties[1].log.String(); !strings.Contains(s, "address="+back) {
		t.Errorf("party 1 does not report listening on %s:\n%s", back, s)
	}
}

// model_digest pins the model: the owner refuses to serve another one (exit 2), and a
// party whose config pins another digest than the owner serves refuses the owner.
func TestProcessesModelDigestPinned(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	pc := newProcCluster(t, digitsModel, 5*time.Second)
	cfg, _ := cluster.Load(pc.cfgPath)
	cfg.Timeouts.Connect = cluster.Duration(4 * time.Second)
	other := strings.Repeat("ab", 32)
	cfg.ModelDigest = other
	pinned := filepath.Join(pc.dir, "pinned.json")
	cfg.Save(pinned)
	// The owner with a pinned config and another model.
	code, out := waitExit(t, startParty(t, pc.bin, "--config", pinned, "--id", "0", "--model", digitsModel), 30*time.Second)
	want := fmt.Sprintf("has digest %s, the config pins %s", modelDigest(g), other)
	if code != 2 || !strings.Contains(out, want) {
		t.Errorf("owner: exit %d, want 2 and %q:\n%s", code, want, out)
	}
	// The owner's config pins nothing; party 1's pins another digest: party 1 refuses it.
	pc.start(0)
	p1 := startParty(t, pc.bin, "--config", pinned, "--id", "1")
	code, out = waitExit(t, p1, 30*time.Second)
	want = fmt.Sprintf("model: this side has %q, party 0 has %q", other, modelDigest(g))
	if code != 2 || !strings.Contains(out, "configuration mismatch with party 0") || !strings.Contains(out, want) {
		t.Errorf("party 1: exit %d, want 2 and %q:\n%s", code, want, out)
	}
	// With the right digest pinned everywhere, the cluster serves.
	cfg.ModelDigest = modelDigest(g)
	cfg.Timeouts.Connect = cluster.Duration(20 * time.Second)
	cfg.Save(pc.cfgPath)
	pc.kill(0, syscall.SIGKILL)
	for i := range 3 {
		pc.start(i)
	}
	pc.inferUntil(inputFor(g, 1), 30*time.Second)
}
