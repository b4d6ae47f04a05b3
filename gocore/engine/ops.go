package engine

import (
	"fmt"
	"math/bits"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/model"
	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/qnn"
)

// accBound: TFLite accumulates in int32, so every accumulator lies in [-2^31, 2^31).
const accBound = 32

// prepared holds an op's public integer parameters and index maps, computed once.
type prepared struct {
	conv *qnn.ConvParams
	pool *qnn.PoolParams
	add  *qnn.AddParams
	mul  *qnn.MulParams
	mean *qnn.MeanParams
	rq   *qnn.QuantizeParams
	cat  *qnn.ConcatParams
	fits []*affineFit // concatenation inputs that need rescaling (nil where not)
	he   *qnn.HalfEvenParams

	// lut is the table of an elementwise op of one 8-bit input (qnn.TableKinds):
	// lut[v - lutLo] is the cleartext kernel's output for input v.
	lut   []uint64
	lutLo int64

	xIdx, wIdx []int32 // gather maps for the input and the weights
	bIdx       []int32 // bias broadcast
	counts     []int64
	// poolInRange: a pool's input type lies inside its activation range, so the clamp
	// after the average or maximum (which stays inside the inputs' range) is the identity.
	poolInRange bool
	// poolInBits > 0: a pool's input values lie in [0, 2^poolInBits) (an unsigned type),
	// so an average pool's sums are never negative.
	poolInBits int
	padVal     []uint64
	idx2       []int32
}

// publicView returns g with every missing secret constant replaced by zeros, so that the
// qnn Prepare functions (which also read weights) yield the public parameters on every
// party. The zero weights are never used: the engine computes on the owner's shares.
func publicView(g *model.Graph) *model.Graph {
	pg := *g
	pg.Tensors = make([]*model.Tensor, len(g.Tensors))
	for i, t := range g.Tensors {
		c := *t
		if c.Data == nil && isConstLike(g, i) {
			c.Data = make([]byte, c.NumElements()*c.DType.Size())
		}
		pg.Tensors[i] = &c
	}
	return &pg
}

// isConstLike reports whether tensor t is produced by no op and is not a graph input:
// a constant whose data was stripped.
func isConstLike(g *model.Graph, t int) bool {
	if isGraphInput(g, t) {
		return false
	}
	for _, op := range g.Ops {
		for _, o := range op.Outputs {
			if o == t {
				return false
			}
		}
	}
	return true
}

