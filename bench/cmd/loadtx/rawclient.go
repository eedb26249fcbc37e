package main

// The raw client (-client raw) is a lean HTTP/1.1 sender for the same
// open-loop schedule as the vegeta mode: the load generator shares the
// machine's cores with the server, and every microsecond of CPU it spends per
// request is taken from the server it measures.
//
// Design (one scheduler, one reader goroutine per connection):
//   - The scheduler (the phase's own goroutine) waits until request i is due
//     (began + (i+1)*interval), takes a slot of the in-flight cap
//     (-max-workers), builds the body, and hands the request to an idle
//     keep-alive connection: it encodes the whole request into the
//     connection's buffer and writes it with one write. Without an idle
//     connection it starts a goroutine that dials a new one (up to
//     -connections, or -max-workers when that is 0); beyond the cap the
//     request waits in a FIFO queue for the next connection to come free.
//   - Every connection has one goroutine that sits in a read on the socket,
//     parses each response (strictly, readResponse below), records the
//     outcome and puts the connection back on the idle stack (or writes the
//     next queued request itself). A response thus costs one wake-up of one
//     goroutine by the network poller; the scheduler wakes nobody.
//   - No pipelining: a connection carries one request at a time. The
//     per-request deadline (-timeout, from the moment the request was handed
//     to the client) is the connection's read/write deadline; a timed out,
//     malformed or closed connection is closed and its request counted as
//     an error.
//   - Reads and writes are raw system calls on the non-blocking socket
//     (sysConn), waiting in the network poller when it is not ready, and up
//     to rawOneProcMaxRate loadtx runs on one P (GOMAXPROCS 1). Both cut the
//     Go runtime's thread wake-ups, which were most of the CPU left once
//     net/http was gone.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	// rawMaxBody is how much of a response body is kept; the rest is read
	// and discarded (as vegeta's MaxBody(64 KiB) in the default mode).
	rawMaxBody = 64 << 10
	// rawReadBuf is the size of a connection's read buffer, and so the
	// longest status, header, chunk-size or trailer line accepted.
	rawReadBuf = 4096
	// rawMaxHeaderLines bounds the header (and trailer) lines of a response.
	rawMaxHeaderLines = 100
	// rawMaxInformational bounds the 1xx responses skipped before the final one.
	rawMaxInformational = 8
	// rawOneProcMaxRate: up to this rate the raw client runs loadtx with
	// GOMAXPROCS 1 (unless $GOMAXPROCS is set). One P does all the work at
	// about 20 µs of CPU per request, and the runtime stops handing freshly
	// woken goroutines to a second thread (a futex wake and a context switch
	// each): at 5,000 req/s this took the raw client from about 29 to 21 µs
	// of CPU per request. Latencies against a server answering in 1 ms agree
	// with the vegeta mode's.
	rawOneProcMaxRate = 20_000
)

// errMalformed marks a response the raw client refuses to parse.
var errMalformed = errors.New("malformed HTTP response")

func malformed(what string) error { return fmt.Errorf("%w: %s", errMalformed, what) }

// outcome is the result of one request, as the phase statistics need it.
// body is only valid during the call that receives it.
type outcome struct {
	intended time.Time     // when the schedule wanted it sent
	sent     time.Time     // when it was handed to the client
	latency  time.Duration // from sent to the end of the response body (or the error)
	code     int           // HTTP status, 0 for a transport error
	err      string        // error text ("" for 2xx/3xx answers), as in vegeta mode
	body     []byte        // first 64 KiB of the body
}

// rawSchedule is one open-loop phase for rawClient.run.
type rawSchedule struct {
	began       time.Time
	interval    time.Duration // request i is due at began + (i+1)*interval
	n           uint64        // requests intended
	until       time.Duration // no request leaves later than began + until
	maxInFlight int           // cap on requests outstanding at once
	// next returns the body of the next request, false when there is none.
	// It is only called by the scheduler.
	next func() ([]byte, bool)
	// record receives every outcome; calls are serialized.
	record func(outcome)
}

// rawClient sends pre-encoded POST requests over a pool of keep-alive
// HTTP/1.1 connections to one loopback address.
type rawClient struct {
	addr     string        // host:port to dial
	head     []byte        // request line and fixed headers up to "Content-Length: "
	timeout  time.Duration // per request
	maxConns int
	dialer   *net.Dialer

	mu      sync.Mutex
	idle    []*rawConn // LIFO: the most recently used connection first
	pending []rawJob   // waiting for a connection (only with a connection cap)
	conns   int        // open or being dialed
	closed  bool

	dials atomic.Int64 // connections dialed (successfully or not)
}

