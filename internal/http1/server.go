// Package http1 serves HTTP/1.1 and HTTP/1.0 to an http.Handler on one
// goroutine per connection: the request head is parsed by hand into one
// string per request, the handler runs on the connection's goroutine, and
// nothing watches the connection while the handler runs unless the
// handler asks (by waiting on its request's context). net/http starts a
// background read per request and hands requests between goroutines; on
// the gateway, which answers tens of thousands of requests a second on two
// cores, that machinery cost a fifth of the CPU (bench/gateway/README.md).
// It also keeps the order in which the client sent its header fields
// (HeaderOrder), which net/http's map loses and which tells browsers from
// the scripts imitating them.
//
// TLS connections that negotiate HTTP/2 are handed to a net/http server
// (Server.HTTP2). The parser refuses what could smuggle a request past
// the shop: a Transfer-Encoding other than one chunked, one beside a
// Content-Length, differing Content-Lengths, obsolete line folding, a
// space before a header's colon, several Hosts or none in HTTP/1.1.
package http1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Server serves HTTP/1.x connections to Handler.
type Server struct {
	// Handler answers every request.
	Handler http.Handler
	// ReadHeaderTimeout bounds reading a request's head (and a TLS
	// handshake); IdleTimeout the wait for the next request on a
	// keep-alive connection (0: ReadHeaderTimeout).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// ReadTimeout, when set, bounds reading a whole request, body
	// included, from the start of its head; WriteTimeout writing its
	// answer, from the end of its head (as in http.Server).
	ReadTimeout, WriteTimeout time.Duration
	// MaxHeaderBytes bounds a request's head, request line included
	// (0: 1 MiB); beyond it the answer is 431.
	MaxHeaderBytes int
	// ConnContext, when set, returns the context of a new connection's
	// requests (as http.Server.ConnContext).
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// HTTP2 serves the TLS connections that negotiated "h2" (nil: they
	// are closed). Serve runs it on a listener of its own.
	HTTP2 *http.Server
	// Log receives handler panics (nil: discarded).
	Log *slog.Logger

	mu        sync.Mutex
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	h2        *chanListener
	h2done    chan struct{}
	closing   atomic.Bool
}

// Serve accepts connections on ln and serves each on its own goroutine
// until Shutdown, then returns http.ErrServerClosed; it returns other
// errors of ln.Accept as they are.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners, s.conns = map[net.Listener]struct{}{}, map[*conn]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	if s.HTTP2 != nil && s.h2 == nil {
		s.h2 = &chanListener{addr: ln.Addr(), ch: make(chan net.Conn), closed: make(chan struct{})}
		s.h2done = make(chan struct{})
		go func() { defer close(s.h2done); s.HTTP2.Serve(s.h2) }()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		rwc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			if !transient(err) {
				return err
			}
			// Out of descriptors, a connection aborted before it was
			// accepted: wait a little and go on, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := &conn{srv: s, rwc: RawIO(rwc)}
		if !s.track(c) {
			rwc.Close()
			return http.ErrServerClosed
		}
		go c.serve()
	}
}

