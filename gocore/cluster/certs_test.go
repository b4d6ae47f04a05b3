package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// hosts makes a key pair per party and for the client, each in its own directory (its
// own host), and returns the directories: hosts[i] for party i, hosts[n] the client's.
func hosts(t *testing.T, n int) []string {
	t.Helper()
	dirs := make([]string, n+1)
	for i := range dirs {
		dirs[i] = t.TempDir()
		id := i
		if i == n {
			id = tlsnet.ClientID
		}
		ident, err := Keygen(dirs[i], id, false)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(ident.KeyPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", ident.KeyPath, fi, err)
		}
		if _, err := Keygen(dirs[i], id, false); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
			t.Fatalf("second keygen: %v", err)
		}
	}
	return dirs
}

func assembleOpts(t *testing.T, dirs []string, step time.Duration) AssembleOptions {
	n := len(dirs) - 1
	opt := AssembleOptions{Protocol: "plain", Client: filepath.Join(dirs[n], "client.crt"),
		Timeouts: Timeouts{Step: Duration(step), Connect: Duration(3 * time.Second), Handshake: Duration(2 * time.Second)}}
	for i := n - 1; i >= 0; i-- { // any order
		spec := fmt.Sprintf("%d=%s,%s", i, freeAddr(t), filepath.Join(dirs[i], IdentityName(i)+".crt"))
		e, err := ParsePartySpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		opt.Parties = append(opt.Parties, e)
	}
	return opt
}

