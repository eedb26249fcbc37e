//go:build linux && !race

package http1

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection, the first
// wrapped by RawIO (a *rawConn here).
func tcpPair(t *testing.T) (raw net.Conn, peer net.Conn) {
	t.Helper()
	raw, peer = loopbackPair(t)
	if _, ok := raw.(*rawConn); !ok {
		t.Fatalf("RawIO gave %T, want *rawConn", raw)
	}
	return raw, peer
}

func TestRawIOWrapsOnlyTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := RawIO(a); got != a {
		t.Fatalf("RawIO(pipe) = %T, want the pipe itself", got)
	}
}

// A write larger than the socket buffers must wait for the reader (the
// EAGAIN path) and deliver every byte, in order, both ways at once.
func TestRawIOLargeTransfersBothWays(t *testing.T) {
	raw, peer := tcpPair(t)
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	var got, echoed bytes.Buffer
	var perr, rerr error
	wg.Add(3)
	go func() { // the peer reads slowly at first, so that the raw side's writes fill the buffers
		defer wg.Done()
		time.Sleep(50 * time.Millisecond)
		_, perr = io.CopyN(&got, peer, int64(len(data)))
	}()
	go func() {
		defer wg.Done()
		if _, err := peer.Write(data); err != nil {
			perr = err
		}
	}()
	go func() {
		defer wg.Done()
		_, rerr = io.CopyN(&echoed, raw, int64(len(data)))
	}()
	n, err := raw.Write(data)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	wg.Wait()
	if perr != nil || rerr != nil {
		t.Fatalf("peer: %v; raw read: %v", perr, rerr)
	}
	if !bytes.Equal(got.Bytes(), data) || !bytes.Equal(echoed.Bytes(), data) {
		t.Fatal("bytes changed in transit")
	}
}

func TestRawIOEndsAndErrors(t *testing.T) {
	t.Run("peer closes: EOF after the data", func(t *testing.T) {
		raw, peer := tcpPair(t)
		peer.Write([]byte("bye"))
		peer.Close()
		b, err := io.ReadAll(raw)
		if err != nil || string(b) != "bye" {
			t.Fatalf("ReadAll = %q, %v", b, err)
		}
		if n, err := raw.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("Read after the end = %d, %v; want io.EOF", n, err)
		}
	})
	t.Run("read deadline", func(t *testing.T) {
		raw, _ := tcpPair(t)
		raw.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		_, err := raw.Read(make([]byte, 1))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read past the deadline = %v; want a timeout", err)
		}
	})
	t.Run("write deadline while the peer does not read", func(t *testing.T) {
		raw, _ := tcpPair(t)
		raw.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := raw.Write(make([]byte, 64<<20))
		if !errors.Is(err, os.ErrDeadlineExceeded) || n <= 0 || n >= 64<<20 {
			t.Fatalf("Write past the deadline = %d, %v; want part written and a timeout", n, err)
		}
	})
	t.Run("closed locally", func(t *testing.T) {
		raw, _ := tcpPair(t)
		raw.Close()
		if _, err := raw.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close = %v; want net.ErrClosed", err)
		}
		if _, err := raw.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after Close = %v; want net.ErrClosed", err)
		}
	})
	t.Run("close unblocks a waiting read", func(t *testing.T) {
		raw, _ := tcpPair(t)
		done := make(chan error, 1)
		go func() { _, err := raw.Read(make([]byte, 1)); done <- err }()
		time.Sleep(20 * time.Millisecond)
		raw.Close()
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("waiting Read = %v; want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end a waiting Read")
		}
	})
	t.Run("peer resets: write fails", func(t *testing.T) {
		raw, peer := tcpPair(t)
		peer.(*net.TCPConn).SetLinger(0)
		peer.Close()
		var err error
		for i := 0; i < 100 && err == nil; i++ { // the reset arrives after the first write
			_, err = raw.Write([]byte("x"))
			time.Sleep(time.Millisecond)
		}
		var oe *net.OpError
		if err == nil || !errors.As(err, &oe) {
			t.Fatalf("Write to a reset connection = %v; want a *net.OpError", err)
		}
	})
}