// transient reports whether an Accept error passes: the process is out of
// descriptors or memory for a moment, or a client gave up before its
// connection was accepted.
func transient(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Shutdown stops accepting, closes idle connections, lets each busy one
// finish its request and close, and returns when none is left or ctx ends
// (then ctx's error). The HTTP/2 server is shut down alongside.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		ln.Close()
	}
	h2 := s.h2
	s.mu.Unlock()
	var h2err error
	if h2 != nil {
		h2.Close()
		h2err = s.HTTP2.Shutdown(ctx)
		<-s.h2done
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			if c.state.Load() == stateIdle {
				c.rwc.Close()
			}
		}
		s.mu.Unlock()
		if n == 0 {
			return h2err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// track adds c to the open connections (false once shutting down).
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// untrack removes c.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handoff gives an HTTP/2 connection to the HTTP/2 server.
func (s *Server) handoff(c net.Conn) bool {
	s.mu.Lock()
	h2 := s.h2
	s.mu.Unlock()
	if h2 == nil {
		return false
	}
	select {
	case h2.ch <- c:
		return true
	case <-h2.closed:
		return false
	}
}

// chanListener is the HTTP/2 server's listener: connections handed over.
type chanListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// Connection states, for Shutdown.
const (
	stateActive int32 = iota
	stateIdle
)

// defaultMaxHeaderBytes is MaxHeaderBytes when zero.
const defaultMaxHeaderBytes = 1 << 20

// maxDrain is the most of an unread request body read past after the
// handler returned to keep the connection; a longer rest closes it.
const maxDrain = 256 << 10

// conn is one client connection.
type conn struct {
	srv    *Server
	rwc    net.Conn
	remote string
	tls    *tls.ConnectionState
	br     *bufio.Reader
	bw     *bufio.Writer
	state  atomic.Int32
	// base carries the connection's context; each request is a copy.
	base *http.Request
	// headBuf holds the bytes of the head being read; order the field
	// names of the current request as sent.
	headBuf []byte
	order   []string
	body    *body // the current request's (nil: none)

	hijacked bool

	// The watch for a client that goes away while its request is served
	// (see requestCtx). mu guards the fields below.
	mu        sync.Mutex
	inHandler bool
	// watchExpired: the watch ran into the request's own read deadline
	// (ReadTimeout): not started again for this request.
	watchExpired bool
	watching     bool
	watchEnded   chan struct{}
	gone         chan struct{}
	goneClosed   bool
	peek         [1]byte
	hasPeeked    bool         // peek[0] was read by the watch and not yet by the parser
	header       http.Header  // the current answer's (see serveOne)
	rd           ReadDeadline // set under mu
	// staleDeadline: the read deadline set for the request's head is
	// still set (see serveOne).
	staleDeadline bool
}

// connKey keys the *conn in its requests' contexts.
type connKey struct{}

// HeaderOrder returns the names of r's header fields in the order the
// client sent them, as it spelled them (Host included), or nil for a
// request not served by a Server. Valid while r is being served.
func HeaderOrder(r *http.Request) []string {
	if c, ok := r.Context().Value(connKey{}).(*conn); ok {
		return c.order
	}
	return nil
}

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

func (c *conn) serve() {
	defer func() {
		if !c.hijacked {
			c.rwc.Close()
			if c.br != nil {
				c.br.Reset(nil)
				readerPool.Put(c.br)
				c.bw.Reset(nil)
				writerPool.Put(c.bw)
			}
		}
		c.srv.untrack(c)
	}()
	c.remote = c.rwc.RemoteAddr().String()
	if tc, ok := c.rwc.(*tls.Conn); ok {
		if d := c.srv.ReadHeaderTimeout; d > 0 {
			tc.SetDeadline(time.Now().Add(d))
		}
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		if st.NegotiatedProtocol == "h2" {
			c.hijacked = c.srv.handoff(c.rwc) // not closed here when handed over
			return
		}
		c.tls = &st
	}
	c.rd = NewReadDeadline(c.rwc)
	ctx := context.Background()
	if cc := c.srv.ConnContext; cc != nil {
		ctx = cc(ctx, c.rwc)
	}
	ctx = context.WithValue(ctx, connKey{}, c)
	c.base = (&http.Request{}).WithContext(&requestCtx{Context: ctx, c: c})
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(connReader{c})
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(c.rwc)
	for first := true; c.serveOne(first); first = false {
	}
}

// serveOne reads one request and answers it; it reports whether the
// connection may carry another.
func (c *conn) serveOne(first bool) bool {
	c.state.Store(stateIdle)
	if c.srv.closing.Load() {
		return false
	}
	wait := c.srv.ReadHeaderTimeout
	if !first && c.srv.IdleTimeout > 0 {
		wait = c.srv.IdleTimeout
	}
	c.setReadDeadline(wait)
	if _, err := c.br.Peek(1); err != nil {
		return false
	}
	c.state.Store(stateActive)
	var began time.Time // the request's start, for ReadTimeout
	if c.srv.ReadTimeout > 0 {
		began = time.Now()
	}
	headDeadline := c.srv.ReadHeaderTimeout
	if headDeadline <= 0 {
		headDeadline = c.srv.ReadTimeout
	}
	if !headBuffered(c.br) { // a head already read whole needs no deadline for the rest
		c.setReadDeadline(headDeadline)
	}
	max := c.srv.MaxHeaderBytes
	if max <= 0 {
		max = defaultMaxHeaderBytes
	}
	h, buf, err := readHead(c.br, c.headBuf, max)
	c.headBuf = buf
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			c.refuse(pe.status, pe.msg)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			c.refuse(http.StatusRequestTimeout, "request head too slow")
		}
		return false
	}
	if d := c.srv.WriteTimeout; d > 0 {
		c.rwc.SetWriteDeadline(time.Now().Add(d))
	}
	r := new(http.Request)
	*r = *c.base
	r.RemoteAddr, r.TLS = c.remote, c.tls
	f, err := request(r, &h)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			c.refuse(pe.status, pe.msg)
		}
		return false
	}
	c.order = h.names
	c.body = nil
	r.Body = http.NoBody
	if f.chunked || f.length > 0 {
		c.body = &body{c: c, chunked: f.chunked}
		if f.chunked {
			c.body.r = httputil.NewChunkedReader(c.br)
		} else {
			c.body.lr = io.LimitedReader{R: c.br, N: f.length}
			c.body.r = &c.body.lr
		}
		r.Body = c.body
	}
	// The body, if any, is read within ReadTimeout of the request's
	// start. Without one, and without ReadTimeout, nothing reads the
	// connection until the next request, which sets its own deadline: the
	// head's deadline is left (one update fewer per request) and lifted
	// only if something reads meanwhile (liftStaleDeadline).
	switch d := c.srv.ReadTimeout; {
	case d > 0:
		c.setDeadline(began.Add(d))
	case c.body != nil:
		c.setDeadline(time.Time{})
	default:
		c.mu.Lock()
		c.staleDeadline = true
		c.mu.Unlock()
	}
	if e := r.Header["Expect"]; len(e) > 0 {
		if len(e) != 1 || !strings.EqualFold(e[0], "100-continue") || h.minor == 0 {
			c.refuse(http.StatusExpectationFailed, "unsupported expectation")
			return false
		}
		if c.body != nil {
			c.body.expect = true
		}
	}
	// The answer's header map is the connection's, emptied for each
	// request: a handler may not use its ResponseWriter once it returned.
	if c.header == nil {
		c.header = make(http.Header)
	} else {
		clear(c.header)
	}
	w := &response{c: c, req: r, header: c.header, cl: -1}
	if !c.run(w, r) {
		return false
	}
	if c.hijacked {
		return false
	}
	w.finish()
	c.stopWatch()
	if w.closeAfter {
		return false
	}
	return c.body == nil || c.body.drain()
}

