package spdz2k

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/net"
)

// clientRun is one request of an outside client: the client's values go in through
// ClientInput, the parties compute x*x + x on every element and return it through
// ClientOutput, and the client checks and reconstructs it.
type clientRun struct {
	// alterInput and alterOutput change party cheater's message to the client (nil: no
	// change); alterD changes the client's reply to party 1.
	cheater                 int
	alterInput, alterOutput func([]byte)
	alterD                  func([]byte)
	// tamper alters one message of party cheater to the other party.
	tamper *net.Tamper
}

type clientResult struct {
	out       [][]uint64
	clientErr error
	partyErr  [2]error
}

// newPair returns the two parties of a spdz2k run over conns: made by New with the given
// preprocessing, or for PreprocessingOT directly on the OT-based source (otProtocols).
func newPair(t *testing.T, conns []net.Conn, preprocessing string) [2]*Protocol {
	t.Helper()
	if preprocessing == PreprocessingOT {
		return otProtocols(t, conns)
	}
	var p [2]*Protocol
	mustBoth(t, conns,
		func() (err error) {
			p[0], err = New(conns[0], mpc.Options{Rand: seededReader(1), Preprocessing: preprocessing})
			return
		},
		func() (err error) {
			p[1], err = New(conns[1], mpc.Options{Rand: seededReader(2), Preprocessing: preprocessing})
			return
		})
	return p
}

