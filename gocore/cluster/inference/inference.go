// Package inference serves model inference on a cluster (package cluster): the parties
// evaluate a quantized model with the engine on secret shares, and a client that is not a
// computing party secret-shares its input to them and reconstructs the output with the
// protocol's mpc.Dealer. The model owner sends the public graph (engine.PublicGraph) to
// the other parties at each session start and secret-shares the weights once per party
// start (EngineComputation).
package inference

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/local"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// clientSide returns the client side of protocol name for n parties: its interactive
// mpc.Client if it has one, else its mpc.Dealer.
func clientSide(name string, n int) (mpc.Client, mpc.Dealer, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case s.NewClient != nil:
		c, err := s.NewClient(n)
		return c, nil, err
	case s.NewDealer != nil:
		d, err := s.NewDealer(n)
		return nil, d, err
	}
	return nil, nil, errs.New(errs.Config, "protocol %q has no outside-client support", name)
}

// outsideClient reports whether protocol instance p can serve an outside client.
func outsideClient(p mpc.Protocol) bool {
	_, ext := mpc.Ext[mpc.External](p)
	_, cio := mpc.Ext[mpc.ClientIO](p)
	return ext || cio
}

// Info is what the leader tells clients: the public model and the session's settings.
type Info struct {
	Protocol    string       `json:"protocol"`
	Reveal      string       `json:"reveal"`
	ModelDigest string       `json:"model_digest"`
	Graph       *model.Graph `json:"graph"` // engine.PublicGraph of the owner's model
}

// PartyStats is one party's cost of one inference.
type PartyStats struct {
	Party   int                 `json:"party"`
	Seconds float64             `json:"seconds"`
	Net     net.Stats           `json:"net"`   // this inference, all peers
	Peers   []tlsnet.LinkStats  `json:"peers"` // this inference, per peer (computing parties)
	Layers  []engine.LayerStats `json:"layers"`
	Setup   engine.LayerStats   `json:"setup"` // the weights' sharing (once per party start)
	// SetupReused: the weights were shared in an earlier session (before a reconnect).
	SetupReused bool `json:"setup_reused,omitempty"`
	Batch       int  `json:"batch"` // inputs evaluated in this one pass
	// Role is the protocol party this party played in the request: its own index, or
	// (index - r) mod n on a lane whose roles are rotated by r (mpc.Spec.Rotatable);
	// -1 in the merged statistics of passes that played different roles.
	Role int `json:"role"`
	// Input is the client's input protocol between the parties (mpc.ClientIO), or nil
	// when the input needs none (mpc.External: the parties import the client's shares).
	Input *engine.LayerStats `json:"input,omitempty"`
}

// EngineComputation evaluates a model with the engine. The owner passes its model g;
// the other parties pass nil and receive the public graph from the owner at each session
// start.
//
// The weights are secret-shared once per party start: every party keeps its shares across
// sessions (a session ends when a party link fails), and a new session re-shares them
// only if some party lacks the shares of the others (it restarted, e.g. the owner with
// another model). Each of the session's lanes (concurrent client sessions) evaluates with
// its own protocol instance over its own channel, using the shared weights
// (engine.Party.WithProtocol).
//
// It reads the testing aids PauseEnv (QMPC_TEST_PAUSE_AT_LAYER) and TamperEnv
// (QMPC_TEST_TAMPER) from the environment.
func EngineComputation(cfg *cluster.Config, g *model.Graph) cluster.NewComputation {
	pauseAt, pauseErr := pauseFromEnv()
	tamper, tamperErr := tamperFromEnv()
	clientHook, clientErr := clientTamperFromEnv()
	fired := new(atomic.Bool)    // the pause hook pauses in the process's first inference only
	tampered := new(atomic.Bool) // the tamper hook has altered its message
	held := &heldWeights{}
	return func(id int) (cluster.Computation, error) {
		if id == cfg.Owner && g == nil {
			return nil, errs.New(errs.Config, "party %d is the model owner and needs the model (--model)", id)
		}
		if pauseErr != nil {
			return nil, pauseErr
		}
		if tamperErr != nil {
			return nil, tamperErr
		}
		if clientErr != nil {
			return nil, clientErr
		}
		c := &engineComp{cfg: cfg, id: id, full: g, held: held, pauseAt: pauseAt, fired: fired,
			tamper: tamper, tampered: tampered, clientHook: clientHook, hookOut: os.Stderr}
		return c, nil
	}
}

