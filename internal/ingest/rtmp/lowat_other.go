//go:build !unix

package rtmp

import "net"

// setRcvLowat is not available here: publishing sockets are woken per packet.
func setRcvLowat(net.Conn, int) bool { return false }
