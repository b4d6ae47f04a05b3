package pybind

import (
	"sync"

	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// Batches. A value whose shape is model.BatchShape(input shape, N) for every model input
// (the same N) is a batch of N: [N, H, W, C] for a [1, H, W, C] input. The model is
// evaluated once on the batch (model.WithBatch; one secure pass), and each output comes
// back as model.BatchShape(output shape, N).

// batchSize returns N when every value is a batch of N for its input (1 when they are
// not batches: the shape check reports them).
func batchSize(g *model.Graph, vals []model.Value) int {
	if len(vals) != len(g.Inputs) {
		return 1
	}
	n := 0
	for k, v := range vals {
		b, ok := model.BatchOf(g.Tensors[g.Inputs[k]].Shape, v.Shape)
		if !ok || (n != 0 && b != n) {
			return 1
		}
		n = b
	}
	return max(n, 1)
}

// asBatched gives the values of a batch of n > 1 (batchSize) the shapes of bg's inputs
// (the same data); other values pass unchanged.
func asBatched(bg *model.Graph, vals []model.Value, n int) []model.Value {
	if n == 1 {
		return vals
	}
	out := make([]model.Value, len(vals))
	for k, v := range vals {
		out[k] = v
		out[k].Shape = bg.Tensors[bg.Inputs[k]].Shape
	}
	return out
}

// unbatched gives g's outputs for a batch of n their users' shapes, BatchShape(S, n).
func unbatched(g *model.Graph, outs []model.Value, n int) []model.Value {
	if n == 1 {
		return outs
	}
	res := make([]model.Value, len(outs))
	for k, v := range outs {
		res[k] = v
		if k < len(g.Outputs) {
			res[k].Shape = model.BatchShape(g.Tensors[g.Outputs[k]].Shape, n)
		}
	}
	return res
}

// plansKept bounds the cleartext plans a model keeps for batch sizes other than 1.
const plansKept = 4

// batchPlans caches the cleartext plans of a model's batches.
type batchPlans struct {
	mu    sync.Mutex
	plans map[int]*qnn.Plan
	order []int
}

// batchPlan returns the cleartext plan for a batch of n.
func (m *Model) batchPlan(n int) (*model.Graph, *qnn.Plan, error) {
	if n == 1 {
		return m.g, m.plan, nil
	}
	m.bp.mu.Lock()
	defer m.bp.mu.Unlock()
	if p, ok := m.bp.plans[n]; ok {
		return p.Graph(), p, nil
	}
	bg, err := engine.BatchGraph(m.g, n)
	if err != nil {
		return nil, nil, err
	}
	p, err := qnn.NewPlan(bg)
	if err != nil {
		return nil, nil, err
	}
	if m.bp.plans == nil {
		m.bp.plans = map[int]*qnn.Plan{}
	}
	m.bp.plans[n] = p
	m.bp.order = append(m.bp.order, n)
	if len(m.bp.order) > plansKept {
		delete(m.bp.plans, m.bp.order[0])
		m.bp.order = m.bp.order[1:]
	}
	return bg, p, nil
}