func (cr clientRun) run(t *testing.T, p [2]*Protocol, vals [][]uint64) clientResult {
	t.Helper()
	var res clientResult
	ns := make([]int, len(vals))
	for k, v := range vals {
		ns[k] = len(v)
	}
	// The client: the two parties' input messages, its replies, their outputs.
	toClient := [2]chan []byte{make(chan []byte, 1), make(chan []byte, 1)}
	replies := [2]chan []byte{make(chan []byte, 1), make(chan []byte, 1)}
	outputs := [2]chan []byte{make(chan []byte, 1), make(chan []byte, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var msgs [2][]byte
		for i := range 2 {
			m, ok := <-toClient[i]
			if !ok {
				res.clientErr = errs.New(errs.Party, "party %d failed before its input message", i)
				close(replies[0])
				close(replies[1])
				return
			}
			msgs[i] = m
		}
		rep, err := Client{}.Input(vals, msgs[:])
		if err != nil {
			res.clientErr = err
			close(replies[0])
			close(replies[1])
			return
		}
		if cr.alterD != nil {
			rep[1] = slices.Clone(rep[1])
			cr.alterD(rep[1])
		}
		for i := range 2 {
			replies[i] <- rep[i]
		}
		var outs [2][]byte
		for i := range 2 {
			o, ok := <-outputs[i]
			if !ok {
				res.clientErr = errs.New(errs.Party, "party %d failed before its output", i)
				return
			}
			outs[i] = o
		}
		res.out, res.clientErr = Client{}.Output(outs[:], ns)
	}()
	party := func(i int) func() error {
		return func() error {
			sent := false
			defer func() {
				if !sent {
					close(toClient[i])
				}
			}()
			defer close(outputs[i])
			xs, err := p[i].ClientInput(ns, func(b []byte) ([]byte, error) {
				if i == cr.cheater && cr.alterInput != nil {
					b = slices.Clone(b)
					cr.alterInput(b)
				}
				sent = true
				toClient[i] <- b
				r, ok := <-replies[i]
				if !ok {
					return nil, errs.New(errs.Party, "the client aborted")
				}
				return r, nil
			})
			if err != nil {
				return err
			}
			ys := make([]mpc.AShare, len(xs))
			for k, x := range xs {
				sq, err := p[i].Mul(x, x)
				if err != nil {
					return err
				}
				ys[k] = p[i].Add(sq, x)
			}
			if err := p[i].Verify(); err != nil {
				return err
			}
			b, err := p[i].ClientOutput(ys)
			if err != nil {
				return err
			}
			if i == cr.cheater && cr.alterOutput != nil {
				b = slices.Clone(b)
				cr.alterOutput(b)
			}
			outputs[i] <- b
			return nil
		}
	}
	res.partyErr[0], res.partyErr[1] = net.RunPair([]net.Conn{p[0].conn, p[1].conn}, party(0), party(1))
	<-done
	return res
}

func addWord(b []byte, w int, v uint64) {
	binary.LittleEndian.PutUint64(b[8*w:], binary.LittleEndian.Uint64(b[8*w:])+v)
}

// TestClientIO: the client's input and output through both sources; every alteration of
// a party's message to the client is caught by the client, an inconsistent client by
// both parties, and a party's cheating towards the other by the MAC check.
func TestClientIO(t *testing.T) {
	vals := [][]uint64{{3, 1 << 63, ^uint64(0), 12345}, {7}, {}, {1 << 40, 5}}
	var want [][]uint64
	for _, v := range vals {
		w := make([]uint64, len(v))
		for e, x := range v {
			w[e] = x*x + x
		}
		want = append(want, w)
	}
	n := 7
	for _, pre := range []string{PreprocessingDealer, mpc.PreprocessingDefault} {
		name := pre
		if name == "" {
			name = "ot"
		}
		t.Run(name, func(t *testing.T) {
			conns := net.NewPipes(2)
			p := newPair(t, conns, pre)
			res := clientRun{}.run(t, p, vals)
			if res.clientErr != nil || res.partyErr[0] != nil || res.partyErr[1] != nil {
				t.Fatalf("client: %v; parties: %v", res.clientErr, res.partyErr)
			}
			for k := range want {
				if !slices.Equal(res.out[k], want[k]) {
					t.Fatalf("output %d: %v, want %v", k, res.out[k], want[k])
				}
			}
			// A second request on the same instances.
			if res = (clientRun{}).run(t, p, vals); res.clientErr != nil || !slices.Equal(res.out[0], want[0]) {
				t.Fatalf("second request: %v %v", res.out, res.clientErr)
			}
			if testing.Short() && pre == mpc.PreprocessingDefault {
				return
			}
			cases := []struct {
				name string
				run  clientRun
				// who must report errs.Cheating: the client, or both parties.
				client, parties bool
			}{
				// The mask a (word 0: element 0's low word), its high word, b and c.
				{"input a low", clientRun{alterInput: func(b []byte) { addWord(b, 0, 1) }}, true, false},
				{"input a bit 63", clientRun{alterInput: func(b []byte) { addWord(b, 2, 1<<63) }}, true, false},
				{"input a high", clientRun{alterInput: func(b []byte) { addWord(b, n, 1) }}, true, false},
				{"input b", clientRun{cheater: 1, alterInput: func(b []byte) { addWord(b, 2*n+3, 1<<20) }}, true, false},
				{"input c", clientRun{cheater: 1, alterInput: func(b []byte) { addWord(b, 5*n-1, 1) }}, true, false},
				{"output y", clientRun{alterOutput: func(b []byte) { addWord(b, 0, 1) }}, true, false},
				{"output y bit 63", clientRun{cheater: 1, alterOutput: func(b []byte) { addWord(b, 6, 1<<63) }}, true, false},
				{"output r", clientRun{alterOutput: func(b []byte) { addWord(b, 2*n+1, 4) }}, true, false},
				{"output w", clientRun{cheater: 1, alterOutput: func(b []byte) { addWord(b, 4*n+2, 1) }}, true, false},
				{"client sends different d", clientRun{alterD: func(b []byte) { addWord(b, 0, 1<<63) }}, false, true},
			}
			if pre == PreprocessingDealer { // the dealer sends nothing: message 0 is the hash of d
				cases = append(cases, struct {
					name            string
					run             clientRun
					client, parties bool
				}{"party 0 alters the hash", clientRun{tamper: &net.Tamper{Message: 0, Xor: 1}}, false, true})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					conns := net.NewPipes(2)
					p := newPair(t, conns, pre)
					if c.run.tamper != nil {
						tc, err := net.NewTamperer(conns[c.run.cheater], *c.run.tamper)
						if err != nil {
							t.Fatal(err)
						}
						p[c.run.cheater].conn = tc
					}
					res := c.run.run(t, p, vals)
					if c.client && errs.KindOf(res.clientErr) != errs.Cheating {
						t.Errorf("client: %v, want a cheating error (parties: %v)", res.clientErr, res.partyErr)
					}
					if c.parties {
						for i, err := range res.partyErr {
							// Both parties when the client cheats; the honest one when a party does.
							if (c.run.tamper == nil || i != c.run.cheater) && errs.KindOf(err) != errs.Cheating {
								t.Errorf("party %d: %v, want a cheating error", i, err)
							}
						}
						if res.out != nil {
							t.Errorf("the client got an output: %v", res.out)
						}
					}
				})
			}
		})
	}
}

// TestClientOutputCheatingParty: a party that alters any of its messages to the other
// party during the client's input and output (after its input triple) is caught by the
// hash comparison or the MAC check before anything reaches the client.
func TestClientOutputCheatingParty(t *testing.T) {
	vals := [][]uint64{{3, 4, 5}}
	for cheater := range 2 {
		// Messages of a request with the dealer: the hash, the squares' opening, its check
		// (5), the output's opening and its check (5).
		for m := range 13 {
			conns := net.NewPipes(2)
			p := newPair(t, conns, PreprocessingDealer)
			tc, err := net.NewTamperer(conns[cheater], net.Tamper{Message: m, Xor: 1})
			if err != nil {
				t.Fatal(err)
			}
			p[cheater].conn = tc
			res := clientRun{}.run(t, p, vals)
			if !tc.Report().Reached {
				t.Fatalf("party %d message %d was not sent", cheater, m)
			}
			if res.out != nil {
				t.Errorf("party %d message %d: the client got %v", cheater, m, res.out)
			}
			caught := errs.KindOf(res.partyErr[0]) == errs.Cheating || errs.KindOf(res.partyErr[1]) == errs.Cheating
			if !caught {
				t.Errorf("party %d message %d: not caught (parties: %v, client: %v)", cheater, m, res.partyErr, res.clientErr)
			}
		}
	}
}
