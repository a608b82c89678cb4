//go:build !unix

package loadgen

import "net"

type rawWriter struct{ net.Conn }

// newRawWriter: elsewhere writes take the ordinary path.
func newRawWriter(net.Conn) *rawWriter { return nil }
