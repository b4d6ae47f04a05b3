package qnn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
)

// readNpy reads a little-endian, C-ordered .npy file (format 1.0/2.0) into a Value.
func readNpy(path string) (model.Value, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return model.Value{}, err
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		return model.Value{}, fmt.Errorf("%s: not an npy file", path)
	}
	var hlen, off int
	if b[6] == 1 {
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	hdr := string(b[off : off+hlen])
	data := b[off+hlen:]
	descr := regexp.MustCompile(`'descr':\s*'([^']*)'`).FindStringSubmatch(hdr)
	shape := regexp.MustCompile(`'shape':\s*\(([^)]*)\)`).FindStringSubmatch(hdr)
	if descr == nil || shape == nil || strings.Contains(hdr, "'fortran_order': True") {
		return model.Value{}, fmt.Errorf("%s: unsupported header %q", path, hdr)
	}
	v := model.Value{Data: data, Shape: []int{}}
	for _, s := range strings.Split(shape[1], ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return model.Value{}, err
			}
			v.Shape = append(v.Shape, n)
		}
	}
	switch descr[1] {
	case "|u1":
		v.DType = model.Uint8
	case "|i1":
		v.DType = model.Int8
	case "<i4":
		v.DType = model.Int32
	case "<f4":
		v.DType = model.Float32
	default:
		return model.Value{}, fmt.Errorf("%s: unsupported dtype %s", path, descr[1])
	}
	return v, nil
}

// refCase is one directory written by tools/refdump/refdump.py.
type refCase struct {
	name  string
	model []byte
	runs  [][2][]model.Value // inputs, LiteRT outputs
}

func loadRefCases(t testing.TB, dir string) []refCase {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("QMPC_REFDIR: %v", err)
	}
	var cases []refCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		p, err := os.ReadFile(filepath.Join(d, "model.path"))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		data, err := os.ReadFile(strings.TrimSpace(string(p)))
		if err != nil {
			t.Logf("%s: model not available: %v", e.Name(), err)
			continue
		}
		c := refCase{name: e.Name(), model: data}
		for seed := 0; ; seed++ {
			var ins, outs []model.Value
			for k := 0; ; k++ {
				v, err := readNpy(filepath.Join(d, fmt.Sprintf("in_%d_%d.npy", seed, k)))
				if err != nil {
					break
				}
				ins = append(ins, v)
			}
			for k := 0; ; k++ {
				v, err := readNpy(filepath.Join(d, fmt.Sprintf("out_%d_%d.npy", seed, k)))
				if err != nil {
					break
				}
				outs = append(outs, v)
			}
			if len(ins) == 0 {
				break
			}
			c.runs = append(c.runs, [2][]model.Value{ins, outs})
		}
		cases = append(cases, c)
	}
	return cases
}

// TestAgainstLiteRT runs every model dumped by tools/refdump into $QMPC_REFDIR and
// compares qnn's outputs with LiteRT's byte for byte.
func TestAgainstLiteRT(t *testing.T) {
	dir := os.Getenv("QMPC_REFDIR")
	if dir == "" {
		t.Skip("QMPC_REFDIR not set (run tools/refdump/refdump.py and point it at the output)")
	}
	for _, c := range loadRefCases(t, dir) {
		t.Run(c.name, func(t *testing.T) {
			g, err := tflite.Read(c.model)
			if err != nil {
				t.Fatalf("tflite.Read: %v", err)
			}
			p, err := NewPlan(g)
			if err != nil {
				t.Fatalf("NewPlan: %v", err)
			}
			for seed, r := range c.runs {
				got, err := p.Run(r[0])
				if err != nil {
					t.Fatalf("run %d: %v", seed, err)
				}
				if len(got) != len(r[1]) {
					t.Fatalf("run %d: %d outputs, LiteRT has %d", seed, len(got), len(r[1]))
				}
				for k := range got {
					want := r[1][k]
					if got[k].DType != want.DType || !slices.Equal(got[k].Shape, want.Shape) {
						t.Errorf("run %d output %d: got %v %v, want %v %v", seed, k, got[k].DType, got[k].Shape, want.DType, want.Shape)
						continue
					}
					if !bytes.Equal(got[k].Data, want.Data) {
						nd, md := diffStats(got[k], want)
						t.Errorf("run %d output %d: %d of %d elements differ (max |diff| %d)", seed, k, nd, len(want.Data)/want.DType.Size(), md)
					}
				}
			}
		})
	}
}

// diffStats counts differing elements of two 8-bit values and their largest difference.
func diffStats(a, b model.Value) (n, maxd int) {
	if a.DType.Size() != 1 {
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				n++
			}
		}
		return n, -1
	}
	for i := range a.Data {
		x, y := int(a.Data[i]), int(b.Data[i])
		if a.DType == model.Int8 {
			x, y = int(int8(a.Data[i])), int(int8(b.Data[i]))
		}
		if x != y {
			n++
			maxd = max(maxd, absInt(x-y))
		}
	}
	return n, maxd
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestTraceAgainstLiteRT compares every intermediate tensor of run 0 (dumped by
// tools/refdump/refdump.py --trace) with qnn.RunTrace and reports the first op whose
// output differs, which is what the secure engine's layer-by-layer debugging needs.
func TestTraceAgainstLiteRT(t *testing.T) {
	dir := os.Getenv("QMPC_REFDIR")
	if dir == "" {
		t.Skip("QMPC_REFDIR not set")
	}
	n := 0
	for _, c := range loadRefCases(t, dir) {
		td := filepath.Join(dir, c.name, "trace_0")
		if _, err := os.Stat(td); err != nil || len(c.runs) == 0 {
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			g, err := tflite.Read(c.model)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := RunTrace(g, c.runs[0][0])
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			defer func() {
				if compared == 0 && !t.Failed() {
					t.Error("no tensor compared")
				}
			}()
			for i, op := range g.Ops {
				ti := op.Outputs[0]
				want, err := readNpy(filepath.Join(td, fmt.Sprintf("t%d.npy", ti)))
				if err != nil {
					continue // LiteRT did not keep it (e.g. an in-place RESHAPE)
				}
				compared++
				if got := vals[ti]; !bytes.Equal(got.Data, want.Data) {
					nd, md := diffStats(got, want)
					t.Fatalf("first difference at op %d %v %q: %d elements differ (max |diff| %d)", i, op.Kind, op.Name, nd, md)
				}
			}
		})
	}
	if n == 0 {
		t.Skip("no traces (run refdump.py --trace)")
	}
}
