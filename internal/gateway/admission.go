package gateway

import (
	"container/heap"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Admission keeps the shop answering during a flood: at most Limit
// requests are in flight to it at once, Limit adapts to how fast the shop
// answers, and when all slots are taken requests wait for at most
// QueueTimeout, then get 503. A shop that stays fast never sees the limit.
//
// Who waits least is decided by what the gateway knows of the client
// first (its class: trusted customers, then clients that passed a
// challenge, then new ones, then doubtful ones, then suspects; see
// classOf), then by the route's priority (checkout before browsing before
// static files), then by fairness (a client's second waiting request goes
// behind every other client's first), then by arrival. When the queue is
// full, the worst waiter by that order is the one refused, so a flood can
// fill the queue but never push a customer out of it.
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
	// TrustedBelow and TrustedAfter make a client trusted: a bot score
	// below TrustedBelow (default 30) over at least TrustedAfter requests
	// (default 5).
	TrustedBelow, TrustedAfter int
}

// Priorities of routes, highest first.
const (
	PriorityCritical = iota
	PriorityHigh
	PriorityNormal
	PriorityLow
	numPriorities
)

// priorityNames are the policy file's names of the priorities.
var priorityNames = [numPriorities]string{"critical", "high", "normal", "low"}

// Classes of clients at the concurrency limit, first served first.
const (
	// ClassTrusted: a bot score below Admission.TrustedBelow over at
	// least Admission.TrustedAfter requests: a customer with a history.
	ClassTrusted = iota
	// ClassCleared: holds a clearance from a passed challenge.
	ClassCleared
	// ClassNew: nothing known against it (yet).
	ClassNew
	// ClassDoubtful: a bot score of doubtfulFrom or more, or a verified
	// good bot (welcome, but after the customers).
	ClassDoubtful
	// ClassSuspect: a user agent its handshake or headers belie, a good
	// bot's name from outside its networks, or a bot score of the
	// policy's bot_score.low_priority_above or more.
	ClassSuspect
	numClasses
)

// classNames name the classes in metrics and decision logs.
var classNames = [numClasses]string{"trusted", "cleared", "new", "doubtful", "suspect"}

// doubtfulFrom is the bot score from which a client is doubtful: the
// model's even odds.
const doubtfulFrom = 50

// Defaults of Admission.TrustedBelow and TrustedAfter.
const (
	defaultTrustedBelow = 30
	defaultTrustedAfter = 5
)

// adaptWindow is how many completions one adjustment of the limit looks at.
const adaptWindow = 64

// errShed means a request found no slot within the queue timeout, or was
// refused (or pushed out) of a full queue.
var errShed = errors.New("gateway: the shop is at its concurrency limit")

// admitter is Admission at work.
type admitter struct {
	cfg Admission

	mu       sync.Mutex
	limit    int
	inFlight int
	// waiting is a heap of the waiting requests, best first.
	waiting waiters
	// pending counts each client's requests waiting or in flight.
	pending map[string]int
	seq     uint64
	// latencies of the completions since the last adjustment, and whether
	// any request waited meanwhile.
	window []time.Duration
	queued bool
}

// waiter is a request waiting for a slot; ready is closed when it has one
// (granted) or when it is pushed out of a full queue (not granted).
type waiter struct {
	rank    uint64
	index   int
	ready   chan struct{}
	granted bool
}

// admissionTicket says who asks for a slot: the client (for fairness)
// and, computed only if the request has to wait, its class and its
// route's priority.
type admissionTicket struct {
	client string
	order  func() (class, priority int)
}

// newAdmitter starts at the largest limit: the shop is assumed healthy
// until its latency says otherwise.
func newAdmitter(cfg Admission) *admitter {
	return &admitter{cfg: cfg, limit: cfg.MaxConcurrency, pending: make(map[string]int), window: make([]time.Duration, 0, adaptWindow)}
}

// maxQueue bounds the requests waiting.
func (a *admitter) maxQueue() int { return 8 * a.cfg.MaxConcurrency }

// rank orders waiters: class, then priority, then how many of the
// client's requests were pending before, then arrival. Lower is better.
func rank(class, priority, pending int, seq uint64) uint64 {
	return uint64(class)<<61 | uint64(priority)<<58 | uint64(min(pending, 1<<16-1))<<42 | seq&(1<<42-1)
}

// acquire waits for a slot for a request of t; it returns errShed when
// none came within the queue timeout (or the request was refused a place
// in, or pushed out of, the full queue), or ctx's error. A nil error
// obliges the caller to release(t.client, …).
func (a *admitter) acquire(ctx context.Context, t admissionTicket) error {
	a.mu.Lock()
	if a.inFlight < a.limit && len(a.waiting) == 0 {
		a.take(t.client)
		a.mu.Unlock()
		return nil
	}
	a.mu.Unlock()
	class, priority := t.order() // may verify a clearance: outside the lock

	a.mu.Lock()
	if a.inFlight < a.limit && len(a.waiting) == 0 { // a slot freed meanwhile
		a.take(t.client)
		a.mu.Unlock()
		return nil
	}
	a.queued = true
	a.seq++
	w := &waiter{rank: rank(class, priority, a.pending[t.client], a.seq), ready: make(chan struct{})}
	if len(a.waiting) >= a.maxQueue() {
		worst := a.waiting.worst()
		if worst.rank < w.rank {
			a.mu.Unlock()
			return errShed
		}
		heap.Remove(&a.waiting, worst.index)
		close(worst.ready) // pushed out: it wakes ungranted
	}
	heap.Push(&a.waiting, w)
	a.pending[t.client]++
	a.mu.Unlock()

	timer := time.NewTimer(a.cfg.QueueTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		err = errShed // unless granted, below
	case <-timer.C:
		err = errShed
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted { // granted as the wait ended: keep the slot
		return nil
	}
	if w.index >= 0 {
		heap.Remove(&a.waiting, w.index)
	}
	a.drop(t.client)
	return err
}

// take gives client a slot. Called with mu held.
func (a *admitter) take(client string) {
	a.inFlight++
	a.pending[client]++
}

// drop forgets one of client's pending requests. Called with mu held.
func (a *admitter) drop(client string) {
	if n := a.pending[client]; n > 1 {
		a.pending[client] = n - 1
	} else {
		delete(a.pending, client)
	}
}

// release frees client's slot held for took and hands free slots to the
// best waiters.
func (a *admitter) release(client string, took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	a.drop(client)
	a.window = append(a.window, took)
	if len(a.window) >= adaptWindow {
		a.adapt()
	}
	a.grant()
}

// grant hands free slots to waiters, best first. Called with mu held.
func (a *admitter) grant() {
	for a.inFlight < a.limit && len(a.waiting) > 0 {
		w := heap.Pop(&a.waiting).(*waiter)
		w.granted = true
		close(w.ready)
		a.inFlight++ // its client's pending count already has it
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
	return a.limit, a.inFlight, len(a.waiting)
}

// waiters is a heap of waiting requests by rank (container/heap).
type waiters []*waiter

func (h waiters) Len() int           { return len(h) }
func (h waiters) Less(i, j int) bool { return h[i].rank < h[j].rank }
func (h waiters) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

// Push adds x, a *waiter.
func (h *waiters) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}

// Pop removes the last waiter.
func (h *waiters) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// worst returns the waiter served last (the heap must not be empty): a
// leaf, so only the second half is searched.
func (h waiters) worst() *waiter {
	w := h[len(h)/2]
	for _, o := range h[len(h)/2+1:] {
		if o.rank > w.rank {
			w = o
		}
	}
	return w
}
