package pybind

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc/registry"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// TestEveryProtocolThroughTheBinding: every available protocol of the registry runs
// through what qmpc.secure_run and qmpc.estimate call (NewSecureRun/Execute/StatsJSON and
// Estimate), with its default roles and party count, bit-exact with the cleartext run;
// Protocols lists the whole registry. Nothing here names a protocol: built with -tags
// qmpctest the registry's test-only toy runs here too.
func TestEveryProtocolThroughTheBinding(t *testing.T) {
	m := loadDigits(t)
	x := model.Value{Shape: []int{1, 8, 8, 1}, DType: model.Int8, Data: make([]byte, 64)}
	for i := range x.Data {
		x.Data[i] = byte(i*5 + 1)
	}
	want, err := qnn.Run(m.g, []model.Value{x})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := pack([]model.Value{x}, nil)
	for _, spec := range registrytest.Protocols() {
		t.Run(spec.Name, func(t *testing.T) {
			r, err := NewSecureRun(m, spec.Name, "output", -1, -1, "")
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Execute(in)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := unpack(out)
			if !bytes.Equal(got[0].Data, want[0].Data) {
				t.Fatalf("secure %v, cleartext %v", got[0].Data, want[0].Data)
			}
			var res struct {
				Parties int `json:"parties"`
				Total   struct {
					BytesSent []int64 `json:"bytes_sent"`
					Rounds    int64   `json:"rounds"`
				} `json:"total"`
				DemandSummary map[string]int64 `json:"demand_summary"`
			}
			s, _ := r.StatsJSON()
			if err := json.Unmarshal([]byte(s), &res); err != nil || res.Parties != spec.DefaultParties {
				t.Fatalf("stats %s: %v", s, err)
			}
			est, err := Estimate(m, spec.Name, "output", "", 1)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Total struct {
					BytesSent []int64 `json:"bytes_sent"`
					Rounds    int64   `json:"rounds"`
				} `json:"total"`
				DemandSummary map[string]int64 `json:"demand_summary"`
			}
			if err := json.Unmarshal([]byte(est), &e); err != nil {
				t.Fatal(err)
			}
			// Communication does not depend on the data: the estimate's bytes and rounds are
			// the run's.
			if e.Total.Rounds != res.Total.Rounds || len(e.Total.BytesSent) != len(res.Total.BytesSent) {
				t.Errorf("estimate %+v, run %+v", e.Total, res.Total)
			}
			for i := range e.Total.BytesSent {
				if e.Total.BytesSent[i] != res.Total.BytesSent[i] {
					t.Errorf("party %d: estimate %d bytes, run %d", i, e.Total.BytesSent[i], res.Total.BytesSent[i])
				}
			}
			if e.DemandSummary["and"] == 0 || e.DemandSummary["macs_one_sided"] == 0 {
				t.Errorf("demand %v: the digits CNN needs AND gates and one-sided products", e.DemandSummary)
			}
		})
	}
	var list []struct {
		Name      string `json:"name"`
		Available bool   `json:"available"`
	}
	s, _ := Protocols()
	if err := json.Unmarshal([]byte(s), &list); err != nil || len(list) != len(registry.All()) {
		t.Fatalf("Protocols() = %s (%v)", s, err)
	}
	if _, err := NewSecureRun(m, "rep3-field-mal", "output", -1, -1, ""); errs.KindOf(err) != errs.Config {
		t.Errorf("a planned protocol: err = %v", err)
	}
	if _, err := NewSecureRun(m, "rep3", "output", -1, -1, "dealer"); errs.KindOf(err) != errs.Config {
		t.Errorf("rep3 with a dealer: err = %v", err)
	}
}
