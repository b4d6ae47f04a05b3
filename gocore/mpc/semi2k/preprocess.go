package semi2k

// The offline phase ahead of time (mpc.Preprocessor): from the counted calls of the next
// computation (mpc.Demand, made on the public graph by package mpc/count), Preprocess
// draws every AND triple, cross triple and daBit the computation will consume in a few
// large batches and keeps them in pools (replacing what an earlier Preprocess left); AND,
// A2B and B2A take from the pools first and draw just in time what is missing. The counts
// are exact but for work the counting protocol cannot see is local (ANDs and A2Bs of
// shares held by one party), which they overestimate. Both parties compute the same counts from the same demand, so
// their pools stay in lockstep. Triples of products and one-sided product correlations
// depend on the product's shapes (and, one-sided, on the owner's weights), so they are
// drawn just in time by each product; that work is accounted as offline all the same.
//
// AND triples and daBits are fungible (any triple serves any gate), so drawing them early
// changes nothing in what either party sees online.

import (
	"fmt"

	"github.com/qmpc/qmpc/gocore/mpc"
	"github.com/qmpc/qmpc/gocore/mpc/count"
	"github.com/qmpc/qmpc/gocore/ring"
)

// batchWords is the largest batch of AND triple or daBit words drawn at once (bounds the
// OT extension's memory).
const batchWords = 1 << 16

// pools holds correlations drawn ahead.
type pools struct {
	a, b, c []uint64 // AND triples
	xab, xc []uint64 // cross triples
	bin, ar []uint64 // daBits: binary words and their 64 arithmetic elements each
}

// Preprocess draws the AND triples and daBits that the calls counted in d consume. It
// implements mpc.Preprocessor; the cost is offline.
func (p *Protocol) Preprocess(d *mpc.Demand) error {
	if d == nil {
		return nil
	}
	andWords, crossWords, daWords, err := needs(d)
	if err != nil {
		return fmt.Errorf("semi2k preprocess: %w", err)
	}
	err = p.offlineDo(func() error {
		p.pool = pools{} // what an earlier Preprocess left (an overestimate) is dropped
		for andWords > 0 {
			k := min(andWords, batchWords)
			a, b, c, err := p.src.ANDTriples(k)
			if err != nil {
				return err
			}
			p.pool.a, p.pool.b, p.pool.c = append(p.pool.a, a...), append(p.pool.b, b...), append(p.pool.c, c...)
			andWords -= k
		}
		for crossWords > 0 {
			k := min(crossWords, batchWords)
			ab, c, err := p.src.CrossTriples(k)
			if err != nil {
				return err
			}
			p.pool.xab, p.pool.xc = append(p.pool.xab, ab...), append(p.pool.xc, c...)
			crossWords -= k
		}
		for daWords > 0 {
			k := min(daWords, batchWords)
			bin, ar, err := p.src.DaBits(k)
			if err != nil {
				return err
			}
			p.pool.bin, p.pool.ar = append(p.pool.bin, bin...), append(p.pool.ar, ar...)
			daWords -= k
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("semi2k preprocess: %w", err)
	}
	return nil
}

// andTriples returns words of AND triples, from the pool first.
func (p *Protocol) andTriples(words int) (a, b, c []uint64, err error) {
	p.used.ANDTriples += 64 * int64(words)
	k := min(words, len(p.pool.a))
	a, b, c = p.pool.a[:k:k], p.pool.b[:k:k], p.pool.c[:k:k]
	p.pool.a, p.pool.b, p.pool.c = p.pool.a[k:], p.pool.b[k:], p.pool.c[k:]
	if k == words {
		return a, b, c, nil
	}
	p.used.JITANDTriples += 64 * int64(words-k)
	err = p.offlineDo(func() error {
		ja, jb, jc, err := p.src.ANDTriples(words - k)
		a, b, c = append(a, ja...), append(b, jb...), append(c, jc...)
		return err
	})
	return a, b, c, err
}

// crossTriples returns words of cross triples, from the pool first.
func (p *Protocol) crossTriples(words int) (ab, c []uint64, err error) {
	p.used.CrossTriples += 64 * int64(words)
	k := min(words, len(p.pool.xab))
	ab, c = p.pool.xab[:k:k], p.pool.xc[:k:k]
	p.pool.xab, p.pool.xc = p.pool.xab[k:], p.pool.xc[k:]
	if k == words {
		return ab, c, nil
	}
	p.used.JITCrossTriples += 64 * int64(words-k)
	err = p.offlineDo(func() error {
		jab, jc, err := p.src.CrossTriples(words - k)
		ab, c = append(ab, jab...), append(c, jc...)
		return err
	})
	return ab, c, err
}

// daBits returns words of daBits, from the pool first.
func (p *Protocol) daBits(words int) (bin, ar []uint64, err error) {
	p.used.DaBits += 64 * int64(words)
	k := min(words, len(p.pool.bin))
	bin, ar = p.pool.bin[:k:k], p.pool.ar[:64*k:64*k]
	p.pool.bin, p.pool.ar = p.pool.bin[k:], p.pool.ar[64*k:]
	if k == words {
		return bin, ar, nil
	}
	p.used.JITDaBits += 64 * int64(words-k)
	err = p.offlineDo(func() error {
		jb, ja, err := p.src.DaBits(words - k)
		bin, ar = append(bin, jb...), append(ar, ja...)
		return err
	})
	return bin, ar, err
}

// needs returns the AND triple, cross triple and daBit words the calls of d consume.
func needs(d *mpc.Demand) (andWords, crossWords, daWords int, err error) {
	type cost struct{ and, cross int }
	adders := map[[3]int]cost{} // (n, w, lo) -> words of one A2B
	for _, c := range d.Calls {
		cnt := int(c.Count)
		switch c.Op {
		case "AND":
			andWords += cnt * max(c.Words, ring.Words(c.N))
		case "A2B":
			k := [3]int{c.N, c.W, c.Lo}
			wds, ok := adders[k]
			if !ok {
				if wds.and, wds.cross, err = adderWords(c.N, c.W, c.Lo); err != nil {
					return 0, 0, 0, err
				}
				adders[k] = wds
			}
			andWords += cnt * wds.and
			crossWords += cnt * wds.cross
		case "B2A":
			daWords += cnt * c.W * ring.Words(c.N)
		case "Bit2A":
			daWords += cnt * ring.Words(c.N)
		}
	}
	return andWords, crossWords, daWords, nil
}

// adderWords counts the AND triple words of one A2B (lo = 0) or A2BHigh of n elements, by
// running the same adder on the counting protocol; its first AND round (the generate
// bits of party 0's and party 1's components) takes cross triples.
func adderWords(n, w, lo int) (and, cross int, err error) {
	cp := count.New(0, 2)
	x, err := cp.Input(0, make([]uint64, n), n)
	if err != nil {
		return 0, 0, err
	}
	b, err := cp.A2B(x, w)
	if err != nil {
		return 0, 0, err
	}
	cp.Take()
	if lo == 0 {
		_, err = mpc.AddB(cp, b, b)
	} else {
		_, err = mpc.AddBHighRipple(cp, b, b, lo)
	}
	if err != nil {
		return 0, 0, err
	}
	first := true
	for _, c := range cp.Take().Calls {
		if c.Op != "AND" {
			continue
		}
		wds := int(c.Count) * c.Words
		if first { // the first call is the generate round (identical later calls are merged into it)
			cross, first = c.Words, false
			and += wds - cross
			continue
		}
		and += wds
	}
	return and, cross, nil
}
