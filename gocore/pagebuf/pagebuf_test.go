package pagebuf

import (
	"testing"
)

// TestBuffer: Bytes and Slice return the requested lengths, keep the contents while the
// buffer is large enough, start zero in a new mapping, and Release empties the buffer.
func TestBuffer(t *testing.T) {
	var p Buffer
	if p.Cap() != 0 {
		t.Fatalf("zero Buffer: Cap %d", p.Cap())
	}
	steps := []struct {
		n    int  // uint64 words requested
		kept bool // the earlier contents must still be there (no new mapping)
	}{
		{0, false},
		{1000, false},
		{500, true},
		{1000, true},
		{3 << 18, false}, // 6 MB: larger than the first mapping
		{3 << 18, true},
	}
	for i, s := range steps {
		before := p.Cap()
		v := Slice[uint64](&p, s.n)
		if len(v) != s.n {
			t.Fatalf("step %d: %d words, want %d", i, len(v), s.n)
		}
		if p.Cap() < 8*s.n {
			t.Fatalf("step %d: Cap %d below %d bytes", i, p.Cap(), 8*s.n)
		}
		if s.kept && p.Cap() != before {
			t.Fatalf("step %d: remapped (Cap %d -> %d)", i, before, p.Cap())
		}
		for j := range v {
			want := uint64(0)
			if s.kept {
				want = uint64(j) * 7
			}
			if v[j] != want {
				t.Fatalf("step %d: word %d is %d, want %d", i, j, v[j], want)
			}
		}
		for j := range v {
			v[j] = uint64(j) * 7
		}
	}
	p.Release()
	if p.Cap() != 0 {
		t.Fatalf("after Release: Cap %d", p.Cap())
	}
	if v := Slice[uint64](&p, 10); len(v) != 10 || v[3] != 0 {
		t.Fatalf("after Release: %v", v)
	}
	p.Release()
}
