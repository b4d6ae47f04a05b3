//go:build !qmpctest

package main

// buildTags are passed to the `go build` of the CLI binary that the process tests run.
const buildTags = ""
