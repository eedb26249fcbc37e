//go:build linux && !race

package http1

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// rawConn reads and writes a TCP connection with raw system calls on its
// non-blocking socket, through syscall.RawConn so that the runtime's
// poller still waits for readiness and deadlines still apply.
//
// net.TCPConn enters every read and write as a blocking system call
// (runtime.entersyscall). On a busy proxy a loopback write runs the peer's
// whole receive path and takes several microseconds, so the runtime's
// monitor keeps finding processors "blocked in a system call", hands them
// to other threads and wakes threads to run them: futex wake-ups, context
// switches and a monitor that never sleeps long. A read or write on a
// non-blocking socket never blocks (it returns EAGAIN instead), so it
// needs none of that.
//
// Race-detector builds do without it (rawio_other.go): the detector learns
// from internal/poll that a write to a socket happens before the read of
// its bytes, and raw system calls would hide that from it.
type rawConn struct {
	*net.TCPConn
	rc syscall.RawConn

	rmu, wmu sync.Mutex // one read and one write at a time

	// The operation in flight, set before rc.Read/rc.Write and read by the
	// prepared callbacks (one allocation per connection, not per call).
	rbuf, wbuf []byte
	rn, wn     int
	rerr, werr syscall.Errno
	readFn     func(fd uintptr) bool
	writeFn    func(fd uintptr) bool
	// writeThenReadFn: writeThenRead's callback; asked reports whether
	// the write went out whole, stalled whether the socket was full.
	writeThenReadFn func(fd uintptr) bool
	asked, stalled  bool
}

// RawIO returns c with its reads and writes done by raw non-blocking
// system calls when c is a *net.TCPConn, and c itself otherwise.
// Deadlines, Close and the rest are c's own. A Server applies it to the
// TCP connections it accepts; wrap connections before handing them to a
// listener wrapper that hides their type.
func RawIO(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawConn{TCPConn: tc, rc: rc}
	r.readFn = func(fd uintptr) bool {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.rbuf))), uintptr(len(r.rbuf)))
		if errno == syscall.EAGAIN {
			return false
		}
		r.rn, r.rerr = int(n), errno
		return true
	}
	r.writeFn = func(fd uintptr) bool {
		for r.wn < len(r.wbuf) {
			p := r.wbuf[r.wn:]
			n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
			switch {
			case errno == syscall.EAGAIN:
				return false
			case errno == syscall.EINTR:
				continue
			case errno != 0:
				r.werr = errno
				return true
			}
			r.wn += int(n)
		}
		return true
	}
	r.writeThenReadFn = func(fd uintptr) bool {
		if r.asked {
			return r.readFn(fd)
		}
		if !r.writeFn(fd) {
			r.stalled = true // the rest is written by Write, which waits for room
			return true
		}
		if r.werr != 0 {
			return true
		}
		r.asked = true
		// Written: wait for the answer without a read that would find
		// nothing yet. The readiness was reset when this call began,
		// before the write, so the answer's arrival is not missed.
		return false
	}
	return r
}

// writeThenRead writes all of w and reads into p, waiting for the peer's
// answer through the poller without first trying a read. On a proxy
// every request to the shop is followed by a read of its answer, which
// a plain Read would first try at once and find empty (EAGAIN): a system
// call per request spent finding nothing, which nginx, waiting on epoll
// before it reads, does not pay.
//
// This is safe only for a peer that sends nothing unasked: the poller's
// readiness is reset when the call begins, so bytes that arrived before
// it and were not read are noticed only when more arrive, or the read
// deadline passes. A server answering requests is such a peer; a client
// that may pipeline is not.
func (r *rawConn) writeThenRead(w, p []byte) (written, n int, err error) {
	if len(p) == 0 {
		written, err = r.Write(w)
		return written, 0, err
	}
	r.rmu.Lock()
	r.wmu.Lock()
	r.wbuf, r.wn, r.werr = w, 0, 0
	r.rbuf, r.rn, r.rerr = p, 0, 0
	r.asked, r.stalled = false, false
	err = r.rc.Read(r.writeThenReadFn)
	written, asked, stalled, werr := r.wn, r.asked, r.stalled, r.werr
	rn, rerr := r.rn, r.rerr
	r.wbuf, r.rbuf = nil, nil
	r.wmu.Unlock()
	r.rmu.Unlock()
	switch {
	case werr != 0:
		return written, 0, r.opError("write", os.NewSyscallError("write", werr))
	case !asked && err != nil:
		return written, 0, r.opError("write", err)
	case stalled: // the socket is full: the rest waits for room
		m, err := r.Write(w[written:])
		if written += m; err != nil {
			return written, 0, err
		}
		n, err = r.Read(p)
		return written, n, err
	case err != nil:
		return written, 0, r.opError("read", err)
	}
	switch {
	case rerr == syscall.EINTR:
		n, err = r.Read(p)
		return written, n, err
	case rerr != 0:
		return written, 0, r.opError("read", os.NewSyscallError("read", rerr))
	case rn == 0:
		return written, 0, io.EOF
	}
	return written, rn, nil
}

// WriteThenRead writes all of w to c and then reads into p, as c.Write
// and c.Read would. On a connection from RawIO it waits for the answer
// without first trying a read that would find nothing yet (see
// rawConn.writeThenRead): only for a peer that sends nothing before it
// has read w, such as a server to which w is a request.
func WriteThenRead(c net.Conn, w, p []byte) (written, n int, err error) {
	if r, ok := c.(*rawConn); ok {
		return r.writeThenRead(w, p)
	}
	return writeThenRead(c, w, p)
}

// Read reads from the socket, waiting for data through the poller.
func (r *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.rmu.Lock()
	defer r.rmu.Unlock()
	r.rbuf, r.rn, r.rerr = p, 0, 0
	for {
		err := r.rc.Read(r.readFn)
		r.rbuf = nil
		if err != nil {
			return 0, r.opError("read", err)
		}
		switch {
		case r.rerr == syscall.EINTR:
			r.rbuf, r.rerr = p, 0
			continue
		case r.rerr != 0:
			return 0, r.opError("read", os.NewSyscallError("read", r.rerr))
		case r.rn == 0:
			return 0, io.EOF
		}
		return r.rn, nil
	}
}

// Write writes all of p, waiting for room through the poller.
func (r *rawConn) Write(p []byte) (int, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.wbuf, r.wn, r.werr = p, 0, 0
	err := r.rc.Write(r.writeFn)
	n := r.wn
	r.wbuf = nil
	if err != nil {
		return n, r.opError("write", err)
	}
	if r.werr != 0 {
		return n, r.opError("write", os.NewSyscallError("write", r.werr))
	}
	return n, nil
}

// opError wraps err as net.Conn's methods do, unless it already is one.
func (r *rawConn) opError(op string, err error) error {
	if _, ok := err.(*net.OpError); ok {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: r.LocalAddr(), Addr: r.RemoteAddr(), Err: err}
}

// NetConn returns the underlying connection.
func (r *rawConn) NetConn() net.Conn { return r.TCPConn }
