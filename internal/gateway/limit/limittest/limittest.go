// Package limittest is the suite every home of the gateway's token
// buckets must pass: the in-memory limit.Limiter and the Redis store that
// several gateways share. It runs on the real clock with rates so slow
// (one token an hour) that nothing refills while it runs.
package limittest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/gateway/limit"
)

// Limits is what the suite exercises: limit.Limiter's methods.
type Limits interface {
	Allow(rule, key string) (limit.Decision, error)
	Observe(rule, key string, status int) error
}

// Rules are the rules the suite's limits are made with.
var Rules = []limit.Rule{
	{Name: "requests", Key: limit.KeyIP, Rate: 1.0 / 3600, Burst: 3, Counts: limit.CountRequests},
	{Name: "failures", Key: limit.KeyAccount, Rate: 1.0 / 3600, Burst: 2, Counts: limit.CountResponses, Statuses: []int{401, 403}},
}

// Run runs the suite; open returns empty limits with Rules, sharing no
// state with limits opened before.
func Run(t *testing.T, open func(t *testing.T) Limits) {
	t.Run("RequestsTakeTokens", func(t *testing.T) { testRequests(t, open(t)) })
	t.Run("ResponsesTakeTokens", func(t *testing.T) { testResponses(t, open(t)) })
	t.Run("KeysAreIndependent", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, open(t)) })
	t.Run("ConcurrentTakesAreAtomic", func(t *testing.T) { testConcurrent(t, open(t)) })
}

// hour is the time one token takes to come back.
const hour = time.Hour

// wantDecision checks d: allowed or not, about remaining tokens left, and
// when refused a wait of about want.
func wantDecision(t *testing.T, what string, d limit.Decision, err error, allowed bool, remaining float64, wait time.Duration) {
	t.Helper()
	switch {
	case err != nil:
		t.Fatalf("%s: %v", what, err)
	case d.Allowed != allowed:
		t.Fatalf("%s: allowed %v, want %v (%+v)", what, d.Allowed, allowed, d)
	case d.Remaining < remaining || d.Remaining > remaining+0.01:
		t.Fatalf("%s: %.6f tokens left, want %.0f", what, d.Remaining, remaining)
	case allowed && d.RetryAfter != 0:
		t.Fatalf("%s: allowed with a wait of %v", what, d.RetryAfter)
	case !allowed && (d.RetryAfter > wait || d.RetryAfter < wait-time.Minute):
		t.Fatalf("%s: wait %v, want about %v", what, d.RetryAfter, wait)
	}
}

func testRequests(t *testing.T, l Limits) {
	for i := range 3 {
		d, err := l.Allow("requests", "203.0.113.7")
		wantDecision(t, "request", d, err, true, float64(2-i), 0)
	}
	d, err := l.Allow("requests", "203.0.113.7")
	wantDecision(t, "fourth request", d, err, false, 0, hour)
	d, err = l.Allow("requests", "203.0.113.7")
	wantDecision(t, "fifth request", d, err, false, 0, hour)
}

func testResponses(t *testing.T, l Limits) {
	const who = "alice@example.com"
	for range 3 {
		d, err := l.Allow("failures", who)
		wantDecision(t, "sign-in before any failure", d, err, true, 2, 0)
	}
	for _, status := range []int{200, 302, 404, 500} {
		if err := l.Observe("failures", who, status); err != nil {
			t.Fatalf("Observe(%d): %v", status, err)
		}
	}
	d, err := l.Allow("failures", who)
	wantDecision(t, "after answers that do not count", d, err, true, 2, 0)
	if err := l.Observe("failures", who, 401); err != nil {
		t.Fatal(err)
	}
	d, err = l.Allow("failures", who)
	wantDecision(t, "after one failure", d, err, true, 1, 0)
	if err := l.Observe("failures", who, 403); err != nil {
		t.Fatal(err)
	}
	d, err = l.Allow("failures", who)
	wantDecision(t, "after two failures", d, err, false, 0, hour)
	// A request in flight when the bucket emptied still counts: debt.
	if err := l.Observe("failures", who, 401); err != nil {
		t.Fatal(err)
	}
	d, err = l.Allow("failures", who)
	wantDecision(t, "after three failures", d, err, false, 0, 2*hour)
}

func testKeys(t *testing.T, l Limits) {
	keys := []string{"a", "a:b", "b", "requests:a", "ünï", strings.Repeat("k", limit.MaxKeyLen)}
	for range 3 {
		for _, k := range keys {
			if d, err := l.Allow("requests", k); err != nil || !d.Allowed {
				t.Fatalf("key %.20q: %+v %v", k, d, err)
			}
		}
	}
	for _, k := range keys {
		if d, err := l.Allow("requests", k); err != nil || d.Allowed {
			t.Fatalf("key %.20q: fourth request %+v %v", k, d, err)
		}
	}
	// The same key under another rule has its own bucket.
	if d, err := l.Allow("failures", "a"); err != nil || !d.Allowed || d.Remaining != 2 {
		t.Fatalf("key a under failures: %+v %v", d, err)
	}
}

func testErrors(t *testing.T, l Limits) {
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown rule", first(l.Allow("nope", "a")), limit.ErrUnknownRule},
		{"empty key", first(l.Allow("requests", "")), limit.ErrInvalidKey},
		{"long key", first(l.Allow("requests", strings.Repeat("k", limit.MaxKeyLen+1))), limit.ErrInvalidKey},
		{"observe unknown rule", l.Observe("nope", "a", 401), limit.ErrUnknownRule},
		{"observe empty key", l.Observe("failures", "", 401), limit.ErrInvalidKey},
		{"observe a rule that counts requests", l.Observe("requests", "a", 401), limit.ErrCountsRequests},
		{"status 99", l.Observe("failures", "a", 99), limit.ErrInvalid},
		{"status 600", l.Observe("failures", "a", 600), limit.ErrInvalid},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, c.err, c.want)
		}
	}
}

func first(_ limit.Decision, err error) error { return err }

func testConcurrent(t *testing.T, l Limits) {
	const callers = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range callers {
		wg.Go(func() {
			d, err := l.Allow("requests", "198.51.100.1")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 3 {
		t.Errorf("%d of %d concurrent requests allowed, want the burst of 3", allowed, callers)
	}
}
