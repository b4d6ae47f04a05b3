package tflite

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead reads (and validates) real models of 0.5 MB and 4 MB.
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"mobilenet_v1_0.25_128", "coral/mobilenet_v1_0.25_128_quant.tflite"},
		{"tf2_mobilenet_v2_1.0_224", "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite"},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(sharedModels, c.file))
			if err != nil {
				b.Skipf("%s: %v (shared models absent)", c.file, err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Read(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