// run calls the handler, and reports false when it panicked (the
// connection is then closed: its answer may be cut).
func (c *conn) run(w *response, r *http.Request) (ok bool) {
	c.mu.Lock()
	c.inHandler, c.watchExpired = true, false
	c.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			c.stopWatch()
			if p != http.ErrAbortHandler && c.srv.Log != nil {
				c.srv.Log.Error("http1: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
			}
			ok = false
		}
	}()
	c.srv.Handler.ServeHTTP(w, r)
	return true
}

// setReadDeadline sets the read deadline d from now (none for 0), or
// keeps the one set when it is close enough (ReadDeadline.In).
func (c *conn) setReadDeadline(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.staleDeadline = false
	c.rd.In(d)
}

// setDeadline sets the read deadline t (zero: none).
func (c *conn) setDeadline(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rd.Set(t)
}

// liftStaleDeadline lifts a deadline left from the request's head
// before something reads the connection during the request (c.mu held).
func (c *conn) liftStaleDeadline() {
	if c.staleDeadline {
		c.staleDeadline = false
		c.rd.Set(time.Time{})
	}
}

// headBuffered reports whether br holds a whole request head: past any
// empty lines before it, its end (an empty line).
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return bytes.Contains(b, []byte("\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
}

// refuse answers a request that could not be read and is not served.
func (c *conn) refuse(status int, msg string) {
	text := strconv.Itoa(status) + " " + http.StatusText(status) + ": " + msg + "\n"
	c.rwc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(text), text)
	c.bw.Flush()
}

