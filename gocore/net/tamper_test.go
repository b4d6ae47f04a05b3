package net

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
)

// words encodes v little-endian.
func words(v ...uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// sent is one Send of the script a tamper test plays.
type sent struct {
	to  int
	msg []byte
}

func TestTamperer(t *testing.T) {
	// Party 0 sends this script to parties 1 and 2 (indices 0..5).
	script := []sent{
		{1, words(1, 2)},       // 0
		{2, words(3)},          // 1
		{1, words(4, 5, 6)},    // 2
		{1, []byte{1, 2, 3}},   // 3: a short message (partial word 0)
		{2, words(7, 8)},       // 4
		{1, words(9, 10, 11)},  // 5
		{2, words(12, 13, 14)}, // 6
	}
	cases := []struct {
		name    string
		tamper  Tamper
		want    []byte // what the receiver of the chosen message gets (nil: unchanged)
		reached bool
		altered bool
	}{
		{"xor word 0 of the first message", Tamper{Message: 0, Xor: 1}, words(0, 2), true, true},
		{"xor word 1", Tamper{Message: 2, Word: 1, Xor: 0xff00}, words(4, 5^0xff00, 6), true, true},
		{"add wraps mod 2^64", Tamper{Message: 5, Word: 2, Add: ^uint64(0)}, words(9, 10, 10), true, true},
		{"add to the last word", Tamper{Message: 6, Word: 2, Add: 1 << 63}, words(12, 13, 14+1<<63), true, true},
		{"word past the end changes nothing", Tamper{Message: 1, Word: 1, Xor: 1}, nil, true, false},
		{"partial word: bytes present", Tamper{Message: 3, Xor: 0x01_0000}, []byte{1, 2, 2}, true, true},
		{"partial word: add carries into a missing byte", Tamper{Message: 3, Add: 0xff_0000}, []byte{1, 2, 2}, true, true},
		{"partial word: only missing bytes", Tamper{Message: 3, Xor: 1 << 40}, nil, true, false},
		{"replay the previous message to the same peer (padded)", Tamper{Message: 2, Replay: 1}, words(1, 2, 0), true, true},
		{"replay two back (truncated)", Tamper{Message: 5, Replay: 2}, words(4, 5, 6), true, true},
		{"replay cut to a short message", Tamper{Message: 3, Replay: 1}, []byte{4, 0, 0}, true, true},
		{"replay to another peer's history", Tamper{Message: 6, Replay: 2}, words(3, 0, 0), true, true},
		{"replay with no earlier message to the peer", Tamper{Message: 1, Replay: 1}, nil, true, false},
		{"replay one further back than the peer's history", Tamper{Message: 4, Replay: 2}, nil, true, false},
		{"replay three back (padded)", Tamper{Message: 5, Replay: 3}, words(1, 2, 0), true, true},
		{"replay four back: only three earlier", Tamper{Message: 5, Replay: 4}, nil, true, false},
		{"message beyond the last", Tamper{Message: 7, Xor: 1}, nil, false, false},
		{"in place: xor", Tamper{Message: 2, Word: 2, Xor: 3, InPlace: true}, words(4, 5, 5), true, true},
		{"in place: replay (padded)", Tamper{Message: 2, Replay: 1, InPlace: true}, words(1, 2, 0), true, true},
		{"in place: nothing to change", Tamper{Message: 1, Word: 1, Xor: 1, InPlace: true}, nil, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conns := NewPipes(3)
			tp, err := NewTamperer(conns[0], tc.tamper)
			if err != nil {
				t.Fatal(err)
			}
			var orig [][]byte
			for _, s := range script {
				orig = append(orig, bytes.Clone(s.msg))
				if err := tp.Send(s.to, s.msg); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range script {
				want := orig[i]
				if i == tc.tamper.Message && tc.tamper.InPlace && tc.want != nil {
					want = tc.want // the sender's buffer is the altered message
				}
				if !bytes.Equal(s.msg, want) {
					t.Fatalf("message %d: the sender's buffer is %v, want %v", i, s.msg, want)
				}
			}
			for i, s := range script {
				got, err := conns[s.to].Recv(0)
				if err != nil {
					t.Fatal(err)
				}
				want := s.msg
				if i == tc.tamper.Message && tc.want != nil {
					want = tc.want
				}
				if !bytes.Equal(got, want) {
					t.Errorf("message %d to %d: got %v, want %v", i, s.to, got, want)
				}
				if (i != tc.tamper.Message || tc.tamper.InPlace) && len(got) > 0 && &got[0] != &s.msg[0] {
					t.Errorf("message %d was copied (only the chosen message may be, and not in place)", i)
				}
			}
			r := tp.Report()
			if r.Reached != tc.reached || r.Altered != tc.altered || tp.Tampered() != tc.altered {
				t.Errorf("report %+v, Tampered %v; want reached %v altered %v", r, tp.Tampered(), tc.reached, tc.altered)
			}
			if tc.reached {
				m := script[tc.tamper.Message]
				if r.To != m.to || r.Bytes != len(m.msg) {
					t.Errorf("report %+v: want to %d, %d bytes", r, m.to, len(m.msg))
				}
			}
			if st := tp.Stats(); st.Messages != int64(len(script)) {
				t.Errorf("Stats().Messages = %d, want %d", st.Messages, len(script))
			}
		})
	}
}

func TestParseTamper(t *testing.T) {
	cases := []struct {
		in   string
		want Tamper
		ok   bool
	}{
		{"message=40,xor=1", Tamper{Message: 40, Xor: 1}, true},
		{" message = 3 , word=2, add=0xffffffffffffffff", Tamper{Message: 3, Word: 2, Add: ^uint64(0)}, true},
		{"message=0,replay=1", Tamper{Replay: 1}, true},
		{"message=5,add=1,inplace=true", Tamper{Message: 5, Add: 1, InPlace: true}, true},
		{"message=5,add=1,inplace=0", Tamper{Message: 5, Add: 1}, true},
		{"message=5,add=1,inplace=maybe", Tamper{}, false},
		{"xor=0x8000000000000000,message=7", Tamper{Message: 7, Xor: 1 << 63}, true},
		{"message=1", Tamper{}, false},                         // no alteration
		{"message=1,xor=1,add=1", Tamper{}, false},             // two alterations
		{"message=1,xor=0", Tamper{}, false},                   // a zero xor changes nothing
		{"xor=1", Tamper{}, false},                             // no message
		{"message=-1,xor=1", Tamper{}, false},                  // negative
		{"message=1,xor=1,xor=2", Tamper{}, false},             // repeated key
		{"message=1,bits=1", Tamper{}, false},                  // unknown key
		{"message=1,xor=0x10000000000000000", Tamper{}, false}, // overflow
		{"message=1;xor=1", Tamper{}, false},
		{"", Tamper{}, false},
	}
	for _, tc := range cases {
		got, err := ParseTamper(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("ParseTamper(%q): err %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if err != nil {
			if errs.KindOf(err) != errs.Config {
				t.Errorf("ParseTamper(%q): %v is not a config error", tc.in, err)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("ParseTamper(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if back, err := ParseTamper(got.String()); err != nil || back != got {
			t.Errorf("ParseTamper(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

func TestNewTampererRejectsInvalid(t *testing.T) {
	if _, err := NewTamperer(NewPipes(2)[0], Tamper{Message: 1}); err == nil {
		t.Fatal("a tamper without an alteration was accepted")
	}
}

// BenchmarkTamperer is the cost of Send through an inactive Tamperer compared with the
// pipe alone (the wrapper must not copy or allocate for messages it does not alter).
func BenchmarkTamperer(b *testing.B) {
	msg := make([]byte, 1<<16)
	for _, wrap := range []bool{false, true} {
		name := "pipe"
		if wrap {
			name = "tamperer"
		}
		b.Run(name, func(b *testing.B) {
			conns := NewPipes(2)
			c := conns[0]
			if wrap {
				c, _ = NewTamperer(c, Tamper{Message: 1 << 62, Xor: 1})
			}
			b.SetBytes(int64(len(msg)))
			for i := 0; b.Loop(); i++ {
				c.Send(1, msg)
				if i%64 == 63 {
					for range 64 {
						conns[1].Recv(0)
					}
				}
			}
		})
	}
}

func TestEventLogSizes(t *testing.T) {
	conns := NewPipes(3)
	s := NewEventLog(conns[1])
	for _, m := range []sent{{0, words(1, 2)}, {2, []byte{1}}, {0, nil}} {
		if err := s.Send(m.to, m.msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Sizes(); len(got) != 3 || got[0] != 16 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("Sizes = %v, want [16 1 0]", got)
	}
	if got, err := conns[0].Recv(1); err != nil || len(got) != 16 {
		t.Fatalf("Recv = %v, %v", got, err)
	}
}

// TestTamperShareOnce: of two Tamperers sharing one guard, only the first to reach its
// message alters it; the second passes its message on untouched and reports nothing.
func TestTamperShareOnce(t *testing.T) {
	var once atomic.Bool
	conns := NewPipes(2)
	a, err := NewTamperer(conns[0], Tamper{Message: 0, Xor: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTamperer(conns[0], Tamper{Message: 0, Xor: 1})
	if err != nil {
		t.Fatal(err)
	}
	a.ShareOnce(&once)
	b.ShareOnce(&once)
	for _, tc := range []*Tamperer{a, b} {
		if err := tc.Send(1, words(6)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := conns[1].Recv(0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := conns[1].Recv(0)
	if err != nil {
		t.Fatal(err)
	}
	if first[0] != 7 || second[0] != 6 {
		t.Fatalf("received %d and %d, want 7 (altered) and 6 (untouched)", first[0], second[0])
	}
	if !a.Report().Altered || b.Report().Reached || !once.Load() {
		t.Fatalf("reports %+v, %+v, guard %v", a.Report(), b.Report(), once.Load())
	}
}
