// Package pybind is the only package gopy wraps: the Go side of the Python package qmpc.
// Everything exported here becomes a function or class of the generated module
// (python/qmpc/_core, git-ignored); python/qmpc wraps that in the typed, documented API.
//
// Rules every file of the package follows (see GOPY.md in the design notes):
//
//   - Only flat types cross the boundary: string, []byte, int, float64, bool, error, and
//     opaque handles (pointers to structs with unexported fields). Structured data (model
//     metadata, configs, statistics) crosses as JSON strings.
//   - Every exported function and method recovers panics into an error of kind
//     errs.Internal (defer guard(&err)): a panic would abort the Python process.
//   - Every function that can fail returns a value together with the error: gopy leaks a
//     C string per call for error-only results.
//   - Errors leave through export(err), which keeps the "qmpc:<kind>: " prefix the Python
//     layer maps to exception classes and appends machine-readable details on a last line
//     "qmpc-details: {json}" (for example the list of unsupported ops).
//   - Tensors cross as one []byte in the packed format of tensors.go (a small JSON header
//     and the raw C-order little-endian data), never as []int64 or []float64, which gopy
//     converts element by element.
package pybind