// connReader reads the connection, first the byte the watch read ahead.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if c.hasPeeked && len(p) > 0 { // set by a watch that has ended (stopWatch waited for it)
		p[0], c.hasPeeked = c.peek[0], false
		return 1, nil
	}
	return c.rwc.Read(p)
}

// requestCtx is the context of a connection's requests. Its Done channel
// closes when the client goes away while a request is served; the
// connection is only watched for that once someone asks for Done (a
// request waiting in the gateway's admission queue, a dial to the shop),
// and only when the request's body has been read, as net/http does with
// every request.
type requestCtx struct {
	context.Context
	c *conn
}

func (x *requestCtx) Done() <-chan struct{} { return x.c.watch() }

func (x *requestCtx) Err() error {
	x.c.mu.Lock()
	defer x.c.mu.Unlock()
	if x.c.goneClosed {
		return context.Canceled
	}
	return nil
}

// watch returns the channel closed when the client goes away, watching
// the connection for that if it can now.
func (c *conn) watch() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone == nil {
		c.gone = make(chan struct{})
	}
	if c.watching || !c.inHandler || c.watchExpired || c.goneClosed || c.hijacked || c.body != nil && !c.body.eof.Load() || c.br.Buffered() > 0 || c.hasPeeked {
		return c.gone
	}
	c.liftStaleDeadline()
	c.watching = true
	c.watchEnded = make(chan struct{})
	go func() {
		n, err := c.rwc.Read(c.peek[:])
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case n > 0:
			c.hasPeeked = true // the next request began: the client is there
		case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
			c.goneClosed = true
			close(c.gone)
		case err != nil && c.inHandler: // the request's deadline, not stopWatch's
			c.watchExpired = true
		}
		c.watching = false
		close(c.watchEnded)
	}()
	return c.gone
}

// stopWatch ends the handler's turn and the watch, if one runs.
func (c *conn) stopWatch() {
	c.mu.Lock()
	c.inHandler = false
	watching, ended := c.watching, c.watchEnded
	c.mu.Unlock()
	if watching {
		c.setDeadline(time.Unix(1, 0))
		<-ended
		c.setDeadline(time.Time{})
	}
}

// body is a request body: Content-Length bytes, or chunked.
type body struct {
	c       *conn
	r       io.Reader
	lr      io.LimitedReader
	chunked bool
	expect  bool // 100-continue is owed before the first read
	// eof: the whole body was read (atomic: the watch reads it while
	// another goroutine may read the body, as http.Transport does).
	eof    atomic.Bool
	closed bool
	err    error
}

func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, http.ErrBodyReadAfterClose
	case b.eof.Load():
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	if b.expect {
		b.expect = false
		b.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := b.c.bw.Flush(); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF && b.chunked:
		if err = b.trailer(); err == nil {
			b.eof.Store(true)
			err = io.EOF
		}
	case err == io.EOF:
		if b.lr.N > 0 {
			err = io.ErrUnexpectedEOF
		} else {
			b.eof.Store(true)
		}
	case err == nil && !b.chunked && b.lr.N == 0:
		b.eof.Store(true) // whole: the next Read says EOF without touching the connection
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// trailer reads (and drops) a chunked body's trailer section.
func (b *body) trailer() error { return skipTrailer(b.c.br) }

// skipTrailer reads (and drops) a chunked body's trailer section from br,
// up to the empty line that ends it.
func skipTrailer(br *bufio.Reader) error {
	for total := 0; ; {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("http1: chunked trailer: %w", err)
		}
		if total += len(line); total > 16<<10 {
			return errors.New("http1: chunked trailer too large")
		}
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return nil
		}
	}
}

