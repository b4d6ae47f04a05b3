package hemat

import (
	"fmt"
	"math"

	"github.com/qmpc/qmpc/gocore/errs"
)

// Plan lays out a bilinear map C = f(L, R) over Z_2^128 as products of polynomials in
// coefficient encoding: the encrypted factor's elements go to coefficients of XPolys
// polynomials, the plaintext factor's to WPolys polynomials, and each response
// polynomial is a sum of products X_u W_w whose wanted coefficients are C's elements.
// No product has degree N or more, so no coefficient wraps around X^N + 1.
type Plan struct {
	Name string
	// LeftLen, RightLen and OutLen are the lengths of L, R and C (row-major).
	LeftLen, RightLen, OutLen int
	// EncryptLeft tells which factor is encrypted (L if true, else R).
	EncryptLeft bool
	// XPolys and WPolys count the encrypted and plaintext polynomials.
	XPolys, WPolys int
	// Products counts the polynomial products X_u W_w.
	Products int
	xPos     []int // per element of the encrypted factor: poly*N + coefficient
	wPos     []int // per element of the plaintext factor
	wCount   []int // nonzero coefficients per plaintext polynomial
	outs     []outPoly
}

type outPoly struct {
	pairs  [][2]int32 // (encrypted polynomial, plaintext polynomial)
	wanted []int32    // coefficients holding elements of C
	elem   []int32    // C's element at each wanted coefficient
	accum  int        // plaintext nonzeros summed over pairs
}

// EncLen and PlainLen are the lengths of the encrypted and plaintext factors.
func (p *Plan) EncLen() int {
	if p.EncryptLeft {
		return p.LeftLen
	}
	return p.RightLen
}

func (p *Plan) PlainLen() int {
	if p.EncryptLeft {
		return p.RightLen
	}
	return p.LeftLen
}

// OutPolys is the number of response polynomials.
func (p *Plan) OutPolys() int { return len(p.outs) }

// Wanted is the number of wanted coefficients (C's elements) over the response polynomials.
func (p *Plan) Wanted() int { return p.OutLen }

func (p *Plan) finish() error {
	p.wCount = make([]int, p.WPolys)
	for _, x := range p.wPos {
		p.wCount[x/N]++
	}
	p.Products = 0
	for o := range p.outs {
		acc := 0
		for _, pr := range p.outs[o].pairs {
			acc += p.wCount[pr[1]]
		}
		p.outs[o].accum = acc
		p.Products += len(p.outs[o].pairs)
		if acc > MaxAccum {
			return errs.New(errs.Shape, "hemat %s: %d plaintext coefficients accumulated into one response (at most %d)", p.Name, acc, MaxAccum)
		}
	}
	return nil
}