// ModelDigest is the digest a config pins, as hex.
func ModelDigest(g *model.Graph) string {
	d := g.Digest()
	return hex.EncodeToString(d[:])
}

// heldWeights are a party's shares of the model parameters, kept across sessions. epoch
// names one sharing: all parties derive it from the nonces they exchange when they share.
type heldWeights struct {
	mu     sync.Mutex
	epoch  string
	digest string
	party  *engine.Party // holds the shares (engine.Party.WithProtocol)
	// keySetup and sent: the messages this party sent in the protocol's set-up and in the
	// sharing (TamperEnv's numbering).
	keySetup, sent int
}

func (h *heldWeights) get() (string, string, *engine.Party, [2]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.epoch, h.digest, h.party, [2]int{h.keySetup, h.sent}
}

func (h *heldWeights) set(epoch, digest string, p *engine.Party, counts [2]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.epoch, h.digest, h.party, h.keySetup, h.sent = epoch, digest, p, counts[0], counts[1]
}

// engineComp is one session's computation at one party.
type engineComp struct {
	cfg   *cluster.Config
	id    int
	full  *model.Graph
	held  *heldWeights
	info  Info
	infoB []byte
	// base holds the shared weights (its protocol instance is not used after Start).
	base *engine.Party
	// graph is the graph the parties evaluate (the owner's with its weights, the
	// others' public one); lanes of a protocol whose shares are bound to its instance's
	// MAC keys (mpc.KeyedShares) share the weights under their own instance (base then
	// holds no shares).
	graph  *model.Graph
	reused bool // the weights were shared in an earlier session
	// batches holds the graph's batched versions (compiled per batch size), for all lanes.
	batches *engine.Batches
	// pauseAt is the PauseEnv testing aid's layer (-1: off); fired records that it paused.
	pauseAt int
	fired   *atomic.Bool
	// tamper is the TamperEnv testing aid (nil: off); tampered records that it fired;
	// keySetup and weightsSent are the messages this party sent in its protocol's set-up
	// and in the weights' sharing (lanes count after them, as a local run does).
	tamper      *net.Tamper
	tampered    *atomic.Bool
	clientHook  *clientTamper // the ClientTamperEnv testing aid (nil: off)
	keySetup    int
	weightsSent int
	hookOut     io.Writer
}

// weightsMsg is what each party tells the others at session start: the sharing it holds
// and a fresh nonce for the epoch of a new sharing.
type weightsMsg struct {
	Epoch  string `json:"epoch"`
	Digest string `json:"digest"`
	Nonce  string `json:"nonce"`
}