func (b *body) Close() error {
	b.closed = true
	return nil
}

// drain reads what the handler left of the body, up to maxDrain, so that
// the connection can carry the next request; it reports whether it could.
func (b *body) drain() bool {
	if b.eof.Load() {
		return true
	}
	if b.err != nil || b.expect { // never asked for: the client still waits for 100 Continue
		return false
	}
	closed := b.closed
	b.closed = false
	n, err := io.Copy(io.Discard, io.LimitReader(b, maxDrain))
	b.closed = closed
	return err == nil && b.eof.Load() && n <= maxDrain
}

// response is the http.ResponseWriter of one request.
type response struct {
	c      *conn
	req    *http.Request
	header http.Header

	wroteHeader bool
	status      int
	committed   bool   // the head is written (to the buffered writer)
	held        []byte // body held back until the head is written, to give a Content-Length
	cl          int64  // declared length (-1: none)
	written     int64
	chunked     bool
	noBody      bool
	closeAfter  bool
	err         error
}

// holdMax is the most of a body held back to answer with a Content-Length.
const holdMax = 4096

var heldPool = sync.Pool{New: func() any { b := make([]byte, 0, holdMax); return &b }}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader || w.c.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("http1: invalid status %d", code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.informational(code)
		return
	}
	w.wroteHeader, w.status = true, code
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified || code < 200
	if v := w.header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.cl = n
		} else {
			w.header.Del("Content-Length")
		}
	}
}

// informational writes a 1xx answer (103 Early Hints, say) at once.
func (w *response) informational(code int) {
	w.c.bw.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	w.writeFields()
	w.c.bw.WriteString("\r\n")
	if err := w.c.bw.Flush(); err != nil {
		w.fail(err)
	}
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.err != nil:
		return 0, w.err
	case w.c.hijacked:
		return 0, http.ErrHijacked
	case w.req.Method == http.MethodHead:
		return len(p), nil
	case w.noBody:
		return 0, http.ErrBodyNotAllowed
	}
	if w.cl >= 0 && w.written+int64(len(p)) > w.cl {
		n, _ := w.Write(p[:w.cl-w.written])
		return n, http.ErrContentLength
	}
	if !w.committed {
		if w.cl < 0 && len(w.held)+len(p) <= holdMax {
			if w.held == nil {
				w.held = (*heldPool.Get().(*[]byte))[:0]
			}
			w.held = append(w.held, p...)
			w.written += int64(len(p))
			return len(p), nil
		}
		first := w.held
		if len(first) == 0 {
			first = p
		}
		w.commit(first)
	}
	w.written += int64(len(p))
	return w.writeBody(p)
}

// writeBody writes p as the body's next bytes (a chunk when chunked).
func (w *response) writeBody(p []byte) (int, error) {
	if len(p) == 0 || w.err != nil {
		return 0, w.err
	}
	bw := w.c.bw
	if w.chunked {
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.fail(err)
		return n, err
	}
	return n, nil
}

// fail records a failed write: the connection closes after the request.
func (w *response) fail(err error) {
	if w.err == nil {
		w.err = err
	}
	w.closeAfter = true
}

