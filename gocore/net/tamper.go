package net

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Tamper describes one alteration of one message that a party sends: a testing aid that
// simulates a cheating party (a malicious protocol must abort; a semi-honest one silently
// computes a wrong result). It is not a protocol and has no place in a deployment.
//
// Message is the 0-based index of the message among all Send calls on the party's Conn
// since the Tamperer was made (NewTamperer), whatever the peer: protocol setup, parameter
// sharing, preprocessing, input sharing, every reshare, conversion and opening are all
// reachable. Exactly one of Xor, Add and Replay selects the alteration:
//
//   - Xor != 0: word Word of the message (bytes 8*Word to 8*Word+7, little-endian) is
//     xored with Xor;
//   - Add != 0: Add is added to word Word modulo 2^64;
//   - Replay >= 1: the message is replaced by the Replay-th most recent earlier message
//     this party sent to the same peer (1: the previous one), cut or padded with zero bytes
//     to the length of the message it replaces. The length of almost every protocol message
//     is public (it follows from the public graph), so a message of the wrong length would be
//     rejected as malformed before any check of its content; keeping the length makes the
//     replay a test of the protocol's consistency checks rather than of its framing.
//
// If the message ends inside word Word, only the bytes it has are changed (the word is
// read with its missing high bytes as zero and written back truncated); if it ends before
// the word, nothing is changed.
//
// By default the altered message is a copy and the sender's buffer is untouched. InPlace
// alters the sender's buffer itself: where the protocol keeps the bytes it sends as part
// of its own state (rep3 keeps a reshared z_i as its first component, and sends it as the
// receiver's second component), sender and receiver then hold the same wrong value, a
// consistent-looking but wrong replicated component rather than a mismatched one.
type Tamper struct {
	Message int
	Word    int
	Xor     uint64
	Add     uint64
	Replay  int
	InPlace bool
}

// Validate checks that t selects exactly one alteration and has no negative index.
func (t Tamper) Validate() error {
	if t.Message < 0 || t.Word < 0 || t.Replay < 0 {
		return errs.New(errs.Config, "tamper %v: message, word and replay must not be negative", t)
	}
	kinds := 0
	for _, on := range []bool{t.Xor != 0, t.Add != 0, t.Replay != 0} {
		if on {
			kinds++
		}
	}
	if kinds != 1 {
		return errs.New(errs.Config, "tamper %v: want exactly one of a nonzero xor, a nonzero add or replay >= 1", t)
	}
	return nil
}

// String formats t as ParseTamper reads it, e.g. "message=40,word=0,xor=0x1".
func (t Tamper) String() string {
	s := fmt.Sprintf("message=%d", t.Message)
	switch {
	case t.Replay != 0:
		s += fmt.Sprintf(",replay=%d", t.Replay)
	case t.Add != 0:
		s += fmt.Sprintf(",word=%d,add=%#x", t.Word, t.Add)
	default:
		s += fmt.Sprintf(",word=%d,xor=%#x", t.Word, t.Xor)
	}
	if t.InPlace {
		s += ",inplace=true"
	}
	return s
}

// ParseTamper reads a Tamper from comma-separated key=value pairs, keys message, word,
// xor, add, replay and inplace (true or false); numbers in decimal or with a 0x / 0b / 0o prefix (xor and add are
// unsigned 64-bit). Example: "message=40,xor=1". The result is validated.
func ParseTamper(s string) (Tamper, error) {
	var t Tamper
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || seen[k] {
			return Tamper{}, errs.New(errs.Config, "tamper %q: want key=value pairs (message, word, xor, add, replay, inplace), each once", s)
		}
		seen[k] = true
		var err error
		switch k {
		case "message", "word", "replay":
			var n int64
			n, err = strconv.ParseInt(v, 0, 0)
			switch k {
			case "message":
				t.Message = int(n)
			case "word":
				t.Word = int(n)
			default:
				t.Replay = int(n)
			}
		case "xor":
			t.Xor, err = strconv.ParseUint(v, 0, 64)
		case "add":
			t.Add, err = strconv.ParseUint(v, 0, 64)
		case "inplace":
			t.InPlace, err = strconv.ParseBool(v)
		default:
			return Tamper{}, errs.New(errs.Config, "tamper %q: unknown key %q (want message, word, xor, add, replay, inplace)", s, k)
		}
		if err != nil {
			return Tamper{}, errs.New(errs.Config, "tamper %q: %s: %v", s, k, err)
		}
	}
	if !seen["message"] {
		return Tamper{}, errs.New(errs.Config, "tamper %q: message=K is required", s)
	}
	return t, t.Validate()
}

