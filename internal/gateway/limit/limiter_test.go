package limit

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the test moves; safe for concurrent use. When step
// is set every reading advances it by step.
type fakeClock struct {
	ns   atomic.Int64
	step time.Duration
}

var clockBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time {
	if c.step != 0 {
		return clockBase.Add(time.Duration(c.ns.Add(int64(c.step))))
	}
	return clockBase.Add(time.Duration(c.ns.Load()))
}

func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newTestLimiter returns a Limiter on a fake clock.
func newTestLimiter(t testing.TB, maxKeys int, rules ...Rule) (*Limiter, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	l, err := New(Config{Rules: rules, MaxKeys: maxKeys, Clock: clk.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l, clk
}

// pagesRule counts every request: 10 at once, one more per second.
func pagesRule() Rule {
	return Rule{Name: "pages", Key: KeyIP, Rate: 1, Burst: 10, Counts: CountRequests}
}

// mustAllow calls Allow and fails the test on an error.
func mustAllow(t testing.TB, l *Limiter, rule, key string) Decision {
	t.Helper()
	d, err := l.Allow(rule, key)
	if err != nil {
		t.Fatalf("Allow(%q, %q): %v", rule, key, err)
	}
	return d
}

// mustObserve calls Observe and fails the test on an error.
func mustObserve(t testing.TB, l *Limiter, rule, key string, status int) {
	t.Helper()
	if err := l.Observe(rule, key, status); err != nil {
		t.Fatalf("Observe(%q, %q, %d): %v", rule, key, status, err)
	}
}

func TestCountRequests(t *testing.T) {
	l, clk := newTestLimiter(t, 100, pagesRule())
	for i := range 10 {
		d := mustAllow(t, l, "pages", "198.51.100.1")
		if !d.Allowed || d.Remaining != float64(9-i) || d.RetryAfter != 0 {
			t.Fatalf("request %d: %+v, want allowed with %d left", i+1, d, 9-i)
		}
	}
	d := mustAllow(t, l, "pages", "198.51.100.1")
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != time.Second {
		t.Fatalf("11th request: %+v, want refused, retry after 1s", d)
	}
	if d := mustAllow(t, l, "pages", "198.51.100.2"); !d.Allowed {
		t.Fatalf("another key: %+v, want allowed (keys are independent)", d)
	}
	clk.Advance(d.RetryAfter)
	if d := mustAllow(t, l, "pages", "198.51.100.1"); !d.Allowed {
		t.Fatalf("after RetryAfter: %+v, want allowed", d)
	}
	if d := mustAllow(t, l, "pages", "198.51.100.1"); d.Allowed {
		t.Fatalf("second request after RetryAfter: %+v, want refused", d)
	}
}

func TestCountResponses(t *testing.T) {
	const ip = "203.0.113.9"
	l, clk := newTestLimiter(t, 100, loginRule(), pagesRule())

	// Successes and other statuses never use up the bucket.
	for range 100 {
		if d := mustAllow(t, l, "login", ip); !d.Allowed || d.Remaining != 5 {
			t.Fatalf("pre-check before failures: %+v, want allowed with 5 left", d)
		}
		mustObserve(t, l, "login", ip, 200)
		mustObserve(t, l, "login", ip, 302)
		mustObserve(t, l, "login", ip, 500)
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("Len() = %d after pre-checks and non-matching responses, want 0 (a full bucket needs no state)", n)
	}

	// Five failed logins (401 or 403) empty the bucket; the pre-check
	// itself takes nothing.
	for i := range 5 {
		d := mustAllow(t, l, "login", ip)
		if !d.Allowed || d.Remaining != float64(5-i) {
			t.Fatalf("attempt %d: %+v, want allowed with %d left", i+1, d, 5-i)
		}
		mustObserve(t, l, "login", ip, []int{401, 403}[i%2])
		mustObserve(t, l, "login", ip, 200)
	}
	d := mustAllow(t, l, "login", ip)
	if d.Allowed || d.RetryAfter != 12*time.Second {
		t.Fatalf("attempt after 5 failures: %+v, want refused, retry after 12s", d)
	}
	if d := mustAllow(t, l, "login", "203.0.113.10"); !d.Allowed {
		t.Fatalf("another address: %+v, want allowed", d)
	}
	if d := mustAllow(t, l, "pages", ip); !d.Allowed {
		t.Fatalf("same address on another rule: %+v, want allowed (rules are independent)", d)
	}
	clk.Advance(d.RetryAfter - time.Nanosecond)
	if d := mustAllow(t, l, "login", ip); d.Allowed {
		t.Fatalf("1ns before RetryAfter: %+v, want refused", d)
	}
	clk.Advance(time.Nanosecond)
	if d := mustAllow(t, l, "login", ip); !d.Allowed {
		t.Fatalf("at RetryAfter: %+v, want allowed", d)
	}
}

// TestInFlightFailuresCount checks that responses to requests that passed
// the pre-check together still all count, so concurrency buys no extra
// attempts.
func TestInFlightFailuresCount(t *testing.T) {
	const ip = "192.0.2.50"
	l, clk := newTestLimiter(t, 100, loginRule())
	for range 4 {
		mustObserve(t, l, "login", ip, 401)
	}
	// One token left: ten concurrent attempts all pass the pre-check.
	for i := range 10 {
		if d := mustAllow(t, l, "login", ip); !d.Allowed {
			t.Fatalf("concurrent attempt %d: %+v, want allowed", i, d)
		}
	}
	for range 10 {
		mustObserve(t, l, "login", ip, 401)
	}
	// Debt of 9 tokens: a whole token is back after 10 tokens' time.
	d := mustAllow(t, l, "login", ip)
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 120*time.Second {
		t.Fatalf("after 14 failures: %+v, want refused with retry after 120s", d)
	}
	clk.Advance(119 * time.Second)
	if d := mustAllow(t, l, "login", ip); d.Allowed {
		t.Fatalf("119s later: %+v, want still refused", d)
	}
	// The check at 119s refilled the state in two steps, whose float
	// rounding may differ from one step by an ulp: allow a microsecond.
	clk.Advance(time.Second + time.Microsecond)
	if d := mustAllow(t, l, "login", ip); !d.Allowed {
		t.Fatalf("120s later: %+v, want allowed", d)
	}
}

func TestAllowAndObserveErrors(t *testing.T) {
	l, _ := newTestLimiter(t, 100, loginRule(), pagesRule())
	long := strings.Repeat("k", MaxKeyLen+1)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"allow unknown rule", func() error { _, err := l.Allow("nope", "k"); return err }, ErrUnknownRule},
		{"allow empty key", func() error { _, err := l.Allow("pages", ""); return err }, ErrInvalidKey},
		{"allow long key", func() error { _, err := l.Allow("login", long); return err }, ErrInvalidKey},
		{"observe unknown rule", func() error { return l.Observe("nope", "k", 401) }, ErrUnknownRule},
		{"observe empty key", func() error { return l.Observe("login", "", 401) }, ErrInvalidKey},
		{"observe long key", func() error { return l.Observe("login", long, 401) }, ErrInvalidKey},
		{"observe on a requests rule", func() error { return l.Observe("pages", "k", 401) }, ErrCountsRequests},
		{"observe status 0", func() error { return l.Observe("login", "k", 0) }, ErrInvalid},
		{"observe status 600", func() error { return l.Observe("login", "k", 600) }, ErrInvalid},
		{"observe negative status", func() error { return l.Observe("login", "k", -401) }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
	if d, err := l.Allow("pages", strings.Repeat("k", MaxKeyLen)); err != nil || !d.Allowed {
		t.Fatalf("Allow with a key of MaxKeyLen bytes = %+v, %v; want allowed", d, err)
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("Len() = %d after errors and one good call, want 1", n)
	}
}

func TestRuleLookup(t *testing.T) {
	l, _ := newTestLimiter(t, 10, loginRule())
	r, ok := l.Rule("login")
	if !ok || r.Name != "login" || r.Counts != CountResponses || len(r.Statuses) != 2 {
		t.Fatalf("Rule(login) = %+v, %v", r, ok)
	}
	r.Statuses[0] = 200
	if again, _ := l.Rule("login"); again.Statuses[0] != 401 {
		t.Fatalf("Rule returned shared statuses: changing the copy changed the limiter's rule")
	}
	if _, ok := l.Rule("pages"); ok {
		t.Fatalf("Rule(pages) found a rule that is not configured")
	}
}

func TestNewCopiesStatuses(t *testing.T) {
	r := loginRule()
	l, _ := newTestLimiter(t, 10, r)
	r.Statuses[0] = 404
	mustObserve(t, l, "login", "k", 404)
	if d := mustAllow(t, l, "login", "k"); d.Remaining != 5 {
		t.Fatalf("a 404 counted after the caller changed its Statuses slice: %+v", d)
	}
}

func TestDefaultClock(t *testing.T) {
	l, err := New(Config{Rules: []Rule{pagesRule()}, MaxKeys: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if d := mustAllow(t, l, "pages", "k"); !d.Allowed {
			t.Fatalf("request %d on the real clock: %+v, want allowed", i+1, d)
		}
	}
	// Ten tokens spent; the 11th needs about a second to refill, far more
	// than this test takes to get here.
	if d := mustAllow(t, l, "pages", "k"); d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > time.Second {
		t.Fatalf("11th request on the real clock: %+v, want refused within 1s", d)
	}
}

func TestShardCount(t *testing.T) {
	for _, tt := range []struct{ maxKeys, want int }{
		{1, 1}, {31, 1}, {32, 2}, {100, 4}, {1023, 32}, {1024, 64}, {10_000, 64}, {MaxMaxKeys, 64},
	} {
		if got := shardCount(tt.maxKeys); got != tt.want {
			t.Errorf("shardCount(%d) = %d, want %d", tt.maxKeys, got, tt.want)
		}
	}
	for _, maxKeys := range []int{1, 17, 100, 10_000, 10_007} {
		l, _ := newTestLimiter(t, maxKeys, pagesRule())
		sum := 0
		for i := range l.shards {
			sum += l.shards[i].limit
		}
		if sum != maxKeys {
			t.Errorf("MaxKeys %d: shard limits sum to %d", maxKeys, sum)
		}
	}
}

// TestConcurrentSameKey hammers one key from many goroutines: the number of
// requests allowed never exceeds burst + rate * elapsed. Every clock
// reading advances the fake clock, so goroutines also present times out
// of order (a lock taken by a later reading first).
func TestConcurrentSameKey(t *testing.T) {
	const (
		workers = 32
		calls   = 2000
		rate    = 1000.0
		burst   = 50
	)
	clk := &fakeClock{step: time.Microsecond}
	l, err := New(Config{
		Rules:   []Rule{{Name: "hot", Key: KeySession, Rate: rate, Burst: burst, Counts: CountRequests}},
		MaxKeys: 64,
		Clock:   clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.ns.Load()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range calls {
				d, err := l.Allow("hot", "session-1")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Duration(clk.ns.Load() - start).Seconds()
	limit := burst + rate*elapsed
	got := float64(allowed.Load())
	t.Logf("%d calls over %.3fs of fake time: %v allowed, bound %.1f", workers*calls, elapsed, got, limit)
	if got > limit {
		t.Fatalf("%v requests allowed, more than burst + rate*elapsed = %.1f", got, limit)
	}
	if got < burst {
		t.Fatalf("%v requests allowed, fewer than the burst %d", got, burst)
	}
}

// TestConcurrentManyKeys runs Allow and Observe on many keys and rules from
// many goroutines with a small MaxKeys, so that evictions race with hits;
// run it with -race.
func TestConcurrentManyKeys(t *testing.T) {
	const maxKeys = 500
	clk := &fakeClock{step: time.Microsecond}
	l, err := New(Config{Rules: []Rule{loginRule(), pagesRule()}, MaxKeys: maxKeys, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 5000 {
				key := fmt.Sprintf("10.%d.%d.%d", w, i%7, i%311)
				if _, err := l.Allow("pages", key); err != nil {
					t.Error(err)
					return
				}
				if d, err := l.Allow("login", key); err != nil || d.Remaining > 5 {
					t.Errorf("Allow(login) = %+v, %v", d, err)
					return
				}
				if err := l.Observe("login", key, 401+(i%3)); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 && l.Len() > maxKeys {
					t.Errorf("Len() = %d, more than MaxKeys %d", l.Len(), maxKeys)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > maxKeys || n < maxKeys/2 {
		t.Fatalf("Len() = %d after the run, want at most %d and most slots used", n, maxKeys)
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	l, _ := newTestLimiter(t, 1000, loginRule(), pagesRule())
	mustAllow(t, l, "pages", "198.51.100.7")
	mustObserve(t, l, "login", "198.51.100.7", 401)
	for _, tt := range []struct {
		name string
		call func()
	}{
		{"allow, existing key", func() { _, _ = l.Allow("pages", "198.51.100.7") }},
		{"pre-check, existing key", func() { _, _ = l.Allow("login", "198.51.100.7") }},
		{"pre-check, key not held", func() { _, _ = l.Allow("login", "198.51.100.8") }},
		{"observe matching, existing key", func() { _ = l.Observe("login", "198.51.100.7", 403) }},
		{"observe not matching", func() { _ = l.Observe("login", "198.51.100.9", 200) }},
	} {
		if n := testing.AllocsPerRun(1000, tt.call); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tt.name, n)
		}
	}
}