// prepOp prepares op oi of the public graph g: its qnn parameters and index maps.
func prepOp(g *model.Graph, oi int) (*prepared, error) {
	op := g.Ops[oi]
	p := &prepared{}
	var err error
	if model.IsIndexMap(op.Kind) {
		// A public index map over the data inputs laid end to end: free on shares.
		if _, p.xIdx, err = g.MoveIndex(op); err != nil {
			return nil, err
		}
		return p, nil
	}
	if op.Rounding == model.RoundHalfEven && qnn.HalfEvenKinds(op.Kind) {
		if err := p.prepHalfEven(g, op); err != nil {
			return nil, err
		}
		return p, nil
	}
	if qnn.TableKinds(op.Kind) {
		lo, table, err := qnn.ElementwiseTable(g, op)
		if err != nil {
			return nil, err
		}
		p.lutLo = int64(lo)
		p.lut = make([]uint64, len(table))
		for i, v := range table {
			p.lut[i] = uint64(int64(v))
		}
		return p, nil
	}
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		p.conv, err = qnn.PrepareConv(g, op)
		if err != nil {
			return nil, err
		}
		p.convIndex(op)
	case model.OpAveragePool2D, model.OpMaxPool2D:
		p.pool, err = qnn.PreparePool(g, op)
		if err != nil {
			return nil, err
		}
		c := p.pool
		geo := geom2D{N: c.Batch, H: c.InH, W: c.InW, C: c.C, OH: c.OutH, OW: c.OutW, KH: c.FilterH, KW: c.FilterW,
			SH: c.StrideH, SW: c.StrideW, DH: 1, DW: 1, PadT: c.PadTop, PadL: c.PadLeft}
		idx, counts := geo.pool()
		if op.Kind == model.OpMaxPool2D {
			fillPadding(idx, c.FilterH*c.FilterW)
		}
		p.xIdx = idx
		p.counts = make([]int64, len(counts))
		for i, n := range counts {
			p.counts[i] = int64(n)
		}
		if lo, hi, ok := g.Tensors[op.Inputs[0]].DType.IntRange(); ok {
			p.poolInRange = lo >= int64(c.ActMin) && hi <= int64(c.ActMax)
			if lo >= 0 && hi < 1<<16 {
				p.poolInBits = bits.Len64(uint64(hi))
			}
		}
	case model.OpAdd, model.OpMul:
		if op.Kind == model.OpAdd {
			p.add, err = qnn.PrepareAdd(g, op)
		} else {
			p.mul, err = qnn.PrepareMul(g, op)
		}
		if err != nil {
			return nil, err
		}
		out := g.Tensors[op.Outputs[0]].Shape
		p.xIdx = broadcast(g.Tensors[op.Inputs[0]].Shape, out)
		p.idx2 = broadcast(g.Tensors[op.Inputs[1]].Shape, out)
	case model.OpMean:
		p.mean, err = qnn.PrepareMean(g, op)
		if err != nil {
			return nil, err
		}
		p.xIdx = reduceIndex(p.mean.InShape, p.mean.Axes)
	case model.OpQuantize:
		p.rq, err = qnn.PrepareQuantize(g, op)
		if err != nil {
			return nil, err
		}
	case model.OpConcatenation:
		p.cat, err = qnn.PrepareConcat(g, op)
		if err != nil {
			return nil, err
		}
		p.xIdx = concatOpIndex(g, op)
		p.fits = make([]*affineFit, len(op.Inputs))
		for k, in := range op.Inputs {
			if !p.cat.Rescale[k] {
				continue
			}
			c, k := p.cat, k
			lo, hi, ok := g.Tensors[in].DType.IntRange()
			if !ok {
				return nil, errs.New(errs.DType, "CONCATENATION input %q is %s, want an integer type", g.Tensors[in].Name, g.Tensors[in].DType)
			}
			f, err := fitAffineFloor(func(x int64) int64 {
				return int64(c.RescaleValue(k, int32(x)))
			}, lo, hi)
			if err != nil {
				return nil, fmt.Errorf("rescaling input %d: %w", k, err)
			}
			p.fits[k] = f
		}
	case model.OpPad:
		in := g.Tensors[op.Inputs[0]]
		pads, err := g.Paddings(op)
		if err != nil {
			return nil, err
		}
		p.xIdx, _ = padIndex(in.Shape, pads)
		val, err := g.PadValue(op)
		if err != nil {
			return nil, err
		}
		p.padVal = make([]uint64, len(p.xIdx))
		for i, v := range p.xIdx {
			if v < 0 {
				p.padVal[i] = mpc.Int(int64(val))
			}
		}
	}
	return p, nil
}

// convIndex prepares the gather maps of a convolution or fully-connected layer from
// p.conv: im2col (or depthwise windows), the weight layout, the bias
// broadcast.
func (p *prepared) convIndex(op *model.Op) {
	c := p.conv
	geo := geom2D{N: c.Batch, H: c.InH, W: c.InW, C: c.InC, OH: c.OutH, OW: c.OutW, KH: c.KH, KW: c.KW,
		SH: c.StrideH, SW: c.StrideW, DH: c.DilationH, DW: c.DilationW, PadT: c.PadTop, PadL: c.PadLeft}
	nOut := c.Batch * c.OutH * c.OutW * c.OutC
	switch op.Kind {
	case model.OpConv2D:
		p.xIdx = geo.im2col()
		if isIdentity(p.xIdx, c.Batch*c.InH*c.InW*c.InC) {
			p.xIdx = nil // a 1x1 convolution with stride 1: the input is its own im2col
		}
		p.wIdx = transpose(c.OutC, c.KH*c.KW*c.InC) // OHWI [O,K] -> [K,O]
	case model.OpFullyConnected:
		p.wIdx = transpose(c.OutC, c.InC)
	case model.OpDepthwiseConv2D:
		p.xIdx, p.wIdx = geo.depthwise(c.DepthMultiplier)
	}
	p.bIdx = make([]int32, nOut)
	for i := range p.bIdx {
		p.bIdx[i] = int32(i % c.OutC)
	}
}

