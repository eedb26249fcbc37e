package http1

import (
	"net"
	"time"
)

// maxDeadlineSlack is the most a read deadline may be off the one asked
// for and still be kept (see ReadDeadline.In).
const maxDeadlineSlack = 250 * time.Millisecond

// ReadDeadline sets a connection's read deadline and remembers it, so
// that a deadline asked for again and again (the idle time of a
// keep-alive connection, the wait for a shop's answer) is moved only once
// it is off by more than a slack: moving it costs two clock reads and a
// timer update in the runtime for every request. nginx keeps a timer the
// same way when the new one is within 300 ms of the old
// (NGX_TIMER_LAZY_DELAY). It is not safe for concurrent use.
type ReadDeadline struct {
	conn net.Conn
	at   time.Time // the deadline set (zero: none)
}

// NewReadDeadline returns the read deadline of c, which has none set.
func NewReadDeadline(c net.Conn) ReadDeadline { return ReadDeadline{conn: c} }

// Set sets the deadline to t exactly (zero: none).
func (d *ReadDeadline) Set(t time.Time) error {
	d.at = t
	return d.conn.SetReadDeadline(t)
}

// In sets the deadline to dur from now (none for dur <= 0), keeping the
// one set when it is off by no more than dur/16, at most 250 ms: the
// deadline then falls between dur - slack and dur + slack from now.
func (d *ReadDeadline) In(dur time.Duration) error {
	if dur <= 0 {
		return d.Set(time.Time{})
	}
	want := time.Now().Add(dur)
	if slack := min(dur/16, maxDeadlineSlack); !d.at.IsZero() && want.Sub(d.at) <= slack && d.at.Sub(want) <= slack {
		return nil
	}
	return d.Set(want)
}

// At returns the deadline set (zero: none).
func (d *ReadDeadline) At() time.Time { return d.at }
