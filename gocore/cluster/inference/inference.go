// Package inference serves model inference on a cluster (package cluster): the parties
// evaluate a quantized model with the engine on secret shares, and a client that is not a
// computing party secret-shares its input to them and reconstructs the output with the
// protocol's mpc.Dealer. The model owner sends the public graph (engine.PublicGraph) to
// the other parties at each session start and secret-shares the weights once per session.
package inference

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
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

// dealer returns the client side of protocol name for n parties.
func dealer(name string, n int) (mpc.Dealer, error) {
	s, err := registry.Lookup(name)
	if err != nil {
		return nil, err
	}
	if s.NewDealer == nil {
		return nil, errs.New(errs.Config, "protocol %q has no outside-client support", name)
	}
	return s.NewDealer(n)
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
	Setup   engine.LayerStats   `json:"setup"` // this session's weight sharing
	Batch   int                 `json:"batch"` // inputs evaluated in this one pass
}

// EngineComputation evaluates a model with the engine. The owner passes its model g;
// the other parties pass nil and receive the public graph from the owner at each session
// start.
//
// It reads the testing aids PauseEnv (QMPC_TEST_PAUSE_AT_LAYER) and TamperEnv
// (QMPC_TEST_TAMPER) from the environment.
func EngineComputation(cfg *cluster.Config, g *model.Graph) cluster.NewComputation {
	pauseAt, pauseErr := pauseFromEnv()
	tamper, tamperErr := tamperFromEnv()
	paused := false          // the hook pauses in the process's first inference only
	var tampered atomic.Bool // the tamper hook alters one session only: the first that reaches its message
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
		c := &engineComp{cfg: cfg, id: id, full: g, hookOut: os.Stderr}
		if tamper != nil && !tampered.Load() {
			c.tamperSpec, c.onTamper = tamper, func() { tampered.Store(true) }
		}
		if pauseAt >= 0 && !paused {
			c.pause = &pauseConn{at: pauseAt, id: id, out: os.Stderr, layer: func() int { return len(c.party.Layers()) }}
			c.onPause = func() { paused = true }
		}
		return c, nil
	}
}

// ModelDigest is the digest a config pins, as hex.
func ModelDigest(g *model.Graph) string {
	d := g.Digest()
	return hex.EncodeToString(d[:])
}

type engineComp struct {
	cfg   *cluster.Config
	id    int
	full  *model.Graph
	info  Info
	infoB []byte
	conn  net.Conn
	ext   mpc.External
	party *engine.Party
	// batches holds this party's graph's batched versions (compiled per batch size) and
	// batched the parties evaluating them with the weights shared at Start.
	batches *engine.Batches
	batched map[int]*engine.Party
	// pause is the PauseEnv testing aid, or nil; onPause records that it fired.
	pause   *pauseConn
	onPause func()
	// tamper is the TamperEnv testing aid's wrapper of this session's protocol
	// connection (made from tamperSpec), or nil; tamperNoted: its line was written.
	tamperSpec  *net.Tamper
	tamper      *net.Tamperer
	tamperNoted bool
	onTamper    func() // called once the tampered message was sent
	hookOut     io.Writer
}

func (c *engineComp) Start(conn net.Conn) error {
	c.conn = conn
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
	var pconn net.Conn = conn
	if c.pause != nil {
		c.pause.Conn = conn
		c.pause.failed = func() error { return meshErr(conn) }
		pconn = c.pause
	}
	if c.tamperSpec != nil {
		t, err := net.NewTamperer(pconn, *c.tamperSpec)
		if err != nil {
			return err
		}
		c.tamper, pconn = t, t
		defer c.noteTamper()
	}
	p, err := local.NewParty(c.cfg.Protocol, pconn, mpc.Options{})
	if err != nil {
		return fmt.Errorf("protocol %s: %w", c.cfg.Protocol, err)
	}
	ext, ok := mpc.Ext[mpc.External](p)
	if !ok {
		return errs.New(errs.Config, "protocol %s does not support an outside client", c.cfg.Protocol)
	}
	reveal, err := engine.ParseReveal(c.cfg.Reveal)
	if err != nil {
		return err
	}
	party, err := engine.NewParty(p, g, engine.Options{Owner: owner, Client: owner, Reveal: reveal})
	if err != nil {
		return err
	}
	if err := party.Setup(); err != nil {
		return err
	}
	c.ext, c.party = ext, party
	c.batches, c.batched = engine.NewBatches(g, nil), map[int]*engine.Party{}
	return nil
}

