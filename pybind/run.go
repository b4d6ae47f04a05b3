package pybind

// Run evaluates the model in cleartext with qmpc's integer kernels (bit-exact with
// TFLite's reference kernels). inputs holds one tensor per model input in the packed
// format (tensors.go); the result holds the outputs, plus a warning per float input that
// was quantized with the model's input parameters. Errors carry errs.Shape or errs.DType
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
	vals, warnings, err := prepareInputs(g, toIRLayout(g, vals))
	if err != nil {
		return nil, err
	}
	outs, err := m.plan.Run(vals)
	if err != nil {
		return nil, err
	}
	return pack(fromIRLayout(g, outs), warnings)
}
