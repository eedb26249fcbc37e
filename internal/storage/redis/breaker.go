package redis

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Backoff bounds of the degraded modes.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// breaker is the degraded mode a user of Redis shares with the others:
// after a failure Redis is left alone for a backoff that grows from
// minBackoff to maxBackoff, then one call tries it again.
type breaker struct {
	log              *slog.Logger
	downMsg, backMsg string

	degraded atomic.Bool
	mu       sync.Mutex
	retryAt  time.Time
	backoff  time.Duration
}

// newBreaker returns a breaker that logs downMsg (a warning) when it
// enters the degraded mode and backMsg when it leaves it.
func newBreaker(log *slog.Logger, downMsg, backMsg string) breaker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return breaker{log: log, downMsg: downMsg, backMsg: backMsg}
}

// usable reports whether to call Redis: it answered last time, or the
// backoff after its failure is over (then this caller tries it, and the
// next try waits for another backoff).
func (b *breaker) usable() bool {
	if !b.degraded.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := time.Now(); now.After(b.retryAt) {
		b.retryAt = now.Add(b.backoff)
		return true
	}
	return false
}

// failed enters (or stays in) the degraded mode after err.
func (b *breaker) failed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backoff = min(max(2*b.backoff, minBackoff), maxBackoff)
	b.retryAt = time.Now().Add(b.backoff)
	if !b.degraded.Swap(true) {
		b.log.Warn(b.downMsg, "error", err)
	}
}

// recovered leaves the degraded mode and reports whether it was in it.
func (b *breaker) recovered() bool {
	if !b.degraded.Load() {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.degraded.Swap(false) {
		return false
	}
	b.backoff = 0
	b.log.Info(b.backMsg)
	return true
}