func (c *engineComp) Start(conn net.Conn) error {
	owner := c.cfg.Owner
	g := c.full
	if c.id == owner {
		c.info = Info{Protocol: c.cfg.Protocol, Reveal: revealName(c.cfg.Reveal), ModelDigest: ModelDigest(g), Graph: engine.PublicGraph(g)}
		b, err := json.Marshal(c.info)
		if err != nil {
			return errs.New(errs.Internal, "encoding the public model: %w", err)
		}
		c.infoB = b
		for j := range conn.N() {
			if j != c.id {
				if err := conn.Send(j, b); err != nil {
					return err
				}
			}
		}
		if err := conn.Flush(); err != nil {
			return fmt.Errorf("sending the public model: %w", err)
		}
	} else {
		b, err := conn.Recv(owner)
		if err != nil {
			return fmt.Errorf("receiving the public model from party %d: %w", owner, err)
		}
		if err := json.Unmarshal(b, &c.info); err != nil || c.info.Graph == nil {
			return errs.New(errs.Party, "party %d sent a malformed public model: %v", owner, err)
		}
		if d := c.cfg.ModelDigest; d != "" && d != c.info.ModelDigest {
			return errs.New(errs.Config, "the model owner (party %d) serves model %s, the config pins %s", owner, c.info.ModelDigest, d)
		}
		c.infoB = b
		g = c.info.Graph
	}
	// Keep the weights of an earlier session if every party holds the same sharing of
	// this model; else share them again.
	epoch, digest, heldParty, heldSent := c.held.get()
	var nonce [16]byte
	rand.Read(nonce[:])
	mine := weightsMsg{Epoch: epoch, Digest: digest, Nonce: hex.EncodeToString(nonce[:])}
	mb, _ := json.Marshal(mine)
	for j := range conn.N() {
		if j != c.id {
			conn.Send(j, mb)
		}
	}
	all := make([]weightsMsg, conn.N())
	all[c.id] = mine
	for j := range conn.N() {
		if j == c.id {
			continue
		}
		b, err := conn.Recv(j)
		if err != nil {
			return fmt.Errorf("agreeing on the weights: %w", err)
		}
		if err := json.Unmarshal(b, &all[j]); err != nil {
			return errs.New(errs.Party, "party %d sent a malformed weights message: %v", j, err)
		}
	}
	reuse := heldParty != nil && epoch != "" && digest == c.info.ModelDigest
	h := sha256.New()
	for _, m := range all {
		reuse = reuse && m.Epoch == epoch && m.Digest == digest
		h.Write([]byte(m.Nonce))
	}
	if reuse {
		c.base, c.reused, c.keySetup, c.weightsSent = heldParty, true, heldSent[0], heldSent[1]
	} else {
		c.held.set("", "", nil, [2]int{})
		var pconn net.Conn = conn
		var hook *tamperHook
		if c.tamper != nil && !c.tampered.Load() {
			var err error
			if hook, err = newTamperHook(conn, *c.tamper, c.tamper.Message, c.id, c.hookOut, c.tampered); err != nil {
				return err
			}
			pconn = hook.t
			defer hook.note()
		}
		sent := func() int { return int(conn.Stats().Messages) }
		before := sent()
		p, err := local.NewParty(c.cfg.Protocol, pconn, mpc.Options{})
		if err != nil {
			return fmt.Errorf("protocol %s: %w", c.cfg.Protocol, err)
		}
		c.keySetup = sent() - before
		if !outsideClient(p) {
			return errs.New(errs.Config, "protocol %s does not support an outside client", c.cfg.Protocol)
		}
		reveal, err := engine.ParseReveal(c.cfg.Reveal)
		if err != nil {
			return err
		}
		base, err := engine.NewParty(p, g, engine.Options{Owner: owner, Client: owner, Reveal: reveal})
		if err != nil {
			return err
		}
		// A protocol whose shares are bound to its instance's MAC keys shares the weights
		// in every lane instead (Lane), not here.
		before = sent()
		if _, keyed := mpc.Ext[mpc.KeyedShares](p); !keyed {
			if err := base.Setup(); err != nil {
				return err
			}
		}
		c.base, c.weightsSent = base, sent()-before
		c.held.set(hex.EncodeToString(h.Sum(nil)[:12]), c.info.ModelDigest, base, [2]int{c.keySetup, c.weightsSent})
	}
	c.graph = g
	c.batches = engine.NewBatches(g, nil)
	return nil
}

func revealName(s string) string {
	if s == "" {
		return "output"
	}
	return s
}

func (c *engineComp) Info() ([]byte, error) { return c.infoB, nil }

