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

// AsBytes returns the little-endian encoding of v. On little-endian machines it is a view of
// v's memory (no copy): the caller must not modify v while the bytes are in use (for
// example after passing them to net.Conn.Send, which may keep them). Elsewhere it is a copy.
func AsBytes(v []uint64) []byte {
	if nativeLittle {
		if len(v) == 0 {
			return []byte{}
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	}
	return ToBytes(v)
}

// AsWords decodes a little-endian encoding of n words. Where possible (little-endian machine,
// 8-byte aligned buffer) the result is a view of b's memory, so b must belong to the caller
// and not be used otherwise afterwards; else it is a copy. It returns an error if
// len(b) != 8*n.
func AsWords(b []byte, n int) ([]uint64, error) {
	if len(b) != 8*n {
		return nil, fmt.Errorf("message of %d bytes, want %d (%d words)", len(b), 8*n, n)
	}
	if n == 0 {
		return []uint64{}, nil
	}
	if nativeLittle && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), nil
	}
	return FromBytes(b, n)
}