// MatMulPlan lays out C = L [m,k] times R [k,n] in blocks of mw x kw times kw x nw
// (Huang et al., Cheetah, USENIX Security 2022: coefficient encoding of a matrix
// product). The encrypted block X [mw,kw] is X(Z) = sum X[i,j] Z^(i kw nw + j), the
// plaintext block W [kw,nw] is W(Z) = sum W[j,l] Z^(kw-1-j + l kw); the coefficient of
// Z^(i kw nw + l kw + kw-1) in X W is sum_j X[i,j] W[j,l], and the degree is below
// mw kw nw + kw - 1 <= N. With transpose, the encrypted factor is R (C^T = R^T L^T).
func MatMulPlan(m, k, n, mw, kw, nw int, transpose bool) (*Plan, error) {
	if m < 1 || k < 1 || n < 1 || mw < 1 || kw < 1 || nw < 1 {
		return nil, errs.New(errs.Shape, "hemat MatMulPlan: sizes [%d,%d]x[%d,%d], blocks %d %d %d", m, k, k, n, mw, kw, nw)
	}
	M, K, Nn := m, k, n
	if transpose {
		M, Nn = n, m
	}
	mw, kw, nw = min(mw, M), min(kw, K), min(nw, Nn)
	if mw*kw*nw+kw > N+1 {
		return nil, errs.New(errs.Shape, "hemat MatMulPlan: blocks %dx%dx%d do not fit N = %d", mw, kw, nw, N)
	}
	mb, kb, nb := ceil(M, mw), ceil(K, kw), ceil(Nn, nw)
	p := &Plan{
		Name: fmt.Sprintf("matmul [%d,%d]x[%d,%d] blocks %dx%dx%d", m, k, k, n, mw, kw, nw), LeftLen: m * k, RightLen: k * n, OutLen: m * n,
		EncryptLeft: !transpose, XPolys: mb * kb, WPolys: kb * nb,
	}
	if transpose {
		p.Name += " transposed"
	}
	p.xPos = make([]int, M*K)
	p.wPos = make([]int, K*Nn)
	// natural indices: X[i,j] (i < M, j < K), W[j,l] (l < Nn), C'[i,l]
	xIdx := func(i, j int) int { return i*K + j }
	wIdx := func(j, l int) int { return j*Nn + l }
	cIdx := func(i, l int) int { return i*Nn + l }
	if transpose { // X = R^T: X[i,j] = R[j,i]; W = L^T: W[j,l] = L[l,j]; C'[i,l] = C[l,i]
		xIdx = func(i, j int) int { return j*n + i }
		wIdx = func(j, l int) int { return l*K + j }
		cIdx = func(i, l int) int { return l*n + i }
	}
	for i := 0; i < M; i++ {
		for j := 0; j < K; j++ {
			p.xPos[xIdx(i, j)] = ((i/mw)*kb+j/kw)*N + (i%mw)*kw*nw + j%kw
		}
	}
	for j := 0; j < K; j++ {
		for l := 0; l < Nn; l++ {
			p.wPos[wIdx(j, l)] = ((j/kw)*nb+l/nw)*N + kw - 1 - j%kw + (l%nw)*kw
		}
	}
	p.outs = make([]outPoly, mb*nb)
	for bi := 0; bi < mb; bi++ {
		for bl := 0; bl < nb; bl++ {
			o := &p.outs[bi*nb+bl]
			for bj := 0; bj < kb; bj++ {
				o.pairs = append(o.pairs, [2]int32{int32(bi*kb + bj), int32(bj*nb + bl)})
			}
			for i := bi * mw; i < min(M, (bi+1)*mw); i++ {
				for l := bl * nw; l < min(Nn, (bl+1)*nw); l++ {
					o.wanted = append(o.wanted, int32((i%mw)*kw*nw+(l%nw)*kw+kw-1))
					o.elem = append(o.elem, int32(cIdx(i, l)))
				}
			}
		}
	}
	return p, p.finish()
}

func ceil(a, b int) int { return (a + b - 1) / b }

// Depthwise is a depthwise 2-D convolution: X [H,W,C] (row-major, channels last) with
// kernels K [KH,KW,C] gives Y [OH,OW,C], Y[oy,ox,c] = sum_{dy,dx} X[oy s + dy - PadT,
// ox s + dx - PadL, c] K[dy,dx,c] (X is 0 outside).
type Depthwise struct {
	H, W, C, KH, KW, Stride, PadT, PadL, OH, OW int
}

// IndexMaps returns the convolution as a gathered sum of products: for each output
// (oy, ox, c) in Y's order, KH*KW pairs (x index, or -1 in the padding; K index), in
// (dy, dx) order: spdz2k's gatherMul and the engine's depthwise index maps (depth
// multiplier 1).
func (d Depthwise) IndexMaps() (xIdx, wIdx []int32) {
	for oy := 0; oy < d.OH; oy++ {
		for ox := 0; ox < d.OW; ox++ {
			for c := 0; c < d.C; c++ {
				for dy := 0; dy < d.KH; dy++ {
					for dx := 0; dx < d.KW; dx++ {
						xIdx = append(xIdx, d.tap(oy, ox, c, dy, dx))
						wIdx = append(wIdx, int32((dy*d.KW+dx)*d.C+c))
					}
				}
			}
		}
	}
	return
}

// tap is the x index of tap (dy, dx) of output (oy, ox, c), or -1 in the padding.
func (d Depthwise) tap(oy, ox, c, dy, dx int) int32 {
	y, x := oy*d.Stride+dy-d.PadT, ox*d.Stride+dx-d.PadL
	if y < 0 || y >= d.H || x < 0 || x >= d.W {
		return -1
	}
	return int32((y*d.W+x)*d.C + c)
}