// Lane starts a protocol instance of its own over conn (its own keys and randomness
// streams) that evaluates with the session's shared weights.
func (c *engineComp) Lane(conn net.Conn) (cluster.Lane, error) {
	l := &engineLane{comp: c, conn: conn}
	var pconn net.Conn = conn
	if c.pauseAt >= 0 {
		l.pause = &pauseConn{Conn: conn, at: c.pauseAt, id: c.id, out: os.Stderr, fired: c.fired,
			layer: func() int { return len(l.party.Layers()) }, failed: func() error { return connErr(conn) }}
		pconn = l.pause
	}
	// The lane's messages after its protocol set-up count as the local run's after the
	// weights' sharing (TamperEnv); a lane that shares the weights again (keyed) counts
	// its messages exactly as a local run does.
	keyed := c.keyed()
	if c.tamper != nil && !c.tampered.Load() && c.tamper.Message >= c.keySetup+c.weightsSent {
		at := c.tamper.Message - c.weightsSent
		if keyed {
			at = c.tamper.Message
		}
		hook, err := newTamperHook(pconn, *c.tamper, at, c.id, c.hookOut, c.tampered)
		if err != nil {
			return nil, err
		}
		l.tamper, pconn = hook, hook.t
	}
	// A protocol whose sharings do not depend on the party labels runs request lane L
	// with the roles rotated by L - 1: concurrent lanes (clients, or passes of a batch)
	// then put each role's traffic on a different link.
	if !keyed {
		if spec, err := registry.Lookup(c.cfg.Protocol); err == nil && spec.Rotatable {
			if ln, ok := conn.(interface{ Lane() uint32 }); ok && ln.Lane() > 0 {
				l.rotation = int(ln.Lane()-1) % conn.N()
				pconn = net.Rotate(pconn, l.rotation)
			}
		}
	}
	p, err := local.NewParty(c.cfg.Protocol, pconn, mpc.Options{})
	if err != nil {
		return nil, fmt.Errorf("protocol %s: %w", c.cfg.Protocol, err)
	}
	l.ext, _ = mpc.Ext[mpc.External](p)
	l.cio, _ = mpc.Ext[mpc.ClientIO](p)
	if l.ext == nil && l.cio == nil {
		return nil, errs.New(errs.Config, "protocol %s does not support an outside client", c.cfg.Protocol)
	}
	var party *engine.Party
	if keyed {
		// The weights' shares are bound to the session instance's MAC keys: share them
		// under this lane's instance (every party does so at the same point).
		if party, err = engine.NewParty(p, c.graph, c.base.Options()); err == nil {
			err = party.Setup()
		}
	} else {
		party, err = c.base.Rotated(p, l.rotation)
	}
	if err != nil {
		return nil, err
	}
	l.party, l.batched = party, map[int]*engine.Party{}
	return l, nil
}

// keyed reports whether the protocol binds shares to its instance's MAC keys
// (mpc.KeyedShares), so that lanes cannot use the weights shared at Start.
func (c *engineComp) keyed() bool {
	_, ok := mpc.Ext[mpc.KeyedShares](c.base.Protocol())
	return ok
}

// engineLane is one lane's computation at one party.
type engineLane struct {
	comp  *engineComp
	conn  net.Conn
	ext   mpc.External // the protocol's client side: ext, or cio
	cio   mpc.ClientIO
	party *engine.Party
	// batched holds the parties evaluating batched graphs with the shared weights.
	batched map[int]*engine.Party
	pause   *pauseConn  // the PauseEnv testing aid, or nil
	tamper  *tamperHook // the TamperEnv testing aid, or nil
	// rotation: this party plays the role of party (id - rotation) mod n on the lane
	// (mpc.Spec.Rotatable; 0 otherwise).
	rotation int
}

// partyFor returns the engine party for a batch of n (the lane's party for n == 1).
// Every party calls it at the same point of a request.
func (c *engineLane) partyFor(n int) (*engine.Party, error) {
	if n == 1 {
		return c.party, nil
	}
	if e, ok := c.batched[n]; ok {
		return e, nil
	}
	bg, comp, err := c.comp.batches.Get(n)
	if err != nil {
		return nil, err
	}
	e, err := c.party.ForGraph(bg, comp)
	if err != nil {
		return nil, err
	}
	if len(c.batched) >= 4 { // keep a few batch sizes
		clear(c.batched)
	}
	c.batched[n] = e
	return e, nil
}

