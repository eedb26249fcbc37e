package http1

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// loopbackPair returns the two ends of a loopback TCP connection, the
// first wrapped by RawIO (raw on Linux outside race builds).
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	client = RawIO(c)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestWriteThenRead: the request goes out whole and the answer comes back,
// however the peer takes its time, and the ends and errors are those of
// Write and Read.
func TestWriteThenRead(t *testing.T) {
	small := []byte("GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
	large := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: more than the socket buffers
	tests := []struct {
		name     string
		request  []byte
		deadline time.Duration
		// peer reads the whole request and then acts; it returns what the
		// caller should read (nil: no answer).
		peer    func(c net.Conn) []byte
		wantErr func(error) bool
	}{
		{name: "quick answer", request: small, peer: func(c net.Conn) []byte { return []byte("HTTP/1.1 200 OK\r\n\r\n") }},
		{name: "slow answer", request: small, peer: func(c net.Conn) []byte {
			time.Sleep(50 * time.Millisecond)
			return []byte("late")
		}},
		{name: "request larger than the socket buffers", request: large, peer: func(c net.Conn) []byte { return []byte("got it") }},
		{name: "no answer before the deadline", request: small, deadline: 50 * time.Millisecond,
			peer:    func(c net.Conn) []byte { return nil },
			wantErr: func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
		{name: "peer closes without answering", request: small,
			peer:    func(c net.Conn) []byte { c.Close(); return nil },
			wantErr: func(err error) bool { return err == io.EOF }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := loopbackPair(t)
			answer := make(chan []byte, 1)
			go func() {
				got := make([]byte, len(tc.request))
				if tc.name == "request larger than the socket buffers" {
					time.Sleep(50 * time.Millisecond) // the writer fills the buffers first
				}
				if _, err := io.ReadFull(server, got); err != nil || !bytes.Equal(got, tc.request) {
					t.Errorf("the peer read %d bytes, %v; want the request whole", len(got), err)
				}
				a := tc.peer(server)
				if a != nil {
					server.Write(a)
				}
				answer <- a
			}()
			deadline := 10 * time.Second
			if tc.deadline > 0 {
				deadline = tc.deadline
			}
			client.SetReadDeadline(time.Now().Add(deadline))
			buf := make([]byte, 64)
			written, n, err := WriteThenRead(client, tc.request, buf)
			want := <-answer
			if written != len(tc.request) {
				t.Errorf("written = %d, want %d", written, len(tc.request))
			}
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Errorf("error = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteThenRead: %v", err)
			}
			// The answer is short: one read may still see only part of it.
			got := append([]byte(nil), buf[:n]...)
			for len(got) < len(want) {
				m, err := client.Read(buf)
				if err != nil {
					t.Fatalf("reading the rest of the answer: %v", err)
				}
				got = append(got, buf[:m]...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("answer %q, want %q", got, want)
			}
		})
	}
}

// TestWriteThenReadRoundTrips: many round trips in a row on one
// connection, each answered at once, never miss an answer (the readiness
// the poller reports is not lost between them).
func TestWriteThenReadRoundTrips(t *testing.T) {
	client, server := loopbackPair(t)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			if _, err := server.Write(bytes.ToUpper(buf[:n])); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	for i := range 2000 {
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, n, err := WriteThenRead(client, []byte("ping"), buf)
		for err == nil && n < 4 { // the answer in pieces
			var m int
			m, err = client.Read(buf[n:])
			n += m
		}
		if err != nil || string(buf[:n]) != "PING" {
			t.Fatalf("round trip %d: %q, %v", i, buf[:n], err)
		}
	}
}
