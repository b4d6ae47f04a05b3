package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/qmpc/qmpc/gocore/engine"
)

// TestBench: qmpc bench prints the per-layer table of a batch, the same costs as JSON,
// and refuses unknown protocols and a missing model.
func TestBench(t *testing.T) {
	const digits = "../../../examples/digits/digits_cnn_int8.tflite"
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(args, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	code, out := run("bench", digits, "--batch", "3")
	for _, want := range []string{"protocol rep3, 3 parties, batch 3", "CONV_2D", "FULLY_CONNECTED", "TOTAL", "PER IMAGE", "SETUP", "off MB"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("qmpc bench --batch 3: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, out = run("bench", "--json", "--protocol", "plain", digits)
	var r engine.Result
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Protocol != "plain" || r.Batch != 1 || len(r.Layers) == 0 {
		t.Fatalf("qmpc bench --json: exit %d, %q", code, out)
	}
	if code, out = run("bench", digits, "--protocol", "nope"); code == 0 || !strings.Contains(out, `protocol "nope"`) {
		t.Errorf("unknown protocol: exit %d, %q", code, out)
	}
	if code, out = run("bench"); code != 2 || !strings.Contains(out, "usage: qmpc bench") {
		t.Errorf("no model: exit %d, %q", code, out)
	}
}