var _ cluster.Idler = (*engineLane)(nil)

// NeedsIdle reports whether the protocol has an offline phase and no preprocessing is
// ready for the next request (cluster.Idler).
func (c *engineLane) NeedsIdle() bool { return c.party.NeedsPreprocess() }

// Idle runs the protocol's offline phase for the next request while no client waits.
func (c *engineLane) Idle() error {
	defer c.tamper.note()
	return c.party.Preprocess()
}

// Close releases the lane (its protocol instance ends with its channel).
func (c *engineLane) Close() {}

var _ cluster.ClientLane = (*engineLane)(nil)

// Run serves a request of a protocol with a one-way client side (mpc.External).
func (c *engineLane) Run(in []byte) ([]byte, json.RawMessage, error) {
	return c.RunClient(in, nil)
}

// RunClient serves a request; a protocol with an interactive client side (mpc.ClientIO)
// exchanges its input round with the client over client.
func (c *engineLane) RunClient(in []byte, client cluster.ClientConn) ([]byte, json.RawMessage, error) {
	defer c.tamper.note()
	toClient := c.comp.clientHook.request(c.comp.id, c.comp.hookOut)
	start := time.Now()
	before := c.conn.Stats()
	var peersBefore []tlsnet.LinkStats
	ps, _ := c.conn.(interface{ PeerStats() []tlsnet.LinkStats })
	if ps != nil {
		peersBefore = ps.PeerStats()
	}
	// The client's payload: the batch size (u32), then one part per shared input (none
	// with mpc.ClientIO, whose input travels in the request's round).
	shared := c.party.SharedInputs()
	nparts := len(shared) + 1
	if c.cio != nil {
		nparts = 1
	}
	parts, err := splitPayload(in, nparts)
	if err != nil {
		return nil, nil, errs.New(errs.Party, "the client's input: %w", err)
	}
	if len(parts[0]) != 4 {
		return nil, nil, errs.New(errs.Party, "the client's input: a batch header of %d bytes", len(parts[0]))
	}
	n := int(binary.LittleEndian.Uint32(parts[0]))
	if n < 1 || n > engine.MaxBatch {
		return nil, nil, errs.New(errs.Party, "the client's input: batch size %d, want 1 to %d", n, engine.MaxBatch)
	}
	parts = parts[1:]
	party, err := c.partyFor(n)
	if err != nil {
		return nil, nil, err
	}
	g := c.comp.info.Graph
	if n > 1 {
		g, _, _ = c.comp.batches.Get(n)
	}
	// The offline phase of protocols that have one, if the parties were not idle long
	// enough to run it before this request (Idle, which prepares a batch of 1); reported
	// as its PREPROCESS layer.
	if party.NeedsPreprocess() {
		if err := party.Preprocess(); err != nil {
			return nil, nil, err
		}
	}
	var shares []mpc.AShare
	var input *engine.LayerStats
	if c.cio != nil {
		if client == nil {
			return nil, nil, errs.New(errs.Internal, "protocol %s needs a round trip with the client", c.comp.cfg.Protocol)
		}
		ns := make([]int, len(shared))
		elements := 0
		for i, t := range shared {
			ns[i] = g.Tensors[t].NumElements()
			elements += ns[i]
		}
		m := c.meter(party)
		if shares, err = c.cio.ClientInput(ns, toClient.roundTrip(client)); err != nil {
			return nil, nil, fmt.Errorf("the client's input: %w", err)
		}
		st := m.stats("INPUT", "client input", elements)
		input = &st
	} else {
		shares = make([]mpc.AShare, len(parts))
		for i, b := range parts {
			t := g.Tensors[shared[i]]
			if shares[i], err = c.ext.ImportShares(b, t.NumElements()); err != nil {
				return nil, nil, errs.New(errs.Party, "the client's input %q: %w", t.Name, err)
			}
		}
	}
	if c.pause != nil {
		c.pause.layer = func() int { return len(party.Layers()) }
		c.pause.active = true
	}
	outs, err := party.InferShares(shares)
	if c.pause != nil {
		c.pause.active = false
	}
	if err != nil {
		return nil, nil, err
	}
	// Parts: the element count of every output (u32 each), then each output's shares
	// (mpc.External), or the one message of mpc.ClientIO's output protocol.
	m := c.meter(party)
	exported := [][]byte{nil}
	sent := 0
	for _, s := range outs {
		exported[0] = binary.LittleEndian.AppendUint32(exported[0], uint32(s.Len()))
	}
	if c.cio != nil {
		b, err := c.cio.ClientOutput(outs)
		if err != nil {
			return nil, nil, fmt.Errorf("the output to the client: %w", err)
		}
		exported = append(exported, toClient.alter(b))
	} else {
		for _, s := range outs {
			b, err := c.ext.ExportShares(s)
			if err != nil {
				return nil, nil, err
			}
			exported = append(exported, toClient.alter(b))
		}
	}
	for _, b := range exported[1:] {
		sent += len(b)
	}
	// The output goes to the client over its own link, not between parties: the OUTPUT
	// layer counts those bytes (a local run's OUTPUT layer counts the opening to the
	// client party instead) and what the parties exchanged for it (mpc.ClientIO).
	out := m.stats("OUTPUT", "shares to the client", 0)
	out.Net.BytesSent += int64(sent)
	out.Net.Messages++
	layers := append(party.Layers(), out)
	st := PartyStats{Party: c.comp.id, Seconds: time.Since(start).Seconds(), Net: c.conn.Stats().Sub(before),
		Layers: layers, Setup: c.party.SetupStats(), SetupReused: c.comp.reused && !c.comp.keyed(), Batch: n, Input: input,
		Role: party.Protocol().ID()}
	if ps != nil {
		for i, s := range ps.PeerStats() {
			b := peersBefore[i]
			st.Peers = append(st.Peers, tlsnet.LinkStats{Peer: s.Peer, BytesSent: s.BytesSent - b.BytesSent,
				BytesReceived: s.BytesReceived - b.BytesReceived, MessagesSent: s.MessagesSent - b.MessagesSent,
				MessagesRecv: s.MessagesRecv - b.MessagesRecv, Rounds: s.Rounds - b.Rounds})
		}
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return nil, nil, errs.New(errs.Internal, "encoding stats: %w", err)
	}
	return joinPayload(exported), sb, nil
}