// gatheredWeightZP returns the negated weight zero point of every gathered weight
// (element i of Gather(weights, p.wIdx)). It is made when a party first derives its
// gathered weights (then cached with them), not kept in the compiled model: a depthwise
// layer's wIdx has one entry per output and tap, and the protocols with GatherMulSum never
// gather the weights (1.0_224's depthwise layers would hold about 230 MB of these).
func (p *prepared) gatheredWeightZP(kind model.OpKind) []uint64 {
	c := p.conv
	zp := make([]uint64, len(p.wIdx))
	for i := range zp {
		var o int
		switch kind {
		case model.OpDepthwiseConv2D:
			o = (i / (c.KH * c.KW)) % c.OutC
		default:
			o = i % c.OutC
		}
		zp[i] = mpc.Int(-int64(c.WeightZeroPoint[o]))
	}
	return zp
}

// evalOp evaluates one op on shares and returns its output share.
func (e *Party) evalOp(oi int, op *model.Op, env map[int]mpc.AShare) (mpc.AShare, error) {
	in := func(k int) mpc.AShare { return env[op.Inputs[k]] }
	switch op.Kind {
	case model.OpReshape, model.OpSqueeze:
		return in(0), nil
	}
	p, ok := e.c.ops[oi]
	if !ok {
		return nil, errs.New(errs.Internal, "op %d was not compiled", oi)
	}
	var err error
	if p.he != nil {
		return e.evalHalfEven(op, p, env)
	}
	if p.lut != nil {
		return mpc.LookupTable(e.p, in(0), p.lutLo, p.lut)
	}
	switch op.Kind {
	case model.OpConv2D, model.OpDepthwiseConv2D, model.OpFullyConnected:
		return e.conv(op, p, env)
	case model.OpAveragePool2D:
		c := p.pool
		taps := c.FilterH * c.FilterW
		sum := e.p.SumGroups(e.p.Gather(in(0), p.xIdx), taps)
		var q mpc.AShare
		var err error
		if p.poolInBits > 0 { // sums of unsigned values: no correction for negative sums
			q, err = mpc.DivRoundAverage(e.p, sum, p.counts, p.poolInBits, p.poolInBits+bitsFor(taps))
		} else {
			q, err = mpc.DivRoundPublic(e.p, sum, p.counts, 8+bitsFor(taps)+2)
		}
		if err != nil || p.poolInRange { // a rounded average of values in range
			return q, err
		}
		return mpc.Clamp(e.p, q, int64(c.ActMin), int64(c.ActMax), 10)
	case model.OpMaxPool2D:
		c := p.pool
		m, err := mpc.MaxGroups(e.p, e.p.Gather(in(0), p.xIdx), c.FilterH*c.FilterW, 10)
		if err != nil || p.poolInRange {
			return m, err
		}
		return mpc.Clamp(e.p, m, int64(c.ActMin), int64(c.ActMax), 10)
	case model.OpPad:
		return e.p.AddPublic(e.p.Gather(in(0), p.xIdx), p.padVal), nil
	case model.OpTranspose, model.OpSlice, model.OpStridedSlice, model.OpPack, model.OpGather,
		model.OpExpandDims, model.OpSplit, model.OpDepthToSpace, model.OpSpaceToDepth:
		data := model.MoveDataInputs(op)
		x := in(data[0])
		if len(data) > 1 {
			parts := make([]mpc.AShare, len(data))
			for i, k := range data {
				parts[i] = in(k)
			}
			x = e.p.Concat(parts...)
		}
		return e.p.Gather(x, p.xIdx), nil
	case model.OpConcatenation:
		parts := make([]mpc.AShare, len(op.Inputs))
		for k := range op.Inputs {
			x := in(k)
			if f := p.fits[k]; f != nil {
				// Inputs whose quantization differs from the output's are rescaled.
				if x, err = e.applyFit(x, f, p.cat.OutMin, p.cat.OutMax); err != nil {
					return nil, err
				}
			}
			parts[k] = x
		}
		return e.p.Gather(e.p.Concat(parts...), p.xIdx), nil
	case model.OpAdd:
		return e.add(p.add, e.p.Gather(in(0), p.xIdx), e.p.Gather(in(1), p.idx2))
	case model.OpMul:
		c := p.mul
		a := e.p.AddPublic(e.p.Gather(in(0), p.xIdx), []uint64{mpc.Int(-int64(c.In1ZeroPoint))})
		b := e.p.AddPublic(e.p.Gather(in(1), p.idx2), []uint64{mpc.Int(-int64(c.In2ZeroPoint))})
		prod, err := e.p.Mul(a, b)
		if err != nil {
			return nil, err
		}
		return e.requantElementwise(prod, &c.Out, 18)
	case model.OpMean:
		c := p.mean
		sum := e.p.SumGroups(e.p.Gather(in(0), p.xIdx), c.N)
		if c.Fast {
			nch := c.OutShape[len(c.OutShape)-1]
			return e.requant(sum, &c.Out, nch, bitsFor(c.N)+10)
		}
		sum = e.p.AddPublic(sum, []uint64{mpc.Int(-int64(c.InZeroPoint) * int64(c.N))})
		return e.requant(sum, &c.Out, 1, bitsFor(c.N)+10)
	case model.OpQuantize:
		c := p.rq
		x := e.p.AddPublic(in(0), []uint64{mpc.Int(-int64(c.InZeroPoint))})
		return e.requantElementwise(x, &c.Requant, 10)
	}
	return nil, errs.New(errs.UnsupportedOp, "%s has no secure implementation", op.Kind)
}

