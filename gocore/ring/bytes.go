package ring

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// nativeLittle is true on little-endian machines, where a []uint64 and its byte encoding
// share their memory layout.
var nativeLittle = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// ToBytes returns the little-endian encoding of v (8 bytes per element) in a new buffer.
func ToBytes(v []uint64) []byte {
	b := make([]byte, 8*len(v))
	PutBytes(b, v)
	return b
}

// PutBytes writes the little-endian encoding of v into b (len(b) == 8*len(v)).
func PutBytes(b []byte, v []uint64) {
	if len(b) != 8*len(v) {
		panic(fmt.Sprintf("ring.PutBytes: %d bytes for %d words", len(b), len(v)))
	}
	if nativeLittle && len(v) > 0 {
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v)))
		return
	}
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
}

// FromBytes decodes a little-endian encoding of n words into a new slice. It returns an
// error if len(b) != 8*n.
func FromBytes(b []byte, n int) ([]uint64, error) {
	if len(b) != 8*n {
		return nil, fmt.Errorf("message of %d bytes, want %d (%d words)", len(b), 8*n, n)
	}
	v := make([]uint64, n)
	if nativeLittle && n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*n), b)
		return v, nil
	}
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return v, nil
}
