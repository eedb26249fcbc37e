package gateway

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Admission keeps the shop answering during a flood: at most Limit
// requests are in flight to it at once, Limit adapts to how fast the shop
// answers, and when all slots are taken requests wait in priority order
// (checkout before browsing before suspected bots) for at most
// QueueTimeout, then get 503. A shop that stays fast never sees the limit.
//
// The limit follows the shop's latency (additive increase, multiplicative
// decrease, as TCP does with a network): every adaptWindow completions,
// if their 90th percentile exceeds TargetLatency the limit shrinks by a
// tenth (not below MinConcurrency); if it does not and requests had to
// wait for slots, it grows by one (not above MaxConcurrency).
type Admission struct {
	MinConcurrency, MaxConcurrency int
	TargetLatency                  time.Duration
	QueueTimeout                   time.Duration
}

// Priorities of requests, highest first.
const (
	PriorityCritical = iota
	PriorityHigh
	PriorityNormal
	PriorityLow
	numPriorities
)

// priorityNames are the policy file's names of the priorities.
var priorityNames = [numPriorities]string{"critical", "high", "normal", "low"}

// adaptWindow is how many completions one adjustment of the limit looks at.
const adaptWindow = 64

// errShed means a request found no slot within the queue timeout (or the
// queue of its priority was full).
var errShed = errors.New("gateway: the shop is at its concurrency limit")

// admitter is Admission at work.
type admitter struct {
	cfg Admission

	mu       sync.Mutex
	limit    int
	inFlight int
	waiting  [numPriorities][]*waiter
	// latencies of the completions since the last adjustment, and whether
	// any request waited meanwhile.
	window []time.Duration
	queued bool
}

// waiter is a request waiting for a slot; ready is closed when it has one.
type waiter struct {
	ready   chan struct{}
	granted bool
}

// newAdmitter starts at the largest limit: the shop is assumed healthy
// until its latency says otherwise.
func newAdmitter(cfg Admission) *admitter {
	return &admitter{cfg: cfg, limit: cfg.MaxConcurrency, window: make([]time.Duration, 0, adaptWindow)}
}

// maxQueue bounds the requests waiting per priority.
func (a *admitter) maxQueue() int { return 4 * a.cfg.MaxConcurrency }

// acquire waits for a slot for a request of priority p; it returns
// errShed when none came within the queue timeout, or ctx's error.
func (a *admitter) acquire(ctx context.Context, p int) error {
	a.mu.Lock()
	if a.inFlight < a.limit && a.noneWaiting(p) {
		a.inFlight++
		a.mu.Unlock()
		return nil
	}
	a.queued = true
	if len(a.waiting[p]) >= a.maxQueue() {
		a.mu.Unlock()
		return errShed
	}
	w := &waiter{ready: make(chan struct{})}
	a.waiting[p] = append(a.waiting[p], w)
	a.mu.Unlock()

	t := time.NewTimer(a.cfg.QueueTimeout)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-t.C:
		err = errShed
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted { // granted as the wait ended: keep the slot
		return nil
	}
	a.waiting[p] = slices.DeleteFunc(a.waiting[p], func(o *waiter) bool { return o == w })
	return err
}

// noneWaiting reports whether no request of priority p or higher waits
// (a newcomer does not overtake them). Called with mu held.
func (a *admitter) noneWaiting(p int) bool {
	for q := 0; q <= p; q++ {
		if len(a.waiting[q]) > 0 {
			return false
		}
	}
	return true
}

// release frees a slot held for took and hands free slots to the
// highest-priority waiters.
func (a *admitter) release(took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	a.window = append(a.window, took)
	if len(a.window) >= adaptWindow {
		a.adapt()
	}
	a.grant()
}

// grant hands free slots to waiters, highest priority first, oldest first.
// Called with mu held.
func (a *admitter) grant() {
	for q := range a.waiting {
		for a.inFlight < a.limit && len(a.waiting[q]) > 0 {
			w := a.waiting[q][0]
			a.waiting[q] = a.waiting[q][1:]
			w.granted = true
			close(w.ready)
			a.inFlight++
		}
	}
}

// adapt adjusts the limit from the window's latencies. Called with mu held.
func (a *admitter) adapt() {
	slices.Sort(a.window)
	p90 := a.window[len(a.window)*9/10]
	switch {
	case p90 > a.cfg.TargetLatency:
		a.limit = max(a.cfg.MinConcurrency, a.limit*9/10)
	case a.queued:
		a.limit = min(a.cfg.MaxConcurrency, a.limit+1)
	}
	a.window, a.queued = a.window[:0], false
}

// state returns the limit, the requests in flight and those waiting.
func (a *admitter) state() (limit, inFlight, waiting int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.waiting {
		waiting += len(q)
	}
	return a.limit, a.inFlight, waiting
}
