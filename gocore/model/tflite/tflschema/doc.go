// Package tflschema is the Go code that flatc 2.0.8 generates from TFLite's flatbuffers
// schema (schema.fbs in this directory). Do not edit the generated files; regenerate them
// with `go generate` (needs flatc 2.0.8 on PATH, Debian package flatbuffers-compiler).
// See README.md for the schema's origin.
package tflschema

//go:generate flatc --go --go-namespace tflschema -o .. schema.fbs
