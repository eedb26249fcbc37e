package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/shopguard/shopguard/internal/http1"
)

// upstreamPool forwards requests to a plain-HTTP shop over keep-alive
// HTTP/1.1 connections that are written and read on the request's own
// goroutine. http.Transport runs a read and a write goroutine per
// connection and hands every request between them over channels; on a
// proxy that answers tens of thousands of requests a second that
// machinery cost more CPU than the forwarding itself (see
// bench/gateway/README.md). Requests it does not take (upgrades, trailers)
// and shops reached over HTTPS or under a path go through
// httputil.ReverseProxy instead.
type upstreamPool struct {
	addr    string // host:port
	host    string // Host of a request that named none
	dialer  net.Dialer
	timeout time.Duration // for the response's headers (0: none)
	maxIdle int
	buffers *copyBuffers // for chunked request bodies
	// probeAfter: a connection idle longer than this is checked before
	// use (the shop may have closed it meanwhile); one reused sooner is
	// not.
	probeAfter time.Duration

	mu     sync.Mutex
	idle   []*upstreamConn // most recently used last
	closed bool
}

// upstreamConn is one connection to the shop.
type upstreamConn struct {
	conn      net.Conn
	io        upstreamIO // what br reads and bw writes
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	reused    bool
	resp      http1.Response // the answer being read (one per connection: it carries one at a time)
	head      []byte         // scratch space for reading answer heads
}

// maxAnswerHead is the most the shop's answer head may take.
const maxAnswerHead = 64 << 10

// defaultProbeAfter is upstreamPool.probeAfter.
const defaultProbeAfter = time.Second

// newUpstreamPool returns a pool for u, or nil if u is not a plain-HTTP
// base URL at the root (then httputil.ReverseProxy forwards).
func newUpstreamPool(u *url.URL, timeout time.Duration, buffers *copyBuffers) *upstreamPool {
	if u.Scheme != "http" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil || u.Host == "" {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &upstreamPool{addr: addr, host: u.Host, timeout: timeout, maxIdle: 256, buffers: buffers, probeAfter: defaultProbeAfter,
		dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}}
}

// takes reports whether the pool can forward r: not a protocol upgrade
// (WebSocket), not a CONNECT, and no request trailers.
func (p *upstreamPool) takes(r *http.Request) bool {
	return p != nil && len(r.Trailer) == 0 && r.Header["Upgrade"] == nil && r.Method != http.MethodConnect
}

// get returns an idle connection that is still open, or a new one.
func (p *upstreamPool) get(ctx context.Context) (*upstreamConn, error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if time.Since(c.idleSince) < p.probeAfter {
			c.reused = true
			return c, nil
		}
		if !c.io.rd.At().IsZero() {
			c.io.liftDeadline = false
			c.io.rd.Set(time.Time{}) // a deadline past would fail the probe
		}
		if c.br.Buffered() == 0 && stillOpen(c.conn) {
			c.reused = true
			return c, nil
		}
		c.conn.Close()
	}
	conn, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", p.addr, err)
	}
	c := &upstreamConn{conn: http1.RawIO(conn)}
	c.io.conn, c.io.rd = c.conn, http1.NewReadDeadline(c.conn)
	c.br, c.bw = bufio.NewReaderSize(&c.io, 4096), bufio.NewWriterSize(&c.io, 4096)
	return c, nil
}

// maxHeld is the most of a request upstreamIO holds back.
const maxHeld = 8 << 10

// upstreamIO is a connection to the shop as the pool's reader and writer
// see it. The last write of a request is held back until its answer is
// read, so that one call writes it and waits for the answer
// (http1.WriteThenRead), without a read that would find nothing yet. It
// also lifts the deadline for the answer's head once the head is read, on
// the first read after it (most answers are read whole with their head).
type upstreamIO struct {
	conn net.Conn
	held []byte
	rd   http1.ReadDeadline
	// liftDeadline: the read deadline for the answer's head is still set
	// and the head has been read.
	liftDeadline bool
}

// Write holds p back, after writing what was held before.
func (u *upstreamIO) Write(p []byte) (int, error) {
	if err := u.flush(); err != nil {
		return 0, err
	}
	if len(p) > maxHeld {
		return u.conn.Write(p)
	}
	u.held = append(u.held[:0], p...)
	return len(p), nil
}