// rawRun is the state of one rawClient.run shared with the readers.
type rawRun struct {
	mu    sync.Mutex
	sink  func(outcome) // rawSchedule.record, serialized by mu
	slots chan struct{}
	wg    sync.WaitGroup
}

// rawJob is one request on its way.
type rawJob struct {
	intended, sent time.Time
	body           []byte
	run            *rawRun
}

// rawConn is one keep-alive connection and its reader's state.
type rawConn struct {
	cl   *rawClient
	nc   net.Conn
	io   io.ReadWriter // nc, or a sysConn on it
	br   *bufio.Reader
	jobs chan rawJob // the request in flight (capacity 1)
	busy bool        // guarded by cl.mu: a request is in flight or being written
	wbuf []byte      // owned by whoever holds the connection busy
	body []byte      // owned by the reader
	werr atomic.Pointer[string]
}

// newRawClient prepares a raw client for POSTs to endpoint, a loopback
// http URL (checked again here: the raw client never talks to anything
// else). maxConns caps the TCP connections.
func newRawClient(ctx context.Context, endpoint, key string, timeout time.Duration, maxConns int) (*rawClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("raw client: %w", err)
	}
	if u.Scheme != "http" || u.Port() == "" {
		return nil, fmt.Errorf("raw client: %q: need http://host:port", endpoint)
	}
	if err := checkLoopbackHost(ctx, u.Hostname()); err != nil {
		return nil, fmt.Errorf("raw client: %q: %w", endpoint, err)
	}
	for _, s := range []string{key, u.Host} {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == 0x7f {
				return nil, errors.New("raw client: control character in the key or host")
			}
		}
	}
	if timeout <= 0 || maxConns < 1 {
		return nil, errors.New("raw client: need a positive timeout and connection cap")
	}
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nContent-Type: application/json\r\nAuthorization: Bearer " + key + "\r\nContent-Length: "
	return &rawClient{
		addr: u.Host, head: []byte(head), timeout: timeout, maxConns: maxConns,
		dialer: &net.Dialer{Timeout: min(5*time.Second, timeout), KeepAlive: 30 * time.Second, Control: loopbackOnly},
	}, nil
}

// close closes the idle connections; the client must not be used after.
// Connections still busy close when their request ends.
func (c *rawClient) close() {
	c.mu.Lock()
	c.closed = true
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, rc := range idle {
		rc.nc.Close()
	}
}

// run sends s.n requests open-loop and waits for every answer. It returns
// the number of requests sent.
func (c *rawClient) run(s rawSchedule) uint64 {
	r := &rawRun{sink: s.record, slots: make(chan struct{}, max(1, s.maxInFlight))}
	var sent uint64
	for i := uint64(0); i < s.n; i++ {
		if time.Since(s.began) > s.until {
			break
		}
		due := s.began.Add(time.Duration(i+1) * s.interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		r.slots <- struct{}{} // blocks while -max-workers requests are in flight
		if time.Since(s.began) > s.until {
			<-r.slots
			break
		}
		body, ok := s.next()
		if !ok {
			<-r.slots
			break
		}
		r.wg.Add(1)
		sent++
		c.dispatch(rawJob{intended: due, sent: time.Now(), body: body, run: r})
	}
	r.wg.Wait()
	return sent
}

// record records j's outcome. The caller then releases or retires j's
// connection before calling done, so that the next request the scheduler
// lets through finds it idle (or its place free) and the connections never
// outnumber the requests in flight.
func (r *rawRun) record(j rawJob, end time.Time, code int, errText string, body []byte) {
	r.mu.Lock()
	r.sink(outcome{intended: j.intended, sent: j.sent, latency: end.Sub(j.sent), code: code, err: errText, body: body})
	r.mu.Unlock()
}

// done frees the in-flight slot of a request whose outcome was recorded.
func (r *rawRun) done() {
	<-r.slots
	r.wg.Done()
}

// dispatch gives j to an idle connection, a new one, or the queue.
func (c *rawClient) dispatch(j rawJob) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		rc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		rc.busy = true
		c.mu.Unlock()
		rc.send(j)
		return
	}
	if c.closed {
		c.mu.Unlock()
		j.run.record(j, time.Now(), 0, "raw: client closed", nil)
		j.run.done()
		return
	}
	if c.conns < c.maxConns {
		c.conns++
		c.mu.Unlock()
		go c.dial(j)
		return
	}
	c.pending = append(c.pending, j)
	c.mu.Unlock()
}

