package model

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// CountMACs returns the multiply-accumulates op performs in g: output elements times
// the window (times input channels) for CONV_2D and DEPTHWISE_CONV_2D, batch x units x
// input size for FULLY_CONNECTED, one per output element for MUL, and 0 for every other
// op (they add, compare or move data). The graph must be valid.
func CountMACs(g *Graph, op *Op) int64 {
	if len(op.Outputs) == 0 || len(op.Inputs) == 0 {
		return 0
	}
	out := int64(g.Tensors[op.Outputs[0]].NumElements())
	switch op.Kind {
	case OpConv2D:
		w := g.Tensors[op.Inputs[1]].Shape // [O,KH,KW,I]
		return out * int64(w[1]*w[2]*w[3])
	case OpDepthwiseConv2D:
		w := g.Tensors[op.Inputs[1]].Shape // [1,KH,KW,C*M]
		return out * int64(w[1]*w[2])
	case OpFullyConnected:
		w := g.Tensors[op.Inputs[1]].Shape // [O,I]
		return out * int64(w[1])
	case OpMul:
		return out
	}
	return 0
}

// CountParams returns the number of constant elements op holds as parameters (weights,
// biases, constant ADD/MUL operands) and their size in bytes. Constant shape, axis and
// padding operands are not counted.
func CountParams(g *Graph, op *Op) (elements, bytes int64) {
	switch op.Kind {
	case OpConv2D, OpDepthwiseConv2D, OpFullyConnected, OpAdd, OpMul, OpConcatenation:
	default:
		return 0, 0
	}
	for _, i := range op.Inputs {
		if i < 0 {
			continue
		}
		if t := g.Tensors[i]; t.IsConst() {
			elements += int64(t.NumElements())
			bytes += int64(len(t.Data))
		}
	}
	return elements, bytes
}

// QuantString describes quantization parameters briefly: "s=0.0078125 zp=128",
// "per-channel(32)" or "-".
func QuantString(q *Quant) string {
	switch {
	case q == nil || len(q.Scale) == 0:
		return "-"
	case len(q.Scale) == 1:
		return fmt.Sprintf("s=%.6g zp=%d", q.Scale[0], q.ZeroPoint[0])
	}
	return fmt.Sprintf("per-channel(%d)", len(q.Scale))
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// HumanCount formats a count with a k/M/G suffix ("14.1M").
func HumanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// opDetails is a short description of the options that matter for op.
func opDetails(g *Graph, op *Op) string {
	var parts []string
	switch op.Kind {
	case OpConv2D, OpDepthwiseConv2D:
		w := g.Tensors[op.Inputs[1]].Shape
		parts = append(parts, fmt.Sprintf("%dx%d/%d", w[1], w[2], op.StrideH), padName(op.Padding))
		if op.DilationH != 1 || op.DilationW != 1 {
			parts = append(parts, fmt.Sprintf("dil=%d,%d", op.DilationH, op.DilationW))
		}
		if op.Kind == OpDepthwiseConv2D && op.DepthMultiplier != 1 {
			parts = append(parts, fmt.Sprintf("dm=%d", op.DepthMultiplier))
		}
		if wq := g.Tensors[op.Inputs[1]].Quant; wq.PerChannel() {
			parts = append(parts, fmt.Sprintf("w:per-channel(%d)", len(wq.Scale)))
		}
	case OpAveragePool2D, OpMaxPool2D:
		parts = append(parts, fmt.Sprintf("%dx%d/%d", op.FilterH, op.FilterW, op.StrideH), padName(op.Padding))
		if op.Padding == PadExplicit {
			parts = append(parts, fmt.Sprintf("pads=%d,%d,%d,%d", op.Pads[0], op.Pads[1], op.Pads[2], op.Pads[3]))
		}
	case OpFullyConnected:
		if op.KeepDims {
			parts = append(parts, "keep_num_dims")
		}
	case OpMean:
		if axes, err := g.MeanAxes(op); err == nil {
			parts = append(parts, fmt.Sprintf("axes=%v", axes))
		}
		if op.KeepDims {
			parts = append(parts, "keep_dims")
		}
	case OpConcatenation:
		parts = append(parts, fmt.Sprintf("axis=%d", op.Axis))
	case OpSoftmax:
		if op.Beta != 1 {
			parts = append(parts, fmt.Sprintf("beta=%g", op.Beta))
		}
	case OpTranspose:
		if len(op.Inputs) > 1 && op.Inputs[1] >= 0 {
			if perm, err := intData(g.Tensors[op.Inputs[1]]); err == nil {
				parts = append(parts, fmt.Sprintf("perm=%v", perm))
			}
		}
	case OpPack, OpGather:
		parts = append(parts, fmt.Sprintf("axis=%d", op.Axis))
	case OpDepthToSpace, OpSpaceToDepth:
		parts = append(parts, fmt.Sprintf("block=%d", op.BlockSize))
	case OpSplit:
		what := "piece"
		if op.DropAxis {
			what = "unpack"
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d axis=%d", what, op.Piece+1, op.NumPieces, op.Axis))
	}
	if op.Activation != ActNone {
		parts = append(parts, op.Activation.String())
	}
	return strings.Join(parts, " ")
}

// Summary returns a readable table of g: inputs and outputs, then per op its index,
// kind, options, output shape, type and quantization, MACs and parameter count, and
// totals. g should be valid (see Validate).
func Summary(g *Graph) string {
	var b strings.Builder
	if g.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", g.Description)
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, io := range []struct {
		title string
		idx   []int
	}{{"input", g.Inputs}, {"output", g.Outputs}} {
		for k, i := range io.idx {
			t := g.Tensors[i]
			fmt.Fprintf(w, "%s %d\t%s\t%s\t%s\t%s\n", io.title, k, t.Name, shapeString(t.Shape), t.DType, QuantString(t.Quant))
		}
	}
	w.Flush()
	b.WriteByte('\n')
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "#\top\toptions\toutput shape\tdtype\tquantization\tMACs\tparams\t\n")
	var macs, params, pbytes int64
	for i, op := range g.Ops {
		y := g.Tensors[op.Outputs[0]]
		m := CountMACs(g, op)
		p, pb := CountParams(g, op)
		macs, params, pbytes = macs+m, params+p, pbytes+pb
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", i, op.Kind, opDetails(g, op),
			shapeString(y.Shape), y.DType, QuantString(y.Quant), m, p)
	}
	fmt.Fprintf(w, "total\t%d ops\t\t\t\t\t%d\t%d\t\n", len(g.Ops), macs, params)
	w.Flush()
	fmt.Fprintf(&b, "\n%s MACs, %s parameters (%s bytes)\n", HumanCount(macs), HumanCount(params), HumanCount(pbytes))
	return b.String()
}

// Totals returns the graph's total MACs and parameter count (see CountMACs and
// CountParams).
func Totals(g *Graph) (macs, params int64) {
	for _, op := range g.Ops {
		m := CountMACs(g, op)
		p, _ := CountParams(g, op)
		macs, params = macs+m, params+p
	}
	return macs, params
}
