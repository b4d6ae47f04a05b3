package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// digestVersion tags the canonical encoding; change it when the encoding changes.
const digestVersion = "qmpc-graph-digest-v2"

// Digest returns the SHA-256 of a canonical encoding of g: every tensor (name, shape,
// type, quantization, constant data), every op (kind, name, inputs, outputs and all
// option fields) and the graph's inputs and outputs, in order. The
// description is left out. Two parties that compute the same digest evaluate the same model.
func (g *Graph) Digest() [32]byte {
	e := digestEncoder{h: sha256.New()}
	e.str(digestVersion)
	e.int(len(g.Tensors))
	for _, t := range g.Tensors {
		e.str(t.Name)
		e.ints(t.Shape)
		e.int(int(t.DType))
		if q := t.Quant; q == nil {
			e.int(-1)
		} else {
			e.int(len(q.Scale))
			for _, s := range q.Scale {
				e.u64(uint64(math.Float32bits(s)))
			}
			e.int(len(q.ZeroPoint))
			for _, z := range q.ZeroPoint {
				e.u64(uint64(z))
			}
			e.int(q.Axis)
		}
		if t.Data == nil {
			e.int(-1)
		} else {
			e.int(len(t.Data))
			e.h.Write(t.Data)
		}
	}
	e.int(len(g.Ops))
	for _, op := range g.Ops {
		e.int(int(op.Kind))
		e.str(op.Name)
		e.ints(op.Inputs)
		e.ints(op.Outputs)
		e.int(int(op.Padding))
		if op.Padding == PadExplicit { // (digests of other graphs are unchanged)
			e.ints(op.Pads[:])
		}
		e.int(op.StrideH)
		e.int(op.StrideW)
		e.int(op.DilationH)
		e.int(op.DilationW)
		e.int(op.FilterH)
		e.int(op.FilterW)
		e.int(op.DepthMultiplier)
		e.int(int(op.Activation))
		e.int(op.Axis)
		e.bool(op.KeepDims)
		e.u64(uint64(math.Float32bits(op.Beta)))
		e.ints(op.NewShape)
		e.ints(op.SqueezeDims)
		e.int(int(op.Rounding))
	}
	e.ints(g.Inputs)
	e.ints(g.Outputs)
	var out [32]byte
	e.h.Sum(out[:0])
	return out
}

// DigestHex is Digest in lower-case hex.
func (g *Graph) DigestHex() string {
	d := g.Digest()
	return hex.EncodeToString(d[:])
}

type digestEncoder struct {
	h   hash.Hash
	buf [8]byte
}

func (e *digestEncoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.h.Write(e.buf[:])
}

func (e *digestEncoder) int(v int) { e.u64(uint64(int64(v))) }

func (e *digestEncoder) bool(v bool) {
	if v {
		e.u64(1)
	} else {
		e.u64(0)
	}
}

func (e *digestEncoder) str(s string) {
	e.int(len(s))
	e.h.Write([]byte(s))
}

// ints writes a length (-1 for nil, so nil and empty differ) and the values.
func (e *digestEncoder) ints(v []int) {
	if v == nil {
		e.int(-1)
		return
	}
	e.int(len(v))
	for _, x := range v {
		e.int(x)
	}
}
