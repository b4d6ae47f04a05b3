package qnn

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
)

// --- rounding modes, against exact rational arithmetic ---

// exactRound returns round(num / 2^k) with ties going up (toward +inf), via math/big.
func exactRoundUp(num *big.Int, k uint) int64 {
	half := new(big.Int).Lsh(big.NewInt(1), k-1)
	r := new(big.Int).Add(num, half)
	return r.Rsh(r, k).Int64() // Rsh on big.Int is floor division for negatives
}

func TestRoundModes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300000; i++ {
		x := int32(r.Uint32())
		if i%2 == 0 {
			x = int32(r.IntN(1<<20)) - 1<<19 // accumulator-sized values hit ties more often
		}
		m := int32(1<<30 + r.IntN(1<<30))
		shift := -r.IntN(20)
		if i%17 == 0 {
			shift = r.IntN(3)
		}
		left, right := max(shift, 0), max(-shift, 0)
		xl := int64(x * (1 << left))
		prod := new(big.Int).Mul(big.NewInt(xl), big.NewInt(int64(m)))
		// RoundSingle: one rounding of x*m / 2^(31+r), ties up.
		if got, want := int64(RoundSingle.Mul(x, m, shift)), exactRoundUp(prod, uint(31+right)); got != want {
			t.Fatalf("RoundSingle(%d,%d,%d) = %d, want %d", x, m, shift, got, want)
		}
		// The first step of the double-rounding modes is gemmlowp's SRDHM.
		srdhm := int64(SaturatingRoundingDoublingHighMul(int32(xl), m))
		if right == 0 {
			for _, mode := range []RoundMode{RoundAway, RoundUp, RoundFloor} {
				if got := int64(mode.Mul(x, m, shift)); got != srdhm {
					t.Fatalf("%v(%d,%d,%d) = %d, want SRDHM %d", mode, x, m, shift, got, srdhm)
				}
			}
			continue
		}
		if got, want := int64(RoundUp.Mul(x, m, shift)), exactRoundUp(big.NewInt(srdhm), uint(right)); got != want {
			t.Fatalf("RoundUp(%d,%d,%d) = %d, want %d", x, m, shift, got, want)
		}
		if got, want := RoundAway.Mul(x, m, shift), MultiplyByQuantizedMultiplier(x, m, shift); got != want {
			t.Fatalf("RoundAway(%d,%d,%d) = %d, MultiplyByQuantizedMultiplier %d", x, m, shift, got, want)
		}
		if got, want := int64(RoundFloor.Mul(x, m, shift)), srdhm>>right; got != want {
			t.Fatalf("RoundFloor(%d,%d,%d) = %d, want %d", x, m, shift, got, want)
		}
	}
}

func TestRoundModesOnTies(t *testing.T) {
	// m = 2^30 (0.5), shift -1: x * 0.25, so x = -2 is the tie -0.5 and x = 2 is 0.5.
	tests := []struct {
		mode RoundMode
		x    int32
		want int32
	}{
		{RoundAway, 2, 1}, {RoundAway, -2, -1}, {RoundUp, 2, 1}, {RoundUp, -2, 0},
		{RoundSingle, 2, 1}, {RoundSingle, -2, 0}, {RoundFloor, 2, 0}, {RoundFloor, -2, -1},
		{RoundAway, -6, -2}, {RoundUp, -6, -1}, {RoundAway, 6, 2}, {RoundUp, 6, 2},
	}
	for _, tc := range tests {
		if got := tc.mode.Mul(tc.x, 1<<30, -1); got != tc.want {
			t.Errorf("%v.Mul(%d, 2^30, -1) = %d, want %d", tc.mode, tc.x, got, tc.want)
		}
	}
	// Double versus single rounding: 7385 * 1879520768 / 2^38 = 50.496, but the first
	// rounding lands on 6464 = 50.5 * 128 (a LiteRT CONV_2D case, see PrepareConv).
	if got := RoundUp.Mul(7385, 1879520768, -7); got != 51 {
		t.Errorf("RoundUp double rounding = %d, want 51", got)
	}
	if got := RoundSingle.Mul(7385, 1879520768, -7); got != 50 {
		t.Errorf("RoundSingle = %d, want 50", got)
	}
}