// conv evaluates CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED:
// acc = bias + sum (x - zx)(w - zw), one reshare per output; then requantization.
func (e *Party) conv(op *model.Op, p *prepared, env map[int]mpc.AShare) (mpc.AShare, error) {
	acc, err := e.convAcc(op, p, env)
	if err != nil {
		return nil, err
	}
	return e.requant(acc, &p.conv.Requant, p.conv.OutC, accBound)
}

// convAcc computes the int32 accumulators bias + sum (x - zx)(w - zw) of a convolution or
// fully-connected layer in NHWC order.
func (e *Party) convAcc(op *model.Op, p *prepared, env map[int]mpc.AShare) (mpc.AShare, error) {
	c := p.conv
	// weights returns the (cached) weight share minus the weight zero points: gathered by
	// p.wIdx and offset by p.gatheredWeightZP, or in the tensor's own layout offset by zpc.
	weights := func(gathered bool, zpc []uint64) mpc.AShare {
		key := fmt.Sprintf("w%d", op.Inputs[1])
		if !gathered {
			key += "/compact"
		}
		w, ok := e.derived[key]
		if !ok {
			if gathered {
				w = e.p.AddPublic(e.p.Gather(e.consts[op.Inputs[1]], p.wIdx), p.gatheredWeightZP(op.Kind))
			} else {
				w = e.p.AddPublic(e.consts[op.Inputs[1]], zpc)
			}
			e.derived[key] = w
		}
		return w
	}
	x := e.p.AddPublic(env[op.Inputs[0]], []uint64{mpc.Int(-int64(c.InZeroPoint))})
	var acc mpc.AShare
	var err error
	switch op.Kind {
	case model.OpConv2D:
		k := c.KH * c.KW * c.InC
		if p.xIdx != nil {
			x = e.p.Gather(x, p.xIdx)
		}
		acc, err = e.p.MatMul(x, weights(true, nil), c.Batch*c.OutH*c.OutW, k, c.OutC)
	case model.OpFullyConnected:
		acc, err = e.p.MatMul(x, weights(true, nil), c.Batch, c.InC, c.OutC)
	case model.OpDepthwiseConv2D:
		taps := c.KH * c.KW
		if g, ok := mpc.Ext[mpc.GatherMulSummer](e.p); ok {
			// Windows and weights read through their index maps: no KH*KW-fold copies.
			zpc := make([]uint64, taps*c.OutC) // the [1, KH, KW, OC] filter's zero points
			for i := range zpc {
				zpc[i] = mpc.Int(-int64(c.WeightZeroPoint[i%c.OutC]))
			}
			acc, err = g.GatherMulSum(x, p.xIdx, weights(false, zpc), p.wIdx, taps)
		} else {
			acc, err = e.p.MulSum(e.p.Gather(x, p.xIdx), weights(true, nil), taps)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		bkey := fmt.Sprintf("b%d/%d", op.Inputs[2], len(p.bIdx))
		bias, ok := e.derived[bkey]
		if !ok {
			bias = e.p.Gather(e.consts[op.Inputs[2]], p.bIdx)
			e.derived[bkey] = bias
		}
		acc = e.p.Add(acc, bias)
	}
	return acc, nil
}

// add evaluates TFLite's quantized ADD: both inputs are shifted left by 20 bits and
// rescaled to a common scale, summed, and requantized (see qnn.AddParams).
func (e *Party) add(c *qnn.AddParams, a, b mpc.AShare) (mpc.AShare, error) {
	n := a.Len()
	shifted := func(x mpc.AShare, zp int32) mpc.AShare {
		x = e.p.AddPublic(x, []uint64{mpc.Int(-int64(zp))})
		return e.p.MulPublic(x, []uint64{1 << c.LeftShift})
	}
	// Rescale both inputs in one batch: [a; b], each element with its input's multiplier
	// and the rounding of its position.
	both := e.p.Concat(shifted(a, c.In1ZeroPoint), shifted(b, c.In2ZeroPoint))
	var t rqTable
	channel := make([]int32, 2*n)
	run := max(c.RunLen, 1)
	for i := 0; i < n; i++ {
		r := roundingOf(c.InSched.At(i%run, run))
		channel[i] = t.index(c.In1Multiplier, c.In1Shift, r)
		channel[n+i] = t.index(c.In2Multiplier, c.In2Shift, r)
	}
	scaled, err := mpc.MulQuantizedMultiplierRound(e.p, both, t.q, channel, 8+1+c.LeftShift+1)
	if err != nil {
		return nil, err
	}
	idxA, idxB := make([]int32, n), make([]int32, n)
	for i := range idxA {
		idxA[i], idxB[i] = int32(i), int32(n+i)
	}
	sum := e.p.Add(e.p.Gather(scaled, idxA), e.p.Gather(scaled, idxB))
	return e.requant(sum, &c.Out, 1, 8+1+c.LeftShift+2)
}

// rqTable collects the distinct (multiplier, shift, rounding) triples of a layer, so that
// per-element parameters become a short per-channel table plus a channel index.
type rqTable struct {
	q    mpc.Requant
	seen map[[3]int64]int32
}

func (t *rqTable) index(m int32, shift int, r mpc.RoundMode) int32 {
	if t.seen == nil {
		t.seen = map[[3]int64]int32{}
	}
	k := [3]int64{int64(m), int64(shift), int64(r)}
	if c, ok := t.seen[k]; ok {
		return c
	}
	c := int32(len(t.q.Mult))
	t.q.Mult = append(t.q.Mult, m)
	t.q.Shift = append(t.q.Shift, shift)
	t.q.Round = append(t.q.Round, r)
	t.seen[k] = c
	return c
}

// requantElementwise applies rq whose schedule runs over the elements (not channels).
func (e *Party) requantElementwise(x mpc.AShare, rq *qnn.Requant, bound int) (mpc.AShare, error) {
	return e.requant(x, rq, x.Len(), bound)
}

// requant applies an output requantization (qnn.Requant) to accumulators of at most
// bound bits (two's complement) whose channel is the element index modulo nchan.
func (e *Party) requant(acc mpc.AShare, rq *qnn.Requant, nchan, bound int) (mpc.AShare, error) {
	n := acc.Len()
	var t rqTable
	byChan := make([]int32, nchan)
	for c := 0; c < nchan; c++ {
		k := rq.Index(c)
		byChan[c] = t.index(rq.Multiplier[k], rq.Shift[k], roundingOf(rq.Sched.At(c, nchan)))
	}
	var channel []int32
	if len(t.q.Mult) > 1 {
		channel = make([]int32, n)
		for i := range channel {
			channel[i] = byChan[i%nchan]
		}
	}
	t.q.OutZP, t.q.ActMin, t.q.ActMax = rq.OutZeroPoint, rq.ActMin, rq.ActMax
	return mpc.RequantizeRound(e.p, acc, t.q, channel, bound)
}

func roundingOf(m qnn.RoundMode) mpc.RoundMode {
	switch m {
	case qnn.RoundUp:
		return mpc.RoundUp
	case qnn.RoundSingle:
		return mpc.RoundSingle
	case qnn.RoundFloor:
		return mpc.RoundFloor
	}
	return mpc.RoundAway
}

// concatOpIndex is the gather map of a CONCATENATION op over its inputs laid end to end.
func concatOpIndex(g *model.Graph, op *model.Op) []int32 {
	var shapes [][]int
	for _, in := range op.Inputs {
		shapes = append(shapes, g.Tensors[in].Shape)
	}
	axis := op.Axis
	if axis < 0 {
		axis += len(shapes[0])
	}
	return concatIndex(shapes, axis)
}

// isIdentity reports whether idx is 0, 1, ..., n-1.
func isIdentity(idx []int32, n int) bool {
	if len(idx) != n {
		return false
	}
	for i, v := range idx {
		if v != int32(i) {
			return false
		}
	}
	return true
}

func bitsFor(n int) int {
	b := 0
	for (1 << b) < n {
		b++
	}
	return b
}
