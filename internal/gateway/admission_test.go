package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitQueued waits until n requests wait for a slot.
func waitQueued(t *testing.T, a *admitter, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, _, w := a.state(); w == n {
			return
		}
	}
	t.Fatalf("%d requests never queued", n)
}

func TestAdmissionOrder(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 1, MaxConcurrency: 1, TargetLatency: time.Second, QueueTimeout: 5 * time.Second})
	ctx := context.Background()
	if err := a.acquire(ctx, PriorityNormal); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 4)
	var wg sync.WaitGroup
	for i, p := range []int{PriorityLow, PriorityNormal, PriorityCritical, PriorityNormal} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.acquire(ctx, p); err != nil {
				t.Error(err)
				return
			}
			order <- p*10 + i
			a.release(time.Millisecond)
		}()
		waitQueued(t, a, i+1) // queued in this order
	}
	a.release(time.Millisecond)
	wg.Wait()
	close(order)
	var got []int
	for p := range order {
		got = append(got, p)
	}
	// Critical first, then the two normal ones oldest first, low last.
	if want := []int{2, 21, 23, 30}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("served %v, want %v", got, want)
	}
}

func TestAdmissionShedsAndCancels(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 1, MaxConcurrency: 1, TargetLatency: time.Second, QueueTimeout: 30 * time.Millisecond})
	if err := a.acquire(context.Background(), PriorityNormal); err != nil {
		t.Fatal(err)
	}
	if err := a.acquire(context.Background(), PriorityCritical); !errors.Is(err, errShed) {
		t.Fatalf("no slot within the queue timeout: %v, want errShed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.acquire(ctx, PriorityNormal); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled while waiting: %v", err)
	}
	if limit, inFlight, waiting := a.state(); limit != 1 || inFlight != 1 || waiting != 0 {
		t.Fatalf("state %d/%d/%d after the waits ended", limit, inFlight, waiting)
	}
}

func TestAdmissionAdapts(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 10, MaxConcurrency: 100, TargetLatency: 100 * time.Millisecond, QueueTimeout: time.Second})
	window := func(took time.Duration, queued bool) int {
		for range adaptWindow {
			a.mu.Lock()
			a.inFlight++
			a.queued = a.queued || queued
			a.mu.Unlock()
			a.release(took)
		}
		limit, _, _ := a.state()
		return limit
	}
	if got := window(time.Second, false); got != 90 {
		t.Fatalf("a slow shop: limit %d, want 90", got)
	}
	for range 30 {
		window(time.Second, false)
	}
	if got, _, _ := a.state(); got != 10 {
		t.Fatalf("a shop slow for long: limit %d, want the minimum 10", got)
	}
	if got := window(10*time.Millisecond, false); got != 10 {
		t.Fatalf("fast again but nobody waited: limit %d, want 10", got)
	}
	if got := window(10*time.Millisecond, true); got != 11 {
		t.Fatalf("fast again with requests waiting: limit %d, want 11", got)
	}
}

// Through the gateway: with the shop's one slot taken, a checkout request
// overtakes browsing, and a request that waits too long gets 503.
func TestAdmissionThroughGateway(t *testing.T) {
	var mu sync.Mutex
	var arrived []string
	hold := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = append(arrived, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/slow" {
			<-hold
		}
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
admission: {max_concurrency: 1, min_concurrency: 1, queue_timeout: 3s}
routes:
  - {name: checkout, path: /checkout/*, priority: critical}
  - {name: shop, path: /*, priority: normal}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, up.URL, func(c *Config) { c.Policy = policy })
	codes := make(chan string, 3)
	fetch := func(path string) {
		resp, err := http.Get(base + path)
		if err != nil {
			codes <- err.Error()
			return
		}
		resp.Body.Close()
		codes <- fmt.Sprintf("%s %d", path, resp.StatusCode)
	}
	go fetch("/slow")
	waitFor := func(cond func() bool) {
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
		}
	}
	waitFor(func() bool { _, in, _ := g.admit.state(); return in == 1 })
	go fetch("/browse")
	waitFor(func() bool { _, _, w := g.admit.state(); return w == 1 })
	go fetch("/checkout/pay")
	waitFor(func() bool { _, _, w := g.admit.state(); return w == 2 })
	close(hold)
	for range 3 {
		if c := <-codes; !strings.HasSuffix(c, " 200") {
			t.Errorf("answer %s", c)
		}
	}
	mu.Lock()
	if got := strings.Join(arrived, " "); got != "/slow /checkout/pay /browse" {
		t.Errorf("the shop saw %s, want checkout before browsing", got)
	}
	mu.Unlock()

	// A slot never frees within the queue timeout: 503 with Retry-After.
	policy, err = ReadPolicy(strings.NewReader(`
admission: {max_concurrency: 1, min_concurrency: 1, queue_timeout: 20ms}
routes:
  - {name: shop, path: /*, priority: normal}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, base = startGateway(t, up.URL, func(c *Config) { c.Policy = policy })
	hold = make(chan struct{})
	defer close(hold)
	go fetch("/slow")
	waitFor(func() bool { _, in, _ := g.admit.state(); return in == 1 })
	resp, err := http.Get(base + "/browse")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("no slot: %d (Retry-After %q), want 503", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := testCounter(t, g, "shopguard_gateway_shed_total"); n != 1 {
		t.Errorf("shed counted %v, want 1", n)
	}
}

func TestAdmissionPolicyErrors(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"admission: {max_concurrency: 0}", "admission.max_concurrency: 0, must be 1..100000"},
		{"admission: {max_concurrency: 10, min_concurrency: 20}", "admission.min_concurrency: 20, must be 1..max_concurrency"},
		{"admission: {max_concurrency: 10, target_latency: 2h}", `admission.target_latency: "2h", must be a duration`},
		{"admission: {max_concurrency: 10, queue_timeout: soon}", `admission.queue_timeout: "soon"`},
		{"routes:\n  - {name: a, path: /x, challenge: wait, priority: urgent}", `routes[0].priority: "urgent" is not critical, high, normal or low`},
	} {
		if _, err := ReadPolicy(strings.NewReader(tc.policy)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
	p, err := ReadPolicy(strings.NewReader("admission: {max_concurrency: 64}"))
	if err != nil || *p.Admission != (Admission{MinConcurrency: 4, MaxConcurrency: 64, TargetLatency: 500 * time.Millisecond, QueueTimeout: 2 * time.Second}) {
		t.Fatalf("defaults: %+v, %v", p.Admission, err)
	}
}