func TestSchedule(t *testing.T) {
	s := Schedule{Block: 8, Vector: RoundUp, Tail: RoundAway}
	var got []RoundMode
	for i := range 13 {
		got = append(got, s.At(i, 13))
	}
	want := []RoundMode{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}
	if !slices.Equal(got, want) || s.VectorEnd(13) != 8 || s.VectorEnd(16) != 16 {
		t.Errorf("schedule: %v (VectorEnd %d)", got, s.VectorEnd(13))
	}
	if u := Uniform(RoundSingle); u.At(5, 7) != RoundSingle || u.VectorEnd(7) != 7 {
		t.Error("Uniform schedule")
	}
}

// --- hand-made graphs ---

type gb struct{ g model.Graph }

func (b *gb) tensor(name string, shape []int, dt model.DType, scale float32, zp int64, data []byte) int {
	t := &model.Tensor{Name: name, Shape: shape, DType: dt, Data: data}
	if scale != 0 {
		t.Quant = &model.Quant{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
	}
	b.g.Tensors = append(b.g.Tensors, t)
	return len(b.g.Tensors) - 1
}

func i32bytes(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

func u8val(shape []int, v ...int) model.Value {
	d := make([]byte, len(v))
	for i, x := range v {
		d[i] = byte(x)
	}
	return model.Value{Shape: shape, DType: model.Uint8, Data: d}
}

func runOne(t *testing.T, g *model.Graph, in ...model.Value) []int {
	t.Helper()
	out, err := Run(g, in)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	v := out[0]
	res := make([]int, len(v.Data))
	for i, c := range v.Data {
		if v.DType == model.Int8 {
			res[i] = int(int8(c))
		} else {
			res[i] = int(c)
		}
	}
	return res
}

// A 3x3 SAME convolution of an all-ones (real 1.0) 3x3 image with an all-ones filter
// counts the taps inside the image: padding must contribute exactly zero.
func TestConvSamePaddingContributesZero(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 3, 3, 1}, model.Uint8, 1, 100, nil)
	w := b.tensor("w", []int{1, 3, 3, 1}, model.Uint8, 1, 7, slices.Repeat([]byte{8}, 9))
	bias := b.tensor("b", []int{1}, model.Int32, 1, 0, i32bytes(0))
	y := b.tensor("y", []int{1, 3, 3, 1}, model.Uint8, 1, 10, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpConv2D, Inputs: []int{x, w, bias}, Outputs: []int{y},
		Padding: model.PadSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	got := runOne(t, &b.g, u8val([]int{1, 3, 3, 1}, slices.Repeat([]int{101}, 9)...))
	want := []int{14, 16, 14, 16, 19, 16, 14, 16, 14} // 10 + number of taps
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Depthwise with depth multiplier 2: output channel o reads input channel o/2.
func TestDepthwiseMultiplierChannelMap(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 1, 1, 2}, model.Uint8, 1, 0, nil)
	w := b.tensor("w", []int{1, 1, 1, 4}, model.Uint8, 1, 0, []byte{1, 2, 3, 4})
	y := b.tensor("y", []int{1, 1, 1, 4}, model.Uint8, 1, 0, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpDepthwiseConv2D, Inputs: []int{x, w, -1}, Outputs: []int{y},
		Padding: model.PadValid, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, DepthMultiplier: 2}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	got := runOne(t, &b.g, u8val([]int{1, 1, 1, 2}, 10, 20))
	if want := []int{10, 20, 60, 80}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// RELU6 folds into the clamp: with scale 0.1 and zero point 20, [0, 6] is [20, 80].
func TestFusedRelu6Clamp(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 3}, model.Uint8, 0.1, 0, nil)
	w := b.tensor("w", []int{3, 3}, model.Uint8, 1, 0, []byte{1, 0, 0, 0, 1, 0, 0, 0, 1})
	y := b.tensor("y", []int{1, 3}, model.Uint8, 0.1, 20, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpFullyConnected, Inputs: []int{x, w, -1}, Outputs: []int{y}, Activation: model.ActRelu6}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	got := runOne(t, &b.g, u8val([]int{1, 3}, 0, 30, 255))
	if want := []int{20, 50, 80}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Average pooling counts only the positions inside the input and rounds half away from