// commit writes the status line and the header fields, choosing how the
// body is delimited: the declared Content-Length, the held body's length
// when the handler is done, else chunked (or, for an HTTP/1.0 client,
// the connection's end).
//
// Like net/http it names the body's type when the handler did not (no
// Content-Type key at all), from its first bytes (http.DetectContentType).
func (w *response) commit(first []byte) {
	w.committed = true
	if _, typed := w.header["Content-Type"]; !typed && bodyAllowed(w.status) && w.header["Transfer-Encoding"] == nil {
		w.header.Set("Content-Type", http.DetectContentType(first))
	}
	if w.req.Close || w.c.srv.closing.Load() || HasToken(w.header["Connection"], "close") {
		w.closeAfter = true
	}
	if w.cl < 0 && !w.noBody && w.status != http.StatusSwitchingProtocols {
		if w.req.ProtoMinor == 0 {
			w.closeAfter = true
		} else {
			w.chunked = true
		}
	}
	bw := w.c.bw
	bw.WriteString(statusLine(w.status))
	if w.cl >= 0 && (!w.noBody || w.header.Get("Content-Length") != "") {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), w.cl, 10))
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.closeAfter {
		bw.WriteString("Connection: close\r\n")
	} else if w.req.ProtoMinor == 0 {
		bw.WriteString("Connection: keep-alive\r\n") // an HTTP/1.0 client that asked for it closes without
	}
	if w.header.Get("Date") == "" {
		bw.WriteString("Date: ")
		bw.WriteString(httpDate())
		bw.WriteString("\r\n")
	}
	w.writeFields()
	bw.WriteString("\r\n")
	if len(w.held) > 0 {
		held := w.held
		w.writeBody(held)
	}
	w.releaseHeld()
}

// writeFields writes the handler's header fields but those the framing
// sets; names that are not tokens are dropped and line breaks in values
// become spaces, so that no field can inject another.
func (w *response) writeFields() {
	bw := w.c.bw
	for name, values := range w.header {
		switch name {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		if !httpguts.ValidHeaderFieldName(name) {
			continue
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				v = newlines.Replace(v)
			}
			bw.WriteString(name)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
}

var newlines = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func (w *response) releaseHeld() {
	if w.held != nil {
		b := w.held[:0]
		heldPool.Put(&b)
		w.held = nil
	}
}

// finish completes the answer after the handler returned.
func (w *response) finish() {
	if w.c.hijacked {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if w.cl < 0 && !w.noBody {
			w.cl = int64(len(w.held))
		}
		w.commit(w.held)
	}
	if w.chunked && w.err == nil {
		w.c.bw.WriteString("0\r\n\r\n")
	}
	if w.cl >= 0 && w.written < w.cl && !w.noBody {
		w.closeAfter = true // shorter than declared: the client must see the cut
	}
	if err := w.c.bw.Flush(); err != nil {
		w.fail(err)
	}
}

// Flush sends what was written so far (http.Flusher).
func (w *response) Flush() { w.FlushError() }

// FlushError sends what was written so far (for http.ResponseController).
func (w *response) FlushError() error {
	if w.c.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.held)
	}
	if err := w.c.bw.Flush(); err != nil {
		w.fail(err)
	}
	return w.err
}

// Hijack hands the connection to the handler (http.Hijacker), for a
// protocol upgrade.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := w.c
	if c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.committed {
		return nil, nil, errors.New("http1: hijack after the answer began")
	}
	c.stopWatch()
	c.mu.Lock()
	c.hijacked = true
	c.liftStaleDeadline() // the new protocol's reads are the handler's to bound
	c.mu.Unlock()
	c.srv.untrack(c)
	c.state.Store(stateActive)
	return c.rwc, bufio.NewReadWriter(c.br, c.bw), nil
}

// SetReadDeadline sets the connection's read deadline (for
// http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.staleDeadline = false
	return w.c.rd.Set(t)
}

// SetWriteDeadline sets the connection's write deadline.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.rwc.SetWriteDeadline(t) }

// EnableFullDuplex is a no-op: the body can always be read while
// answering.
func (w *response) EnableFullDuplex() error { return nil }

// HasToken reports whether a comma-separated header's values (such as
// Connection's) hold tok, in any case.
func HasToken(values []string, tok string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// bodyAllowed reports whether an answer with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// statusLine returns "HTTP/1.1 code text\r\n".
func statusLine(code int) string {
	if code == http.StatusOK {
		return "HTTP/1.1 200 OK\r\n"
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status " + strconv.Itoa(code)
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
}

// httpDate returns the current time as a Date header value, formatted at
// most once a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	unix int64
	text string
}

var cachedDate atomic.Pointer[dateText]
