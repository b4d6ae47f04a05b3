package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// npy element types qmpc reads and writes (little endian, C order).
var npyTypes = map[string]model.DType{
	"|u1": model.Uint8, "|i1": model.Int8, "<i2": model.Int16, "<i4": model.Int32,
	"<i8": model.Int64, "<f4": model.Float32, "|b1": model.Bool,
}

// readNpy reads a .npy file (format versions 1-3) into a Value.
func readNpy(path string) (model.Value, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return model.Value{}, errs.New(errs.Shape, "reading %s: %w", path, err)
	}
	v, err := parseNpy(b)
	if err != nil {
		return model.Value{}, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// parseNpy decodes a .npy file with npyio (codeberg.org/sbinet/npyio): C-order arrays of
// the integer and float32 types qmpc takes, returned as raw little-endian data.
func parseNpy(b []byte) (v model.Value, err error) {
	bad := func(why string) (model.Value, error) {
		return model.Value{}, errs.New(errs.DType, "not a .npy array qmpc reads: %s", why)
	}
	defer func() { // npyio may panic on malformed headers
		if r := recover(); r != nil {
			v, err = bad(fmt.Sprint(r))
		}
	}()
	r, err := npy.NewReader(bytes.NewReader(b))
	if err != nil {
		return bad(err.Error())
	}
	descr := strings.Trim(r.Header.Descr.Type, "'\"")
	dt, ok := npyTypes[descr]
	if !ok {
		return bad(fmt.Sprintf("element type %q (want uint8, int8, int16, int32, int64 or float32, little endian)", descr))
	}
	if r.Header.Descr.Fortran {
		return bad("Fortran order (save a C-contiguous array)")
	}
	shape := append([]int{}, r.Header.Descr.Shape...)
	data, err := readNpyData(r, dt)
	if err != nil {
		return bad(err.Error())
	}
	if want := model.NumElements(shape) * dt.Size(); len(data) != want {
		return bad(fmt.Sprintf("%d data bytes for shape %v of %s (want %d)", len(data), shape, dt, want))
	}
	return model.Value{Shape: shape, DType: dt, Data: data}, nil
}

// readNpyData reads the array's elements as dt and encodes them little endian.
func readNpyData(r *npy.Reader, dt model.DType) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch dt {
	case model.Uint8, model.Bool:
		var x []uint8
		if err = r.Read(&x); err == nil {
			return x, nil
		}
	case model.Int8:
		var x []int8
		if err = r.Read(&x); err == nil {
			err = binary.Write(&buf, binary.LittleEndian, x)
		}
	case model.Int16:
		var x []int16
		if err = r.Read(&x); err == nil {
			err = binary.Write(&buf, binary.LittleEndian, x)
		}
	case model.Int32:
		var x []int32
		if err = r.Read(&x); err == nil {
			err = binary.Write(&buf, binary.LittleEndian, x)
		}
	case model.Int64:
		var x []int64
		if err = r.Read(&x); err == nil {
			err = binary.Write(&buf, binary.LittleEndian, x)
		}
	case model.Float32:
		var x []float32
		if err = r.Read(&x); err == nil {
			err = binary.Write(&buf, binary.LittleEndian, x)
		}
	default:
		err = fmt.Errorf("element type %s", dt)
	}
	return buf.Bytes(), err
}

// writeNpy writes v as a version 1.0 .npy file.
func writeNpy(path string, v model.Value) error {
	descr := ""
	for k, d := range npyTypes {
		if d == v.DType {
			descr = k
		}
	}
	if descr == "" {
		return errs.New(errs.DType, "cannot write %s as .npy", v.DType)
	}
	dims := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	buf.Write(v.Data)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return errs.New(errs.Config, "writing %s: %w", path, err)
	}
	return nil
}
