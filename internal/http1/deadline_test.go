package http1

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// countingConn counts the read deadlines set on it.
type countingConn struct {
	net.Conn
	sets int
}

func (c *countingConn) SetReadDeadline(t time.Time) error {
	c.sets++
	return c.Conn.SetReadDeadline(t)
}

// TestReadDeadline: In keeps a deadline within the slack of the one asked
// for, moves it otherwise, and the deadline kept is the one in force.
func TestReadDeadline(t *testing.T) {
	const dur = 320 * time.Millisecond // slack dur/16 = 20 ms
	steps := []struct {
		name     string
		wait     time.Duration // before the step
		do       func(d *ReadDeadline)
		wantSets int // deadlines set on the connection so far
		wantZero bool
	}{
		{"first: set", 0, func(d *ReadDeadline) { d.In(dur) }, 1, false},
		{"again at once: kept", 0, func(d *ReadDeadline) { d.In(dur) }, 1, false},
		{"again past the slack: moved", 40 * time.Millisecond, func(d *ReadDeadline) { d.In(dur) }, 2, false},
		{"a much shorter one: moved", 0, func(d *ReadDeadline) { d.In(dur / 4) }, 3, false},
		{"none", 0, func(d *ReadDeadline) { d.In(0) }, 4, true},
		{"exact", 0, func(d *ReadDeadline) { d.Set(time.Now().Add(dur)) }, 5, false},
		{"lifted", 0, func(d *ReadDeadline) { d.Set(time.Time{}) }, 6, true},
	}
	a, b := net.Pipe()
	defer b.Close()
	conn := &countingConn{Conn: a}
	defer conn.Close()
	d := NewReadDeadline(conn)
	for _, st := range steps {
		time.Sleep(st.wait)
		before := time.Now()
		st.do(&d)
		if conn.sets != st.wantSets {
			t.Errorf("%s: %d deadlines set, want %d", st.name, conn.sets, st.wantSets)
		}
		if d.At().IsZero() != st.wantZero {
			t.Errorf("%s: deadline %v", st.name, d.At())
		}
		if at := d.At(); !at.IsZero() {
			if off := at.Sub(before.Add(dur)); st.name != "a much shorter one: moved" && (off > 20*time.Millisecond || off < -20*time.Millisecond) {
				t.Errorf("%s: deadline %v off the one asked for", st.name, off)
			}
		}
	}
	// The deadline kept is the connection's own: a read times out by it.
	d.In(50 * time.Millisecond)
	began := time.Now()
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want the deadline exceeded", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the read waited %v", took)
	}
}
