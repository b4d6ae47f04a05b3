package main

// Multi-process tests: the qmpc binary is built into a temporary directory and three
// `qmpc party` processes run on loopback ports; `qmpc infer` is the client. Every wait is
// bounded and every process is killed at the end (by its PID).

import (
	"bytes"
	"context"
	"fmt"
	stdnet "net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
)

const digitsModel = "../../../examples/digits/digits_cnn_int8.tflite"
const mobilenetModel = "../../../../shared/models/coral/mobilenet_v1_0.25_128_quant.tflite"

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
		cfg.Parties[i].Address = freePort(t)
	}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	pc := &procCluster{t: t, bin: bin, dir: dir, cfgPath: path, model: model, parties: make([]*proc, 3)}
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
	return pc
}

func freePort(t *testing.T) string {
	l, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (pc *procCluster) start(i int, extra ...string) *proc {
	pc.t.Helper()
	args := []string{"party", "--config", pc.cfgPath, "--id", fmt.Sprint(i)}
	if i == 0 {
		args = append(args, "--model", pc.model)
	}
	args = append(args, extra...)
	p := &proc{cmd: exec.Command(pc.bin, args...), log: &syncBuffer{}, done: make(chan struct{})}
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
	cmd := exec.CommandContext(ctx, pc.bin, "infer", "--config", pc.cfgPath, "--input", in, "--output", out)
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

func TestProcessesPartyKilledStalledAndBack(t *testing.T) {
	model, step := mobilenetModel, 3*time.Second
	if _, err := os.Stat(model); err != nil {
		t.Logf("MobileNet absent (%v): killing during the digits model's agreement step instead", err)
		model = digitsModel
	}
	g := loadOrSkip(t, model)
	pc := newProcCluster(t, model, step)
	for i := range 3 {
		pc.start(i)
	}
	x := inputFor(g, 7)
	begin := time.Now()
	want := pc.inferUntil(x, 60*time.Second)
	took := time.Since(begin)

	// Killed mid-inference: the client and the other parties stop within the step
	// timeout, naming the party.
	errc := make(chan string, 1)
	start := time.Now()
	go func() {
		_, out, err := pc.infer(x, 4*step+took)
		if err == nil {
			out = "SUCCEEDED " + out
		}
		errc <- out
	}()
	time.Sleep(min(took/3, time.Second))
	pc.kill(2, syscall.SIGKILL)
	out := <-errc
	if strings.HasPrefix(out, "SUCCEEDED") {
		t.Logf("inference finished before the kill (took %v): %s", took, out)
	} else {
		if !strings.Contains(out, "qmpc:party:") || !strings.Contains(out, "party 2") {
			t.Errorf("client error %q: want a party error naming party 2", out)
		}
		if d := time.Since(start); d > 3*step {
			t.Errorf("the client stopped after %v, want within ~%v", d, step)
		}
		t.Logf("client error: %s", strings.TrimSpace(out))
	}
	// Surviving parties stay up; once party 2 is back, inferences succeed again.
	for _, i := range []int{0, 1} {
		select {
		case <-pc.parties[i].done:
			t.Fatalf("party %d exited: %v\n%s", i, pc.parties[i].err, pc.parties[i].log)
		default:
		}
	}
	pc.start(2)
	if y := pc.inferUntil(x, 60*time.Second); !bytes.Equal(y.Data, want.Data) {
		t.Error("output after reconnect differs")
	}
	// Stalled (SIGSTOP): its links go silent; the inference fails within about one step.
	pc.parties[1].cmd.Process.Signal(syscall.SIGSTOP)
	start = time.Now()
	_, out, err := pc.infer(x, 6*step)
	if err == nil || !strings.Contains(out, "party 1") {
		t.Errorf("with party 1 stopped: err %v, output %q", err, out)
	}
	if d := time.Since(start); d > 3*step {
		t.Errorf("stall detected after %v", d)
	}
	pc.parties[1].cmd.Process.Signal(syscall.SIGCONT)
	if y := pc.inferUntil(x, 60*time.Second); !bytes.Equal(y.Data, want.Data) {
		t.Error("output after the stall differs")
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
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		_, rerr := c.Read(buf)
		for rerr == nil {
			_, rerr = c.Read(buf)
		}
		c.Close()
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