// layerMeter measures a phase of a request outside the engine's layers (the client's
// input and output protocols): wall time, traffic between the parties, offline part.
type layerMeter struct {
	p   mpc.Protocol
	t   mpc.Timer
	off mpc.PhaseStats
}

func (c *engineLane) meter(e *engine.Party) layerMeter {
	p := e.Protocol()
	return layerMeter{p: p, t: mpc.StartTimer(p.Conn()), off: mpc.Offline(p)}
}

func (m layerMeter) stats(kind, name string, elements int) engine.LayerStats {
	all := m.t.Stop()
	return engine.LayerStats{Op: -1, Kind: kind, Name: name, Seconds: all.Seconds, Net: all.Net, Elements: elements,
		Offline: mpc.Offline(m.p).Sub(m.off)}
}

// connErr is the failure of a party channel that reports one (nil while it works).
func connErr(conn net.Conn) error {
	if c, ok := conn.(interface{ Err() error }); ok {
		return c.Err()
	}
	return nil
}

// joinPayload frames parts as a count and length-prefixed parts (little endian u32).
func joinPayload(parts [][]byte) []byte {
	n := 4
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(parts)))
	for _, p := range parts {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func splitPayload(b []byte, want int) ([][]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("payload of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n != want {
		return nil, fmt.Errorf("%d tensors, want %d", n, want)
	}
	b = b[4:]
	out := make([][]byte, n)
	for i := range out {
		if len(b) < 4 {
			return nil, fmt.Errorf("truncated payload")
		}
		l := int(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if l > len(b) {
			return nil, fmt.Errorf("truncated payload")
		}
		out[i], b = b[:l], b[l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(b))
	}
	return out, nil
}
