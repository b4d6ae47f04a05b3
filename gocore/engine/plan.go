package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// What is public and what is secret.
//
// The graph structure and every quantization parameter (scales, zero points, and so the
// requantization multipliers and shifts) are public, as in the paper's artifact minus its
// secret scales option. Constant tensors that are model parameters (filters, biases,
// constant operands of ADD/MUL/CONCATENATION) are the model owner's secret; constant
// tensors that describe structure (RESHAPE's shape, PAD's paddings, MEAN's axes,
// TRANSPOSE's perm, slice bounds, GATHER's indices, split sizes) are public. The client's input tensors are secret; the client alone learns the revealed
// output.

// structuralInputs lists, per op kind, the input positions that hold public structure.
var structuralInputs = map[model.OpKind][]int{
	model.OpReshape:      {1},
	model.OpPad:          {1, 2},
	model.OpMean:         {1},
	model.OpTranspose:    {1},
	model.OpSlice:        {1, 2},
	model.OpStridedSlice: {1, 2, 3},
	model.OpGather:       {1},
	model.OpExpandDims:   {1},
	model.OpSplit:        {1},
	model.OpLookup:       {1},
}

// isStructural reports whether tensor t is used only as a structural operand.
func isStructural(g *model.Graph, t int) bool {
	used := false
	for _, op := range g.Ops {
		for pos, in := range op.Inputs {
			if in != t {
				continue
			}
			used = true
			ok := false
			for _, s := range structuralInputs[op.Kind] {
				if s == pos {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
	}
	return used
}

// SecretConstants returns the indices of the constant tensors that are the model owner's
// secret parameters, in increasing order.
func SecretConstants(g *model.Graph) []int {
	var out []int
	for i := range g.Tensors {
		if isConstLike(g, i) && !isStructural(g, i) && isUsed(g, i) {
			out = append(out, i)
		}
	}
	return out
}

// PublicGraph returns a copy of g without the owner's secret parameters: what every
// computing party and the client may see. Shapes, types and quantization stay.
func PublicGraph(g *model.Graph) *model.Graph {
	pg := *g
	pg.Tensors = make([]*model.Tensor, len(g.Tensors))
	secret := map[int]bool{}
	for _, i := range SecretConstants(g) {
		secret[i] = true
	}
	for i, t := range g.Tensors {
		c := *t
		if secret[i] {
			c.Data = nil
		}
		pg.Tensors[i] = &c
	}
	return &pg
}

// plan splits a graph into the ops evaluated under MPC and a cleartext tail evaluated by
// the client on the revealed values. The tail is the longest suffix of ops that only feed
// graph outputs and are functions of their single input: SOFTMAX, LOGISTIC, DEQUANTIZE,
// QUANTIZE, RESHAPE and SQUEEZE. Revealing their inputs to the client (who receives
// their outputs anyway) lets the client compute them exactly with the cleartext kernels.
// HARD_SWISH, TANH, and a LOGISTIC elsewhere, run on shares as a secure table lookup (mpc.LookupTable of the
// table qnn.ElementwiseTable computes with the cleartext kernel).
// Leading QUANTIZE ops of float graph inputs, and data movement between the two, form the
// head, which the client runs before sharing.
type plan struct {
	head    []int // QUANTIZE ops on float graph inputs (and float data movement before them): the client runs them before sharing
	inputs  []int // tensors the client secret-shares (integer graph inputs, head outputs)
	secure  []int // op indices run under MPC, in order
	tail    []int // op indices the client runs in the clear
	reveal  []int // tensors revealed to the client (inputs of the tail, or graph outputs)
	outputs []int // graph outputs
}

var tailKinds = map[model.OpKind]bool{
	model.OpSoftmax: true, model.OpLogistic: true, model.OpDequantize: true,
	model.OpReshape: true, model.OpSqueeze: true, model.OpQuantize: true,
}

// secureKinds lists the ops the engine evaluates on shares.
var secureKinds = map[model.OpKind]bool{
	model.OpConv2D: true, model.OpDepthwiseConv2D: true, model.OpFullyConnected: true,
	model.OpAveragePool2D: true, model.OpMaxPool2D: true, model.OpAdd: true, model.OpMul: true,
	model.OpMean: true, model.OpPad: true, model.OpReshape: true, model.OpSqueeze: true,
	model.OpConcatenation: true, model.OpQuantize: true,
	// Data movement: public index maps, free on shares.
	model.OpTranspose: true, model.OpSlice: true, model.OpStridedSlice: true, model.OpPack: true,
	model.OpGather: true, model.OpExpandDims: true, model.OpSplit: true, model.OpDepthToSpace: true,
	model.OpSpaceToDepth: true,
	// Elementwise functions of an 8-bit input (qnn.TableKinds) that are not in the
	// client's tail: a secure lookup of the table their cleartext kernel computes.
	model.OpLogistic: true, model.OpHardSwish: true, model.OpTanh: true, model.OpLookup: true,
}

func makePlan(g *model.Graph) (*plan, error) {
	consumers := make([][]int, len(g.Tensors))
	for i, op := range g.Ops {
		for _, in := range op.Inputs {
			if in >= 0 {
				consumers[in] = append(consumers[in], i)
			}
		}
	}
	isOut := map[int]bool{}
	for _, o := range g.Outputs {
		isOut[o] = true
	}
	inTail := make([]bool, len(g.Ops))
	// Walk backwards: an op joins the tail when it is a tail kind and every consumer of
	// its outputs is in the tail (or the output is a graph output).
	for i := len(g.Ops) - 1; i >= 0; i-- {
		op := g.Ops[i]
		if !tailKinds[op.Kind] {
			continue
		}
		ok := true
		for _, o := range op.Outputs {
			for _, c := range consumers[o] {
				if !inTail[c] {
					ok = false
				}
			}
			if len(consumers[o]) == 0 && !isOut[o] {
				ok = false
			}
		}
		inTail[i] = ok
	}
	p := &plan{outputs: g.Outputs}
	var unsupported []string
	counts := map[string]int{}
	// floatHead: float tensors the client computes before sharing (float graph inputs and
	// data movement on them, e.g. an NCHW input's TRANSPOSE before its QUANTIZE).
	floatHead := map[int]bool{}
	for _, t := range g.Inputs {
		floatHead[t] = g.Tensors[t].DType == model.Float32
	}
	for i, op := range g.Ops {
		if inTail[i] {
			p.tail = append(p.tail, i)
			continue
		}
		if model.IsMove(op.Kind) && g.Tensors[op.Outputs[0]].DType == model.Float32 {
			data := model.MoveDataInputs(op)
			if !slices.ContainsFunc(data, func(k int) bool { return !floatHead[op.Inputs[k]] }) {
				p.head = append(p.head, i)
				floatHead[op.Outputs[0]] = true
				continue
			}
		}
		if op.Kind == model.OpQuantize && g.Tensors[op.Inputs[0]].DType == model.Float32 {
			// float -> int at the graph input: the client quantizes before sharing.
			if floatHead[op.Inputs[0]] {
				p.head = append(p.head, i)
				continue
			}
			counts["QUANTIZE(float) inside the graph"]++
		} else if !secureKinds[op.Kind] {
			counts[op.Kind.String()+" before the output"]++
		}
		p.secure = append(p.secure, i)
	}
	for k, n := range counts {
		unsupported = append(unsupported, fmt.Sprintf("%s (%d)", k, n))
	}
	if len(unsupported) > 0 {
		sort.Strings(unsupported)
		return nil, errs.New(errs.UnsupportedOp, "secure evaluation does not support: %s", strings.Join(unsupported, ", "))
	}
	headIn := map[int]bool{}
	for _, i := range p.head {
		headIn[g.Ops[i].Inputs[0]] = true
	}
	for _, t := range g.Inputs {
		if !headIn[t] {
			if g.Tensors[t].DType == model.Float32 {
				return nil, errs.New(errs.UnsupportedOp, "float input %q must feed a QUANTIZE op for secure evaluation", g.Tensors[t].Name)
			}
			p.inputs = append(p.inputs, t)
		}
	}
	for _, i := range p.head {
		if g.Ops[i].Kind == model.OpQuantize {
			p.inputs = append(p.inputs, g.Ops[i].Outputs[0])
		}
	}
	// Revealed tensors: inputs of tail ops produced by the secure part, and graph outputs
	// produced by the secure part.
	produced := map[int]bool{}
	for _, i := range p.secure {
		for _, o := range g.Ops[i].Outputs {
			produced[o] = true
		}
	}
	seen := map[int]bool{}
	add := func(t int) {
		if produced[t] && !seen[t] {
			seen[t] = true
			p.reveal = append(p.reveal, t)
		}
	}
	for _, i := range p.tail {
		for _, in := range g.Ops[i].Inputs {
			if in >= 0 {
				add(in)
			}
		}
	}
	for _, o := range g.Outputs {
		add(o)
	}
	return p, nil
}

// isUsed reports whether some op reads tensor t.
func isUsed(g *model.Graph, t int) bool {
	for _, op := range g.Ops {
		for _, in := range op.Inputs {
			if in == t {
				return true
			}
		}
	}
	return false
}

func isGraphInput(g *model.Graph, t int) bool {
	for _, i := range g.Inputs {
		if i == t {
			return true
		}
	}
	return false
}

// ZeroParameters returns a copy of g whose secret parameters are all zero: for cost
// estimates that must not see the model owner's data.
func ZeroParameters(g *model.Graph) *model.Graph {
	zg := *g
	zg.Tensors = make([]*model.Tensor, len(g.Tensors))
	copy(zg.Tensors, g.Tensors)
	for _, i := range SecretConstants(g) {
		c := *g.Tensors[i]
		c.Data = make([]byte, len(c.Data))
		zg.Tensors[i] = &c
	}
	return &zg
}
