//go:build !unix

package loadgen

// CPUSeconds is not measured on this platform.
func CPUSeconds() float64 { return 0 }
