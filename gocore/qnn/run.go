package qnn

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Plan is a graph with every op's parameters prepared, ready to run many times. It is
// safe for concurrent use by several goroutines (runs share nothing but read-only
// parameters).
type Plan struct {
	g       *model.Graph
	params  []any // per op: *ConvParams, *PoolParams, *AddParams, ... (nil for RESHAPE/SQUEEZE)
	consts  map[int][]int32
	lastUse []int     // per tensor: index of the last op reading it (len(Ops) for graph outputs)
	arenas  sync.Pool // of *arena: activation buffers recycled across ops and runs
}

// arena recycles int32 activation buffers by length.
type arena struct{ free map[int][][]int32 }

func (a *arena) get(n int) ([]int32, bool) {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return b, true
	}
	return make([]int32, n), false
}

func (a *arena) put(b []int32) {
	if b != nil {
		a.free[len(b)] = append(a.free[len(b)], b)
	}
}

// NewPlan validates g and prepares all its ops.
func NewPlan(g *model.Graph) (p *Plan, err error) {
	defer recoverErr(&err)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p = &Plan{g: g, params: make([]any, len(g.Ops)), consts: map[int][]int32{}}
	for i, op := range g.Ops {
		var prm any
		var err error
		kind := op.Kind
		if op.Rounding == model.RoundHalfEven && HalfEvenKinds(kind) {
			kind = halfEvenKind // ONNX Runtime / PyTorch arithmetic (roundhalfeven_ops.go)
		}
		switch kind {
		case halfEvenKind:
			prm, err = PrepareHalfEven(g, op)
		case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
			prm, err = PrepareConv(g, op)
		case model.OpAveragePool2D, model.OpMaxPool2D:
			prm, err = PreparePool(g, op)
		case model.OpAdd:
			prm, err = PrepareAdd(g, op)
		case model.OpMul:
			prm, err = PrepareMul(g, op)
		case model.OpMean:
			prm, err = PrepareMean(g, op)
		case model.OpPad:
			prm, err = PreparePad(g, op)
		case model.OpConcatenation:
			prm, err = PrepareConcat(g, op)
		case model.OpQuantize, model.OpDequantize:
			prm, err = PrepareQuantize(g, op)
		case model.OpSoftmax:
			prm, err = PrepareSoftmax(g, op)
		case model.OpLogistic:
			prm, err = PrepareLogistic(g, op)
		case model.OpHardSwish:
			prm, err = PrepareHardSwish(g, op)
		case model.OpTanh:
			prm, err = PrepareTanh(g, op)
		case model.OpLookup:
			prm, err = PrepareLookup(g, op)
		case model.OpReshape, model.OpSqueeze:
		default:
			if !model.IsIndexMap(op.Kind) {
				err = errs.New(errs.UnsupportedOp, "op %d: %v is not supported", i, op.Kind)
				break
			}
			prm, err = PrepareMove(g, op)
		}
		if err != nil {
			return nil, fmt.Errorf("op %d: %w", i, err)
		}
		p.params[i] = prm
		// Constant activation-typed inputs (e.g. an ADD operand) are loaded once.
		for k, ti := range op.Inputs {
			if ti < 0 || !dataInput(op.Kind, k) {
				continue
			}
			t := g.Tensors[ti]
			if t.IsConst() && t.DType != model.Float32 {
				v, err := constInts(t)
				if err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
				p.consts[ti] = v
			}
		}
	}
	p.lastUse = make([]int, len(g.Tensors))
	for i, op := range g.Ops {
		for _, ti := range op.Inputs {
			if ti >= 0 {
				p.lastUse[ti] = i
			}
		}
	}
	for _, ti := range g.Outputs {
		p.lastUse[ti] = len(g.Ops)
	}
	return p, nil
}

// dataInput reports whether input k of an op of kind is an activation operand (as opposed
// to weights, biases, axes, shapes or paddings).
func dataInput(kind model.OpKind, k int) bool {
	switch kind {
	case model.OpAdd, model.OpMul, model.OpConcatenation, model.OpPack:
		return true
	}
	return k == 0
}

// Graph returns the plan's graph.
func (p *Plan) Graph() *model.Graph { return p.g }

// Params returns the prepared parameters of op i: *ConvParams, *PoolParams, *AddParams,
// *MulParams, *MeanParams, *PadParams, *ConcatParams, *QuantizeParams, *SoftmaxParams,
// *LogisticParams, *HardSwishParams, *TanhParams, *LookupParams or *MoveParams; nil for RESHAPE
// and SQUEEZE.
func (p *Plan) Params(i int) any { return p.params[i] }

// Run evaluates g on inputs and returns its outputs. See Plan.Run.
func Run(g *model.Graph, inputs []model.Value) ([]model.Value, error) {
	p, err := NewPlan(g)
	if err != nil {
		return nil, err
	}
	return p.Run(inputs)
}

