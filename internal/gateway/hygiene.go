package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopguard/shopguard/internal/http1"
)

// connLimiter wraps a listener and caps the connections open at once, in
// all (Accept waits for one to close, leaving the rest in the kernel's
// backlog) and per client address (a connection beyond a client's share
// is closed at once): one client cannot hold every connection the
// gateway has, the way slowloris tries to. Trusted proxies are not capped
// per address: every client behind them shares their address.
type connLimiter struct {
	net.Listener
	perIP   int
	trusted Trusted
	slots   chan struct{} // nil: no total cap
	onDrop  func()        // called for each connection closed over a client's cap

	mu   sync.Mutex
	open map[netip.Addr]int

	closed    chan struct{} // closed by Close: an Accept waiting for a slot gives up
	closeOnce sync.Once
}

// limitConns returns ln with the caps of cfg (0: none).
func limitConns(ln net.Listener, total, perIP int, trusted Trusted, onDrop func()) net.Listener {
	l := &connLimiter{Listener: ln, perIP: perIP, trusted: trusted, onDrop: onDrop, open: map[netip.Addr]int{}, closed: make(chan struct{})}
	if total > 0 {
		l.slots = make(chan struct{}, total)
	}
	return l
}

// Accept returns the next connection within the caps.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		if l.slots != nil {
			select {
			case l.slots <- struct{}{}:
			case <-l.closed:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			if l.slots != nil {
				<-l.slots
			}
			return nil, err
		}
		ip, _ := peerIP(c.RemoteAddr().String())
		capped := l.perIP > 0 && ip.IsValid() && !l.trusted.trusts(ip)
		if capped {
			l.mu.Lock()
			if l.open[ip] >= l.perIP {
				l.mu.Unlock()
				c.Close()
				if l.slots != nil {
					<-l.slots
				}
				if l.onDrop != nil {
					l.onDrop()
				}
				continue
			}
			l.open[ip]++
			l.mu.Unlock()
		}
		return &limitedConn{Conn: http1.RawIO(c), release: func() {
			if capped {
				l.mu.Lock()
				if l.open[ip]--; l.open[ip] <= 0 {
					delete(l.open, ip)
				}
				l.mu.Unlock()
			}
			if l.slots != nil {
				<-l.slots
			}
		}}, nil
	}
}

// Close closes the listener; an Accept waiting for a free slot returns.
func (l *connLimiter) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when it is closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// NetConn returns the wrapped connection (for code that looks beneath, as
// http.ResponseController and the TLS fingerprinting do).
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

// errTooSlow means a client sent a request body more slowly than the
// gateway's minimum data rate (slow POST).
var errTooSlow = errors.New("gateway: request body arrives more slowly than the minimum rate")

// minRateBody reads a request body that must keep arriving at a minimum
// rate: after a grace period, the n-th byte is due by start + grace +
// n/rate. It sets the connection's read deadline before each read (so a
// stalled client is cut off by the server, not waited for), and reports
// errTooSlow when a deadline passes.
type minRateBody struct {
	io.ReadCloser
	ctl   *http.ResponseController
	start time.Time
	grace time.Duration
	rate  float64 // bytes per second
	n     int64
	off   bool // the connection's deadlines cannot be set (then only the server's timeouts apply)

	// failed holds the error (errTooSlow or *http.MaxBytesError) that
	// ended the body early, for the response path: whatever the upstream
	// answered to a cut-off body, the client is told why it was cut off.
	failed atomic.Value
}

// failure returns the error that cut the body off, or nil.
func (b *minRateBody) failure() error {
	err, _ := b.failed.Load().(error)
	return err
}

// Read reads the next bytes of the body within its deadline.
func (b *minRateBody) Read(p []byte) (int, error) {
	if !b.off {
		due := b.start.Add(b.grace + time.Duration(float64(b.n)/b.rate*float64(time.Second)))
		if err := b.ctl.SetReadDeadline(due); err != nil {
			b.off = true
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	var ne net.Error
	var tooLarge *http.MaxBytesError
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		err = errTooSlow
		b.failed.Store(err)
	case errors.As(err, &tooLarge):
		b.failed.Store(err)
	}
	return n, err
}

// Close lifts the deadline (the connection may serve further requests)
// and closes the body.
func (b *minRateBody) Close() error {
	if !b.off {
		_ = b.ctl.SetReadDeadline(time.Time{})
	}
	return b.ReadCloser.Close()
}
