package pybind

// Run evaluates the model in cleartext with qmpc's integer kernels (bit-exact with
// TFLite's reference kernels). inputs holds one tensor per model input in the packed
// format (tensors.go); the result holds the outputs, plus a warning per float input that
// was quantized with the model's input parameters. A batch of N (every input of shape
// model.BatchShape(its shape, N), e.g. [N, H, W, C] for [1, H, W, C]) is evaluated in one
// pass and gives outputs of shape BatchShape(output shape, N). Errors carry errs.Shape or errs.DType
// for inputs that do not match the model.
func (m *Model) Run(inputs []byte) (out []byte, err error) {
	defer guard(&err)
	g, err := m.graph()
	if err != nil {
		return nil, err
	}
	vals, err := unpack(inputs)
	if err != nil {
		return nil, err
	}
	n := batchSize(g, vals)
	bg, plan, err := m.batchPlan(n)
	if err != nil {
		return nil, err
	}
	vals, warnings, err := prepareInputs(bg, asBatched(bg, vals, n))
	if err != nil {
		return nil, err
	}
	outs, err := plan.Run(vals)
	if err != nil {
		return nil, err
	}
	return pack(unbatched(g, outs, n), warnings)
}
