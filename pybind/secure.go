package pybind

import (
	"sync"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc/local"
)

// SecureRun is one local secure inference: all computing parties of a protocol as
// goroutines of this process (an opaque handle for Python). Execute blocks (gopy releases
// the GIL), so Python polls Done/Total from another thread and may call Cancel.
type SecureRun struct {
	m        *Model
	protocol string
	opt      engine.Options
	progress *engine.Progress

	mu     sync.Mutex
	result *engine.Result
}

// NewSecureRun prepares a local secure run of model m under protocol ("rep3", "plain",
// ...), revealing "output" or "argmax" to the client party; owner and client are party
// indices.
func NewSecureRun(m *Model, protocol, reveal string, owner, client int) (r *SecureRun, err error) {
	defer guard(&err)
	if _, err := m.graph(); err != nil {
		return nil, err
	}
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return nil, err
	}
	if _, err := local.Parties(protocol, 0); err != nil {
		return nil, err
	}
	p := &engine.Progress{}
	return &SecureRun{m: m, protocol: protocol, progress: p,
		opt: engine.Options{Owner: owner, Client: client, Reveal: rv, Progress: p}}, nil
}

// Execute runs the inference on the packed inputs and returns the packed outputs (with
// any input warnings).
func (r *SecureRun) Execute(inputs []byte) (out []byte, err error) {
	defer guard(&err)
	vals, err := unpack(inputs)
	if err != nil {
		return nil, err
	}
	g := r.m.g
	vals, warnings, err := prepareInputs(g, toIRLayout(g, vals))
	if err != nil {
		return nil, err
	}
	c, err := r.m.compiled()
	if err != nil {
		return nil, err
	}
	res, err := engine.RunLocalCompiled(r.protocol, g, c, vals, r.opt)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.result = res
	r.mu.Unlock()
	return pack(fromIRLayout(g, res.Outputs), warnings)
}

// compiled returns the model's secure plan, compiled once.
func (m *Model) compiled() (*engine.Compiled, error) {
	m.secureOnce.Do(func() { m.secure, m.secureErr = engine.Compile(m.g) })
	return m.secure, m.secureErr
}

// Done is the number of layers finished so far.
func (r *SecureRun) Done() int { d, _ := r.progress.Get(); return d }

// Total is the number of secure layers of the current inference (0 before it starts).
func (r *SecureRun) Total() int { _, t := r.progress.Get(); return t }

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
// model's parameters or a client input: it runs the protocol on zero-valued parameters
// and inputs of the right shapes. The communication of the supported protocols does not
// depend on the values, so bytes and rounds are exact; seconds are one run's. Returns the
// engine.Result as JSON.
func Estimate(m *Model, protocol, reveal string) (s string, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return "", err
	}
	rv, err := engine.ParseReveal(reveal)
	if err != nil {
		return "", err
	}
	zg := engine.ZeroParameters(g)
	in := make([]model.Value, len(g.Inputs))
	for i, t := range g.Inputs {
		tt := g.Tensors[t]
		in[i] = model.Value{Shape: tt.Shape, DType: tt.DType, Data: make([]byte, tt.NumElements()*tt.DType.Size())}
	}
	c, err := m.compiled()
	if err != nil {
		return "", err
	}
	res, err := engine.RunLocalCompiled(protocol, zg, c, in, engine.Options{Owner: 0, Client: 1 % max(1, partiesOf(protocol)), Reveal: rv})
	if err != nil {
		return "", err
	}
	return toJSON(res)
}

func partiesOf(protocol string) int {
	n, err := local.Parties(protocol, 0)
	if err != nil {
		return 1
	}
	return n
}

// Protocols lists the protocol names secure runs accept, as JSON.
func Protocols() (s string, err error) {
	defer guard(&err)
	return toJSON(local.Protocols())
}