// dial opens a connection for j, then serves it. A failed dial fails j
// (and, if requests are queued, the next one dials in its place).
func (c *rawClient) dial(j rawJob) {
	for {
		c.dials.Add(1)
		ctx, cancel := context.WithDeadline(context.Background(), j.sent.Add(c.timeout))
		nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
		cancel()
		if err == nil {
			rc := &rawConn{cl: c, nc: nc, io: nc, jobs: make(chan rawJob, 1),
				busy: true, wbuf: make([]byte, 0, 2048), body: make([]byte, 0, 2048)}
			if sc, err := newSysConn(nc); err == nil {
				rc.io = sc
			}
			rc.br = bufio.NewReaderSize(rc.io, rawReadBuf)
			rc.send(j)
			rc.serve()
			return
		}
		j.run.record(j, time.Now(), 0, "raw: "+errText(err), nil)
		c.mu.Lock()
		next, ok := c.popPending()
		if !ok {
			c.conns--
		}
		c.mu.Unlock()
		j.run.done()
		if !ok {
			return
		}
		j = next
	}
}

// popPending takes the oldest queued request; c.mu must be held.
func (c *rawClient) popPending() (rawJob, bool) {
	if len(c.pending) == 0 {
		return rawJob{}, false
	}
	j := c.pending[0]
	c.pending[0] = rawJob{}
	c.pending = c.pending[1:]
	if len(c.pending) == 0 {
		c.pending = c.pending[:0:0]
	}
	return j, true
}

// send writes j on rc, which the caller holds busy. The reader reports
// the outcome, including a failed write (the connection is closed, so its
// read fails too).
func (rc *rawConn) send(j rawJob) {
	deadline := j.sent.Add(rc.cl.timeout)
	rc.nc.SetDeadline(deadline)
	b := append(rc.wbuf[:0], rc.cl.head...)
	b = strconv.AppendInt(b, int64(len(j.body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, j.body...)
	rc.wbuf = b
	rc.jobs <- j
	if _, err := rc.io.Write(b); err != nil {
		msg := "raw: " + errText(err)
		rc.werr.Store(&msg)
		rc.nc.Close()
	}
}

// serve is the connection's reader: one response per request, until the
// connection fails, is closed by either side, or the client is closed.
func (rc *rawConn) serve() {
	c := rc.cl
	for {
		resp, err := readResponse(rc.br, rc.body[:0])
		end := time.Now()
		if cap(resp.body) <= rawMaxBody {
			rc.body = resp.body[:0]
		}
		c.mu.Lock()
		if !rc.busy { // data or EOF while idle: the server closed it (or spoke out of turn)
			c.removeIdle(rc)
			c.mu.Unlock()
			rc.retire()
			return
		}
		c.mu.Unlock()
		j := <-rc.jobs
		if err != nil {
			msg := responseError(err, c.timeout)
			if w := rc.werr.Load(); w != nil {
				msg = *w
			}
			j.run.record(j, end, 0, msg, nil)
			rc.retire()
			j.run.done()
			return
		}
		errText := ""
		if resp.code < 200 || resp.code >= 400 {
			errText = resp.status
		}
		j.run.record(j, end, resp.code, errText, resp.body)
		if resp.close {
			rc.retire()
			j.run.done()
			return
		}
		rc.nc.SetDeadline(time.Time{})
		ok := rc.release()
		j.run.done()
		if !ok {
			return
		}
	}
}

// release puts rc back on the idle stack, or hands it the next queued
// request (failing queued requests whose time is up). It reports false if
// the client was closed and rc retired.
func (rc *rawConn) release() bool {
	c := rc.cl
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			rc.retire()
			return false
		}
		j, ok := c.popPending()
		if !ok {
			rc.busy = false
			c.idle = append(c.idle, rc)
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		if now := time.Now(); now.Sub(j.sent) >= c.timeout {
			j.run.record(j, now, 0, fmt.Sprintf("raw: timeout (%s) waiting for a free connection", c.timeout), nil)
			j.run.done()
			continue
		}
		rc.send(j)
		return true
	}
}

// removeIdle drops rc from the idle stack; c.mu must be held.
func (c *rawClient) removeIdle(rc *rawConn) {
	for i, x := range c.idle {
		if x == rc {
			copy(c.idle[i:], c.idle[i+1:])
			c.idle[len(c.idle)-1] = nil
			c.idle = c.idle[:len(c.idle)-1]
			return
		}
	}
}

// retire closes rc, which is no longer on the idle stack and carries no
// request. If requests are queued, one of them dials a new connection.
func (rc *rawConn) retire() {
	rc.nc.Close()
	c := rc.cl
	c.mu.Lock()
	j, ok := c.popPending()
	if !ok {
		c.conns--
	}
	c.mu.Unlock()
	if ok {
		go c.dial(j)
	}
}

// responseError words a read error for the report's error counts (few
// distinct texts: they are map keys).
func responseError(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("raw: timeout (%s) awaiting the response", timeout)
	case errors.Is(err, io.EOF):
		return "raw: connection closed before the response"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "raw: connection closed in the middle of the response"
	case errors.Is(err, errMalformed):
		return "raw: " + err.Error()
	}
	return "raw: " + errText(err)
}

