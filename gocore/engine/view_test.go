package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/model/tflite"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/registry/registrytest"
	"github.com/qmpc/qmpc/gocore/mpc/viewtest"
)

// withSecrets returns a copy of g whose secret parameters are all zero bytes or all 0x80
// bytes (int8 -128, uint8 128, int32 -2139062144): the two extremes the view test compares.
func withSecrets(g *model.Graph, s viewtest.Secrets) *model.Graph {
	c := *g
	c.Tensors = append([]*model.Tensor(nil), g.Tensors...)
	for _, i := range SecretConstants(g) {
		t := *g.Tensors[i]
		t.Data = make([]byte, t.NumElements()*t.DType.Size())
		if s == viewtest.Extreme {
			for j := range t.Data {
				t.Data[j] = 0x80
			}
		}
		c.Tensors[i] = &t
	}
	return &c
}

// TestEngineView: a whole secure inference of the digits CNN and of person_detect, with
// every protocol of the registry (plain excepted; protocols with an offline phase on the
// digits CNN only, as their OT offline phase for person_detect takes minutes; with
// trusted-dealer preprocessing on both), through viewtest: what each party,
// the client included, receives during the weight sharing and the inference looks
// uniform, has the same pattern, and does not depend on the model owner's weights or the
// client's input (all zero vs all extreme); only the client gets opened values.
func TestEngineView(t *testing.T) {
	for _, rel := range []string{"digits", "tflm/person_detect.tflite"} {
		var g *model.Graph
		if rel == "digits" {
			g = digitsGraph(t)
		} else {
			g = sharedModel(t, rel)
		}
		type variant struct {
			spec mpc.Spec
			pre  string
		}
		var vs []variant
		for _, spec := range registrytest.Protocols() {
			if spec.Security == mpc.NoSecurity {
				continue
			}
			// An OT offline phase for person_detect takes 6 minutes on 2 cores, rep3-mal's
			// checks about one: those run on the digits CNN only.
			if (!spec.Offline && spec.Security != mpc.MaliciousAbort) || rel == "digits" {
				vs = append(vs, variant{spec, mpc.PreprocessingDefault})
			}
			if spec.Dealer {
				vs = append(vs, variant{spec, mpc.PreprocessingDealer})
			}
		}
		for _, v := range vs {
			spec, label := v.spec, v.spec.Name
			if v.pre != "" {
				label += "+" + v.pre
			}
			t.Run(rel+"/"+label, func(t *testing.T) {
				owner, client := mpc.Roles(spec.DefaultParties)
				c, err := Compile(g)
				if err != nil {
					t.Fatal(err)
				}
				pub := PublicGraph(g)
				run := func(p mpc.Protocol, s viewtest.Secrets) error {
					gp := pub
					if p.ID() == owner {
						gp = withSecrets(g, s)
					}
					e, err := NewPartyCompiled(p, gp, c, Options{Owner: owner, Client: client})
					if err != nil {
						return err
					}
					if err := e.Setup(); err != nil {
						return err
					}
					if err := e.Preprocess(); err != nil {
						return err
					}
					var in []model.Value
					if p.ID() == client {
						in = zeroInputs(g)
						if s == viewtest.Extreme {
							for _, v := range in {
								for j := range v.Data {
									v.Data[j] = 0x80
								}
							}
						}
					}
					_, err = e.Infer(in)
					return err
				}
				rep, err := viewtest.Check(viewtest.Config{Protocol: spec.Name, Preprocessing: v.pre, MayOpen: func(i int) bool { return i == client }}, run)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(rep)
			})
		}
	}
}

// TestPublicGraphHasNoSecretData: what the model owner sends to every other party and to
// the client (engine.PublicGraph, as JSON: package cluster/inference) carries no byte of
// the weights: every secret constant is empty, and the only tensors with data are the
// public structural operands (shapes, paddings, axes).
func TestPublicGraphHasNoSecretData(t *testing.T) {
	for _, g := range []*model.Graph{digitsGraph(t), sharedModel(t, "coral/mobilenet_v1_0.25_128_quant.tflite")} {
		secret := map[int]bool{}
		for _, i := range SecretConstants(g) {
			secret[i] = true
		}
		if len(secret) == 0 {
			t.Fatal("the model has no secret parameters")
		}
		b, err := json.Marshal(PublicGraph(g))
		if err != nil {
			t.Fatal(err)
		}
		var pub model.Graph
		if err := json.Unmarshal(b, &pub); err != nil {
			t.Fatal(err)
		}
		dataBytes := 0
		for i, tt := range pub.Tensors {
			if len(tt.Data) == 0 {
				continue
			}
			if secret[i] {
				t.Errorf("secret tensor %q is in the public graph", tt.Name)
			}
			if !isStructural(g, i) {
				t.Errorf("tensor %q has data but is not a structural operand", tt.Name)
			}
			dataBytes += len(tt.Data)
		}
		if dataBytes > 256 {
			t.Errorf("the public graph carries %d bytes of tensor data", dataBytes)
		}
	}
}

// digitsGraph is the bundled demo model (examples/digits).
func digitsGraph(t *testing.T) *model.Graph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "digits", "digits_cnn_int8.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := tflite.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
