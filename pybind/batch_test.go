package pybind

import (
	"bytes"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// TestBatchRunAndSecure: a [N, 8, 8, 1] value for the digits model's [1, 8, 8, 1] input is
// a batch: Run and a secure run return [N, 10], each row equal to the image alone.
func TestBatchRunAndSecure(t *testing.T) {
	m := loadDigits(t)
	img := func(i int) model.Value {
		v := model.Value{Shape: []int{1, 8, 8, 1}, DType: model.Int8, Data: make([]byte, 64)}
		for j := range v.Data {
			v.Data[j] = byte(i*131 + j*7)
		}
		return v
	}
	run := func(f func([]byte) ([]byte, error), v model.Value) model.Value {
		t.Helper()
		in, err := pack([]model.Value{v}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := f(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unpack(out)
		if err != nil {
			t.Fatal(err)
		}
		return got[0]
	}
	for _, n := range []int{1, 2, 7} {
		var imgs []model.Value
		for i := range n {
			imgs = append(imgs, img(i))
		}
		x, err := model.Stack(imgs, []int{1, 8, 8, 1})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewSecureRun(m, "rep3", "output", -1, -1, "")
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func([]byte) ([]byte, error){"run": m.Run, "secure": r.Execute} {
			y := run(f, x)
			if !slices.Equal(y.Shape, []int{n, 10}) {
				t.Fatalf("%s, batch of %d: output shape %v", name, n, y.Shape)
			}
			if name == "secure" && r.Images() != n {
				t.Errorf("secure run of a batch of %d: Images() = %d", n, r.Images())
			}
			for i := range n {
				want := run(m.Run, imgs[i])
				if !bytes.Equal(y.Data[10*i:10*(i+1)], want.Data) {
					t.Errorf("%s, batch of %d: row %d differs from the image alone", name, n, i)
				}
			}
		}
	}
	bad, _ := pack([]model.Value{{Shape: []int{3, 8, 8, 2}, DType: model.Int8, Data: make([]byte, 384)}}, nil)
	if _, err := m.Run(bad); errs.KindOf(err) != errs.Shape {
		t.Errorf("[3, 8, 8, 2]: err = %v, want a shape error", err)
	}
}