// errText is err's text without the addresses a *net.OpError carries
// (one distinct error text per connection would flood the error map).
func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}

// rawResponse is what readResponse learned from one response.
type rawResponse struct {
	code   int
	status string // "500 Internal Server Error": set for codes outside 200..399 only
	close  bool   // the connection cannot carry another request
	body   []byte // the first rawMaxBody bytes of the body
	length int64  // the body's length (bytes read, kept or discarded)
}

// readResponse reads one HTTP/1.x response to a POST from br, keeping the
// first rawMaxBody bytes of its body in buf (appended; pass buf[:0]) and
// discarding the rest. It skips informational (1xx) responses. It is
// strict: CRLF line ends, HTTP/1.0 or HTTP/1.1, a three-digit status of
// 100..599, token header names, no obsolete line folding, at most one
// Content-Length, Transfer-Encoding only as a single "chunked" (HTTP/1.1,
// never with Content-Length), well-formed chunks. A violation is an error
// wrapping errMalformed; io.EOF means the connection closed before the
// first byte; io.ErrUnexpectedEOF that it closed during the response.
func readResponse(br *bufio.Reader, buf []byte) (rawResponse, error) {
	for informational := 0; ; informational++ {
		r, h, err := readHead(br, informational == 0)
		if err != nil {
			return r, err
		}
		if r.code >= 200 {
			return readBody(br, r, h, buf)
		}
		if r.code == 101 || informational >= rawMaxInformational {
			return r, malformed("unexpected informational response")
		}
	}
}

// rawHead is what the header section says about the body.
type rawHead struct {
	http10        bool
	contentLength int64 // -1 if absent
	chunked       bool
	closeToken    bool
	keepAlive     bool
}

// readHead reads the status line and the headers.
func readHead(br *bufio.Reader, first bool) (rawResponse, rawHead, error) {
	var r rawResponse
	h := rawHead{contentLength: -1}
	line, err := readLine(br)
	if err != nil {
		if err == io.EOF && !first {
			err = io.ErrUnexpectedEOF
		}
		return r, h, err
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' {
		return r, h, malformed("bad status line")
	}
	h.http10 = line[7] == '0'
	d0, d1, d2 := line[9], line[10], line[11]
	if d0 < '1' || d0 > '5' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' {
		return r, h, malformed("bad status code")
	}
	r.code = int(d0-'0')*100 + int(d1-'0')*10 + int(d2-'0')
	if len(line) > 12 {
		if line[12] != ' ' || !validValue(line[13:]) {
			return r, h, malformed("bad status line")
		}
	}
	if r.code < 200 || r.code >= 400 {
		r.status = string(line[9:]) // as net/http's Response.Status, which vegeta reports
	}
	for n := 0; ; n++ {
		line, err := readLine(br)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return r, h, err
		}
		if len(line) == 0 {
			break
		}
		if n >= rawMaxHeaderLines {
			return r, h, malformed("too many header lines")
		}
		name, value, err := splitHeader(line)
		if err != nil {
			return r, h, err
		}
		switch {
		case asciiEqualFold(name, "content-length"):
			if h.contentLength >= 0 {
				return r, h, malformed("repeated Content-Length")
			}
			if h.contentLength, err = parseLength(value); err != nil {
				return r, h, err
			}
		case asciiEqualFold(name, "transfer-encoding"):
			if h.chunked || h.http10 || !asciiEqualFold(value, "chunked") {
				return r, h, malformed("unsupported Transfer-Encoding")
			}
			h.chunked = true
		case asciiEqualFold(name, "connection"):
			forEachToken(value, func(t []byte) {
				h.closeToken = h.closeToken || asciiEqualFold(t, "close")
				h.keepAlive = h.keepAlive || asciiEqualFold(t, "keep-alive")
			})
		case asciiEqualFold(name, "trailer"):
			bad := false
			forEachToken(value, func(t []byte) {
				bad = bad || asciiEqualFold(t, "content-length") || asciiEqualFold(t, "transfer-encoding") || asciiEqualFold(t, "trailer")
			})
			if bad {
				return r, h, malformed("bad Trailer")
			}
		}
	}
	if h.chunked && h.contentLength >= 0 {
		return r, h, malformed("both Content-Length and chunked")
	}
	r.close = h.closeToken || (h.http10 && !h.keepAlive)
	return r, h, nil
}

