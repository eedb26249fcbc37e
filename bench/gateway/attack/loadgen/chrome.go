package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// chromeOrder is the order in which Chrome writes the header fields of an
// HTTP/1.1 navigation, as captured from Chromium 156 in shopguard's
// internal/gateway/testdata/headers (the "# order=" lines): Host and
// Connection first, Accept-Encoding and Accept-Language last but for the
// cookies. Client hints are spelled in lower case, as Chrome does over
// HTTP/1.1. Fields not listed go before Accept-Encoding, sorted.
var chromeOrder = []string{
	"Content-Length", "Cache-Control", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform",
	"Upgrade-Insecure-Requests", "Content-Type", "User-Agent", "Origin", "Accept",
	"Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest", "Referer",
}

// chromeTail are the fields Chrome writes last, in this order.
var chromeTail = []string{"Accept-Encoding", "Accept-Language", "Cookie"}

// chromeTransport sends HTTP/1.1 requests over keep-alive connections
// with their header fields in Chrome's order. http.Transport writes Host
// and User-Agent first and the rest sorted, which shopguard's header
// order check tells from a Chrome (internal/gateway/headerorder.go); the
// simulated customers, and the attackers who copy them, must pass for
// Chrome there as they do in the header set. It keeps at most maxConns
// connections to one host, as a browser does over HTTP/1.1, and honours
// the request's context (http.Client's Timeout).
type chromeTransport struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	slots    chan struct{} // one per connection in use
	mu       sync.Mutex
	idle     []*chromeConn
	idleTime time.Duration
}

// chromeConn is one connection of a chromeTransport.
type chromeConn struct {
	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// newChromeTransport returns a transport dialling with dial, at most
// maxConns connections in use at once.
func newChromeTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), maxConns int) *chromeTransport {
	return &chromeTransport{dial: dial, slots: make(chan struct{}, maxConns), idleTime: 30 * time.Second}
}

// RoundTrip sends req and reads the head of its answer; the answer's body
// gives the connection back once read to its end (or closes it if closed
// before).
func (t *chromeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		closeBody(req)
		return nil, ctx.Err()
	}
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			<-t.slots
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(ctx, req.URL.Host)
		if err != nil {
			<-t.slots
			return nil, err
		}
		resp, err := t.exchange(ctx, c, req, body)
		if err == nil {
			return resp, nil
		}
		c.conn.Close()
		if !reused || attempt > 0 || ctx.Err() != nil {
			<-t.slots
			return nil, err
		}
		// A kept connection the server closed meanwhile: once more on a new one.
	}
}

// exchange writes req on c and reads the answer's head.
func (t *chromeTransport) exchange(ctx context.Context, c *chromeConn, req *http.Request, body []byte) (*http.Response, error) {
	if d, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	writeChromeRequest(c.bw, req, body)
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, fmt.Errorf("writing the request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		stop()
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body = &chromeBody{ReadCloser: resp.Body, t: t, c: c, stop: stop, keep: !resp.Close}
	return resp, nil
}

// writeChromeRequest writes req's request line and header fields in
// Chrome's order, and body (a Content-Length of its length unless req
// declares one).
func writeChromeRequest(bw *bufio.Writer, req *http.Request, body []byte) {
	h := req.Header.Clone()
	if h.Get("Content-Length") == "" && (len(body) > 0 || req.Method == http.MethodPost) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(bw, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n", req.Method, req.URL.RequestURI(), host)
	write := func(name string) {
		key := http.CanonicalHeaderKey(name)
		for _, v := range h[key] {
			fmt.Fprintf(bw, "%s: %s\r\n", name, v)
		}
		delete(h, key)
	}
	for _, name := range chromeOrder {
		write(name)
	}
	var rest []string
	for name := range h {
		if !slices.Contains(chromeTail, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		write(name)
	}
	for _, name := range chromeTail {
		write(name)
	}
	bw.WriteString("\r\n")
	bw.Write(body)
}

// get returns an idle connection to host, or a new one.
func (t *chromeTransport) get(ctx context.Context, host string) (*chromeConn, bool, error) {
	t.mu.Lock()
	for len(t.idle) > 0 {
		c := t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		if time.Since(c.idleSince) < t.idleTime {
			t.mu.Unlock()
			return c, true, nil
		}
		c.conn.Close()
	}
	t.mu.Unlock()
	conn, err := t.dial(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	return &chromeConn{conn: conn, br: bufio.NewReader(conn), bw: bufio.NewWriter(conn)}, false, nil
}

// CloseIdleConnections closes the connections not in use.
func (t *chromeTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		c.conn.Close()
	}
}

// chromeBody is an answer's body: read to its end, it gives its
// connection back for the next request.
type chromeBody struct {
	io.ReadCloser
	t    *chromeTransport
	c    *chromeConn
	stop func() bool
	keep bool // the server keeps the connection open
	once sync.Once
	eof  bool
}

func (b *chromeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
		b.release()
	}
	return n, err
}

// Close ends the answer; its connection is closed unless it was read to
// its end.
func (b *chromeBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// release hands the connection back (or closes it) and frees its slot.
func (b *chromeBody) release() {
	b.once.Do(func() {
		b.stop()
		if b.keep && b.eof && b.c.br.Buffered() == 0 {
			b.c.conn.SetDeadline(time.Time{})
			b.c.idleSince = time.Now()
			b.t.mu.Lock()
			b.t.idle = append(b.t.idle, b.c)
			b.t.mu.Unlock()
		} else {
			b.c.conn.Close()
		}
		<-b.t.slots
	})
}

// closeBody closes req's body, if any.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
