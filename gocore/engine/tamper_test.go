package engine

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/prg"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestTamperRep3 shows what the net.Tamperer testing aid is for: under rep3 (semi-honest)
// a party that alters one of its messages changes the client's output without anybody
// noticing. It also checks the message accounting a tamper test relies on: per-party
// message totals, per-layer counts that add up, and Tampered false beyond the last message.
func TestTamperRep3(t *testing.T) {
	g, c, in, want := tinyModel(t)
	opt := Options{Owner: 0, Client: 1}
	// Deterministic randomness: whether a tampered bit survives the truncation depends
	// on the shares.
	seeded := func(tm *Tamper) LocalOptions {
		return LocalOptions{Tamper: tm, Rand: func(id int) io.Reader { return rand.NewChaCha8([32]byte{byte(id), 9}) }}
	}
	clean, err := RunLocalWith("rep3", g, c, in, opt, seeded(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean.Outputs[0].Data, want[0].Data) || clean.Tampered {
		t.Fatalf("untampered run: output differs from the cleartext evaluator or Tampered set")
	}
	if sized, err := RunLocalWith("rep3", g, c, in, opt, LocalOptions{MessageSizes: true}); err != nil {
		t.Fatal(err)
	} else {
		for p, sz := range sized.MessageSizes {
			if int64(len(sz)) != clean.Messages[p] || sz[0] != prg.KeySize { // the PRG key
				t.Errorf("party %d: %d message sizes (first %v), want %d starting with a %d-byte key", p, len(sz), sz[:1], clean.Messages[p], prg.KeySize)
			}
		}
	}
	if clean.MessageSizes != nil {
		t.Errorf("MessageSizes recorded without being asked for")
	}
	if len(clean.Messages) != 3 {
		t.Fatalf("Messages = %v, want one count per party", clean.Messages)
	}
	for p, m := range clean.Messages {
		// The ranges cover all messages in order; the protocol's own set-up (rep3: one
		// PRG key to the previous party) is the only unmetered part.
		rs := clean.MessageRanges[p]
		if len(rs) == 0 || rs[0].Phase != "protocol" || rs[0].To != 1 || rs[len(rs)-1].To != m {
			t.Errorf("party %d (%d messages): ranges %+v", p, m, rs)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].From != rs[i-1].To {
				t.Errorf("party %d: ranges %+v do not join", p, rs)
			}
		}
		t.Logf("party %d: %+v", p, rs)
	}
	// The client (party 1) alone sends in the input phase, the owner (0) alone in the
	// parameter phase.
	for p := range 3 {
		for _, r := range clean.MessageRanges[p] {
			sends := r.To > r.From
			if (r.Phase == "input" && sends != (p == 1)) || (r.Phase == "parameters" && sends != (p == 0)) {
				t.Errorf("party %d: phase %s has messages %d..%d", p, r.Phase, r.From, r.To)
			}
		}
	}

	for p := range 3 {
		n := int(clean.Messages[p])
		// Beyond the last message: nothing fires, the output is right.
		tm := &Tamper{Party: p, Spec: net.Tamper{Message: n, Xor: 1}}
		res, err := RunLocalWith("rep3", g, c, in, opt, seeded(tm))
		if err != nil {
			t.Fatalf("party %d, message %d (none): %v", p, n, err)
		}
		if res.Tampered || tm.Fired || tm.Report.Reached || !bytes.Equal(res.Outputs[0].Data, want[0].Data) {
			t.Fatalf("party %d, message %d (none): Tampered %v report %+v", p, n, res.Tampered, tm.Report)
		}

		// The party's messages from the CONV_2D layer on (its reshare, the truncation's
		// conversions, the opening to the client): a flipped bit 40 or bit 3 of word 0 is
		// never noticed by rep3, and it changes the output for at least one message of
		// every party (not for all: some alter only bits that the truncation or the ReLU
		// drops; in a message of bit planes word 0 bit j is element j's plane, in one of
		// ring words element 0's word, where bit 40 is dropped by the 8-bit output and
		// bit 3 is not).
		var first int
		for _, r := range clean.MessageRanges[p] {
			if r.Phase == "CONV_2D" {
				first = int(r.From)
			}
		}
		changed := 0
		for k := first; k < n; k++ {
			c1 := false
			for _, bit := range []uint{40, 3} {
				tm := &Tamper{Party: p, Spec: net.Tamper{Message: k, Xor: 1 << bit}}
				res, err := RunLocalWith("rep3", g, c, in, opt, seeded(tm))
				if err != nil {
					t.Fatalf("party %d, message %d: rep3 raised %v (semi-honest: it cannot notice)", p, k, err)
				}
				if !res.Tampered || !tm.Fired || tm.Report.Bytes == 0 {
					t.Fatalf("party %d, message %d: Tampered %v report %+v", p, k, res.Tampered, tm.Report)
				}
				c1 = c1 || !bytes.Equal(res.Outputs[0].Data, want[0].Data)
			}
			if c1 {
				changed++
			}
		}
		if changed == 0 {
			t.Errorf("party %d: none of its %d inference messages, tampered, changed the output", p, n-first)
		}
		t.Logf("party %d: %d messages (%d in the inference), %d of those changed the output when tampered", p, n, n-first, changed)
	}
}

func TestTamperBadParty(t *testing.T) {
	g := tflitetest.TinyConv(model.Int8, 2, 2, 1, 1, 1)
	c, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	in := randomInputs(g, rand.New(rand.NewPCG(1, 1)))
	for _, tm := range []*Tamper{{Party: 3, Spec: net.Tamper{Xor: 1}}, {Party: 0, Spec: net.Tamper{}}} {
		if _, err := RunLocalWith("rep3", g, c, in, Options{Owner: 0, Client: 1}, LocalOptions{Tamper: tm}); errs.KindOf(err) != errs.Config {
			t.Errorf("tamper %+v: err %v, want a config error", tm, err)
		}
	}
}

// tinyModel is the small convolutional model of the tamper tests, compiled, with its
// seeded input and the cleartext evaluator's output.
func tinyModel(t *testing.T) (*model.Graph, *Compiled, []model.Value, []model.Value) {
	t.Helper()
	g := tflitetest.TinyConv(model.Int8, 4, 4, 2, 3, 5)
	c, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	in := randomInputs(g, rand.New(rand.NewPCG(5, 1)))
	want, err := qnn.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	return g, c, in, want
}