// TamperReport tells what a Tamperer did.
type TamperReport struct {
	Reached bool // the party sent message Tamper.Message
	Altered bool // ... and the bytes that went out differ from those the protocol sent
	To      int  // the peer it was sent to (when Reached)
	Bytes   int  // its length (when Reached)
}

// Tamperer is a Conn that sends what its inner Conn's party sends, except for the one
// message its Tamper alters. All other messages pass through untouched and uncopied; the
// altered message is a copy (the protocol's buffer, which the sender may keep as part of
// its state, is modified only with Tamper.InPlace). Like every Conn, it is used by one party's goroutine;
// Report and Tampered may be called from any goroutine.
type Tamperer struct {
	Conn
	t    Tamper
	sent int // Send calls so far

	// history[peer] holds the last t.Replay messages sent to peer before message
	// t.Message (references, no copies); only kept for a replay.
	history [][][]byte

	reached, altered atomic.Bool
	to, size         atomic.Int64
	// once, if set (ShareOnce), is shared with other Tamperers: only the first to reach
	// its chosen message alters it; the others pass theirs on untouched.
	once *atomic.Bool
}

// NewTamperer wraps c so that message t.Message that c's party sends is altered as t says.
func NewTamperer(c Conn, t Tamper) (*Tamperer, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	tc := &Tamperer{Conn: c, t: t}
	if t.Replay > 0 {
		tc.history = make([][][]byte, c.N())
	}
	return tc, nil
}

// ShareOnce makes c alter its message only if no other Tamperer sharing once has
// altered (reached) its own: one alteration per process when every session or lane of
// a party process gets its own Tamperer. It returns c.
func (c *Tamperer) ShareOnce(once *atomic.Bool) *Tamperer {
	c.once = once
	return c
}

// Spec returns the alteration.
func (c *Tamperer) Spec() Tamper { return c.t }

// Tampered reports whether the message existed and was altered.
func (c *Tamperer) Tampered() bool { return c.altered.Load() }

// Report tells whether the message was reached and altered, and where it went.
func (c *Tamperer) Report() TamperReport {
	return TamperReport{Reached: c.reached.Load(), Altered: c.altered.Load(), To: int(c.to.Load()), Bytes: int(c.size.Load())}
}

// Send passes msg on, or an altered copy of it if it is the chosen message.
func (c *Tamperer) Send(to int, msg []byte) error {
	i := c.sent
	c.sent++
	if i != c.t.Message {
		if c.history != nil && i < c.t.Message && to >= 0 && to < len(c.history) {
			h := append(c.history[to], msg)
			if len(h) > c.t.Replay {
				h = h[len(h)-c.t.Replay:]
			}
			c.history[to] = h
		}
		return c.Conn.Send(to, msg)
	}
	if c.once != nil && !c.once.CompareAndSwap(false, true) {
		return c.Conn.Send(to, msg) // another Tamperer sharing once has altered its message
	}
	out := c.alter(to, msg)
	altered := !bytes.Equal(out, msg)
	if c.t.InPlace && altered {
		copy(msg, out)
		out = msg
	}
	c.to.Store(int64(to))
	c.size.Store(int64(len(msg)))
	c.reached.Store(true)
	c.altered.Store(altered)
	c.history = nil
	return c.Conn.Send(to, out)
}

// alter returns the altered copy of msg (or msg itself when there is nothing to change).
func (c *Tamperer) alter(to int, msg []byte) []byte {
	t := c.t
	if t.Replay > 0 {
		if to < 0 || to >= len(c.history) || len(c.history[to]) < t.Replay {
			return msg // no such earlier message to this peer
		}
		h := c.history[to]
		out := make([]byte, len(msg))
		copy(out, h[len(h)-t.Replay])
		return out
	}
	return t.Apply(msg)
}

// Apply returns msg with t's Xor or Add applied to word Word (a copy; msg itself when
// the message ends before the word). A Replay needs the sender's history and is not
// applied here (msg is returned).
func (t Tamper) Apply(msg []byte) []byte {
	if t.Replay > 0 {
		return msg
	}
	lo := 8 * t.Word
	if lo >= len(msg) || lo < 0 {
		return msg
	}
	hi := min(lo+8, len(msg))
	var buf [8]byte
	copy(buf[:], msg[lo:hi])
	w := binary.LittleEndian.Uint64(buf[:])
	if t.Xor != 0 {
		w ^= t.Xor
	} else {
		w += t.Add
	}
	binary.LittleEndian.PutUint64(buf[:], w)
	out := make([]byte, len(msg))
	copy(out, msg)
	copy(out[lo:hi], buf[:hi-lo])
	return out
}