// flush writes what is held back.
func (u *upstreamIO) flush() error {
	if len(u.held) == 0 {
		return nil
	}
	_, err := u.conn.Write(u.held)
	u.held = u.held[:0]
	return err
}

// Read writes what is held back and reads the answer.
func (u *upstreamIO) Read(p []byte) (int, error) {
	if u.liftDeadline {
		u.liftDeadline = false
		u.rd.Set(time.Time{})
	}
	if len(u.held) == 0 {
		return u.conn.Read(p)
	}
	held := u.held
	u.held = u.held[:0]
	_, n, err := http1.WriteThenRead(u.conn, held, p)
	return n, err
}

// put returns c for reuse, closing the least recently used connection
// when the pool is full.
func (p *upstreamPool) put(c *upstreamConn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.conn.Close()
		return
	}
	var evicted *upstreamConn
	if len(p.idle) >= p.maxIdle {
		evicted = p.idle[0]
		copy(p.idle, p.idle[1:])
		p.idle = p.idle[:len(p.idle)-1]
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	if evicted != nil {
		evicted.conn.Close()
	}
}

// close closes the idle connections; connections in use close when
// their requests end.
func (p *upstreamPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.conn.Close()
	}
}

// errBodyNotSent wraps an error reading the client's body while sending it
// to the shop: the request never reached the shop whole.
type errBodyNotSent struct{ err error }

func (e errBodyNotSent) Error() string { return "reading the request body: " + e.err.Error() }
func (e errBodyNotSent) Unwrap() error { return e.err }

// roundTrip sends r to the shop over c, with the gateway's headers from
// set, and reads the answer's headers. An error before the shop's answer
// began on a reused connection, for a request without a body, is retried
// once on a new connection: the shop may have closed the idle connection
// just as the request went out.
func (p *upstreamPool) roundTrip(r *http.Request, headers func(set func(name, value string))) (*upstreamConn, *http1.Response, error) {
	for attempt := 0; ; attempt++ {
		c, err := p.get(r.Context())
		if err != nil {
			return nil, nil, err
		}
		resp, err := p.exchange(c, r, headers)
		if err == nil {
			return c, resp, nil
		}
		c.conn.Close()
		var body errBodyNotSent
		if attempt > 0 || !c.reused || errors.As(err, &body) || hasBody(r) || !retryable(err) {
			return nil, nil, err
		}
	}
}

// hasBody reports whether r has a body to send.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// retryable reports whether err means the shop closed the connection
// without reading the request or answering it.
func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes r to c and reads the response's headers (skipping
// informational answers such as 100 Continue).
func (p *upstreamPool) exchange(c *upstreamConn, r *http.Request, headers func(set func(name, value string))) (*http1.Response, error) {
	if err := p.writeRequest(c.bw, r, headers); err != nil {
		return nil, err
	}
	if p.timeout > 0 {
		c.io.liftDeadline = false
		c.io.rd.In(p.timeout) // or the deadline left from the last answer, if close enough
	}
	for {
		var err error
		c.head, err = http1.ReadResponse(c.br, c.head, r.Method, maxAnswerHead, &c.resp)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: reading the answer: %w", p.addr, err)
		}
		resp := &c.resp
		if resp.StatusCode >= 200 {
			c.io.liftDeadline = p.timeout > 0 // before the body is read from the connection
			return resp, nil
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("upstream %s: switched protocols unasked", p.addr)
		}
	}
}

// writeRequest writes r's request line, its headers less the hop-by-hop
// ones and those only the gateway sets, the gateway's headers and the
// body (with a Content-Length, or chunked when its length is unknown).
func (p *upstreamPool) writeRequest(bw *bufio.Writer, r *http.Request, headers func(set func(name, value string))) error {
	host := r.Host
	if host == "" {
		host = p.host
	}
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(r.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	listed := r.Header["Connection"]
	for name, values := range r.Header {
		if hopByHop(name) || isGatewayHeader(name) || len(listed) > 0 && http1.HasToken(listed, name) {
			continue
		}
		for _, v := range values {
			writeHeaderLine(bw, name, v)
		}
	}
	headers(func(name, value string) {
		if httpguts.ValidHeaderFieldValue(value) {
			writeHeaderLine(bw, name, value)
		}
	})
	chunked := false
	switch {
	case hasBody(r) && r.ContentLength > 0:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(r.ContentLength, 10))
		bw.WriteString("\r\n")
	case hasBody(r):
		chunked = true
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch:
		bw.WriteString("Content-Length: 0\r\n")
	}
	bw.WriteString("\r\n")
	if hasBody(r) {
		if err := p.writeBody(bw, r, chunked); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("upstream %s: writing the request: %w", p.addr, err)
	}
	return nil
}

