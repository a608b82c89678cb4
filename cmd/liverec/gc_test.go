package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// The service's default heap goal applies only when GOGC does not say otherwise.
func TestGCPercentDefault(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)

	setGCPercent(func(string) string { return "" })
	require.Equal(t, defaultGCPercent, debug.SetGCPercent(100))

	setGCPercent(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	require.Equal(t, 100, debug.SetGCPercent(100), "GOGC in the environment decides")
}
