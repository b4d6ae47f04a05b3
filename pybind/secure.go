package pybind

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/net"
)

// SecureRun is one local secure inference: all computing parties of a protocol as
// goroutines of this process (an opaque handle for Python). Execute blocks (gopy releases
// the GIL), so Python polls Done/Total from another thread and may call Cancel.
type SecureRun struct {
	m        *Model
	protocol string
	opt      engine.Options
	lo       engine.LocalOptions
	progress *engine.Progress
	images   atomic.Int64 // inputs of the current or last Execute (a batch: N)

	mu       sync.Mutex
	result   *engine.Result
	tampered bool // the last Execute's tamper fired
}

// NewSecureRun prepares a local secure run of model m under protocol (a name of package
// mpc/registry), revealing "output" or "argmax" to the client party; owner and client
// are party indices (negative: the protocol's default roles, mpc.Roles); preprocessing
// is "" (the protocol's own offline phase) or "dealer" (a trusted dealer).
func NewSecureRun(m *Model, protocol, reveal string, owner, client int, preprocessing string) (r *SecureRun, err error) {
	defer guard(&err)
	if _, err := m.graph(); err != nil {
		return nil, err
	}
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return nil, err
	}
	spec, err := registry.Lookup(protocol)
	if err != nil {
		return nil, err
	}
	if err := spec.CheckPreprocessing(preprocessing); err != nil {
		return nil, err
	}
	n := spec.DefaultParties
	do, dc := mpc.Roles(n)
	if owner < 0 {
		owner = do
	}
	if client < 0 {
		client = dc
	}
	if owner >= n || client >= n {
		return nil, errs.New(errs.Config, "protocol %s runs %d parties (0..%d): owner %d / client %d out of range", protocol, n, n-1, owner, client)
	}
	p := &engine.Progress{}
	return &SecureRun{m: m, protocol: protocol, progress: p, lo: engine.LocalOptions{Preprocessing: preprocessing},
		opt: engine.Options{Owner: owner, Client: client, Reveal: rv, Progress: p}}, nil
}

// SetTamper makes the next Executes alter one message that party sends (a testing aid
// that simulates a cheating party; net.Tamper): spec is net.ParseTamper's format, e.g.
// "message=40,word=0,xor=0x1"; an empty spec removes the tamper. It returns true.
func (r *SecureRun) SetTamper(party int, spec string) (ok bool, err error) {
	defer guard(&err)
	if spec == "" {
		r.lo.Tamper = nil
		return true, nil
	}
	t, err := net.ParseTamper(spec)
	if err != nil {
		return false, err
	}
	r.lo.Tamper = &engine.Tamper{Party: party, Spec: t}
	return true, nil
}

// SetTestSeed makes the next Executes draw every party's randomness from a ChaCha8
// stream keyed by (seed, party) instead of crypto/rand (on = false restores crypto/rand).
// A testing aid, offered only through qmpc.Tamper: with a fixed seed every share is
// predictable, so a tamper test sees the same shares in every run. It returns true.
func (r *SecureRun) SetTestSeed(seed int64, on bool) bool {
	if !on {
		r.lo.Rand = nil
		return true
	}
	r.lo.Rand = func(id int) io.Reader {
		var key [32]byte
		binary.LittleEndian.PutUint64(key[:], uint64(seed))
		binary.LittleEndian.PutUint64(key[8:], uint64(id))
		copy(key[16:], "qmpc test seed")
		return rand.NewChaCha8(key)
	}
	return true
}

// SetMessageSizes makes the next Executes record the length of every message each party
// sends (engine.Result.MessageSizes, in StatsJSON; a testing aid). It returns true.
func (r *SecureRun) SetMessageSizes(on bool) bool {
	r.lo.MessageSizes = on
	return true
}

// Tampered reports whether the last Execute's tamper (SetTamper) altered its message,
// also when that Execute failed.
func (r *SecureRun) Tampered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tampered
}

// Execute runs the inference on the packed inputs and returns the packed outputs (with
// any input warnings).
func (r *SecureRun) Execute(inputs []byte) (out []byte, err error) {
	defer guard(&err)
	r.mu.Lock()
	r.tampered = false
	r.mu.Unlock()
	vals, err := unpack(inputs)
	if err != nil {
		return nil, err
	}
	g := r.m.g
	n := batchSize(g, vals)
	bg, c, err := r.m.compiled(n)
	if err != nil {
		return nil, err
	}
	vals, warnings, err := prepareInputs(bg, asBatched(bg, vals, n))
	if err != nil {
		return nil, err
	}
	r.images.Store(int64(n))
	lo := r.lo
	lo.Batch = n
	res, err := engine.RunLocalWith(r.protocol, bg, c, vals, r.opt, lo)
	r.mu.Lock()
	r.tampered = lo.Tamper != nil && lo.Tamper.Fired
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.result = res
	r.mu.Unlock()
	return pack(unbatched(g, res.Outputs, n), warnings)
}

