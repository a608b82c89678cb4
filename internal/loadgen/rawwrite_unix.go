//go:build unix

package loadgen

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawWriter writes to a non-blocking socket without the runtime's blocking-syscall
// bookkeeping. A scheduler writes a few thousand small frames a second; each write(2) takes
// microseconds and never blocks (a full socket returns EAGAIN and waits in the netpoller like
// any write), but through the ordinary path the runtime's monitor kept handing the writer's
// P to another thread while it was in the kernel: about a third of the publisher's CPU went
// to that monitor and the thread switches it caused.
type rawWriter struct {
	rc syscall.RawConn
	fn func(fd uintptr) bool // w.writeFD, bound once so that a write does not allocate

	// The write in progress.
	p       []byte
	written int
	err     error
}

func newRawWriter(c net.Conn) *rawWriter {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &rawWriter{rc: rc}
	w.fn = w.writeFD
	return w
}

// Write writes all of p (honouring the connection's write deadline while the socket is full).
func (w *rawWriter) Write(p []byte) (int, error) {
	w.p, w.written, w.err = p, 0, nil
	err := w.rc.Write(w.fn)
	n, werr := w.written, w.err
	w.p = nil
	switch {
	case werr != nil:
		return n, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", werr)}
	case err != nil:
		return n, err
	case n < len(p):
		return n, io.ErrShortWrite
	}
	return n, nil
}

// writeFD writes what is left of w.p; false asks the poller to wait until the socket is
// writable.
func (w *rawWriter) writeFD(fd uintptr) bool {
	for w.written < len(w.p) {
		rest := w.p[w.written:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(rest))), uintptr(len(rest)))
		switch e {
		case 0:
			w.written += int(n)
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
		default:
			w.err = e
			return true
		}
	}
	return true
}
