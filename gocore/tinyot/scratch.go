package tinyot

import (
	"github.com/qmpc/qmpc/gocore/ot"
	"github.com/qmpc/qmpc/gocore/pagebuf"
)

// batchScratch holds triplesBatch's large buffers between batches (session 14, issue
// 14): the six Delta-COT outputs, the leaky triples' records lt, the check values V, the
// bucket permutation and its labels, 214 bytes per leaky triple of the largest batch so
// far (1.5 GB per party at spdz2k's batches of 2.4 M triples in buckets of 3), kept until
// Release. Reuse is the point: a fresh buffer is zeroed by Go and faulted in page by page
// on every batch. The buffers are pagebuf's, backed by transparent huge pages where the
// OS offers them (the bucket pass's random reads of lt then stop missing the TLB), and by
// the Go heap elsewhere.
type batchScratch struct {
	lt, v, perm, labels pagebuf.Buffer
	// cot holds the six Delta-COT outputs of a batch (MACs and keys of x, y and r, 96
	// bytes per leaky triple and the KOS check's rows), written in place by the ot
	// package's Into variants.
	cot pagebuf.Buffer
}

func leakySlice(p *pagebuf.Buffer, n int) []leaky { return pagebuf.Slice[leaky](p, n) }

func blockSlice(p *pagebuf.Buffer, n int) []ot.Block { return pagebuf.Slice[ot.Block](p, n) }

func int32Slice(p *pagebuf.Buffer, n int) []int32 { return pagebuf.Slice[int32](p, n) }

func uint16Slice(p *pagebuf.Buffer, n int) []uint16 { return pagebuf.Slice[uint16](p, n) }

// Release frees the buffers Party keeps between batches of Triples (214 bytes per leaky
// triple of the largest batch so far, scratch.go). The next batch allocates them
// again. A caller that is done making triples for a while (spdz2k after its offline
// phase) calls it to give the memory back; Party works the same either way.
func (p *Party) Release() {
	s := &p.scratch
	for _, b := range []*pagebuf.Buffer{&s.lt, &s.v, &s.perm, &s.labels, &s.cot} {
		b.Release()
	}
}
