package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// npy element types qmpc reads and writes (little endian, C order).
var npyTypes = map[string]model.DType{
	"|u1": model.Uint8, "|i1": model.Int8, "<i2": model.Int16, "<i4": model.Int32,
	"<i8": model.Int64, "<f4": model.Float32, "|b1": model.Bool,
}

var (
	npyDescr   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

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

func parseNpy(b []byte) (model.Value, error) {
	bad := func(why string) (model.Value, error) {
		return model.Value{}, errs.New(errs.DType, "not a .npy array qmpc reads: %s", why)
	}
	if len(b) < 10 || !bytes.Equal(b[:6], []byte("\x93NUMPY")) {
		return bad("missing the \\x93NUMPY magic")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return bad("truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return bad(fmt.Sprintf("format version %d", b[6]))
	}
	if off+hlen > len(b) {
		return bad("truncated header")
	}
	h := string(b[off : off+hlen])
	m := npyDescr.FindStringSubmatch(h)
	if m == nil {
		return bad("no descr")
	}
	dt, ok := npyTypes[m[1]]
	if !ok {
		return bad(fmt.Sprintf("element type %q (want uint8, int8, int16, int32, int64 or float32, little endian)", m[1]))
	}
	if f := npyFortran.FindStringSubmatch(h); f == nil || f[1] != "False" {
		return bad("Fortran order (save a C-contiguous array)")
	}
	s := npyShape.FindStringSubmatch(h)
	if s == nil {
		return bad("no shape")
	}
	shape := []int{}
	for _, f := range strings.Split(s[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return bad(fmt.Sprintf("shape %q", s[1]))
		}
		shape = append(shape, d)
	}
	data := b[off+hlen:]
	if want := model.NumElements(shape) * dt.Size(); len(data) != want {
		return bad(fmt.Sprintf("%d data bytes for shape %v of %s (want %d)", len(data), shape, dt, want))
	}
	return model.Value{Shape: shape, DType: dt, Data: data}, nil
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