// RunTrace evaluates g on inputs and returns the value of every tensor, indexed like
// g.Tensors (constants included; tensors that no op writes are left empty).
func RunTrace(g *model.Graph, inputs []model.Value) ([]model.Value, error) {
	p, err := NewPlan(g)
	if err != nil {
		return nil, err
	}
	return p.RunTrace(inputs)
}

// Run evaluates the graph on inputs (one per graph input, with exactly the input
// tensor's shape and element type) and returns the graph outputs.
func (p *Plan) Run(inputs []model.Value) ([]model.Value, error) {
	vals, err := p.run(inputs, false)
	if err != nil {
		return nil, err
	}
	out := make([]model.Value, len(p.g.Outputs))
	for i, ti := range p.g.Outputs {
		out[i] = vals[ti]
	}
	return out, nil
}

// RunTrace is Run returning every tensor's value (see the function RunTrace).
func (p *Plan) RunTrace(inputs []model.Value) ([]model.Value, error) {
	return p.run(inputs, true)
}

// buffer holds a tensor's values while the graph runs: integers widened to int32, or
// float32.
type buffer struct {
	i []int32
	f []float32
}

func (p *Plan) run(inputs []model.Value, trace bool) (vals []model.Value, err error) {
	defer recoverErr(&err)
	g := p.g
	if len(inputs) != len(g.Inputs) {
		return nil, errs.New(errs.Shape, "got %d inputs, the model has %d", len(inputs), len(g.Inputs))
	}
	bufs := make([]buffer, len(g.Tensors))
	for ti, v := range p.consts {
		bufs[ti].i = v
	}
	ar, _ := p.arenas.Get().(*arena)
	if ar == nil {
		ar = &arena{free: map[int][][]int32{}}
	}
	defer p.arenas.Put(ar)
	// release returns tensor ti's buffer to the arena (never constants').
	release := func(ti int) {
		if _, isConst := p.consts[ti]; !isConst && !trace {
			ar.put(bufs[ti].i)
			bufs[ti].i = nil
		}
	}
	for k, ti := range g.Inputs {
		t := g.Tensors[ti]
		v := inputs[k]
		if v.DType != t.DType {
			return nil, errs.New(errs.DType, "input %d %q: got %v, want %v", k, t.Name, v.DType, t.DType)
		}
		if !slices.Equal(v.Shape, t.Shape) {
			return nil, errs.New(errs.Shape, "input %d %q: got shape %v, want %v", k, t.Name, v.Shape, t.Shape)
		}
		b, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("input %d %q: %w", k, t.Name, err)
		}
		bufs[ti] = b
	}
	for i, op := range g.Ops {
		if err := p.runOp(i, op, bufs, ar); err != nil {
			return nil, fmt.Errorf("op %d %v %q: %w", i, op.Kind, op.Name, err)
		}
		for _, ti := range op.Inputs {
			if ti >= 0 && p.lastUse[ti] == i && !slices.Contains(op.Outputs, ti) {
				release(ti)
			}
		}
	}
	if !trace {
		defer func() {
			for _, ti := range g.Outputs {
				release(ti)
			}
		}()
	}
	vals = make([]model.Value, len(g.Tensors))
	for ti, t := range g.Tensors {
		keep := trace || slices.Contains(g.Outputs, ti)
		if !keep {
			continue
		}
		switch {
		case bufs[ti].i != nil || bufs[ti].f != nil:
			vals[ti] = toValue(bufs[ti], t)
		case t.IsConst():
			vals[ti] = model.Value{Shape: slices.Clone(t.Shape), DType: t.DType, Data: slices.Clone(t.Data)}
		}
	}
	return vals, nil
}

