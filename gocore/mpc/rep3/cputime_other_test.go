//go:build !unix

package rep3_test

func cpuSeconds() float64 { return 0 }