// zero; max pooling ignores padding.
func TestPoolBorders(t *testing.T) {
	for _, kind := range []model.OpKind{model.OpAveragePool2D, model.OpMaxPool2D} {
		var b gb
		x := b.tensor("x", []int{1, 2, 2, 1}, model.Int8, 1, 0, nil)
		y := b.tensor("y", []int{1, 2, 2, 1}, model.Int8, 1, 0, nil)
		b.g.Ops = []*model.Op{{Kind: kind, Inputs: []int{x}, Outputs: []int{y}, Padding: model.PadSame,
			StrideH: 1, StrideW: 1, FilterH: 2, FilterW: 2}}
		b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
		in := model.Value{Shape: []int{1, 2, 2, 1}, DType: model.Int8, Data: []byte{1, 2, 0xfb, 0xfe}} // 1, 2, -5, -2
		got := runOne(t, &b.g, in)
		want := []int{-1, 0, -4, -2} // means: -4/4=-1, 0/2=0, -7/2=-3.5->-4, -2/1
		if kind == model.OpMaxPool2D {
			want = []int{2, 2, -2, -2}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: got %v, want %v", kind, got, want)
		}
	}
}

// uint8 concatenation requantizes inputs whose parameters differ from the output's, in
// float32 with round-half-away and a clamp; inputs with equal parameters are copied.
func TestConcatRescale(t *testing.T) {
	var b gb
	a := b.tensor("a", []int{1, 2}, model.Uint8, 1, 0, nil)
	c := b.tensor("c", []int{1, 3}, model.Uint8, 1.5, 1, nil)
	y := b.tensor("y", []int{1, 5}, model.Uint8, 1, 0, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpConcatenation, Inputs: []int{a, c}, Outputs: []int{y}, Axis: -1}}
	b.g.Inputs, b.g.Outputs = []int{a, c}, []int{y}
	got := runOne(t, &b.g, u8val([]int{1, 2}, 7, 9), u8val([]int{1, 3}, 0, 2, 200))
	// c: 1.5*(q-1): -1.5 -> round away -2 -> clamp 0; 1.5 -> 2; 298.5 -> 299 -> 255
	if want := []int{7, 9, 0, 2, 255}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPadFillsZeroPoint(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 1, 2, 1}, model.Int8, 0.5, -3, nil)
	p := b.tensor("p", []int{4, 2}, model.Int32, 0, 0, i32bytes(0, 0, 1, 0, 0, 1, 0, 0))
	y := b.tensor("y", []int{1, 2, 3, 1}, model.Int8, 0.5, -3, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpPad, Inputs: []int{x, p}, Outputs: []int{y}}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	got := runOne(t, &b.g, model.Value{Shape: []int{1, 1, 2, 1}, DType: model.Int8, Data: []byte{5, 6}})
	if want := []int{-3, -3, -3, 5, 6, -3}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestInputErrors(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 4}, model.Int8, 1, 0, nil)
	y := b.tensor("y", []int{1, 4}, model.Int8, 1, 0, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpLogistic, Inputs: []int{x}, Outputs: []int{y}}}
	b.g.Tensors[y].Quant = &model.Quant{Scale: []float32{1.0 / 256}, ZeroPoint: []int64{-128}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	good := model.Value{Shape: []int{1, 4}, DType: model.Int8, Data: make([]byte, 4)}
	if _, err := Run(&b.g, []model.Value{good}); err != nil {
		t.Fatalf("good input: %v", err)
	}
	tests := []struct {
		name string
		in   []model.Value
		kind errs.Kind
	}{
		{"count", nil, errs.Shape},
		{"shape", []model.Value{{Shape: []int{4}, DType: model.Int8, Data: make([]byte, 4)}}, errs.Shape},
		{"dtype", []model.Value{{Shape: []int{1, 4}, DType: model.Uint8, Data: make([]byte, 4)}}, errs.DType},
		{"size", []model.Value{{Shape: []int{1, 4}, DType: model.Int8, Data: make([]byte, 3)}}, errs.Shape},
	}
	for _, tc := range tests {
		_, err := Run(&b.g, tc.in)
		if err == nil || errs.KindOf(err) != tc.kind {
			t.Errorf("%s: err %v, want kind %s", tc.name, err, tc.kind)
		}
	}
}