// A cluster assembled from keys made separately serves; the config carries no key.
func TestAssembledClusterServes(t *testing.T) {
	const n = 3
	dirs := hosts(t, n)
	path := filepath.Join(t.TempDir(), "cluster.json")
	cfg, err := Assemble(path, assembleOpts(t, dirs, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "PRIVATE KEY") || strings.Contains(string(b), ".key") {
		t.Fatalf("cluster.json mentions a private key:\n%s", b)
	}
	for i := range n {
		pem, _ := os.ReadFile(filepath.Join(dirs[i], IdentityName(i)+".crt"))
		_, pin, _ := tlsnet.ParseCertPEM(pem)
		if cfg.Pin(i) != pin || cfg.Parties[i].ID != i {
			t.Fatalf("party %d: pinned %v, its certificate has %v", i, cfg.Pin(i), pin)
		}
	}
	if _, err := Assemble(path, assembleOpts(t, dirs, time.Second)); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("second Assemble: %v", err)
	}
	tc := &testCluster{t: t, cfg: cfg, path: path, cancels: make([]context.CancelFunc, n), done: make([]chan error, n),
		comp: func(id int) *sumComp { return &sumComp{id: id, rounds: 2} }}
	for i := range n {
		tc.keys = append(tc.keys, filepath.Join(dirs[i], IdentityName(i)+".key"))
		tc.start(i)
	}
	tc.clientKey = filepath.Join(dirs[n], "client.key")
	t.Cleanup(func() {
		for i := range n {
			tc.stop(i)
		}
	})
	var lastErr error
	for try := 0; try < 50; try++ {
		if _, lastErr = tc.infer([]uint64{3, 1 << 60}); lastErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
}

// A party whose key is not the one the config pins for it is refused: by itself at
// start-up, and by the others when they connect.
func TestPinnedKeyMismatchRefused(t *testing.T) {
	const n = 2
	dirs := hosts(t, n)
	opt := assembleOpts(t, dirs, time.Second)
	path := filepath.Join(t.TempDir(), "cluster.json")
	cfg, err := Assemble(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Party 1 makes a new key; the config still pins the old certificate.
	if _, err := Keygen(dirs[1], 1, true); err != nil {
		t.Fatal(err)
	}
	comp := func(id int) (Computation, error) { return &sumComp{id: id}, nil }
	_, err = NewParty(PartyOptions{Config: cfg, ID: 1, KeyPath: filepath.Join(dirs[1], "party1.key"), Computation: comp, Logger: quietLogger()})
	if err == nil || errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), "party 1: key") || !strings.Contains(err.Error(), "does not match the configured certificate") {
		t.Fatalf("party 1 with a key the config does not pin: %v", err)
	}
	// Party 1 runs with a config that pins its new certificate; party 0's config pins the
	// old one: party 0 refuses party 1 at the handshake and its start-up fails naming it.
	opt.Force = true
	for i := range opt.Parties {
		opt.Parties[i].Address = cfg.Parties[opt.Parties[i].ID].Address
	}
	cfg1, err := Assemble(filepath.Join(t.TempDir(), "cluster.json"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if cfg1.Pin(1) == cfg.Pin(1) {
		t.Fatal("new key, same pin")
	}
	errc := make(chan error, 2)
	for i, c := range []*Config{cfg, cfg1} {
		p, err := NewParty(PartyOptions{Config: c, ID: i, KeyPath: filepath.Join(dirs[i], IdentityName(i)+".key"), Computation: comp, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		go func() { errc <- p.Run(context.Background()) }()
	}
	var msgs []string
	for range 2 {
		select {
		case err := <-errc:
			if err == nil {
				t.Fatal("a party formed a cluster with a key its config does not pin")
			}
			msgs = append(msgs, err.Error())
		case <-time.After(20 * time.Second):
			t.Fatal("parties did not give up")
		}
	}
	want := fmt.Sprintf("party 1 presented certificate %s, the configuration pins %s", cfg1.Pin(1), cfg.Pin(1))
	if !strings.Contains(strings.Join(msgs, "\n"), want) {
		t.Errorf("errors %q: want one containing %q", msgs, want)
	}
}

func TestAssembleRefusesBadInput(t *testing.T) {
	dirs := hosts(t, 3)
	crt := func(i int) string { // 3: the client's
		if i == 3 {
			return filepath.Join(dirs[i], "client.crt")
		}
		return filepath.Join(dirs[i], IdentityName(i)+".crt")
	}
	spec := func(id int, cert string) PartyEntry { return PartyEntry{ID: id, Address: "127.0.0.1:7100", Cert: cert} }
	all := []PartyEntry{spec(0, crt(0)), spec(1, crt(1)), spec(2, crt(2))}
	tests := []struct {
		name string
		opt  AssembleOptions
		want string
	}{
		{"two parties, plain", AssembleOptions{Parties: all[:2], Client: crt(3), Protocol: "plain"}, ""},
		{"gap", AssembleOptions{Parties: []PartyEntry{all[0], all[2]}, Client: crt(3), Protocol: "plain"}, "party 1 is missing"},
		{"twice", AssembleOptions{Parties: []PartyEntry{all[0], all[1], spec(1, crt(1))}, Client: crt(3)}, "party 1 is given twice"},
		{"rep3 needs 3", AssembleOptions{Parties: all[:2], Client: crt(3)}, "rep3 needs 3 parties, not 2"},
		{"same key twice", AssembleOptions{Parties: []PartyEntry{all[0], all[1], spec(2, crt(1))}, Client: crt(3)}, "party 2 has the same certificate key as party 1"},
		{"client is a party", AssembleOptions{Parties: all, Client: crt(0)}, "the client has the same certificate key as party 0"},
		{"private key", AssembleOptions{Parties: []PartyEntry{all[0], all[1], spec(2, filepath.Join(dirs[2], "party2.key"))}, Client: crt(3)}, "holds a private key"},
		{"no client", AssembleOptions{Parties: all}, "no client certificate"},
		{"bad digest", AssembleOptions{Parties: all, Client: crt(3), ModelDigest: "abc"}, "want 64 hex digits"},
		{"owner", AssembleOptions{Parties: all, Client: crt(3), Owner: 3}, "owner 3"},
		{"reveal", AssembleOptions{Parties: all, Client: crt(3), Reveal: "all"}, `reveal "all"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Assemble(filepath.Join(t.TempDir(), "cluster.json"), tc.opt)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err == nil || errs.KindOf(err) != errs.Config || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a config error containing %q", err, tc.want)
			}
		})
	}
	for _, s := range []string{"1", "1=host:7100", "x=host:7100,c.crt", "-1=host:7100,c.crt", "1=host,c.crt", "1=host:7100,"} {
		if _, err := ParsePartySpec(s); err == nil {
			t.Errorf("ParsePartySpec(%q) accepted", s)
		}
	}
}
