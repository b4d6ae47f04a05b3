package tflite

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite/tflitetest"
	fb "github.com/qmpc/qmpc/gocore/model/tflite/tflschema"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzRead seed files")

// seedModels are the small generated files of the fuzz seed corpus.
func seedModels(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"tinyconv-uint8":       encode(t, tflitetest.TinyConv(model.Uint8, 3, 3, 1, 2, 1), nil),
		"tinyconv-int8-offset": encode(t, tflitetest.TinyConv(model.Int8, 2, 2, 2, 2, 2), &tflitetest.Options{OffsetBuffers: true}),
		"allops-uint8-deprecated": encode(t, tflitetest.AllOps(model.Uint8, 3),
			&tflitetest.Options{DeprecatedCodesOnly: true}),
		"allops-int8":   encode(t, tflitetest.AllOps(model.Int8, 4), nil),
		"shapeops-int8": encode(t, tflitetest.ShapeOps(model.Int8, 6), nil),
		"allops-unsupported": encode(t, tflitetest.AllOps(model.Uint8, 5), &tflitetest.Options{
			OpCode:     map[int]fb.BuiltinOperator{3: fb.BuiltinOperatorLSTM},
			CustomCode: map[int]string{5: "Custom"},
		}),
	}
}

// TestWriteFuzzSeeds rewrites the seed corpus with -update-seeds; without it, it checks
// that the committed seeds are what the generators produce.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	for name, data := range seedModels(t) {
		file := filepath.Join(dir, name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run TestWriteFuzzSeeds -update-seeds)", err)
		}
		if string(got) != content {
			t.Errorf("%s is stale (run go test -run TestWriteFuzzSeeds -update-seeds)", file)
		}
	}
}

// FuzzRead feeds arbitrary bytes to Read. Read must return a graph or an error of a
// user-facing kind, never panic; panics of the flatbuffers runtime on bad offsets are
// recovered by Read and must be bounds errors only (anything else is a bug of ours). A
// graph that reads must validate, summarize, describe and digest.
func FuzzRead(f *testing.F) {
	for _, data := range seedModels(f) {
		f.Add(data)
	}
	// The small real models, when the shared folder is present (never copied).
	for _, rel := range []string{"tflm/hello_world_int8.tflite"} {
		if data, err := os.ReadFile(filepath.Join(sharedModels, rel)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Read(data)
		if err != nil {
			switch errs.KindOf(err) {
			case errs.Model, errs.Shape, errs.DType, errs.UnsupportedOp:
			default:
				t.Fatalf("error of kind %q: %v", errs.KindOf(err), err)
			}
			if msg := err.Error(); strings.Contains(msg, "malformed TFLite file: runtime error") &&
				!strings.Contains(msg, "out of range") {
				t.Fatalf("unexpected recovered panic: %v", err)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Read returned a graph that does not validate: %v", err)
		}
		_ = model.Summary(g)
		if _, err := model.InfoJSON(g); err != nil {
			t.Fatal(err)
		}
		_ = g.Digest()
	})
}

// TestRandomMutations is a quick, deterministic stand-in for the fuzzer in ordinary test
// runs: byte mutations of the seed files must read into valid graphs or return errors of
// user-facing kinds, with any recovered panic a bounds error.
func TestRandomMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for name, seed := range seedModels(t) {
		for it := 0; it < 400; it++ {
			m := append([]byte(nil), seed...)
			for range 1 + r.IntN(4) {
				i := r.IntN(len(m))
				switch r.IntN(4) {
				case 0:
					m[i] ^= byte(1 << r.IntN(8))
				case 1:
					m[i] = byte(r.IntN(256))
				case 2:
					m[i] = 0xff
				case 3:
					m = m[:i]
				}
				if len(m) == 0 {
					break
				}
			}
			g, err := Read(m)
			if err == nil {
				if err := g.Validate(); err != nil {
					t.Fatalf("%s mutation %d: graph does not validate: %v", name, it, err)
				}
				_ = model.Summary(g)
				continue
			}
			switch errs.KindOf(err) {
			case errs.Model, errs.Shape, errs.DType, errs.UnsupportedOp:
			default:
				t.Fatalf("%s mutation %d: error of kind %q: %v", name, it, errs.KindOf(err), err)
			}
			if msg := err.Error(); strings.Contains(msg, "runtime error") && !strings.Contains(msg, "out of range") {
				t.Fatalf("%s mutation %d: unexpected recovered panic: %v", name, it, err)
			}
		}
	}
}
