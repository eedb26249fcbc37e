//go:build !linux || race

package http1

import "net"

// RawIO returns c: raw non-blocking reads and writes are done on Linux
// only, and not in race-detector builds (see rawio_linux.go).
func RawIO(c net.Conn) net.Conn { return c }
