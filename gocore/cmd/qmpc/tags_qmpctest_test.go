//go:build qmpctest

package main

// buildTags are passed to the `go build` of the CLI binary that the process tests run: a
// test binary built with -tags qmpctest builds a CLI with the registry's test-only toy.
const buildTags = "qmpctest"
