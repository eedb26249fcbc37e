//go:build unix

package gateway

import (
	"net"
	"syscall"
)

// stillOpen reports whether the idle connection c to the shop can still
// carry a request: nothing to read on it, not even the end of the stream
// (the shop closed it while it was idle). It peeks without blocking.
func stillOpen(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = n <= 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
		return true // never wait for the descriptor
	})
	return err == nil && open
}