// MACs is the number of multiply-accumulates.
func (d Depthwise) MACs() int64 { return int64(d.OH) * int64(d.OW) * int64(d.C) * int64(d.KH*d.KW) }

// DepthwisePlan lays out a depthwise convolution (Cheetah's coefficient encoding of a
// convolution, one channel per product): channel c's padded image (Hp x Wp) is X_c(Z) =
// sum X[y,x,c] Z^((y+PadT) Wp + x+PadL), its kernel K_c(Z) = sum K[dy,dx,c] Z^(O - dy Wp -
// dx) with O = (KH-1) Wp + KW-1, and Y[oy,ox,c] is the coefficient of Z^(O + oy s Wp +
// ox s) in X_c K_c (degree < S = Hp Wp + O). cw channels share a polynomial: channel t of
// a group at offset t S in X and t S cw in K, so that the product of X's channel t and K's
// channel t' lands in [(t + t' cw) S, (t + t' cw + 1) S): the wanted t = t' never meet the
// others, and cw^2 S <= N.
func DepthwisePlan(d Depthwise) (*Plan, error) {
	if d.H < 1 || d.W < 1 || d.C < 1 || d.KH < 1 || d.KW < 1 || d.Stride < 1 || d.OH < 1 || d.OW < 1 || d.PadT < 0 || d.PadL < 0 {
		return nil, errs.New(errs.Shape, "hemat DepthwisePlan: %+v", d)
	}
	s := d.Stride
	hp := max(d.H+d.PadT, (d.OH-1)*s+d.KH)
	wp := max(d.W+d.PadL, (d.OW-1)*s+d.KW)
	o := (d.KH-1)*wp + d.KW - 1
	S := hp*wp + o
	if S > N {
		return nil, errs.New(errs.Shape, "hemat DepthwisePlan: a %dx%d channel needs %d coefficients (N = %d); split the image", hp, wp, S, N)
	}
	cw := min(int(math.Sqrt(float64(N/S))), d.C)
	for (cw+1)*(cw+1)*S <= N && cw < d.C {
		cw++
	}
	for cw*cw*S > N {
		cw--
	}
	g := ceil(d.C, cw)
	p := &Plan{
		Name:    fmt.Sprintf("depthwise %dx%dx%d k%dx%d s%d -> %dx%d, %d channels per product", d.H, d.W, d.C, d.KH, d.KW, s, d.OH, d.OW, cw),
		LeftLen: d.H * d.W * d.C, RightLen: d.KH * d.KW * d.C, OutLen: d.OH * d.OW * d.C,
		EncryptLeft: true, XPolys: g, WPolys: g,
	}
	p.xPos = make([]int, p.LeftLen)
	for y := 0; y < d.H; y++ {
		for x := 0; x < d.W; x++ {
			for c := 0; c < d.C; c++ {
				p.xPos[(y*d.W+x)*d.C+c] = (c/cw)*N + (c%cw)*S + (y+d.PadT)*wp + x + d.PadL
			}
		}
	}
	p.wPos = make([]int, p.RightLen)
	for dy := 0; dy < d.KH; dy++ {
		for dx := 0; dx < d.KW; dx++ {
			for c := 0; c < d.C; c++ {
				p.wPos[(dy*d.KW+dx)*d.C+c] = (c/cw)*N + (c%cw)*S*cw + o - dy*wp - dx
			}
		}
	}
	p.outs = make([]outPoly, g)
	for b := range p.outs {
		p.outs[b].pairs = [][2]int32{{int32(b), int32(b)}}
	}
	for oy := 0; oy < d.OH; oy++ {
		for ox := 0; ox < d.OW; ox++ {
			for c := 0; c < d.C; c++ {
				op := &p.outs[c/cw]
				op.wanted = append(op.wanted, int32((c%cw)*(1+cw)*S+o+oy*s*wp+ox*s))
				op.elem = append(op.elem, int32((oy*d.OW+ox)*d.C+c))
			}
		}
	}
	return p, p.finish()
}

// MatMulCost is the predicted cost of a matrix product's plan.
type MatMulCost struct {
	M, K, N, MW, KW, NW int
	Transpose           bool
	// XPolys, WPolys and OutPolys count the polynomials; Products the products.
	XPolys, WPolys, OutPolys, Products int
	// Upload and Response are the bytes of one upload and of one response.
	Upload, Response int
}

