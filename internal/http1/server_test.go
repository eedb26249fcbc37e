package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// start serves h on a loopback port until the test ends and returns the
// address.
func start(t *testing.T, h http.Handler, change func(*Server)) (string, *Server) {
	t.Helper()
	s := &Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10}
	if change != nil {
		change(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), s
}

// dial opens a raw connection to addr with a deadline.
func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// echo answers with the method, target, host, body and the header
// fields it was asked about.
func echo(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "%s %s host=%s body=%q x=%q order=%s", r.Method, r.RequestURI, r.Host, b, r.Header["X"], strings.Join(HeaderOrder(r), ","))
}

// TestParseRefusals: requests that are malformed or could smuggle a
// second request past the shop are refused with the right status and
// the connection is closed; the handler never sees them.
func TestParseRefusals(t *testing.T) {
	var served atomic.Int32
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1); echo(w, r) }), nil)
	for _, c := range []struct {
		name, req string
		status    int
	}{
		{"chunked and a length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
		{"coding other than chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"two codings", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		{"coding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"signed length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400},
		{"listed lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
		{"differing lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", 400},
		{"folded line", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  2\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"no host in 1.1", "GET / HTTP/1.1\r\nX: 1\r\n\r\n", 400},
		{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"version 2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"garbled version", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400},
		{"method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"control byte in target", "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400},
		{"headers too large", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 9<<10) + "\r\n\r\n", 431},
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", 417},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, br := dial(t, addr)
			io.WriteString(conn, c.req)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !resp.Close {
				t.Errorf("status %d close %v, want %d and close", resp.StatusCode, resp.Close, c.status)
			}
			if b, err := br.ReadByte(); err == nil { // EOF, or a reset when the refused request was not read whole
				t.Errorf("connection still open after the refusal: read %q", b)
			}
		})
	}
	if n := served.Load(); n != 0 {
		t.Errorf("the handler saw %d refused requests", n)
	}
}

// TestKeepAliveAndBodies: several requests on one connection, pipelined,
// with bodies of known length, chunked ones with trailers, and identical
// duplicate lengths; the answers come in order, and HeaderOrder keeps the
// client's order and spelling.
func TestKeepAliveAndBodies(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(echo), nil)
	conn, br := dial(t, addr)
	io.WriteString(conn, "GET /a?q=1 HTTP/1.1\r\nhost: shop\r\nx: 1\r\nUser-Agent: t\r\nX: 2\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"+
		"POST /c HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"+
		"\r\nGET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /e HTTP/1.0\r\n\r\n")
	want := []string{
		`GET /a?q=1 host=shop body="" x=["1" "2"] order=host,x,User-Agent,X`,
		`POST /b host=shop body="hello" x=[] order=Host,Content-Length,Content-Length`,
		`POST /c host=shop body="abcde" x=[] order=Host,Transfer-Encoding`,
		`GET /d host= body="" x=[] order=Connection`,
		`GET /e host= body="" x=[] order=`,
	}
	for i, w := range want {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != w || resp.StatusCode != 200 {
			t.Errorf("answer %d: %d %q, want %q", i, resp.StatusCode, b, w)
		}
		if last := i == len(want)-1; resp.Close != last {
			t.Errorf("answer %d: close %v (HTTP/1.0 without keep-alive closes, the others keep alive)", i, resp.Close)
		}
		if i == 3 && resp.Header.Get("Connection") != "keep-alive" {
			t.Errorf("HTTP/1.0 keep-alive answered with Connection %q", resp.Header.Get("Connection"))
		}
	}
}

// TestAnswers: how bodies are framed (a short one with a Content-Length,
// a long one chunked, nothing for HEAD, 204 and 304, the connection's end
// for an HTTP/1.0 client), and header values cannot inject fields.
func TestAnswers(t *testing.T) {
	long := strings.Repeat("x", 10000)
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short":
			io.WriteString(w, "short")
		case "/long":
			io.WriteString(w, long[:5000])
			io.WriteString(w, long[5000:])
		case "/declared":
			w.Header().Set("Content-Length", "4")
			io.WriteString(w, "four")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/inject":
			w.Header().Set("X-A", "1\r\nX-Evil: 2")
			w.Header()["Bad Name"] = []string{"3"}
		}
	}), nil)
	for _, c := range []struct {
		req                    string
		status                 int
		body                   string
		length                 int64
		chunked, close         bool
		absentHeader, hasValue string
	}{
		{"GET /short HTTP/1.1\r\nHost: a\r\n\r\n", 200, "short", 5, false, false, "", ""},
		{"GET /long HTTP/1.1\r\nHost: a\r\n\r\n", 200, long, -1, true, false, "", ""},
		{"HEAD /declared HTTP/1.1\r\nHost: a\r\n\r\n", 200, "", 4, false, false, "", ""},
		{"GET /declared HTTP/1.1\r\nHost: a\r\n\r\n", 200, "four", 4, false, false, "", ""},
		{"GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n", 204, "", 0, false, false, "", ""},
		{"GET /long HTTP/1.0\r\n\r\n", 200, long, -1, false, true, "", ""},
		{"GET /inject HTTP/1.1\r\nHost: a\r\n\r\n", 200, "", 0, false, false, "X-Evil", "1 X-Evil: 2"},
	} {
		t.Run(strings.Fields(c.req)[1]+" "+strings.Fields(c.req)[0], func(t *testing.T) {
			conn, br := dial(t, addr)
			io.WriteString(conn, c.req)
			method := strings.Fields(c.req)[0]
			resp, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			chunked := len(resp.TransferEncoding) > 0
			if err != nil || resp.StatusCode != c.status || string(b) != c.body || resp.ContentLength != c.length || chunked != c.chunked || resp.Close != c.close {
				t.Errorf("%d len %d chunked %v close %v body %d bytes (%v)", resp.StatusCode, resp.ContentLength, chunked, resp.Close, len(b), err)
			}
			if c.absentHeader != "" && (resp.Header.Get(c.absentHeader) != "" || resp.Header.Get("X-A") != c.hasValue || resp.Header.Get("Bad Name") != "") {
				t.Errorf("header injected: %v", resp.Header)
			}
		})
	}
}