// The logistic table is monotone and hits the output range's ends.
func TestLogisticTable(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{1, 256}, model.Uint8, 0.1, 128, nil)
	y := b.tensor("y", []int{1, 256}, model.Uint8, 1.0/256, 0, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpLogistic, Inputs: []int{x}, Outputs: []int{y}}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	in := make([]int, 256)
	for i := range in {
		in[i] = i
	}
	got := runOne(t, &b.g, u8val([]int{1, 256}, in...))
	for i := 1; i < 256; i++ {
		if got[i] < got[i-1] {
			t.Fatalf("not monotone at %d: %v", i, got[i-1:i+1])
		}
	}
	if got[0] != 0 || got[255] != 255 || got[128] != 128 {
		t.Errorf("ends/middle: %d %d %d", got[0], got[128], got[255])
	}
}

// Softmax rows sum to about 1 and keep the order of their inputs.
func TestSoftmaxRow(t *testing.T) {
	var b gb
	x := b.tensor("x", []int{2, 5}, model.Int8, 0.2, 0, nil)
	y := b.tensor("y", []int{2, 5}, model.Int8, 1.0/256, -128, nil)
	b.g.Ops = []*model.Op{{Kind: model.OpSoftmax, Inputs: []int{x}, Outputs: []int{y}, Beta: 1}}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	in := model.Value{Shape: []int{2, 5}, DType: model.Int8, Data: []byte{0, 5, 10, 15, 20, 0x80, 0x80, 0x80, 0x80, 0x7f}}
	got := runOne(t, &b.g, in)
	for r := range 2 {
		sum := 0.0
		for j := range 5 {
			sum += float64(got[5*r+j]+128) / 256
		}
		if math.Abs(sum-1) > 0.02 {
			t.Errorf("row %d sums to %v: %v", r, sum, got[5*r:5*r+5])
		}
	}
	if !slices.IsSorted(got[:5]) || got[9] != 127 {
		t.Errorf("got %v", got)
	}
}

// The per-channel branch-free requantization equals Requant.Apply for every mode.
func TestFastRequant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sched := range []Schedule{Uniform(RoundAway), Uniform(RoundUp), Uniform(RoundSingle), Uniform(RoundFloor),
		{Block: 8, Vector: RoundUp, Tail: RoundAway}} {
		const n = 21
		q := Requant{Multiplier: make([]int32, n), Shift: make([]int, n), Sched: sched, OutZeroPoint: -3, ActMin: -128, ActMax: 127}
		for c := range n {
			q.Multiplier[c] = int32(1<<30 + r.IntN(1<<30))
			q.Shift[c] = 2 - r.IntN(14)
		}
		if sched.Vector == RoundSingle { // also a per-tensor (uniform) requantization
			q.Multiplier, q.Shift = q.Multiplier[:1], q.Shift[:1]
		}
		f := newFastRequant(&q, n)
		for range 5000 {
			row := make([]int32, n)
			want := make([]int32, n)
			for c := range row {
				row[c] = int32(r.IntN(1<<16)) - 1<<15
				want[c] = q.Apply(row[c], c, n)
			}
			f.apply(row)
			if !slices.Equal(row, want) {
				t.Fatalf("%+v: got %v, want %v", sched, row, want)
			}
		}
	}
}