// readBody reads the body the head announced.
func readBody(br *bufio.Reader, r rawResponse, h rawHead, buf []byte) (rawResponse, error) {
	r.body = buf
	var err error
	switch {
	case r.code == 204 || r.code == 304:
		// no body, whatever the headers say
	case h.chunked:
		err = readChunked(br, &r)
	case h.contentLength >= 0:
		err = readN(br, &r, h.contentLength)
	default: // until the server closes the connection
		r.close = true
		err = readN(br, &r, -1)
	}
	return r, err
}

// readN reads n body bytes (n < 0: until EOF) into r.
func readN(br *bufio.Reader, r *rawResponse, n int64) error {
	for n != 0 {
		if len(r.body) < rawMaxBody {
			want := rawMaxBody - len(r.body)
			if n > 0 && int64(want) > n {
				want = int(n)
			}
			if cap(r.body)-len(r.body) < want {
				grown := make([]byte, len(r.body), min(rawMaxBody, max(2*cap(r.body), len(r.body)+want)))
				copy(grown, r.body)
				r.body = grown
			}
			m, err := br.Read(r.body[len(r.body) : len(r.body)+want])
			r.body = r.body[:len(r.body)+m]
			r.length += int64(m)
			if n > 0 {
				n -= int64(m)
			}
			if err != nil {
				return eofIs(err, n < 0)
			}
			continue
		}
		// Beyond the kept part: discard what is buffered, then read more.
		k := br.Buffered()
		if k == 0 {
			if _, err := br.Peek(1); err != nil {
				return eofIs(err, n < 0)
			}
			k = br.Buffered()
		}
		if n > 0 && int64(k) > n {
			k = int(n)
		}
		br.Discard(k)
		r.length += int64(k)
		if n > 0 {
			n -= int64(k)
		}
	}
	return nil
}

// eofIs maps EOF to success (a body read until close) or to ErrUnexpectedEOF.
func eofIs(err error, ok bool) error {
	if err == io.EOF {
		if ok {
			return nil
		}
		return io.ErrUnexpectedEOF
	}
	return err
}

// readChunked reads a chunked body and its trailer section into r.
func readChunked(br *bufio.Reader, r *rawResponse) error {
	var excess int64
	for {
		line, err := readLine(br)
		if err != nil {
			return eofIs(err, false)
		}
		excess += int64(len(line)) + 4 // the line and the CRLFs around the data
		size, ext, _ := bytes.Cut(line, []byte{';'})
		if len(size) == 0 || len(size) > 15 {
			return malformed("bad chunk size")
		}
		var n int64
		for _, c := range size {
			switch {
			case c >= '0' && c <= '9':
				n = n<<4 | int64(c-'0')
			case c >= 'a' && c <= 'f':
				n = n<<4 | int64(c-'a'+10)
			case c >= 'A' && c <= 'F':
				n = n<<4 | int64(c-'A'+10)
			default:
				return malformed("bad chunk size")
			}
		}
		if !validValue(ext) {
			return malformed("bad chunk extension")
		}
		// As net/http: at most 16 KiB of overhead beyond 16 bytes per chunk
		// plus twice the data (extensions cannot swamp the data).
		excess = max(0, excess-16-2*n)
		if excess > 16<<10 {
			return malformed("too much chunk overhead")
		}
		if n == 0 {
			return readTrailer(br)
		}
		if err := readN(br, r, n); err != nil {
			return err
		}
		crlf, err := br.Peek(2)
		if err != nil {
			return eofIs(err, false)
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return malformed("chunk not followed by CRLF")
		}
		br.Discard(2)
	}
}