// TestContentTypeSniffed: as with net/http, an answer whose handler named
// no type gets one from its first bytes, unless the handler set the key
// to nothing; a 204 gets none.
func TestContentTypeSniffed(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			io.WriteString(w, "<!DOCTYPE html><title>x</title>")
		case "/text":
			io.WriteString(w, "plain words")
		case "/untyped":
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		}
	}), nil)
	for path, want := range map[string]string{"/html": "text/html; charset=utf-8", "/text": "text/plain; charset=utf-8", "/untyped": "", "/nocontent": ""} {
		conn, br := dial(t, addr)
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, ok := resp.Header["Content-Type"]; resp.Header.Get("Content-Type") != want || want == "" && ok {
			t.Errorf("%s: Content-Type %q, want %q", path, resp.Header.Get("Content-Type"), want)
		}
	}
}

// TestExpectContinue: the client hears 100 Continue when the handler
// reads the body, not before.
func TestExpectContinue(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(echo), nil)
	conn, br := dial(t, addr)
	io.WriteString(conn, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	br.ReadString('\n')
	io.WriteString(conn, "abc")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `body="abc"`) {
		t.Errorf("answer %q", b)
	}
}

// TestUnreadBody: a body the handler left unread is skipped when short
// (the connection carries the next request) and ends the connection when
// long.
func TestUnreadBody(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) }), nil)
	for _, c := range []struct {
		size  int
		reuse bool
	}{{1000, true}, {maxDrain + 1000, false}} {
		conn, br := dial(t, addr)
		go fmt.Fprintf(conn, "POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%sGET /second HTTP/1.1\r\nHost: a\r\n\r\n", c.size, strings.Repeat("b", c.size))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp, err = http.ReadResponse(br, nil)
		if c.reuse && (err != nil || resp.StatusCode != 200) {
			t.Errorf("%d bytes unread: second request %v", c.size, err)
		}
		if !c.reuse && err == nil {
			t.Errorf("%d bytes unread: the connection carried a second request", c.size)
		}
	}
}

// TestClientGoneWhileWaiting: a handler waiting on its request's context
// learns that the client went away.
func TestClientGoneWhileWaiting(t *testing.T) {
	gone := make(chan error, 1)
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			gone <- r.Context().Err()
		case <-time.After(5 * time.Second):
			gone <- errors.New("not told")
		}
	}), nil)
	conn, _ := dial(t, addr)
	io.WriteString(conn, "GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Errorf("the handler heard %v, want context.Canceled", err)
	}
}

// TestPanics: a handler's panic closes its connection and nothing else.
func TestPanics(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "ok")
	}), nil)
	conn, br := dial(t, addr)
	io.WriteString(conn, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Error("a panicking handler's connection answered")
	}
	conn, br = dial(t, addr)
	io.WriteString(conn, "GET /fine HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("after a panic: %v", err)
	}
}

// TestTimeouts: a head that arrives too slowly gets 408; a keep-alive
// connection idle past IdleTimeout is closed.
func TestTimeouts(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(echo), func(s *Server) {
		s.ReadHeaderTimeout, s.IdleTimeout = 200*time.Millisecond, 300*time.Millisecond
	})
	conn, br := dial(t, addr)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow head: %v %v", resp, err)
	}
	conn, br = dial(t, addr)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	began := time.Now()
	if _, err := br.ReadByte(); err != io.EOF || time.Since(began) > 3*time.Second {
		t.Errorf("idle connection: %v after %v", err, time.Since(began))
	}
}

// TestReadTimeout: a body still arriving ReadTimeout after its request
// began fails the handler's read.
func TestReadTimeout(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(echo), func(s *Server) { s.ReadTimeout = 300 * time.Millisecond })
	conn, br := dial(t, addr)
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf!")
	began := time.Now()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || time.Since(began) > 3*time.Second {
		t.Errorf("status %d after %v, want the handler's 400 once the read timed out", resp.StatusCode, time.Since(began))
	}
}