func (p *Plan) runOp(i int, op *model.Op, bufs []buffer, ar *arena) error {
	g := p.g
	in := func(k int) []int32 { return bufs[op.Inputs[k]].i }
	outT := g.Tensors[op.Outputs[0]]
	n := outT.NumElements()
	if outT.DType == model.Float32 {
		bufs[op.Outputs[0]].f = make([]float32, n)
	} else {
		b, reused := ar.get(n)
		if _, he := p.params[i].(*HalfEvenParams); he && reused {
			clear(b) // kernels outside this file may accumulate into their output
		}
		bufs[op.Outputs[0]].i = b
	}
	y := bufs[op.Outputs[0]].i
	for k, ti := range op.Inputs {
		if ti >= 0 && dataInput(op.Kind, k) && bufs[ti].i == nil && bufs[ti].f == nil {
			return errs.New(errs.Internal, "input %d (tensor %d) has no value", k, ti)
		}
	}
	switch prm := p.params[i].(type) {
	case *HalfEvenParams:
		xs := make([][]int32, len(op.Inputs))
		for k, ti := range op.Inputs {
			if ti >= 0 {
				xs[k] = bufs[ti].i
			}
		}
		prm.Run(xs, bufs[op.Inputs[0]].f, y, bufs[op.Outputs[0]].f)
	case *ConvParams:
		prm.Run(in(0), y)
	case *PoolParams:
		prm.Run(in(0), y)
	case *AddParams:
		prm.Run(in(0), in(1), y)
	case *MulParams:
		prm.Run(in(0), in(1), y)
	case *MeanParams:
		prm.Run(in(0), y)
	case *PadParams:
		prm.Run(in(0), y)
	case *ConcatParams:
		xs := make([][]int32, len(op.Inputs))
		for k := range xs {
			xs[k] = in(k)
		}
		prm.Run(xs, y)
	case *QuantizeParams:
		x := bufs[op.Inputs[0]]
		switch {
		case prm.Kind == model.OpDequantize:
			f := bufs[op.Outputs[0]].f
			for j, v := range x.i {
				f[j] = prm.Dequantize(v, j, len(x.i))
			}
		case x.f != nil:
			for j, v := range x.f {
				y[j] = prm.QuantizeFloat(v, j, len(x.f))
			}
		default:
			for j, v := range x.i {
				y[j] = prm.Requant.Apply(v-prm.InZeroPoint, j, len(x.i))
			}
		}
	case *MoveParams:
		data := model.MoveDataInputs(op)
		if f := bufs[op.Outputs[0]].f; f != nil { // float data movement
			var src []float32
			for _, k := range data {
				src = append(src, bufs[op.Inputs[k]].f...)
			}
			for j, s := range prm.Index {
				f[j] = src[s]
			}
			break
		}
		xs := make([][]int32, 0, len(data))
		for _, k := range data {
			xs = append(xs, in(k))
		}
		prm.Run(xs, y)
	case *SoftmaxParams:
		prm.Run(in(0), y)
	case *LogisticParams:
		prm.Run(in(0), y)
	case *HardSwishParams:
		prm.Run(in(0), y)
	case *TanhParams:
		prm.Run(in(0), y)
	case *LookupParams:
		prm.Run(in(0), y)
	case nil: // RESHAPE, SQUEEZE: same data, new shape
		x := bufs[op.Inputs[0]]
		if x.f != nil {
			copy(bufs[op.Outputs[0]].f, x.f)
		} else {
			copy(y, x.i)
		}
	default:
		return errs.New(errs.Internal, "no kernel for %T", prm)
	}
	return nil
}

// fromValue decodes a Value's little-endian data.
func fromValue(v model.Value) (buffer, error) {
	n := model.NumElements(v.Shape)
	if len(v.Data) != n*v.DType.Size() {
		return buffer{}, errs.New(errs.Shape, "%d bytes of data for shape %v of %v", len(v.Data), v.Shape, v.DType)
	}
	var b buffer
	switch v.DType {
	case model.Float32:
		b.f = make([]float32, n)
		for i := range b.f {
			b.f[i] = math.Float32frombits(binary.LittleEndian.Uint32(v.Data[4*i:]))
		}
	case model.Uint8:
		b.i = make([]int32, n)
		for i, c := range v.Data {
			b.i[i] = int32(c)
		}
	case model.Int8:
		b.i = make([]int32, n)
		for i, c := range v.Data {
			b.i[i] = int32(int8(c))
		}
	case model.Int32:
		b.i = make([]int32, n)
		for i := range b.i {
			b.i[i] = int32(binary.LittleEndian.Uint32(v.Data[4*i:]))
		}
	default:
		return buffer{}, errs.New(errs.DType, "unsupported input type %v", v.DType)
	}
	return b, nil
}

// toValue encodes a buffer as a Value of tensor t's type.
func toValue(b buffer, t *model.Tensor) model.Value {
	v := model.Value{Shape: slices.Clone(t.Shape), DType: t.DType}
	switch t.DType {
	case model.Float32:
		v.Data = make([]byte, 4*len(b.f))
		for i, f := range b.f {
			binary.LittleEndian.PutUint32(v.Data[4*i:], math.Float32bits(f))
		}
	case model.Int32:
		v.Data = make([]byte, 4*len(b.i))
		for i, x := range b.i {
			binary.LittleEndian.PutUint32(v.Data[4*i:], uint32(x))
		}
	default:
		v.Data = make([]byte, len(b.i))
		for i, x := range b.i {
			v.Data[i] = byte(x)
		}
	}
	return v
}

// recoverErr turns a panic into an errs.Internal error.
func recoverErr(err *error) {
	if r := recover(); r != nil {
		*err = errs.New(errs.Internal, "panic in qnn: %v", r)
	}
}
