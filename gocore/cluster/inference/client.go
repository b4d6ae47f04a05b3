//go:build qmpcwip

package inference

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/qmpc/qmpc/gocore/cluster"
	"github.com/qmpc/qmpc/gocore/engine"
	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// Result is one inference's outcome on the client.
type Result struct {
	Outputs []model.Value
	Parties []PartyStats // index = party id
	Seconds float64      // client wall time, connect to output
	Info    *Info        // the cluster's public model and settings
}

// Infer connects to the cluster, secret-shares in (one value per graph input, of the
// input's integer type) to the parties, and reconstructs the outputs. Errors name the
// party and the step; a party whose shares disagree with another's is a qmpc:party error.
func Infer(ctx context.Context, c *cluster.Client, in []model.Value) (*Result, error) {
	start := time.Now()
	cfg := c.Config()
	s, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ib, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(ib, &info); err != nil || info.Graph == nil {
		return nil, errs.New(errs.Party, "party 0 sent a malformed model description: %v", err)
	}
	if info.Protocol != cfg.Protocol {
		return nil, errs.New(errs.Config, "the cluster runs %s, the config says %s", info.Protocol, cfg.Protocol)
	}
	if d := cfg.ModelDigest; d != "" && d != info.ModelDigest {
		return nil, errs.New(errs.Config, "the cluster serves model %s, the config pins %s", info.ModelDigest, d)
	}
	g := info.Graph
	// The client computes the graph's cleartext head (if any) and shares its outputs.
	vals, err := engine.ClientInputs(g, in)
	if err != nil {
		return nil, err
	}
	d, err := dealer(cfg.Protocol, cfg.N())
	if err != nil {
		return nil, err
	}
	parts := make([][][]byte, cfg.N())
	for _, v := range vals {
		dealt, err := d.Deal(toRing(v))
		if err != nil {
			return nil, err
		}
		for j := range parts {
			parts[j] = append(parts[j], dealt[j])
		}
	}
	payloads := make([][]byte, cfg.N())
	for j := range payloads {
		payloads[j] = joinPayload(parts[j])
	}
	outs, stats, err := s.Run(ctx, payloads)
	if err != nil {
		return nil, err
	}
	res := &Result{Info: &info, Parties: make([]PartyStats, len(outs))}
	var counts []int
	split := make([][][]byte, len(outs))
	for j, o := range outs {
		if err := json.Unmarshal(stats[j], &res.Parties[j]); err != nil {
			return nil, errs.New(errs.Party, "party %d sent malformed statistics: %v", j, err)
		}
		head, err := splitHead(o)
		if err != nil {
			return nil, errs.New(errs.Party, "party %d sent a malformed result: %v", j, err)
		}
		if j == 0 {
			counts = head
		} else if !slices.Equal(head, counts) {
			return nil, errs.New(errs.Party, "parties 0 and %d return outputs of different sizes (%v, %v)", j, counts, head)
		}
		if split[j], err = splitPayload(o, len(counts)+1); err != nil {
			return nil, errs.New(errs.Party, "party %d sent a malformed result: %v", j, err)
		}
	}
	opened := make([][]uint64, len(counts))
	for k, n := range counts {
		per := make([][]byte, len(outs))
		for j := range outs {
			per[j] = split[j][k+1]
		}
		if opened[k], err = d.Reconstruct(per, n); err != nil {
			return nil, fmt.Errorf("output %d: %w", k, err)
		}
	}
	reveal, err := engine.ParseReveal(info.Reveal)
	if err != nil {
		return nil, err
	}
	if res.Outputs, err = engine.Finish(g, reveal, opened); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// splitHead reads the element counts (first part) of a party's result.
func splitHead(b []byte) ([]int, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n%4 != 0 || 8+n > len(b) {
		return nil, fmt.Errorf("bad header")
	}
	var out []int
	for i := 0; i < n; i += 4 {
		out = append(out, int(binary.LittleEndian.Uint32(b[8+i:])))
	}
	return out, nil
}

// toRing sign-extends integer tensor data to ring elements, as the engine does.
func toRing(v model.Value) []uint64 {
	n := model.NumElements(v.Shape)
	out := make([]uint64, n)
	d := v.Data
	for i := range out {
		switch v.DType {
		case model.Uint8:
			out[i] = uint64(d[i])
		case model.Int8:
			out[i] = uint64(int64(int8(d[i])))
		case model.Int16:
			out[i] = uint64(int64(int16(binary.LittleEndian.Uint16(d[2*i:]))))
		case model.Int32:
			out[i] = uint64(int64(int32(binary.LittleEndian.Uint32(d[4*i:]))))
		}
	}
	return out
}
