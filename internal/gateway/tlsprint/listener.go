package tlsprint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// DefaultMaxCaptureBytes is the per-connection capture limit used when
// ListenerConfig.MaxCaptureBytes is not set: room for a MaxHelloLen
// ClientHello split over a few records.
const DefaultMaxCaptureBytes = MaxHelloLen + 4<<10

// ListenerConfig configures NewListener.
type ListenerConfig struct {
	// MaxCaptureBytes caps the bytes buffered per connection while a
	// ClientHello that spans several reads is reassembled; past it, capture
	// stops with ErrTooLarge. Zero or negative means DefaultMaxCaptureBytes.
	MaxCaptureBytes int
}

// NewListener wraps inner so that every accepted connection is a *Conn that
// captures the ClientHello from the first bytes read through it. Wrap the
// plain TCP listener and hand the result to tls.NewListener or
// http.Server.ServeTLS; the bytes reach crypto/tls unchanged.
func NewListener(inner net.Listener, cfg ListenerConfig) net.Listener {
	limit := cfg.MaxCaptureBytes
	if limit <= 0 {
		limit = DefaultMaxCaptureBytes
	}
	return &listener{Listener: inner, limit: limit}
}

type listener struct {
	net.Listener
	limit int
}

// Accept waits for the next connection and wraps it in a *Conn.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, limit: l.limit}, nil
}

// Conn is a net.Conn that parses the ClientHello out of the bytes read
// through it, passing them on unchanged. Once the ClientHello is parsed or
// capture fails, reads cost one atomic load on top of the inner Read.
type Conn struct {
	net.Conn
	limit int

	done  atomic.Bool
	hello atomic.Pointer[ClientHello]

	mu  sync.Mutex
	asm reassembler // resumes over buf read by read
	buf *[]byte     // pooled; holds a ClientHello split across reads
	err error       // why capture stopped without a ClientHello
}

var _ net.Conn = (*Conn)(nil)

// Read reads from the inner connection and captures the ClientHello bytes it
// returns.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.done.Load() {
		c.observe(p[:n])
	}
	return n, err
}

// ClientHello returns the parsed ClientHello. Before it has been read in full
// the error is ErrNeedMore; if the bytes were not a usable ClientHello or did
// not fit the capture limit, it is the wrapped parse or ErrTooLarge error.
func (c *Conn) ClientHello() (*ClientHello, error) {
	if h := c.hello.Load(); h != nil {
		return h, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	return nil, ErrNeedMore
}

// observe feeds newly read bytes to the capture.
func (c *Conn) observe(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done.Load() {
		return
	}
	data := p
	if c.buf != nil {
		room := c.limit - len(*c.buf)
		*c.buf = append(*c.buf, p[:min(len(p), room)]...)
		data = *c.buf
	} else if len(data) > c.limit {
		data = data[:c.limit]
	}

	msg, _, err := c.asm.next(data)
	switch {
	case err == nil:
		h, err := parseMessage(msg)
		if err != nil {
			c.finish(err)
			return
		}
		c.hello.Store(h)
		c.finish(nil)
	case !errors.Is(err, ErrNeedMore):
		c.finish(err)
	case len(data) >= c.limit:
		c.finish(fmt.Errorf("%w: no complete ClientHello in the first %d bytes", ErrTooLarge, c.limit))
	case c.buf == nil:
		// p belongs to the reader; keep a copy until the rest arrives. The
		// reassembler's offsets stay valid: buf starts with the same bytes.
		c.buf = getBuffer()
		*c.buf = append(*c.buf, data...)
	}
}

// Close closes the inner connection and, if the ClientHello is still
// incomplete, stops the capture (ClientHello then keeps reporting a wrapped
// ErrNeedMore) and releases its buffer.
func (c *Conn) Close() error {
	if !c.done.Load() {
		c.mu.Lock()
		if !c.done.Load() {
			c.finish(fmt.Errorf("%w: connection closed before the ClientHello was complete", ErrNeedMore))
		}
		c.mu.Unlock()
	}
	return c.Conn.Close()
}

// finish stops capturing and releases the buffer; called with mu held.
func (c *Conn) finish(err error) {
	c.err = err
	c.done.Store(true)
	if c.buf != nil {
		putBuffer(c.buf)
		c.buf = nil
	}
}

// Buffers for ClientHellos that arrive over several reads (crypto/tls reads
// the first record in small steps, so this is the common case).
var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}

// netConner is implemented by connections that wrap another, such as
// *tls.Conn.
type netConner interface {
	NetConn() net.Conn
}

// FromConn returns the ClientHello captured on c, unwrapping *tls.Conn and
// any other connection with a NetConn method to reach the *Conn made by
// NewListener. It reports false when there is no such *Conn or its capture
// has not produced a ClientHello; after a completed TLS handshake it has one.
func FromConn(c net.Conn) (*ClientHello, bool) {
	for range 8 { // bounded: a NetConn cycle must not hang the caller
		switch v := c.(type) {
		case *Conn:
			h, err := v.ClientHello()
			return h, err == nil
		case netConner:
			c = v.NetConn()
		default:
			return nil, false
		}
	}
	return nil, false
}

type connKey struct{}

// ConnContext stores c in ctx for FromContext. Its signature matches
// http.Server.ConnContext, so it can be assigned there directly.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// FromContext returns the ClientHello of the connection stored by
// ConnContext, as FromConn does; inside an http.Handler of a TLS server the
// handshake is complete, so the ClientHello is there.
func FromContext(ctx context.Context) (*ClientHello, bool) {
	c, ok := ctx.Value(connKey{}).(net.Conn)
	if !ok {
		return nil, false
	}
	return FromConn(c)
}