// matMulCost computes the cost of blocks mw x kw x nw (in the orientation of transpose).
func (p *Params) matMulCost(m, k, n, mw, kw, nw int, transpose bool) MatMulCost {
	M, Nn := m, n
	if transpose {
		M, Nn = n, m
	}
	c := MatMulCost{M: m, K: k, N: n, MW: mw, KW: kw, NW: nw, Transpose: transpose}
	mb, kb, nb := ceil(M, mw), ceil(k, kw), ceil(Nn, nw)
	c.XPolys, c.WPolys, c.OutPolys, c.Products = mb*kb, kb*nb, mb*nb, mb*kb*nb
	c.Upload = c.XPolys * p.ciphertextBytes()
	rel := p.ctRelation(nil)
	for _, g := range proofGroups(c.XPolys) {
		c.Upload += rel.proofBytes(g[1] - g[0])
	}
	// per response polynomial N coefficients of c1 and its wanted ones (m n in all),
	// each polynomial rounded up to whole bytes
	c.Response = c.OutPolys*p.polyBytes(p.outPrimes, N) + p.polyBytes(p.outPrimes, m*n) + c.OutPolys
	return c
}

// BestMatMul returns the blocks and orientation that minimize the bytes one party sends
// for [m,k]x[k,n] when each upload serves responses products with the same encrypted
// factor (2 for SPDZ2k's sacrificed triple, whose second triple shares that factor):
// Upload + responses * Response.
func (p *Params) BestMatMul(m, k, n, responses int) (MatMulCost, error) {
	var best MatMulCost
	bestBytes := -1
	for _, tr := range []bool{false, true} {
		M, Nn := m, n
		if tr {
			M, Nn = n, m
		}
		for kw := 1; kw <= min(k, N); kw++ {
			if kw > 1 && ceil(k, kw) == ceil(k, kw-1) {
				continue // the same number of blocks with a wider block: no better
			}
			for nw := 1; nw <= Nn && kw*nw+kw <= N+1; nw++ {
				if k*nw > MaxAccum {
					break
				}
				mw := min(M, (N+1-kw)/(kw*nw))
				if mw < 1 {
					break
				}
				c := p.matMulCost(m, k, n, mw, kw, nw, tr)
				b := c.Upload + responses*c.Response
				if bestBytes < 0 || b < bestBytes || (b == bestBytes && c.Products < best.Products) {
					best, bestBytes = c, b
				}
			}
		}
	}
	if bestBytes < 0 {
		return best, errs.New(errs.Shape, "hemat BestMatMul: no plan for [%d,%d]x[%d,%d]", m, k, k, n)
	}
	return best, nil
}

// Plan builds the plan of the cost's blocks.
func (c MatMulCost) Plan() (*Plan, error) {
	return MatMulPlan(c.M, c.K, c.N, c.MW, c.KW, c.NW, c.Transpose)
}

// ScalarPlan lays out C = a * R for a scalar a (L of length 1) and a vector R of n
// elements: the products of SPDZ's MACs, alpha_i x_j, when the MAC key share alpha_i is
// the encrypted factor (the MACs of SPDZ (Damgård, Pastro, Smart, Zakarias, CRYPTO 2012)
// and of Overdrive2k for Z_2^k are computed this way). One upload polynomial holds a at
// coefficient 0 (and may serve every vector of a session); each response polynomial
// carries N elements of C.
func ScalarPlan(n int) (*Plan, error) {
	if n < 1 {
		return nil, errs.New(errs.Shape, "hemat ScalarPlan: %d elements", n)
	}
	g := ceil(n, N)
	p := &Plan{
		Name: fmt.Sprintf("scalar x [%d]", n), LeftLen: 1, RightLen: n, OutLen: n,
		EncryptLeft: true, XPolys: 1, WPolys: g,
	}
	p.xPos = []int{0}
	p.wPos = make([]int, n)
	p.outs = make([]outPoly, g)
	for b := range p.outs {
		p.outs[b].pairs = [][2]int32{{0, int32(b)}}
	}
	for e := range p.wPos {
		p.wPos[e] = e
		o := &p.outs[e/N]
		o.wanted = append(o.wanted, int32(e%N))
		o.elem = append(o.elem, int32(e))
	}
	return p, p.finish()
}
