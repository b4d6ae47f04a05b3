package model

import "testing"

// TestPoolOutSize checks the output sizes of explicit (ONNX/PyTorch) pool pads, ceil_mode's
// extra end padding included, and the rejection of windows with no tap in the input.
func TestPoolOutSize(t *testing.T) {
	for _, tc := range []struct {
		in, filter, stride, before, after, want int
	}{
		{13, 3, 2, 1, 1, 7}, // MaxPool2d(3, 2, 1)
		{13, 3, 2, 0, 0, 6}, // no padding
		{12, 3, 2, 0, 1, 6}, // ceil_mode: one window more than floor's 5
		{11, 2, 2, 0, 1, 6}, // 2x2 with ceil_mode
		{9, 3, 3, 0, 2, 3},  // windows at 0, 3, 6
		{7, 3, 1, 1, 1, 7},  // 3x3/1 with padding 1
		{1, 1, 1, 0, 0, 1},  // 1x1
		{5, 3, 2, 3, 0, 0},  // before >= filter: a first window of padding only
		{4, 2, 2, 0, 3, 0},  // a last window in the end padding only
		{2, 3, 1, 0, 0, 0},  // the window does not fit
	} {
		op := &Op{Padding: PadExplicit, Pads: [4]int{tc.before, 0, tc.after, 0}}
		if got := PoolOutSize(op, 0, tc.in, tc.filter, tc.stride); got != tc.want {
			t.Errorf("in %d filter %d stride %d pads %d,%d: got %d, want %d", tc.in, tc.filter, tc.stride, tc.before, tc.after, got, tc.want)
		}
	}
}