// partyFor returns the engine party for a batch of n (the session's party for n == 1).
// Every party calls it at the same point of a request.
func (c *engineComp) partyFor(n int) (*engine.Party, error) {
	if n == 1 {
		return c.party, nil
	}
	if e, ok := c.batched[n]; ok {
		return e, nil
	}
	bg, comp, err := c.batches.Get(n)
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

func revealName(s string) string {
	if s == "" {
		return "output"
	}
	return s
}

func (c *engineComp) Info() ([]byte, error) { return c.infoB, nil }

var _ cluster.Idler = (*engineComp)(nil)

// NeedsIdle reports whether the protocol has an offline phase and no preprocessing is
// ready for the next request (cluster.Idler).
func (c *engineComp) NeedsIdle() bool { return c.party.NeedsPreprocess() }

// Idle runs the protocol's offline phase for the next request while no client waits.
func (c *engineComp) Idle() error {
	defer c.noteTamper()
	return c.party.Preprocess()
}

func (c *engineComp) Run(in []byte) ([]byte, json.RawMessage, error) {
	defer c.noteTamper()
	start := time.Now()
	before := c.conn.Stats()
	var peersBefore []tlsnet.LinkStats
	mesh, _ := c.conn.(*tlsnet.Mesh)
	if mesh != nil {
		peersBefore = mesh.PeerStats()
	}
	// The client's payload: the batch size (u32), then one part per shared input.
	shared := c.party.SharedInputs()
	parts, err := splitPayload(in, len(shared)+1)
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
	g := c.info.Graph
	if n > 1 {
		g, _, _ = c.batches.Get(n)
	}
	// The offline phase of protocols that have one, if the parties were not idle long
	// enough to run it before this request (Idle, which prepares a batch of 1); reported
	// as its PREPROCESS layer.
	if party.NeedsPreprocess() {
		if err := party.Preprocess(); err != nil {
			return nil, nil, err
		}
	}
	shares := make([]mpc.AShare, len(parts))
	for i, b := range parts {
		t := g.Tensors[shared[i]]
		if shares[i], err = c.ext.ImportShares(b, t.NumElements()); err != nil {
			return nil, nil, errs.New(errs.Party, "the client's input %q: %w", t.Name, err)
		}
	}
	if c.pause != nil {
		c.pause.active = true
	}
	outs, err := party.InferShares(shares)
	if c.pause != nil {
		c.pause.active = false
		if c.pause.done {
			c.onPause()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	// Parts: the element count of every output (u32 each), then each output's shares.
	outStart := time.Now()
	exported := make([][]byte, len(outs)+1)
	toClient := 0
	for i, s := range outs {
		exported[0] = binary.LittleEndian.AppendUint32(exported[0], uint32(s.Len()))
		if exported[i+1], err = c.ext.ExportShares(s); err != nil {
			return nil, nil, err
		}
		toClient += len(exported[i+1])
	}
	// The output goes to the client over its own link, not between parties: the OUTPUT
	// layer counts those bytes (a local run's OUTPUT layer counts the opening to the
	// client party instead).
	layers := append(party.Layers(), engine.LayerStats{Op: -1, Kind: "OUTPUT", Name: "shares to the client",
		Seconds: time.Since(outStart).Seconds(), Net: net.Stats{BytesSent: int64(toClient), Messages: 1}})
	st := PartyStats{Party: c.id, Seconds: time.Since(start).Seconds(), Net: c.conn.Stats().Sub(before),
		Layers: layers, Setup: c.party.SetupStats(), Batch: n}
	if mesh != nil {
		for i, ps := range mesh.PeerStats() {
			b := peersBefore[i]
			st.Peers = append(st.Peers, tlsnet.LinkStats{Peer: ps.Peer, BytesSent: ps.BytesSent - b.BytesSent,
				BytesReceived: ps.BytesReceived - b.BytesReceived, MessagesSent: ps.MessagesSent - b.MessagesSent,
				MessagesRecv: ps.MessagesRecv - b.MessagesRecv, Rounds: ps.Rounds - b.Rounds})
		}
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return nil, nil, errs.New(errs.Internal, "encoding stats: %w", err)
	}
	return joinPayload(exported), sb, nil
}

// meshErr is the failure of a party mesh (nil while it works, and for other connections).
func meshErr(conn net.Conn) error {
	if m, ok := conn.(*tlsnet.Mesh); ok {
		return m.Err()
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
