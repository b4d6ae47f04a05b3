package cluster

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Messages between the client and a party, and between parties (control), are JSON
// headers; a request or result header is followed by one binary message (the payload).
//
// client -> party:  {"op":"info"}                      -> {"op":"info","info":...}
// client -> party:  {"op":"infer","request":R} payload -> {"op":"result","stats":...} payload
// while R runs, for a ClientLane (session.go, clientConn): party -> client
// {"op":"round","request":R} payload, client -> party {"op":"round","request":R} payload
// (or {"op":"error",...}: the client aborts R)
// any failure:                                         -> {"op":"error","kind":...,"message":...}
// leader -> party on the control lane (session.go): lane, run/ack/go/skip, idle
// at session start, every party -> every party: {"op":"ready","nonce":...}
type message struct {
	Op      string          `json:"op"`
	Request string          `json:"request,omitempty"`
	Info    json.RawMessage `json:"info,omitempty"`
	Stats   json.RawMessage `json:"stats,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Error   string          `json:"error,omitempty"`
	Nonce   string          `json:"nonce,omitempty"`
	Lane    uint32          `json:"lane,omitempty"`
	Party   int             `json:"party"`
}

func encode(m message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // message has only marshalable fields
	}
	return b
}

func decode(b []byte, from string) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errs.New(errs.Party, "%s sent a malformed message: %v", from, err)
	}
	return m, nil
}

// errorMessage encodes err for the peer, keeping its kind.
func errorMessage(party int, err error) message {
	return message{Op: "error", Kind: string(errs.KindOf(err)), Error: plainMessage(err), Party: party}
}

var kindPrefix = regexp.MustCompile(`qmpc:[a-z-]+: `)

// plainMessage is err's message without the "qmpc:<kind>: " prefixes of wrapped errors.
func plainMessage(err error) string { return kindPrefix.ReplaceAllString(err.Error(), "") }

// remoteError rebuilds an error a peer reported.
func remoteError(m message, who string) error {
	k := errs.Kind(m.Kind)
	if k == "" {
		k = errs.Party
	}
	if strings.HasPrefix(m.Error, who+":") {
		return errs.New(k, "%s", m.Error)
	}
	return errs.New(k, "%s: %s", who, m.Error)
}