// compiled returns the model's secure plan for a batch of n (compiled once per size; the
// last few sizes are kept).
func (m *Model) compiled(n int) (*model.Graph, *engine.Compiled, error) {
	m.secureOnce.Do(func() {
		c, err := engine.Compile(m.g)
		m.secure, m.secureErr = engine.NewBatches(m.g, c), err
	})
	if m.secureErr != nil {
		return nil, nil, m.secureErr
	}
	return m.secure.Get(n)
}

// Done is the number of layers finished so far.
func (r *SecureRun) Done() int { d, _ := r.progress.Get(); return d }

// Total is the number of secure layers of the current inference (0 before it starts).
func (r *SecureRun) Total() int { _, t := r.progress.Get(); return t }

// Images is the number of inputs the current (or last) Execute evaluates in one pass (0
// before it has read its inputs).
func (r *SecureRun) Images() int { return int(r.images.Load()) }

// Cancel asks the parties to stop at the next layer boundary; Execute then fails with a
// cancelled error. It returns true.
func (r *SecureRun) Cancel() bool { r.progress.Cancel(); return true }

// StatsJSON returns the costs of the last Execute (engine.Result as JSON).
func (r *SecureRun) StatsJSON() (s string, err error) {
	defer guard(&err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result == nil {
		return "", errs.New(errs.Config, "no completed secure run")
	}
	return toJSON(r.result)
}

// Estimate measures the costs of one secure inference of m under protocol without the
// model's parameters or a client input: it runs the protocol (with its offline phase, or
// the dealer's when preprocessing is "dealer") on zero-valued parameters and inputs of
// the right shapes, with the protocol's default roles. The communication of the
// supported protocols does not depend on the values, so bytes and rounds are exact;
// seconds are one run's. batch is the number of inputs evaluated in one pass (0 or 1: one).
// Returns the engine.Result as JSON, with the counted demand.
func Estimate(m *Model, protocol, reveal, preprocessing string, batch int) (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return "", err
	}
	spec, err := registry.Lookup(protocol)
	if err != nil {
		return "", err
	}
	batch = max(batch, 1)
	bg, c, err := m.compiled(batch)
	if err != nil {
		return "", err
	}
	zg := engine.ZeroParameters(bg)
	in := make([]model.Value, len(g.Inputs))
	for i, t := range bg.Inputs {
		tt := bg.Tensors[t]
		in[i] = model.Value{Shape: tt.Shape, DType: tt.DType, Data: make([]byte, tt.NumElements()*tt.DType.Size())}
	}
	owner, client := mpc.Roles(spec.DefaultParties)
	res, err := engine.RunLocalWith(protocol, zg, c, in, engine.Options{Owner: owner, Client: client, Reveal: rv},
		engine.LocalOptions{Preprocessing: preprocessing, Batch: batch})
	if err != nil {
		return "", err
	}
	return toJSON(res)
}

// protocolEntry is one protocol of Protocols.
type protocolEntry struct {
	mpc.Spec
	Domain    string `json:"domain"`
	Available bool   `json:"available"`
}

// Protocols lists every protocol of the registry (package mpc/registry), available or
// planned, in the paper's order, as JSON: name, paper column, summary, party counts,
// corruption, security, domain, offline phase, dealer preprocessing, availability.
func Protocols() (s string, err error) {
	defer guard(&err)
	var out []protocolEntry
	for _, sp := range registry.All() {
		out = append(out, protocolEntry{Spec: sp, Domain: sp.Domain.String(), Available: sp.Available()})
	}
	return toJSON(out)
}

// Bench measures one secure pass of m over a batch of batch zero-valued inputs, all
// parties of protocol in this process, with the model's own parameters (engine.Bench), and
// returns the per-layer table (engine.Result.Table; what `qmpc bench` prints) or, when
// asJSON, the engine.Result as JSON.
func Bench(m *Model, protocol, reveal, preprocessing string, batch int, asJSON bool) (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return "", err
	}
	res, err := engine.Bench(g, engine.BenchOptions{Protocol: protocol, Batch: batch, Reveal: rv, Preprocessing: preprocessing})
	if err != nil {
		return "", err
	}
	if asJSON {
		return toJSON(res)
	}
	return res.Table(), nil
}