// readTrailer reads the trailer section after the last chunk: header lines
// (ignored) up to an empty line, at most rawReadBuf bytes in all.
func readTrailer(br *bufio.Reader) error {
	total := 0
	for n := 0; ; n++ {
		line, err := readLine(br)
		if err != nil {
			return eofIs(err, false)
		}
		total += len(line) + 2
		if total > rawReadBuf {
			return malformed("trailer too long")
		}
		if len(line) == 0 {
			return nil
		}
		if n >= rawMaxHeaderLines {
			return malformed("too many trailer lines")
		}
		if _, _, err := splitHeader(line); err != nil {
			return err
		}
	}
}

// readLine returns the next CRLF-terminated line without its CRLF, valid
// until the next read. io.EOF: nothing was left; io.ErrUnexpectedEOF: a
// partial line.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, malformed("line too long")
		}
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, malformed("line not ended by CRLF")
	}
	return line[:len(line)-2], nil
}

// splitHeader splits "Name: value" and checks both parts.
func splitHeader(line []byte) (name, value []byte, err error) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, malformed("bad header line")
	}
	name = line[:i]
	for _, c := range name {
		if !isTokenByte(c) {
			return nil, nil, malformed("bad header name")
		}
	}
	value = trimOWS(line[i+1:])
	if !validValue(value) {
		return nil, nil, malformed("bad header value")
	}
	return name, value, nil
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 18 {
		return 0, malformed("bad Content-Length")
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, malformed("bad Content-Length")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// forEachToken calls f with each element of a comma-separated list.
func forEachToken(v []byte, f func([]byte)) {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte{','})
		if t = trimOWS(t); len(t) > 0 {
			f(t)
		}
	}
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// validValue: field-content bytes (HTAB, SP, VCHAR, obs-text), as
// net/textproto checks them.
func validValue(v []byte) bool {
	for _, c := range v {
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c may appear in a header name (RFC 9110 tchar).
func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c < 0x80 && bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// asciiEqualFold compares b with the lower-case ASCII string s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// sysConn reads and writes a connection's non-blocking socket with raw
// system calls. The standard path (syscall.Read/Write) enters the runtime's
// syscall state, and the first such entry after the process was idle wakes
// the runtime's monitor thread (sysmon) and resets it to polling every
// 20 µs: at a few thousand requests per second that thread's wake-ups cost
// more CPU than the requests. A read or write on a non-blocking socket never
// blocks, so it may run as a raw system call; when the socket is not ready
// the goroutine waits in the network poller as usual (syscall.RawConn),
// deadlines included.
type sysConn struct {
	rc      syscall.RawConn
	readFn  func(uintptr) bool
	writeFn func(uintptr) bool
	// The pending read's and write's buffers and results: a read and a
	// write may be in progress at once (the reader waits while a request is
	// written).
	rp, wp     []byte
	rn, wn     int
	rerr, werr error
}

func newSysConn(nc net.Conn) (*sysConn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a syscall.Conn")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &sysConn{rc: rc}
	s.readFn, s.writeFn = s.read, s.write
	return s, nil
}

// Read reads at most len(p) bytes.
func (s *sysConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rp, s.rn, s.rerr = p, 0, nil
	err := s.rc.Read(s.readFn)
	s.rp = nil
	if err != nil {
		return 0, err
	}
	return s.rn, s.rerr
}

func (s *sysConn) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rp[0])), uintptr(len(s.rp)))
		switch e {
		case 0:
			s.rn = int(n)
			if n == 0 {
				s.rerr = io.EOF
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			s.rerr = os.NewSyscallError("read", e)
			return true
		}
	}
}

// Write writes all of p.
func (s *sysConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.wp, s.wn, s.werr = p, 0, nil
	err := s.rc.Write(s.writeFn)
	s.wp = nil
	if err == nil {
		err = s.werr
	}
	return s.wn, err
}

func (s *sysConn) write(fd uintptr) bool {
	for s.wn < len(s.wp) {
		rest := s.wp[s.wn:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			s.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.werr = os.NewSyscallError("write", e)
			return true
		}
	}
	return true
}
