package rep3

import (
	"github.com/qmpc/qmpc/gocore/mpc"
	"strings"
	"sync"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net"
)

// TestExternalClient: a client deals x and y, the parties multiply them, and the client
// reconstructs x*y from the exported shares (oracle: cleartext products).
func TestExternalClient(t *testing.T) {
	x := []uint64{0, 1, 5, 1 << 63, ^uint64(0)}
	y := []uint64{7, 1 << 40, 3, 2, ^uint64(0)}
	n := len(x)
	dx, err := Dealer{}.Deal(x)
	if err != nil {
		t.Fatal(err)
	}
	dy, _ := Dealer{}.Deal(y)
	for i := range 3 {
		// A single party's payload does not contain x in the clear.
		if strings.Contains(string(dx[i]), string([]byte{5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128})) {
			t.Errorf("party %d payload holds the cleartext", i)
		}
	}
	conns := net.NewPipes(3)
	outs := make([][]byte, 3)
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := New(conns[i], mpc.Options{})
			if err != nil {
				errc <- err
				return
			}
			a, err := p.ImportShares(dx[i], n)
			if err != nil {
				errc <- err
				return
			}
			b, err := p.ImportShares(dy[i], n)
			if err != nil {
				errc <- err
				return
			}
			z, err := p.Mul(a, b)
			if err != nil {
				errc <- err
				return
			}
			outs[i], err = p.ExportShares(z)
			if err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	got, err := Dealer{}.Reconstruct(outs, n)
	if err != nil {
		t.Fatal(err)
	}
	for k := range x {
		if got[k] != x[k]*y[k] {
			t.Errorf("element %d: got %d, want %d", k, got[k], x[k]*y[k])
		}
	}
	// A tampered copy is detected and names the two parties holding that component.
	outs[1][8*n+2*8] ^= 1 // party 1's second component (x_2), element 2
	if _, err := (Dealer{}).Reconstruct(outs, n); err == nil || errs.KindOf(err) != errs.Party ||
		!strings.Contains(err.Error(), "parties 2 and 1") || !strings.Contains(err.Error(), "element 2") {
		t.Errorf("tampered output: %v", err)
	}
	if _, err := (Dealer{}).Reconstruct(outs[:2], n); err == nil {
		t.Error("two payloads accepted")
	}
	if _, err := (&Protocol{}).ImportShares(make([]byte, 15), 1); err == nil || errs.KindOf(err) != errs.Party {
		t.Errorf("short payload: %v", err)
	}
}

// TestDealPayloads: the client's input payloads carry the pseudorandom components as
// keys (party 0: 33 bytes; parties 1 and 2: 17 + 8n), each party's pair is the replicated
// sharing's (x_i, x_{i+1}) with x_0 + x_1 + x_2 = v, the words a party receives differ
// between two deals of the same values (masked by a key it lacks), and malformed
// payloads are refused naming the length or the flags.
func TestDealPayloads(t *testing.T) {
	v := []uint64{0, 1, 1 << 63, ^uint64(0), 42, 7, 9}
	n := len(v)
	d1, err := Dealer{}.Deal(v)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := Dealer{}.Deal(v)
	want := []int{33, 17 + 8*n, 17 + 8*n}
	var sh [3]*AShare
	for i := range 3 {
		if len(d1[i]) != want[i] {
			t.Errorf("party %d payload %d bytes, want %d", i, len(d1[i]), want[i])
		}
		if i > 0 && string(d1[i]) == string(d2[i]) {
			t.Errorf("party %d received the same payload from two deals of the same values", i)
		}
		s, err := (&Protocol{}).ImportShares(d1[i], n)
		if err != nil {
			t.Fatalf("party %d: %v", i, err)
		}
		sh[i] = s.(*AShare)
	}
	for k := range n {
		for i := range 3 {
			if sh[i].b[k] != sh[(i+1)%3].a[k] {
				t.Fatalf("element %d: party %d's second component is not party %d's first", k, i, (i+1)%3)
			}
		}
		if got := sh[0].a[k] + sh[1].a[k] + sh[2].a[k]; got != v[k] {
			t.Errorf("element %d: components sum to %d, want %d", k, got, v[k])
		}
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		msg     string
	}{
		{"empty", nil, "flags"},
		{"bad flags", append([]byte{4}, make([]byte, 32)...), "flags"},
		{"keys, one byte short", d1[0][:32], "want 33"},
		{"words, one byte long", append(append([]byte{}, d1[1]...), 0), "want"},
	} {
		_, err := (&Protocol{}).ImportShares(tc.payload, n)
		if errs.KindOf(err) != errs.Party || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want a party error naming %q", tc.name, err, tc.msg)
		}
	}
}
