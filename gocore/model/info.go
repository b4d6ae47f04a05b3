package model

import "encoding/json"

// TensorInfo describes a graph input or output for users (the Python layer's
// m.inputs / m.outputs). Scale and ZeroPoint are the first (or only) quantization pair,
// 0 and 0 when the tensor is not quantized, as LiteRT's get_input_details()
// "quantization"; Scales, ZeroPoints and QuantizedDimension give all of them.
type TensorInfo struct {
	Index              int       `json:"index"`
	Name               string    `json:"name"`
	Shape              []int     `json:"shape"`
	DType              string    `json:"dtype"`
	Scale              float32   `json:"scale"`
	ZeroPoint          int64     `json:"zero_point"`
	Scales             []float32 `json:"scales"`
	ZeroPoints         []int64   `json:"zero_points"`
	QuantizedDimension int       `json:"quantized_dimension"`
}

// Info describes a graph: its inputs and outputs, op count, MACs and parameters.
type Info struct {
	Description string       `json:"description"`
	NumOps      int          `json:"num_ops"`
	MACs        int64        `json:"macs"`
	Params      int64        `json:"params"`
	Digest      string       `json:"digest"`
	Inputs      []TensorInfo `json:"inputs"`
	Outputs     []TensorInfo `json:"outputs"`
}

// TensorInfoOf describes tensor index i of g.
func TensorInfoOf(g *Graph, i int) TensorInfo {
	t := g.Tensors[i]
	ti := TensorInfo{Index: i, Name: t.Name, Shape: t.Shape, DType: t.DType.String(),
		Scales: []float32{}, ZeroPoints: []int64{}}
	if ti.Shape == nil {
		ti.Shape = []int{}
	}
	if q := t.Quant; q != nil && len(q.Scale) > 0 {
		ti.Scale, ti.ZeroPoint = q.Scale[0], q.ZeroPoint[0]
		ti.Scales, ti.ZeroPoints = q.Scale, q.ZeroPoint
		ti.QuantizedDimension = q.Axis
	}
	return ti
}

// GraphInfo describes g (which should be valid).
func GraphInfo(g *Graph) Info {
	macs, params := Totals(g)
	info := Info{Description: g.Description, NumOps: len(g.Ops), MACs: macs, Params: params,
		Digest: g.DigestHex(), Inputs: []TensorInfo{}, Outputs: []TensorInfo{}}
	for _, i := range g.Inputs {
		info.Inputs = append(info.Inputs, TensorInfoOf(g, i))
	}
	for _, i := range g.Outputs {
		info.Outputs = append(info.Outputs, TensorInfoOf(g, i))
	}
	return info
}

// InfoJSON is GraphInfo(g) as JSON.
func InfoJSON(g *Graph) ([]byte, error) {
	return json.Marshal(GraphInfo(g))
}
