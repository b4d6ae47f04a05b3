//go:build !amd64

package ot

// hasGHASH and hasVPCLMUL: the incremental GHASH runs on amd64 only (ghash_amd64.s).
var hasGHASH, hasVPCLMUL = false, false

// ghashInc is the incremental GHASH of ghash_amd64.go; elsewhere newGHASHInc returns nil
// and the KOS check hashes the whole batch with polyHash.
type ghashInc struct{}

func newGHASHInc([32]byte) *ghashInc { return nil }

func (g *ghashInc) write([]Block) { panic("ot: no incremental GHASH on this platform") }

func (g *ghashInc) sum() [16]byte { panic("ot: no incremental GHASH on this platform") }
