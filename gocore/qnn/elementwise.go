package qnn

import (
	"fmt"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Broadcast maps each output element of a binary op to an element of each input, as
// numpy/TFLite broadcasting does. Shapes are right-aligned; Stride1/Stride2 are the input
// strides per output dimension, 0 where the input is broadcast.
type Broadcast struct {
	OutShape         []int
	Stride1, Stride2 []int
	Same             bool // both inputs have the output's shape (no broadcasting)
}

func newBroadcast(a, b, out []int) (Broadcast, error) {
	s, ok := model.BroadcastShapes(a, b)
	if !ok || model.NumElements(s) != model.NumElements(out) {
		return Broadcast{}, errs.New(errs.Shape, "input shapes %v and %v do not broadcast to %v", a, b, out)
	}
	br := Broadcast{OutShape: s, Stride1: strides(a, len(s)), Stride2: strides(b, len(s))}
	br.Same = model.NumElements(a) == model.NumElements(s) && model.NumElements(b) == model.NumElements(s)
	return br, nil
}

// strides returns the element strides of shape right-aligned to rank n, 0 for
// broadcast (size-1 or missing) dimensions.
func strides(shape []int, n int) []int {
	st := make([]int, n)
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		d := n - len(shape) + i
		if shape[i] != 1 {
			st[d] = acc
		}
		acc *= shape[i]
	}
	return st
}

// Index returns the input element indices of output element i.
func (br *Broadcast) Index(i int) (i1, i2 int) {
	if br.Same {
		return i, i
	}
	for d := len(br.OutShape) - 1; d >= 0; d-- {
		n := br.OutShape[d]
		k := i % n
		i /= n
		i1 += k * br.Stride1[d]
		i2 += k * br.Stride2[d]
	}
	return i1, i2
}

// AddParams are the parameters of a quantized ADD (TFLite's 8-bit general path). For
// output element i with input elements x1 and x2, and r = InSched.At(i % RunLen, RunLen):
//
//	a1 = (x1 - In1ZeroPoint) * 2^LeftShift
//	a2 = (x2 - In2ZeroPoint) * 2^LeftShift
//	s  = r.Mul(a1, In1Multiplier, In1Shift) + r.Mul(a2, In2Multiplier, In2Shift)
//	out = Out.Apply(s, 0, 1)               (Out.Sched is RoundAway everywhere)
//
// with LeftShift = 20 and, as TFLite's add.cc, twice_max = 2*max(s1, s2) and multipliers
// QuantizeMultiplier(s1/twice_max), QuantizeMultiplier(s2/twice_max),
// QuantizeMultiplier(twice_max / (2^20 * s_out)).
//
// LiteRT's x86 builtin kernel writes the output in runs of RunLen consecutive elements
// and processes each run with a vector loop and a scalar tail, which round the inputs
// differently (InSched): the whole tensor when the shapes are equal; TFLite's
// "five-fold" broadcast runs otherwise (the innermost dimensions the inputs share, or,
// when they share none, the run along which one input is a scalar); RunLen = 1 with
// RoundAway for broadcasts TFLite handles generically.
type AddParams struct {
	In1ZeroPoint, In2ZeroPoint   int32
	LeftShift                    int
	In1Multiplier, In2Multiplier int32
	In1Shift, In2Shift           int
	InSched                      Schedule
	RunLen                       int
	Out                          Requant
	Broadcast                    Broadcast
}

// MulParams are the parameters of a quantized MUL: for output element i with inputs x1, x2,
//
//	out = Out.Apply((x1 - In1ZeroPoint) * (x2 - In2ZeroPoint), i, n)
//
// with Out's multiplier QuantizeMultiplier(double(s1)*double(s2)/double(s_out)) and RoundAway
// everywhere (LiteRT's vector and scalar paths agree).
type MulParams struct {
	In1ZeroPoint, In2ZeroPoint int32
	Out                        Requant
	Broadcast                  Broadcast
}

