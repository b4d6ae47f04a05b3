//go:build !amd64

package galois

// HasVPCLMULQDQ is false off amd64 (see vpclmul_amd64.go).
const HasVPCLMULQDQ = false