// TestShutdownFinishesRequests: Shutdown lets a request in progress
// finish and closes idle connections.
func TestShutdownFinishesRequests(t *testing.T) {
	release := make(chan struct{})
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "done")
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	idle, idleBr := dial(t, ln.Addr().String())
	io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, err := http.ReadResponse(idleBr, nil); err != nil {
		t.Fatal(err)
	} else {
		io.ReadAll(resp.Body)
	}
	busy, busyBr := dial(t, ln.Addr().String())
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if _, err := idleBr.ReadByte(); err != io.EOF {
		t.Errorf("idle connection during shutdown: %v", err)
	}
	close(release)
	resp, err := http.ReadResponse(busyBr, nil)
	if err != nil {
		t.Fatalf("the busy request was cut: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "done" || !resp.Close {
		t.Errorf("busy request: %q close %v", b, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}

// TestHeadDeadline: a request's head must arrive within ReadHeaderTimeout
// of its first byte, even on a keep-alive connection whose idle timeout is
// far longer and when empty lines come first; a head read whole at once
// leaves its deadline in place, which must not cut off what reads the
// connection during the request (the watch for a client gone, a
// hijacked connection).
func TestHeadDeadline(t *testing.T) {
	const headTimeout = 150 * time.Millisecond
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/wait-then-watch":
			time.Sleep(3 * headTimeout)
			select {
			case <-r.Context().Done():
				io.WriteString(w, "told")
			case <-time.After(5 * time.Second):
				io.WriteString(w, "not told")
			}
		case "/hijack-later":
			time.Sleep(2 * headTimeout)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			defer conn.Close()
			line, err := brw.ReadString('\n')
			if err != nil {
				t.Errorf("reading the hijacked connection: %v", err)
				return
			}
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(line))+"\r\n\r\n"+line)
		default:
			io.WriteString(w, "ok")
		}
	})
	addr, _ := start(t, handler, func(s *Server) { s.ReadHeaderTimeout, s.IdleTimeout = headTimeout, 10*time.Second })

	slowHeads := []struct{ name, first, rest string }{
		{"head in pieces", "GET / HTTP/1.1\r\n", "Host: a\r\n\r\n"},
		{"empty lines, then part of a head", "\r\n\r\nGET / HTTP/1.1\r\n", "Host: a\r\n\r\n"},
	}
	for _, tc := range slowHeads {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := dial(t, addr)
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
				t.Fatalf("first request: %v %v", resp, err)
			} else {
				io.ReadAll(resp.Body)
			}
			began := time.Now()
			io.WriteString(conn, tc.first) // the rest never comes
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("slow head: %v %v", resp, err)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Errorf("408 after %v: the idle timeout, not the head's, applied", took)
			}
		})
	}
	t.Run("client gone after the head's deadline", func(t *testing.T) {
		conn, br := dial(t, addr)
		io.WriteString(conn, "GET /wait-then-watch HTTP/1.1\r\nHost: a\r\n\r\n")
		time.Sleep(4 * headTimeout) // the handler watches from 3× on
		conn.(*net.TCPConn).CloseWrite()
		// The handler is told the client went away (its answer is not read).
		if resp, err := http.ReadResponse(br, nil); err == nil {
			b, _ := io.ReadAll(resp.Body)
			if string(b) == "not told" {
				t.Error("the watch for a client gone ran into the head's deadline")
			}
		}
	})
	t.Run("hijacked after the head's deadline", func(t *testing.T) {
		conn, br := dial(t, addr)
		io.WriteString(conn, "GET /hijack-later HTTP/1.1\r\nHost: a\r\n\r\n")
		time.Sleep(4 * headTimeout)
		io.WriteString(conn, "ping\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer from the hijacked connection: %v", err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "ping\n" {
			t.Errorf("hijacked connection answered %q, want the line sent", b)
		}
	})
}

// TestAnswerHeadersDoNotCarryOver: the answers on one keep-alive
// connection share a header map, emptied for each: no field of one
// answer appears in the next.
func TestAnswerHeadersDoNotCarryOver(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(w.Header()) != 0 {
			t.Errorf("request %s: the handler found fields already set: %v", r.URL.Path, w.Header())
		}
		w.Header().Set("X-Path", r.URL.Path)
		if r.URL.Path == "/first" {
			w.Header().Set("X-Only-First", "1")
		}
		io.WriteString(w, "ok")
	}), nil)
	conn, br := dial(t, addr)
	for _, path := range []string{"/first", "/second"} {
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		if got := resp.Header.Get("X-Path"); got != path {
			t.Errorf("%s: X-Path %q", path, got)
		}
		if _, ok := resp.Header["X-Only-First"]; ok != (path == "/first") {
			t.Errorf("%s: X-Only-First present = %v", path, ok)
		}
	}
}
