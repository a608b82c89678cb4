//go:build unix

package rtmp

import (
	"net"
	"syscall"
)

// setRcvLowat sets the socket's SO_RCVLOWAT; false when c has no socket or refuses it.
func setRcvLowat(c net.Conn, v int) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, v)
	}); err != nil {
		return false
	}
	return serr == nil
}