func binaryTensors(g *model.Graph, op *model.Op) (a, b, y *model.Tensor, err error) {
	if len(op.Inputs) != 2 || len(op.Outputs) != 1 {
		return nil, nil, nil, errs.New(errs.Model, "want 2 inputs and 1 output")
	}
	if a, err = opTensor(g, op.Inputs[0]); err != nil {
		return
	}
	if b, err = opTensor(g, op.Inputs[1]); err != nil {
		return
	}
	y, err = opTensor(g, op.Outputs[0])
	return
}

// binaryOperands are a binary op's tensors with their per-tensor scales and zero points.
type binaryOperands struct {
	a, b, y    *model.Tensor
	sa, sb, sy float32
	za, zb, zy int32
}

// binaryQuant looks up a binary op's tensors and their per-tensor quantization.
func binaryQuant(g *model.Graph, op *model.Op) (q binaryOperands, err error) {
	if q.a, q.b, q.y, err = binaryTensors(g, op); err != nil {
		return q, err
	}
	if q.sa, q.za, err = perTensor(q.a); err != nil {
		return q, err
	}
	if q.sb, q.zb, err = perTensor(q.b); err != nil {
		return q, err
	}
	q.sy, q.zy, err = perTensor(q.y)
	return q, err
}

// PrepareAdd prepares an ADD op.
func PrepareAdd(g *model.Graph, op *model.Op) (*AddParams, error) {
	p, err := prepareAdd(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareAdd(g *model.Graph, op *model.Op) (*AddParams, error) {
	q, err := binaryQuant(g, op)
	if err != nil {
		return nil, err
	}
	a, b, y := q.a, q.b, q.y
	s1, z1, s2, z2, so, zo := q.sa, q.za, q.sb, q.zb, q.sy, q.zy
	p := &AddParams{In1ZeroPoint: z1, In2ZeroPoint: z2, LeftShift: 20}
	twiceMax := float64(2 * max(s1, s2))
	p.In1Multiplier, p.In1Shift = QuantizeMultiplier(float64(s1) / twiceMax)
	p.In2Multiplier, p.In2Shift = QuantizeMultiplier(float64(s2) / twiceMax)
	m, sh := QuantizeMultiplier(twiceMax / float64(float32(int32(1)<<p.LeftShift)*so))
	p.Out = Requant{Multiplier: []int32{m}, Shift: []int{sh}, OutZeroPoint: zo}
	if p.Out.ActMin, p.Out.ActMax, err = activationRange(op.Activation, y); err != nil {
		return nil, err
	}
	if p.Broadcast, err = newBroadcast(a.Shape, b.Shape, y.Shape); err != nil {
		return nil, err
	}
	p.Out.Sched = Uniform(RoundAway)
	n := y.NumElements()
	cat, bs := broadcastCategory(a.Shape, b.Shape)
	int8 := y.DType == model.Int8
	switch {
	case cat == bcastNone && int8:
		p.RunLen, p.InSched = n, Schedule{Block: 16, Vector: RoundSingle, Tail: RoundAway}
	case cat == bcastNone:
		p.RunLen, p.InSched = n, Schedule{Block: 8, Vector: RoundFloor, Tail: RoundAway}
	case cat == bcastGeneric:
		p.RunLen, p.InSched = 1, Uniform(RoundAway)
	case bs[4] > 1 && int8:
		p.RunLen, p.InSched = bs[4], Schedule{Block: 16, Vector: RoundSingle, Tail: RoundAway}
	case bs[4] > 1:
		p.RunLen, p.InSched = bs[4], Schedule{Block: 8, Vector: RoundFloor, Tail: RoundAway}
	default: // one input is a scalar along runs of bs[3]
		p.RunLen, p.InSched = bs[3], Schedule{Block: 8, Vector: RoundFloor, Tail: RoundAway}
	}
	if p.RunLen < 1 {
		p.RunLen = 1
	}
	return p, nil
}

// Run evaluates the ADD on inputs x1, x2 into y.
func (p *AddParams) Run(x1, x2, y []int32) {
	for i := range y {
		i1, i2 := p.Broadcast.Index(i)
		r := p.InSched.At(i%p.RunLen, p.RunLen)
		a1 := r.Mul((x1[i1]-p.In1ZeroPoint)*(1<<p.LeftShift), p.In1Multiplier, p.In1Shift)
		a2 := r.Mul((x2[i2]-p.In2ZeroPoint)*(1<<p.LeftShift), p.In2Multiplier, p.In2Shift)
		y[i] = p.Out.Apply(a1+a2, 0, 1)
	}
}

// PrepareMul prepares a MUL op.
func PrepareMul(g *model.Graph, op *model.Op) (*MulParams, error) {
	p, err := prepareMul(g, op)
	if err != nil {
		return nil, fmt.Errorf("%v %q: %w", op.Kind, op.Name, err)
	}
	return p, nil
}

func prepareMul(g *model.Graph, op *model.Op) (*MulParams, error) {
	q, err := binaryQuant(g, op)
	if err != nil {
		return nil, err
	}
	a, b, y := q.a, q.b, q.y
	s1, z1, s2, z2, so, zo := q.sa, q.za, q.sb, q.zb, q.sy, q.zy
	p := &MulParams{In1ZeroPoint: z1, In2ZeroPoint: z2}
	m, sh := QuantizeMultiplier(float64(s1) * float64(s2) / float64(so))
	p.Out = Requant{Multiplier: []int32{m}, Shift: []int{sh}, OutZeroPoint: zo, Sched: Uniform(RoundAway)}
	if p.Out.ActMin, p.Out.ActMax, err = activationRange(op.Activation, y); err != nil {
		return nil, err
	}
	if p.Broadcast, err = newBroadcast(a.Shape, b.Shape, y.Shape); err != nil {
		return nil, err
	}
	return p, nil
}

// Run evaluates the MUL on inputs x1, x2 into y.
func (p *MulParams) Run(x1, x2, y []int32) {
	n := len(y)
	for i := range y {
		i1, i2 := p.Broadcast.Index(i)
		y[i] = p.Out.Apply((x1[i1]-p.In1ZeroPoint)*(x2[i2]-p.In2ZeroPoint), i, n)
	}
}

// Broadcast categories of TFLite's ProcessBroadcastShapes.
const (
	bcastNone = iota
	bcastFiveFold
	bcastGeneric
)

// broadcastCategory is TFLite's ProcessBroadcastShapes: whether two shapes are equal,
// broadcast in TFLite's "five-fold" pattern (with its five run lengths y0..y4), or need
// the generic kernel.
func broadcastCategory(s0, s1 []int) (cat int, y [5]int) {
	n := max(len(s0), len(s1))
	ext := func(s []int) []int {
		e := make([]int, n)
		for i := range e {
			e[i] = 1
		}
		copy(e[n-len(s):], s)
		return e
	}
	e0, e1 := ext(s0), ext(s1)
	if slices.Equal(e0, e1) {
		return bcastNone, y
	}
	first := false // true: the first input broadcasts fast (kFirstInputBroadcastsFast)
	found := false
	for i := n - 1; i >= 0; i-- {
		switch {
		case e0[i] == e1[i]:
			continue
		case e0[i] == 1:
			first = true
		case e1[i] == 1:
			first = false
		default:
			return bcastGeneric, y
		}
		found = true
		break
	}
	if !found {
		return bcastNone, y
	}
	sa, sb := e0, e1
	if !first {
		sa, sb = e1, e0
	}
	y = [5]int{1, 1, 1, 1, 1}
	i := n - 1
	for ; i >= 0 && sa[i] == sb[i]; i-- {
		y[4] *= sb[i]
	}
	for ; i >= 0 && sa[i] == 1; i-- {
		y[3] *= sb[i]
	}
	for ; i >= 0 && sa[i] == sb[i]; i-- {
		y[2] *= sa[i]
	}
	for ; i >= 0 && sb[i] == 1; i-- {
		y[1] *= sa[i]
	}
	for ; i >= 0 && sa[i] == sb[i]; i-- {
		y[0] *= sb[i]
	}
	if i >= 0 {
		return bcastGeneric, y
	}
	return bcastFiveFold, y
}