// writeBody copies r's body to bw, chunked or exactly ContentLength bytes.
// An error reading the body is an errBodyNotSent.
func (p *upstreamPool) writeBody(bw *bufio.Writer, r *http.Request, chunked bool) error {
	var dst io.Writer = bw
	var cw io.WriteCloser
	if chunked {
		cw = httputil.NewChunkedWriter(bw)
		dst = cw
	}
	var chunk []byte
	if chunked {
		chunk = p.buffers.Get()
		defer p.buffers.Put(chunk)
	}
	left := r.ContentLength
	for chunked || left > 0 {
		buf := chunk
		if !chunked { // read straight into the writer's free space
			if bw.Available() == 0 {
				if err := bw.Flush(); err != nil {
					return fmt.Errorf("upstream %s: writing the request: %w", p.addr, err)
				}
			}
			buf = bw.AvailableBuffer()
			buf = buf[:min(int64(cap(buf)), left)]
		}
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			left -= int64(n)
			if _, err := dst.Write(buf[:n]); err != nil {
				return fmt.Errorf("upstream %s: writing the request: %w", p.addr, err)
			}
		}
		switch {
		case rerr == io.EOF && chunked:
			if err := cw.Close(); err != nil {
				return fmt.Errorf("upstream %s: writing the request: %w", p.addr, err)
			}
			bw.WriteString("\r\n")
			return nil
		case rerr == io.EOF && left > 0:
			return errBodyNotSent{io.ErrUnexpectedEOF}
		case rerr != nil && rerr != io.EOF:
			return errBodyNotSent{rerr}
		}
	}
	return nil
}

// writeHeaderLine writes "name: value\r\n".
func writeHeaderLine(bw *bufio.Writer, name, value string) {
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(value)
	bw.WriteString("\r\n")
}

// hopByHop reports whether the canonical header name is a hop-by-hop
// header (RFC 9110, section 7.6.1), or one the forwarder writes itself.
func hopByHop(name string) bool {
	switch name {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host", "Expect":
		return true
	}
	return false
}

// isGatewayHeader reports whether name is one of gatewayHeaders.
func isGatewayHeader(name string) bool {
	if len(name) < 9 || name[0] != 'X' && name[0] != 'F' {
		return false
	}
	for _, h := range gatewayHeaders {
		if name == h {
			return true
		}
	}
	return false
}

// forward sends r to the shop through the pool and copies the answer to
// w, streaming it (each read flushed at once when its length is unknown
// or it is an event stream).
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, st *requestState) {
	c, resp, err := g.upstream.roundTrip(r, func(set func(name, value string)) { g.upstreamHeaders(r, st, set) })
	if err != nil {
		g.failed(w, r, st, err)
		return
	}
	if err := g.responded(st, resp.StatusCode); err != nil {
		c.conn.Close()
		g.failed(w, r, st, err)
		return
	}
	h := w.Header()
	listed := resp.Header["Connection"]
	for name, values := range resp.Header {
		if name != "Content-Length" && hopByHop(name) || len(listed) > 0 && http1.HasToken(listed, name) {
			continue
		}
		h[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	flush := resp.ContentLength < 0 && resp.Body != http.NoBody || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	buf := g.buffers.Get()
	defer g.buffers.Put(buf)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				c.conn.Close() // the client went away; the rest of the answer is unread
				return
			}
			if flush {
				http.NewResponseController(w).Flush()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			c.conn.Close()
			g.log.Warn("upstream answer cut off", "method", r.Method, "path", r.URL.Path, "error", rerr)
			panic(http.ErrAbortHandler) // the client must not take a truncated answer for a whole one
		}
	}
	if resp.Close {
		c.conn.Close()
		return
	}
	g.upstream.put(c)
}
