package pybind

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// The packed tensor format carries a list of tensors (and, from Go to Python, warnings)
// in one []byte, so that a call crosses the gopy boundary with one copy per direction:
//
//	"QMPT" | uint32 little-endian n | n bytes of JSON header | data
//
// The header is {"tensors": [{"dtype": "uint8", "shape": [1, 8, 8, 1], "offset": 0,
// "nbytes": 64}, ...], "warnings": ["..."]}, offsets counted from the start of data. Each
// tensor's bytes are its C-order (row-major) little-endian elements, as numpy's
// arr.tobytes() for a contiguous native little-endian array; dtype is the numpy name.
// python/qmpc/_bridge.py implements the other side. A header has no size limit, a packed
// value always has at least the 8-byte prefix (so it is never empty: gopy aborts on
// empty slices).
const packMagic = "QMPT"

// packHeader is the JSON header of the packed format.
type packHeader struct {
	Tensors  []packTensor `json:"tensors"`
	Warnings []string     `json:"warnings,omitempty"`
}

type packTensor struct {
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Offset int    `json:"offset"`
	NBytes int    `json:"nbytes"`
}

// unpack decodes packed tensors. The values' Data alias b.
func unpack(b []byte) ([]model.Value, error) {
	if len(b) < 8 || string(b[:4]) != packMagic {
		return nil, errs.New(errs.Internal, "packed tensors: bad prefix")
	}
	n := binary.LittleEndian.Uint32(b[4:8])
	if uint64(n) > uint64(len(b)-8) {
		return nil, errs.New(errs.Internal, "packed tensors: header length %d exceeds %d bytes", n, len(b)-8)
	}
	var h packHeader
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		return nil, errs.New(errs.Internal, "packed tensors: header: %w", err)
	}
	data := b[8+n:]
	vals := make([]model.Value, len(h.Tensors))
	for i, t := range h.Tensors {
		dt, err := model.ParseDType(t.DType)
		if err != nil {
			return nil, errs.New(errs.DType, "tensor %d: unsupported dtype %q", i, t.DType)
		}
		count := 1
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && count > (1<<40)/d) {
				return nil, errs.New(errs.Shape, "tensor %d: invalid shape %v", i, t.Shape)
			}
			count *= d
		}
		if t.NBytes != count*dt.Size() {
			return nil, errs.New(errs.Internal, "packed tensors: tensor %d: %d bytes for %s%v", i, t.NBytes, dt, t.Shape)
		}
		if t.Offset < 0 || t.Offset > len(data) || t.NBytes > len(data)-t.Offset {
			return nil, errs.New(errs.Internal, "packed tensors: tensor %d: bytes [%d,+%d) outside %d", i, t.Offset, t.NBytes, len(data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		vals[i] = model.Value{Shape: shape, DType: dt, Data: data[t.Offset : t.Offset+t.NBytes : t.Offset+t.NBytes]}
	}
	return vals, nil
}

// pack encodes values and warnings in the packed format.
func pack(vals []model.Value, warnings []string) ([]byte, error) {
	h := packHeader{Tensors: make([]packTensor, len(vals)), Warnings: warnings}
	off := 0
	for i, v := range vals {
		want := model.NumElements(v.Shape) * v.DType.Size()
		if v.DType.Size() == 0 || len(v.Data) != want {
			return nil, errs.New(errs.Internal, "tensor %d: %d bytes for %s%v", i, len(v.Data), v.DType, v.Shape)
		}
		shape := v.Shape
		if shape == nil {
			shape = []int{}
		}
		h.Tensors[i] = packTensor{DType: v.DType.String(), Shape: shape, Offset: off, NBytes: len(v.Data)}
		off += len(v.Data)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("packed tensors: %w", err)
	}
	out := make([]byte, 0, 8+len(hb)+off)
	out = append(out, packMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hb)))
	out = append(out, hb...)
	for _, v := range vals {
		out = append(out, v.Data...)
	}
	return out, nil
}
