package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	big := strings.Repeat("x", rawMaxBody+1000)
	chunkedBig := fmt.Sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 40000, big[:40000], 40000, big[:40000])
	cases := []struct {
		name    string
		in      string
		code    int
		body    string
		length  int64
		close   bool
		status  string
		wantErr error // errMalformed, io.EOF or io.ErrUnexpectedEOF
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello", code: 200, body: "hello", length: 5},
		{name: "no reason phrase", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", code: 200},
		{name: "chunked with extension and trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", code: 200, body: "abc0123456789", length: 13},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok", code: 200, body: "ok", length: 2, close: true},
		{name: "http/1.0 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", code: 200, body: "ok", length: 2, close: true},
		{name: "http/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", code: 200, body: "ok", length: 2},
		{name: "until close", in: "HTTP/1.1 200 OK\r\n\r\nall of it", code: 200, body: "all of it", length: 9, close: true},
		{name: "204 has no body", in: "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", code: 204},
		{name: "100 continue skipped", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!", code: 201, body: "!", length: 1},
		{name: "error status text", in: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", code: 503, body: "busy", length: 4, status: "503 Service Unavailable"},
		{name: "body over 64 KiB", in: "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, code: 200, body: big[:rawMaxBody], length: int64(len(big))},
		{name: "chunked over 64 KiB", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBig, code: 200, body: big[:rawMaxBody], length: 80000},
		{name: "until close over 64 KiB", in: "HTTP/1.1 200 OK\r\n\r\n" + big, code: 200, body: big[:rawMaxBody], length: int64(len(big)), close: true},

		{name: "empty", in: "", wantErr: io.EOF},
		{name: "truncated status line", in: "HTTP/1.1 200 O", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated headers", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", wantErr: io.ErrUnexpectedEOF},
		{name: "missing last chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", wantErr: errMalformed},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.6\r\n", wantErr: errMalformed},
		{name: "HTTP/2 version", in: "HTTP/2.0 200 OK\r\n\r\n", wantErr: errMalformed},
		{name: "two-digit status", in: "HTTP/1.1 20 OK\r\n\r\n", wantErr: errMalformed},
		{name: "status 600", in: "HTTP/1.1 600 Odd\r\n\r\n", wantErr: errMalformed},
		{name: "status glued to reason", in: "HTTP/1.1 200OK\r\n\r\n", wantErr: errMalformed},
		{name: "control byte in reason", in: "HTTP/1.1 200 O\x01K\r\n\r\n", wantErr: errMalformed},
		{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", wantErr: errMalformed},
		{name: "signed content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", wantErr: errMalformed},
		{name: "empty content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", wantErr: errMalformed},
		{name: "two content-lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", wantErr: errMalformed},
		{name: "content-length and chunked", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", wantErr: errMalformed},
		{name: "gzip transfer-encoding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", wantErr: errMalformed},
		{name: "chunked on HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: errMalformed},
		{name: "folded header", in: "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", wantErr: errMalformed},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", wantErr: errMalformed},
		{name: "space in header name", in: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", wantErr: errMalformed},
		{name: "control byte in value", in: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", wantErr: errMalformed},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErr: errMalformed},
		{name: "huge chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", wantErr: errMalformed},
		{name: "chunk without CRLF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n", wantErr: errMalformed},
		{name: "bad trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n", wantErr: errMalformed},
		{name: "forbidden trailer name", in: "HTTP/1.1 200 OK\r\nTrailer: Content-Length\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: errMalformed},
		{name: "switching protocols", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n", wantErr: errMalformed},
		{name: "line too long", in: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", rawReadBuf) + "\r\n\r\n", wantErr: errMalformed},
		{name: "too many headers", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: 1\r\n", rawMaxHeaderLines+1) + "\r\n", wantErr: errMalformed},
		{name: "too many informational", in: strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", rawMaxInformational+1) + "HTTP/1.1 200 OK\r\n\r\n", wantErr: errMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(c.in), rawReadBuf)
			r, err := readResponse(br, nil)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.code != c.code || string(r.body) != c.body || r.length != c.length || r.close != c.close || r.status != c.status {
				t.Errorf("got code %d body %d bytes length %d close %v status %q; want %d, %d, %d, %v, %q",
					r.code, len(r.body), r.length, r.close, r.status, c.code, len(c.body), c.length, c.close, c.status)
			}
			if br.Buffered() != 0 {
				t.Errorf("%d bytes left unread", br.Buffered())
			}
		})
	}
}

// TestReadResponseKeepAlive reads several responses from one stream.
func TestReadResponseKeepAlive(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nc"
	br := bufio.NewReaderSize(strings.NewReader(in), rawReadBuf)
	buf := make([]byte, 0, 16)
	for _, want := range []string{"a", "b", "c"} {
		r, err := readResponse(br, buf[:0])
		if err != nil || string(r.body) != want || r.close {
			t.Fatalf("got %q close %v err %v; want %q", r.body, r.close, err, want)
		}
		buf = r.body
	}
	if _, err := readResponse(br, buf[:0]); err != io.EOF {
		t.Fatalf("after the last response: %v, want io.EOF", err)
	}
}

// rawResult is an outcome with its body copied.
type rawResult struct {
	outcome
	bodyCopy string
}

// runRaw sends n requests at rate through c and returns the outcomes.
func runRaw(t *testing.T, c *rawClient, n uint64, rate, maxInFlight int) []rawResult {
	t.Helper()
	var out []rawResult
	var taken atomic.Uint64
	began := time.Now()
	c.run(rawSchedule{began: began, interval: time.Second / time.Duration(rate), n: n, until: time.Minute,
		maxInFlight: maxInFlight,
		next: func() ([]byte, bool) {
			i := taken.Add(1) - 1
			return []byte(fmt.Sprintf(`{"id":"t-%d"}`, i)), true
		},
		record: func(o outcome) { out = append(out, rawResult{outcome: o, bodyCopy: string(o.body)}) }})
	if uint64(len(out)) != n {
		t.Fatalf("%d outcomes for %d requests", len(out), n)
	}
	return out
}

// countingServer is an httptest server on loopback that counts connections.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newTestRawClient(t *testing.T, base string, timeout time.Duration, maxConns int) *rawClient {
	t.Helper()
	c, err := newRawClient(context.Background(), base+"/v1/transactions", "k", timeout, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// echoHandler checks the request as shopguard would see it and answers
// with the id it received.
func echoHandler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/transactions" || r.Header.Get("Authorization") != "Bearer k" ||
			r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len(body)) || err != nil {
			t.Errorf("bad request %s %s %v %d/%d %v", r.Method, r.URL, r.Header, r.ContentLength, len(body), err)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"echo":%s,"action":"allow","latency_us":7}`, body)
	}
}

func TestRawClientScheduleAndKeepAlive(t *testing.T) {
	srv, conns := countingServer(t, echoHandler(t))
	c := newTestRawClient(t, srv.URL, 5*time.Second, 64)
	const n, rate = 300, 3000
	began := time.Now()
	out := runRaw(t, c, n, rate, 64)
	if wall := time.Since(began); wall < n*time.Second/rate {
		t.Errorf("%d requests at %d/s took only %s", n, rate, wall)
	}
	seen := map[string]bool{}
	for _, o := range out {
		if o.code != 200 || o.err != "" {
			t.Fatalf("outcome %+v", o)
		}
		if o.sent.Before(o.intended) {
			t.Errorf("sent %s before it was due", o.intended.Sub(o.sent))
		}
		if o.latency <= 0 {
			t.Errorf("latency %s", o.latency)
		}
		var resp struct{ Echo struct{ ID string } }
		if err := json.Unmarshal([]byte(o.bodyCopy), &resp); err != nil {
			t.Fatalf("body %q: %v", o.bodyCopy, err)
		}
		seen[resp.Echo.ID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct ids answered, want %d", len(seen), n)
	}
	// Keep-alive: far fewer connections than requests, all dialed by the client.
	if d := c.dials.Load(); d > n/5 || d != conns.Load() {
		t.Errorf("%d dials, %d server connections for %d requests", d, conns.Load(), n)
	}
	// A second run on the same client reuses the idle connections.
	before := c.dials.Load()
	runRaw(t, c, 50, 1000, 64)
	if d := c.dials.Load() - before; d > 2 {
		t.Errorf("second run dialed %d new connections", d)
	}
}

func TestRawClientChunkedAndContentLength(t *testing.T) {
	large := strings.Repeat("z", 100_000)
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Query().Get("mode") {
		case "chunked":
			w.Write([]byte(`{"part":1,`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`"action":"review"}`))
		case "large":
			w.Header().Set("Content-Length", strconv.Itoa(len(large)))
			w.Write([]byte(large))
		default:
			w.Header().Set("Content-Length", "19")
			w.Write([]byte(`{"action":"block"}` + "\n"))
		}
	})
	for _, c := range []struct{ mode, want string }{
		{"chunked", `{"part":1,"action":"review"}`},
		{"length", `{"action":"block"}` + "\n"},
		{"large", large[:rawMaxBody]},
	} {
		t.Run(c.mode, func(t *testing.T) {
			cl, err := newRawClient(context.Background(), srv.URL+"/v1/transactions?mode="+c.mode, "k", time.Second, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.close()
			out := runRaw(t, cl, 20, 1000, 4)
			for _, o := range out {
				if o.code != 200 || o.bodyCopy != c.want {
					t.Fatalf("code %d err %q body %d bytes %.40q", o.code, o.err, len(o.bodyCopy), o.bodyCopy)
				}
			}
			if d := cl.dials.Load(); d > 4 {
				t.Errorf("%d dials: connections not reused", d)
			}
		})
	}
}

func TestRawClientConnectionClose(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Connection", "close")
		w.Write([]byte(`{"action":"allow"}`))
	})
	c := newTestRawClient(t, srv.URL, 2*time.Second, 8)
	const n = 40
	for _, o := range runRaw(t, c, n, 1000, 8) {
		if o.code != 200 || o.bodyCopy != `{"action":"allow"}` {
			t.Fatalf("outcome %+v", o)
		}
	}
	if d := c.dials.Load(); d != n || conns.Load() != n {
		t.Errorf("%d dials, %d server connections; want one per request (%d)", d, conns.Load(), n)
	}
	if idle, open := settled(c); idle != 0 || open != 0 {
		t.Errorf("%d idle, %d open connections after Connection: close answers", idle, open)
	}
}

// TestRawClientIdleClosedByServer: a connection the server closes while
// idle is dropped from the pool, not used for the next request.
func TestRawClientIdleClosedByServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(echoHandler(t))
	srv.Config.IdleTimeout = 30 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestRawClient(t, srv.URL, 2*time.Second, 4)
	for i := 0; i < 3; i++ {
		if o := runRaw(t, c, 1, 1000, 4)[0]; o.code != 200 {
			t.Fatalf("request %d: %+v", i, o)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if d := c.dials.Load(); d != 3 {
		t.Errorf("%d dials, want 3 (one per idle period)", d)
	}
}

func TestRawClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	const timeout = 150 * time.Millisecond
	c := newTestRawClient(t, srv.URL, timeout, 8)
	began := time.Now()
	out := runRaw(t, c, 10, 200, 8)
	for _, o := range out {
		if o.code != 0 || !strings.Contains(o.err, "timeout") || o.latency < timeout {
			t.Errorf("outcome code %d err %q latency %s; want a timeout after %s", o.code, o.err, o.latency, timeout)
		}
	}
	if wall := time.Since(began); wall > 3*time.Second {
		t.Errorf("run took %s: the timeout was not enforced", wall)
	}
	if _, open := settled(c); open != 0 {
		t.Errorf("%d connections still open after timeouts", open)
	}
}

// settled returns c's idle and open connections once no connection is
// closing (a reader retires its connection just after recording the outcome).
func settled(c *rawClient) (idle, open int) {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		idle, open = len(c.idle), c.conns
		c.mu.Unlock()
		if idle == open || time.Now().After(deadline) {
			return idle, open
		}
	}
}

// rawServer answers every request read from a connection with reply.
func rawServer(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(nc, reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestRawClientMalformedResponses(t *testing.T) {
	for _, c := range []struct{ name, reply, want string }{
		{"bad status", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", "malformed HTTP response: bad status code"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", "malformed HTTP response: bad Content-Length"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n", "malformed HTTP response: chunk not followed by CRLF"},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "malformed HTTP response: line not ended by CRLF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := newTestRawClient(t, rawServer(t, c.reply), time.Second, 4)
			const n = 8
			for _, o := range runRaw(t, cl, n, 500, 4) {
				if o.code != 0 || o.err != "raw: "+c.want {
					t.Errorf("code %d err %q; want %q", o.code, o.err, c.want)
				}
			}
			if d := cl.dials.Load(); d != n {
				t.Errorf("%d dials for %d malformed responses: a malformed response must close its connection", d, n)
			}
		})
	}
}

// TestRawClientCaps: -connections caps the connections (requests queue for
// a free one) and -max-workers the requests in flight.
func TestRawClientCaps(t *testing.T) {
	var cur, peak atomic.Int64
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
		}
		io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		w.Write([]byte(`{"action":"allow"}`))
	})
	for _, c := range []struct {
		name              string
		maxConns, maxIn   int
		wantPeak, wantMax int64
	}{
		{"connections", 2, 50, 2, 2},
		{"in flight", 50, 3, 3, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			peak.Store(0)
			before := conns.Load()
			cl := newTestRawClient(t, srv.URL, 5*time.Second, c.maxConns)
			out := runRaw(t, cl, 30, 500, c.maxIn)
			for _, o := range out {
				if o.code != 200 {
					t.Fatalf("outcome %+v", o)
				}
			}
			if p := peak.Load(); p > c.wantPeak {
				t.Errorf("%d requests at the server at once, cap %d", p, c.wantPeak)
			}
			if n := conns.Load() - before; n > c.wantMax {
				t.Errorf("%d connections, cap %d", n, c.wantMax)
			}
			// 30 requests of 20 ms through at most 3 at once cannot keep 500/s: the lag shows it.
			if last := out[len(out)-1]; last.sent.Sub(last.intended) < 0 {
				t.Errorf("negative lag")
			}
		})
	}
}

func TestRawClientLoopbackOnly(t *testing.T) {
	for _, target := range []string{"http://10.0.0.1:80/v1/transactions", "http://example.com:80/v1/transactions",
		"http://[::ffff:8.8.8.8]:80/v1/transactions", "https://127.0.0.1:443/v1/transactions"} {
		if _, err := newRawClient(context.Background(), target, "k", time.Second, 1); err == nil {
			t.Errorf("newRawClient(%q) accepted", target)
		}
	}
	if _, err := newRawClient(context.Background(), "http://127.0.0.1:1/v1/transactions", "k\r\nX-Evil: 1", time.Second, 1); err == nil {
		t.Error("a key with CRLF was accepted")
	}
	// Even if a name resolved elsewhere, the dialer refuses the connection.
	c := newTestRawClient(t, "http://127.0.0.1:1", time.Second, 1)
	c.addr = "192.0.2.1:80"
	o := runRaw(t, c, 1, 100, 1)[0]
	if o.code != 0 || !strings.Contains(o.err, errNotLoopback.Error()) {
		t.Errorf("dial to a public address: code %d err %q", o.code, o.err)
	}
	// And loadtx -client raw refuses a non-loopback target before sending anything.
	o2, err := parseFlags([]string{"-target", "http://192.0.2.1:80", "-key", "k", "-client", "raw", "-duration", "1s", "-warmup", "0s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(o2, io.Discard); !errors.Is(err, errNotLoopback) {
		t.Errorf("run with a public target: %v", err)
	}
	if _, err := parseFlags([]string{"-target", "http://127.0.0.1:1", "-key", "k", "-client", "curl"}, io.Discard); err == nil {
		t.Error("-client curl accepted")
	}
}

// decisionServer answers like shopguard: the decision of each transaction
// (a function of its amount), echoing its id. It keeps every body by id.
type decisionServer struct {
	mu     sync.Mutex
	bodies map[string]transaction
}

func (d *decisionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/readyz" {
		return
	}
	var tx transaction
	if err := json.NewDecoder(r.Body).Decode(&tx); err != nil || r.Header.Get("Authorization") != "Bearer k" {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	tx.CreatedAt = "" // depends on the start time of the run
	if tx.User != nil {
		tx.User.CreatedAt = ""
	}
	d.mu.Lock()
	d.bodies[tx.ID] = tx
	d.mu.Unlock()
	action := "allow"
	switch {
	case tx.AmountMinor < 500:
		action = "review"
	case tx.AmountMinor > 30000:
		action = "block"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"ev_1","kind":"transaction","external_id":%q,"score":1,"action":%q,"reasons":[{"action":"allow"}],"latency_us":42}`, tx.ID, action)
}

// TestRunRawMatchesVegeta runs loadtx in both modes with the same seed and
// run id: the same transactions go out and the reports agree.
func TestRunRawMatchesVegeta(t *testing.T) {
	reports := map[string]Report{}
	bodies := map[string]map[string]transaction{}
	for _, client := range []string{"vegeta", "raw"} {
		d := &decisionServer{bodies: map[string]transaction{}}
		srv := httptest.NewServer(d)
		out := filepath.Join(t.TempDir(), client+".json")
		// A low rate: vegeta under the race detector on a busy machine
		// must still deliver every request within duration + 1 s.
		o, err := parseFlags([]string{"-target", srv.URL, "-key", "k", "-client", client, "-rate", "400",
			"-duration", "3s", "-warmup", "250ms", "-max-requests", "400", "-seed", "3", "-customers", "500",
			"-run-id", "same", "-out", out}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var stdout bytes.Buffer
		procs := runtime.GOMAXPROCS(0)
		if err := run(o, &stdout); err != nil {
			t.Fatalf("%s: %v", client, err)
		}
		if p := runtime.GOMAXPROCS(0); p != procs {
			t.Errorf("%s: GOMAXPROCS %d after the run, %d before", client, p, procs)
		}
		srv.Close()
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Config["client"] != client {
			t.Errorf("config client = %v", rep.Config["client"])
		}
		if client == "raw" && os.Getenv("GOMAXPROCS") == "" && rep.Config["loadtx_gomaxprocs"] != 1.0 {
			t.Errorf("raw mode at 400/s ran with GOMAXPROCS %v, want 1", rep.Config["loadtx_gomaxprocs"])
		}
		m := rep.Measured
		if m.Sent != 400 || m.OK != 400 || rep.Acknowledged != 500 || m.Replayed != 0 || len(m.Errors) != 0 ||
			m.LatencyFromIntended.Count != 400 || m.ScheduleLag.Count != 400 || m.ServerDecision.P50 != 0.042 {
			t.Errorf("%s: measured %+v, acknowledged %d\n%s", client, m, rep.Acknowledged, stdout.String())
		}
		if !strings.Contains(stdout.String(), "cpu (cores of") {
			t.Errorf("%s: no cpu line in\n%s", client, stdout.String())
		}
		reports[client] = rep
		bodies[client] = d.bodies
	}
	v, r := reports["vegeta"], reports["raw"]
	if fmt.Sprint(v.SentByKind) != fmt.Sprint(r.SentByKind) || fmt.Sprint(v.Measured.Actions) != fmt.Sprint(r.Measured.Actions) ||
		fmt.Sprint(v.Measured.ActionsByKind) != fmt.Sprint(r.Measured.ActionsByKind) {
		t.Errorf("reports differ:\nvegeta %v %v %v\nraw    %v %v %v", v.SentByKind, v.Measured.Actions, v.Measured.ActionsByKind,
			r.SentByKind, r.Measured.Actions, r.Measured.ActionsByKind)
	}
	if _, ok := r.Measured.ActionsByKind["unknown"]; ok {
		t.Error("raw mode could not attribute some answers to their traffic kind")
	}
	if len(bodies["raw"]) != 500 || len(bodies["vegeta"]) != 500 {
		t.Fatalf("%d / %d distinct transactions received", len(bodies["vegeta"]), len(bodies["raw"]))
	}
	for id, tx := range bodies["vegeta"] {
		a, _ := json.Marshal(tx)
		b, _ := json.Marshal(bodies["raw"][id])
		if !bytes.Equal(a, b) {
			t.Fatalf("transaction %s differs:\nvegeta %s\nraw    %s", id, a, b)
		}
	}
}

// TestRunRawOverloaded: when -max-workers requests are in flight the raw
// client stops sending on schedule, and the report says so as in vegeta mode.
func TestRunRawOverloaded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			time.Sleep(100 * time.Millisecond)
		}
		w.Write([]byte(`{"action":"allow","latency_us":1}`))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "r.json")
	o, err := parseFlags([]string{"-target", srv.URL, "-key", "k", "-client", "raw", "-rate", "200", "-duration", "500ms",
		"-warmup", "0s", "-workers", "1", "-max-workers", "2", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(o, &stdout); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	m := rep.Measured
	if m.Intended != 100 || m.Sent >= m.Intended || m.Sent == 0 || m.OK != m.Sent || m.MaxInFlight != 2 ||
		!strings.Contains(stdout.String(), "WARNING: the offered rate was not delivered") {
		t.Errorf("sent %d of %d, ok %d, max in flight %d\n%s", m.Sent, m.Intended, m.OK, m.MaxInFlight, stdout.String())
	}
	if m.ScheduleLag.Max < 500 {
		t.Errorf("schedule lag max %.1f ms: the cap did not delay sending", m.ScheduleLag.Max)
	}
}

// FuzzReadResponse checks the raw parser against net/http: whatever it
// accepts, net/http reads the same way (status, body, whether the
// connection closes), and it never keeps more than rawMaxBody bytes.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nerr",
		"HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 04 Dec 2026 22:00:00 GMT\r\nContent-Length: 18\r\n\r\n{\"action\":\"allow\"}",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;e\r\nc\r\n0\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 9\r\n\r\nnot found",
		"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readResponse(bufio.NewReaderSize(bytes.NewReader(data), rawReadBuf), nil)
		if len(r.body) > rawMaxBody || int64(len(r.body)) > max(r.length, 0) {
			t.Fatalf("kept %d bytes of a %d-byte body", len(r.body), r.length)
		}
		if err != nil {
			if !errors.Is(err, errMalformed) && err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("unexpected error type %T %v", err, err)
			}
			return
		}
		if r.code < 200 || r.code > 599 {
			t.Fatalf("final status %d", r.code)
		}
		// net/http must read the same response.
		br := bufio.NewReaderSize(bytes.NewReader(data), rawReadBuf)
		req := &http.Request{Method: http.MethodPost}
		var resp *http.Response
		for {
			resp, err = http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("accepted by readResponse (%d, %q), refused by net/http: %v", r.code, r.body, err)
			}
			if resp.StatusCode >= 200 {
				break
			}
			io.Copy(io.Discard, resp.Body)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("body accepted by readResponse (%q), refused by net/http: %v", r.body, err)
		}
		if resp.StatusCode != r.code || !bytes.Equal(body[:min(len(body), rawMaxBody)], r.body) || int64(len(body)) != r.length {
			t.Fatalf("readResponse %d %q (%d bytes); net/http %d %q", r.code, r.body, r.length, resp.StatusCode, body)
		}
		httpClose := resp.Close || (resp.ContentLength < 0 && len(resp.TransferEncoding) == 0 && r.code != 204 && r.code != 304)
		if r.close != httpClose {
			t.Fatalf("close %v, net/http %v (Close %v, length %d)", r.close, httpClose, resp.Close, resp.ContentLength)
		}
		if (r.code < 200 || r.code >= 400) != (r.status != "") || (r.status != "" && r.status != resp.Status) {
			t.Fatalf("status text %q, net/http %q", r.status, resp.Status)
		}
	})
}

// BenchmarkReadResponse parses a typical decision response (no allocation).
func BenchmarkReadResponse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 04 Dec 2026 22:00:00 GMT\r\nContent-Length: 210\r\n\r\n" +
		`{"id":"ev_0123456789abcdef","kind":"transaction","external_id":"lt-123456","score":12,"action":"allow","reasons":[{"code":"rule:velocity","message":"3 orders in 1h","weight":4}],"rules_version":3,"latency_us":180}`)
	rd := bytes.NewReader(resp)
	br := bufio.NewReaderSize(rd, rawReadBuf)
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		rd.Reset(resp)
		br.Reset(rd)
		r, err := readResponse(br, buf[:0])
		if err != nil || r.code != 200 || len(r.body) != 210 {
			b.Fatalf("%d %d %v", r.code, len(r.body), err)
		}
	}
}
