//go:build !linux || race

package http1

import "net"

// RawIO returns c: raw non-blocking reads and writes are done on Linux
// only, and not in race-detector builds (see rawio_linux.go).
func RawIO(c net.Conn) net.Conn { return c }

// WriteThenRead writes all of w to c and then reads into p, as c.Write
// and c.Read would (see rawio_linux.go for what Linux builds save).
func WriteThenRead(c net.Conn, w, p []byte) (written, n int, err error) {
	return writeThenRead(c, w, p)
}