// One Plan run from several goroutines at once gives each the same result as a
// sequential run (buffers are recycled per run, never shared).
func TestPlanConcurrentRuns(t *testing.T) {
	var b gb
	r := rand.New(rand.NewPCG(9, 9))
	wd := make([]byte, 6*3*3*5)
	for i := range wd {
		wd[i] = byte(r.Uint32())
	}
	x := b.tensor("x", []int{1, 8, 8, 5}, model.Int8, 0.1, 3, nil)
	w := b.tensor("w", []int{6, 3, 3, 5}, model.Int8, 0.02, 0, wd)
	h := b.tensor("h", []int{1, 8, 8, 6}, model.Int8, 0.3, -2, nil)
	y := b.tensor("y", []int{1, 4, 4, 6}, model.Int8, 0.3, -2, nil)
	b.g.Ops = []*model.Op{
		{Kind: model.OpConv2D, Inputs: []int{x, w, -1}, Outputs: []int{h}, Padding: model.PadSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: model.ActRelu},
		{Kind: model.OpAveragePool2D, Inputs: []int{h}, Outputs: []int{y}, Padding: model.PadValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2},
	}
	b.g.Inputs, b.g.Outputs = []int{x}, []int{y}
	p, err := NewPlan(&b.g)
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]model.Value, 16)
	want := make([][]byte, len(inputs))
	for i := range inputs {
		d := make([]byte, 8*8*5)
		for j := range d {
			d[j] = byte(r.Uint32())
		}
		inputs[i] = model.Value{Shape: []int{1, 8, 8, 5}, DType: model.Int8, Data: d}
		out, err := p.Run([]model.Value{inputs[i]})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out[0].Data
	}
	errc := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range 40 {
				i := (g + k) % len(inputs)
				out, err := p.Run([]model.Value{inputs[i]})
				if err == nil && !slices.Equal(out[0].Data, want[i]) {
					err = fmt.Errorf("goroutine %d run %d: output differs", g, k)
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// The SIMD helpers equal their portable versions on lengths with tails.
func TestSIMDHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 8, 15, 16, 17, 37, 100} {
		src := make([]int32, n)
		x, w := make([]int16, n), make([]int16, n)
		for i := range src {
			src[i] = int32(r.IntN(511)) - 255
			x[i], w[i] = int16(r.IntN(511)-255), int16(r.IntN(511)-255)
		}
		got, want := make([]int16, n), make([]int16, n)
		subNarrow(got, src, -7)
		subNarrowGo(want, src, -7)
		if !slices.Equal(got, want) {
			t.Errorf("subNarrow n=%d", n)
		}
		a1, a2 := make([]int32, n), make([]int32, n)
		for i := range a1 {
			a1[i] = int32(r.IntN(1000))
			a2[i] = a1[i]
		}
		mulAdd(a1, x, w)
		mulAddGo(a2, x, w)
		if !slices.Equal(a1, a2) {
			t.Errorf("mulAdd n=%d", n)
		}
	}
	const k = 48
	a0, a1, wt := make([]int16, k), make([]int16, k), make([]int16, 4*k)
	for i := range wt {
		wt[i] = int16(r.IntN(511) - 255)
	}
	for i := range a0 {
		a0[i], a1[i] = int16(r.IntN(511)-255), int16(r.IntN(511)-255)
	}
	var got, want [8]int32
	dot2x4(a0, a1, wt, k, k, &got)
	dot2x4Go(a0, a1, wt, k, k, &want)
	if got != want {
		t.Errorf("dot2x4: %v, want %v", got, want)
	}
}
