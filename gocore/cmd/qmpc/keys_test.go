package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/net/freeport"
)

// run runs the qmpc binary and returns its exit code and combined output.
func run(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

var pinRE = regexp.MustCompile(`(?m)^pin (sha256:[0-9a-f]{64})$`)

// The per-host way: each party and the client make their key on their own host (here:
// their own directory) with `qmpc keygen`; `qmpc cluster-config` assembles cluster.json
// from the certificates alone; the cluster serves and its output equals the local run's.
// A party whose key is not the one cluster.json pins is refused with a clear error.
func TestProcessesPerHostKeys(t *testing.T) {
	g := loadOrSkip(t, digitsModel)
	bin := qmpcBinary(t)
	root := t.TempDir()
	hostDirs := []string{filepath.Join(root, "host0"), filepath.Join(root, "host1"), filepath.Join(root, "host2"), filepath.Join(root, "client")}
	pins := make([]string, 4)
	for i, d := range hostDirs {
		who := []string{"--id", fmt.Sprint(i)}
		if i == 3 {
			who = []string{"--client"}
		}
		code, out := run(t, bin, append([]string{"keygen", "--out", d}, who...)...)
		m := pinRE.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("keygen %v: exit %d\n%s", who, code, out)
		}
		pins[i] = m[1]
		if code, out := run(t, bin, append([]string{"keygen", "--out", d}, who...)...); code != 2 || !strings.Contains(out, "refusing to overwrite") {
			t.Errorf("second keygen %v: exit %d\n%s", who, code, out)
		}
	}
	// The assembler has only the certificates.
	asm := filepath.Join(root, "assembler")
	os.MkdirAll(asm, 0o755)
	args := []string{"cluster-config", "--out", filepath.Join(asm, "cluster.json"), "--step-timeout", "5s", "--connect-timeout", "20s", "--max-sessions", "3"}
	for i := range 3 {
		crt := filepath.Join(asm, fmt.Sprintf("party%d.crt", i))
		copyFile(t, filepath.Join(hostDirs[i], fmt.Sprintf("party%d.crt", i)), crt)
		args = append(args, "--party", fmt.Sprintf("%d=%s,%s", i, freeport.Must(t), crt))
	}
	copyFile(t, filepath.Join(hostDirs[3], "client.crt"), filepath.Join(asm, "client.crt"))
	args = append(args, "--client", filepath.Join(asm, "client.crt"))
	code, out := run(t, bin, args...)
	if code != 0 {
		t.Fatalf("cluster-config: exit %d\n%s", code, out)
	}
	for i, pin := range pins { // every host can check its own pin in the printed summary
		if !strings.Contains(out, pin) {
			t.Errorf("cluster-config output lacks host %d's pin %s:\n%s", i, pin, out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(asm, "cluster.json"))
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Fatal("cluster.json holds a private key")
	}
	if !bytes.Contains(b, []byte(`"max_sessions": 3`)) {
		t.Errorf("cluster.json lacks --max-sessions 3:\n%s", b)
	}
	// Every host gets the same cluster.json and uses its own key.
	pc := &procCluster{t: t, bin: bin, dir: root, cfgPath: filepath.Join(asm, "cluster.json"), model: digitsModel, parties: make([]*proc, 3),
		client: filepath.Join(hostDirs[3], "client.key")}
	for i := range 3 {
		pc.keys = append(pc.keys, filepath.Join(hostDirs[i], fmt.Sprintf("party%d.key", i)))
	}
	pc.cleanup()
	for i := range 3 {
		pc.start(i)
	}
	x := inputFor(g, 5)
	local, err := engine.RunLocal("rep3", g, []model.Value{x}, engine.Options{Owner: 0, Client: 1})
	if err != nil {
		t.Fatal(err)
	}
	if y := pc.inferUntil(x, 30*time.Second); !bytes.Equal(y.Data, local.Outputs[0].Data) {
		t.Fatalf("cluster output %v, local secure run %v", y.Data, local.Outputs[0].Data)
	}

	// Party 2 makes a new key, but cluster.json still pins the old certificate.
	pc.kill(2, syscall.SIGKILL)
	if code, out := run(t, bin, "keygen", "--id", "2", "--out", hostDirs[2], "--force"); code != 0 {
		t.Fatalf("keygen --force: %d\n%s", code, out)
	}
	code, out = run(t, bin, "party", "--config", pc.cfgPath, "--id", "2", "--key", pc.keys[2])
	if code != 2 || !strings.Contains(out, "party 2: key "+pc.keys[2]+" does not match the configured certificate") {
		t.Errorf("party 2 with a key cluster.json does not pin: exit %d\n%s", code, out)
	}
	// The client with a key of the wrong kind (party 0's) is refused before connecting.
	x0 := filepath.Join(root, "x.npy")
	writeNpy(x0, x)
	code, out = run(t, bin, "infer", "--config", pc.cfgPath, "--key", pc.keys[0], "--input", x0, "--output", filepath.Join(root, "y.npy"))
	if code != 2 || !strings.Contains(out, "the client: key") || !strings.Contains(out, "does not match the configured certificate") {
		t.Errorf("client with party 0's key: exit %d\n%s", code, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
