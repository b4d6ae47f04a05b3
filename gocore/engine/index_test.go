package engine

import (
	"slices"
	"testing"
)

func TestIndexMaps(t *testing.T) {
	tests := []struct {
		name string
		got  []int32
		want []int32
	}{
		{"transpose 2x3", transpose(2, 3), []int32{0, 3, 1, 4, 2, 5}},
		{"broadcast [3] to [2,3]", broadcast([]int{3}, []int{2, 3}), []int32{0, 1, 2, 0, 1, 2}},
		{"broadcast [2,1] to [2,3]", broadcast([]int{2, 1}, []int{2, 3}), []int32{0, 0, 0, 1, 1, 1}},
		{"broadcast scalar", broadcast([]int{}, []int{2, 2}), []int32{0, 0, 0, 0}},
		{"concat axis 1", concatIndex([][]int{{2, 1}, {2, 2}}, 1), []int32{0, 2, 3, 1, 4, 5}},
		{"concat axis 0", concatIndex([][]int{{1, 2}, {1, 2}}, 0), []int32{0, 1, 2, 3}},
		{"concat last axis 3d", concatIndex([][]int{{1, 2, 1}, {1, 2, 1}}, 2), []int32{0, 2, 1, 3}},
	}
	for _, tc := range tests {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %v want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestPadIndex(t *testing.T) {
	idx, out := padIndex([]int{2, 2}, [][2]int{{1, 0}, {0, 1}})
	if !slices.Equal(out, []int{3, 3}) {
		t.Fatalf("shape %v", out)
	}
	want := []int32{-1, -1, -1, 0, 1, -1, 2, 3, -1}
	if !slices.Equal(idx, want) {
		t.Fatalf("got %v want %v", idx, want)
	}
}

func TestWindows(t *testing.T) {
	// 1x3x3x1 input, 2x2 window, stride 1, SAME-style padding bottom/right: 3x3 output.
	g := geom2D{N: 1, H: 3, W: 3, C: 1, OH: 3, OW: 3, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1}
	idx, counts := g.pool()
	if !slices.Equal(idx[:4], []int32{0, 1, 3, 4}) || !slices.Equal(idx[32:], []int32{8, -1, -1, -1}) {
		t.Fatalf("pool windows %v", idx)
	}
	if !slices.Equal(counts, []int{4, 4, 2, 4, 4, 2, 2, 2, 1}) {
		t.Fatalf("counts %v", counts)
	}
	fillPadding(idx, 4)
	if !slices.Equal(idx[32:], []int32{8, 8, 8, 8}) {
		t.Fatalf("filled %v", idx[32:])
	}
	// Depthwise with multiplier 2 on 2 channels: output channel o reads input channel o/2.
	g = geom2D{N: 1, H: 1, W: 1, C: 2, OH: 1, OW: 1, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1}
	x, w := g.depthwise(2)
	if !slices.Equal(x, []int32{0, 0, 1, 1}) || !slices.Equal(w, []int32{0, 1, 2, 3}) {
		t.Fatalf("depthwise x=%v w=%v", x, w)
	}
	// im2col with stride 2, dilation 1, padding top/left 1 on a 1x2x2x1 input, 2x2 kernel.
	g = geom2D{N: 1, H: 2, W: 2, C: 1, OH: 1, OW: 1, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, PadT: 1, PadL: 1}
	if got := g.im2col(); !slices.Equal(got, []int32{-1, -1, -1, 0}) {
		t.Fatalf("im2col %v", got)
	}
}
