package tlsnet

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Wire format. Every frame is a 16-byte header followed by its payload:
//
//	byte 0     type (frameHello, frameData, frameMore, framePing, frameClose, frameClock)
//	bytes 1-3  zero (reserved; anything else is a malformed frame)
//	bytes 4-7  payload length, big endian, at most Options.MaxFrame
//	bytes 8-15 sequence number, big endian: 0 for the hello, then +1 per frame, per
//	           direction and per connection (a session); a gap, repeat or reordering is an error
//
// A message longer than MaxFrame is carried by frameMore frames followed by one frameData
// frame; its total length is limited by Options.MaxMessage.
const headerLen = 16

type frameType uint8

const (
	frameHello frameType = 1 // payload: JSON Hello; first frame of each direction
	frameData  frameType = 2 // payload: a message, or the last part of one
	frameMore  frameType = 3 // payload: a non-final part of a message
	framePing  frameType = 4 // empty: keeps an idle link alive
	frameClose frameType = 5 // payload: UTF-8 reason; the sender closes the link
	frameClock frameType = 6 // payload: 8 bytes, big endian: the sender's Lamport clock
)

// clockLen is a clock frame's payload length.
const clockLen = 8

func (t frameType) String() string {
	switch t {
	case frameHello:
		return "hello"
	case frameData:
		return "data"
	case frameMore:
		return "data-continued"
	case framePing:
		return "ping"
	case frameClose:
		return "close"
	case frameClock:
		return "clock"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

type header struct {
	typ frameType
	len uint32
	seq uint64
}

func putHeader(b []byte, h header) {
	b[0] = byte(h.typ)
	b[1], b[2], b[3] = 0, 0, 0
	binary.BigEndian.PutUint32(b[4:], h.len)
	binary.BigEndian.PutUint64(b[8:], h.seq)
}

// FrameError is a protocol violation by the peer: a malformed, oversized, replayed or
// out-of-order frame.
type FrameError struct{ Reason string }

func (e *FrameError) Error() string { return "bad frame: " + e.Reason }

// readHeader reads and checks one header; want is the expected sequence number.
func readHeader(r io.Reader, buf []byte, want uint64, maxFrame int) (header, error) {
	if _, err := io.ReadFull(r, buf[:headerLen]); err != nil {
		return header{}, err
	}
	h := header{typ: frameType(buf[0]), len: binary.BigEndian.Uint32(buf[4:]), seq: binary.BigEndian.Uint64(buf[8:])}
	if buf[1] != 0 || buf[2] != 0 || buf[3] != 0 {
		return h, &FrameError{"malformed header (reserved bytes set)"}
	}
	if h.typ < frameHello || h.typ > frameClock {
		return h, &FrameError{fmt.Sprintf("malformed header (unknown %s)", h.typ)}
	}
	if int64(h.len) > int64(maxFrame) {
		return h, &FrameError{fmt.Sprintf("oversized frame: %d bytes, limit %d", h.len, maxFrame)}
	}
	if h.seq != want {
		kind := "out-of-order"
		if h.seq < want {
			kind = "replayed"
		}
		return h, &FrameError{fmt.Sprintf("%s frame: sequence number %d, expected %d", kind, h.seq, want)}
	}
	if h.typ == framePing && h.len != 0 {
		return h, &FrameError{"malformed ping (non-empty)"}
	}
	if h.typ == frameClock && h.len != clockLen {
		return h, &FrameError{fmt.Sprintf("malformed clock frame (%d bytes)", h.len)}
	}
	return h, nil
}
