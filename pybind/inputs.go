package pybind

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// prepareInputs checks run-time inputs against the graph's inputs (count, element type,
// shape) and returns the values to evaluate. A float32 value given for a
// quantized integer input is quantized with that input's parameters, as TFLite's QUANTIZE
// does (q = clamp(round(x / scale) + zero_point) in float32, rounding half
// away from zero), and a warning says so. Errors carry errs.Shape or errs.DType and name
// the input by index and name, with the expected and the given shape or type.
func prepareInputs(g *model.Graph, vals []model.Value) ([]model.Value, []string, error) {
	if len(vals) != len(g.Inputs) {
		return nil, nil, errs.New(errs.Shape, "the model has %d input(s), got %d", len(g.Inputs), len(vals))
	}
	out := make([]model.Value, len(vals))
	var warnings []string
	for i, v := range vals {
		t := g.Tensors[g.Inputs[i]]
		what := fmt.Sprintf("input %d %q", i, t.Name)
		if !slices.Equal(v.Shape, t.Shape) {
			return nil, nil, errs.New(errs.Shape, "%s: expected shape %s (or %s for a batch of N), got %s", what, shapeString(t.Shape),
				batchShapeString(t.Shape), shapeString(v.Shape))
		}
		switch {
		case v.DType == t.DType:
			out[i] = v
		case v.DType == model.Float32 && isQuantizedInt(t.DType):
			if t.Quant == nil || len(t.Quant.Scale) != 1 {
				return nil, nil, errs.New(errs.DType, "%s: expected dtype %s, got %s (cannot quantize: the input has no per-tensor quantization parameters)", what, t.DType, v.DType)
			}
			q, err := quantize(v, t.DType, t.Quant.Scale[0], t.Quant.ZeroPoint[0])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", what, err)
			}
			out[i] = q
			warnings = append(warnings, fmt.Sprintf("%s: %s input quantized to %s with the model's input parameters (scale=%g, zero_point=%d); pass %s to avoid this conversion",
				what, v.DType, t.DType, t.Quant.Scale[0], t.Quant.ZeroPoint[0], t.DType))
		default:
			hint := ""
			if isQuantizedInt(t.DType) {
				hint = " (or float32, quantized with the model's input parameters)"
			}
			return nil, nil, errs.New(errs.DType, "%s: expected dtype %s%s, got %s", what, t.DType, hint, v.DType)
		}
	}
	return out, warnings, nil
}

func isQuantizedInt(d model.DType) bool {
	return d == model.Uint8 || d == model.Int8 || d == model.Int16
}

// shapeString formats a shape as numpy prints it: (1, 8, 8, 1).
func shapeString(s []int) string {
	b := []byte{'('}
	for i, d := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%d", d)
	}
	if len(s) == 1 {
		b = append(b, ',')
	}
	return string(append(b, ')'))
}

// batchShapeString formats model.BatchShape(s, N) with the letter N: (N, 8, 8, 1).
func batchShapeString(s []int) string {
	b := shapeString(model.BatchShape(s, 0))
	return "(N" + b[2:]
}

// quantize converts a float32 value to the integer type dt with
// q = clamp(round(x / scale) + zeroPoint).
func quantize(v model.Value, dt model.DType, scale float32, zeroPoint int64) (model.Value, error) {
	n := model.NumElements(v.Shape)
	lo, hi, _ := dt.IntRange()
	out := model.Value{Shape: v.Shape, DType: dt, Data: make([]byte, n*dt.Size())}
	for i := range n {
		x := math.Float32frombits(binary.LittleEndian.Uint32(v.Data[4*i:]))
		if x != x {
			return model.Value{}, errs.New(errs.DType, "cannot quantize NaN (element %d)", i)
		}
		r := math.Round(float64(x/scale)) + float64(zeroPoint)
		q := int64(max(float64(lo), min(float64(hi), r)))
		switch dt {
		case model.Uint8, model.Int8:
			out.Data[i] = byte(q)
		case model.Int16:
			binary.LittleEndian.PutUint16(out.Data[2*i:], uint16(q))
		}
	}
	return out, nil
}
