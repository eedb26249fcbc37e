package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

// ticket is an admission ticket of client with a class and a priority.
func ticket(client string, class, priority int) admissionTicket {
	return admissionTicket{client: client, order: func() (int, int) { return class, priority }}
}

// waiting is a request in TestAdmissionOrder: its client, class and priority.
type waitingReq struct {
	client          string
	class, priority int
}

func TestAdmissionOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue []waitingReq // in the order they arrive, with the one slot taken
		want  []int        // the order they are served, as indexes into queue
	}{
		{"by priority, then oldest first", []waitingReq{
			{"a", ClassNew, PriorityLow}, {"b", ClassNew, PriorityNormal}, {"c", ClassNew, PriorityCritical}, {"d", ClassNew, PriorityNormal}},
			[]int{2, 1, 3, 0}},
		{"the class before the priority", []waitingReq{
			{"bot", ClassSuspect, PriorityCritical}, {"new", ClassNew, PriorityNormal}, {"customer", ClassTrusted, PriorityLow},
			{"crawler", ClassDoubtful, PriorityNormal}, {"cleared", ClassCleared, PriorityNormal}},
			[]int{2, 4, 1, 3, 0}},
		{"a client's second request behind everyone's first", []waitingReq{
			{"flood", ClassNew, PriorityNormal}, {"flood", ClassNew, PriorityNormal}, {"flood", ClassNew, PriorityNormal},
			{"x", ClassNew, PriorityNormal}, {"y", ClassNew, PriorityNormal}, {"x", ClassNew, PriorityNormal}},
			// "flood" holds the slot already: its first waiting request is its second.
			[]int{3, 4, 0, 5, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdmitter(Admission{MinConcurrency: 1, MaxConcurrency: 1, TargetLatency: time.Second, QueueTimeout: 5 * time.Second})
			ctx := context.Background()
			if err := a.acquire(ctx, ticket("flood", ClassNew, PriorityNormal)); err != nil {
				t.Fatal(err)
			}
			order := make(chan int, len(tc.queue))
			var wg sync.WaitGroup
			for i, q := range tc.queue {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := a.acquire(ctx, ticket(q.client, q.class, q.priority)); err != nil {
						t.Error(err)
						return
					}
					order <- i
					a.release(q.client, time.Millisecond)
				}()
				waitQueued(t, a, i+1) // queued in this order
			}
			a.release("flood", time.Millisecond)
			wg.Wait()
			close(order)
			var got []int
			for i := range order {
				got = append(got, i)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("served %v, want %v", got, tc.want)
			}
			if len(a.pending) != 0 {
				t.Errorf("pending clients left: %v", a.pending)
			}
		})
	}
}

func TestAdmissionShedsAndCancels(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 1, MaxConcurrency: 1, TargetLatency: time.Second, QueueTimeout: 30 * time.Millisecond})
	if err := a.acquire(context.Background(), ticket("a", ClassNew, PriorityNormal)); err != nil {
		t.Fatal(err)
	}
	if err := a.acquire(context.Background(), ticket("b", ClassTrusted, PriorityCritical)); !errors.Is(err, errShed) {
		t.Fatalf("no slot within the queue timeout: %v, want errShed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.acquire(ctx, ticket("c", ClassNew, PriorityNormal)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled while waiting: %v", err)
	}
	if limit, inFlight, waiting := a.state(); limit != 1 || inFlight != 1 || waiting != 0 {
		t.Fatalf("state %d/%d/%d after the waits ended", limit, inFlight, waiting)
	}
	if len(a.pending) != 1 || a.pending["a"] != 1 {
		t.Fatalf("pending %v, want only a's slot", a.pending)
	}
}

// A full queue refuses the worst request, the newcomer's or a waiter's:
// a flood fills the queue but does not keep a customer out of it.
func TestAdmissionFullQueuePushesOut(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 1, MaxConcurrency: 1, TargetLatency: time.Second, QueueTimeout: 5 * time.Second})
	ctx := context.Background()
	if err := a.acquire(ctx, ticket("held", ClassNew, PriorityNormal)); err != nil {
		t.Fatal(err)
	}
	results := make(chan string, 2*a.maxQueue())
	wait := func(client string, class int) {
		err := a.acquire(ctx, ticket(client, class, PriorityNormal))
		// Report before releasing: the release serves the next waiter,
		// whose report must come after this one.
		results <- fmt.Sprintf("%s %v", client, err)
		if err == nil {
			a.release(client, time.Millisecond)
		}
	}
	for i := range a.maxQueue() {
		go wait(fmt.Sprint("bot", i), ClassSuspect)
		waitQueued(t, a, i+1)
	}
	// The queue is full of suspects: another is refused at once...
	go wait("late bot", ClassSuspect)
	if got := <-results; got != "late bot "+errShed.Error() {
		t.Fatalf("a suspect at a full queue of suspects: %q, want refused", got)
	}
	// ...but a customer pushes out the newest suspect.
	go wait("customer", ClassTrusted)
	want := fmt.Sprintf("bot%d %v", a.maxQueue()-1, errShed)
	if got := <-results; got != want {
		t.Fatalf("a customer at a full queue: %q, want %q", got, want)
	}
	waitQueued(t, a, a.maxQueue())
	a.release("held", time.Millisecond)
	if got := <-results; got != "customer <nil>" {
		t.Fatalf("first served after the push-out: %q, want the customer", got)
	}
	for range a.maxQueue() - 1 {
		if got := <-results; !strings.HasSuffix(got, "<nil>") {
			t.Fatalf("a waiting suspect: %q", got)
		}
	}
	if _, inFlight, waiting := a.state(); inFlight != 0 || waiting != 0 || len(a.pending) != 0 {
		t.Fatalf("after all: %d in flight, %d waiting, pending %v", inFlight, waiting, a.pending)
	}
}

func TestAdmissionAdapts(t *testing.T) {
	a := newAdmitter(Admission{MinConcurrency: 10, MaxConcurrency: 100, TargetLatency: 100 * time.Millisecond, QueueTimeout: time.Second})
	window := func(took time.Duration, queued bool) int {
		for range adaptWindow {
			a.mu.Lock()
			a.inFlight++
			a.queued = a.queued || queued
			a.pending["c"]++
			a.mu.Unlock()
			a.release("c", took)
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
		{"admission: {max_concurrency: 10, trusted_below: 101}", "admission.trusted_below: 101, must be 0..100"},
		{"admission: {max_concurrency: 10, trusted_after: 0}", "admission.trusted_after: 0, must be 1..64"},
		{"routes:\n  - {name: a, path: /x, challenge: wait, priority: urgent}", `routes[0].priority: "urgent" is not critical, high, normal or low`},
	} {
		if _, err := ReadPolicy(strings.NewReader(tc.policy)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
	p, err := ReadPolicy(strings.NewReader("admission: {max_concurrency: 64}"))
	if err != nil || *p.Admission != (Admission{MinConcurrency: 4, MaxConcurrency: 64, TargetLatency: 500 * time.Millisecond, QueueTimeout: 2 * time.Second,
		TrustedBelow: 30, TrustedAfter: 5}) {
		t.Fatalf("defaults: %+v, %v", p.Admission, err)
	}
}

// The class of a client follows its user agent, its bot score over its
// history and its clearance.
func TestClassOf(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	for _, tc := range []struct {
		name     string
		policy   string
		st       requestState
		clearing bool // the request carries a valid clearance
		want     int
	}{
		{"nothing known", "", requestState{botScore: -1}, false, ClassNew},
		{"a low score over too few requests", "", requestState{botScore: 5, botSeen: 4}, false, ClassNew},
		{"a low score over enough requests", "", requestState{botScore: 5, botSeen: 5}, false, ClassTrusted},
		{"a score at trusted_below", "", requestState{botScore: 30, botSeen: 20}, false, ClassNew},
		{"trusted_below set", "admission: {max_concurrency: 8, trusted_below: 40, trusted_after: 2}", requestState{botScore: 30, botSeen: 2}, false, ClassTrusted},
		{"a clearance", "", requestState{botScore: -1}, true, ClassCleared},
		{"a clearance and a good history", "", requestState{botScore: 1, botSeen: 9}, true, ClassTrusted},
		{"a clearance and a doubtful score", "", requestState{botScore: 60, botSeen: 9}, true, ClassDoubtful},
		{"a verified good bot", "", requestState{botScore: -1, bot: "googlebot"}, false, ClassDoubtful},
		{"a doubtful score", "", requestState{botScore: 50, botSeen: 3}, false, ClassDoubtful},
		{"past low_priority_above", "bot_score: {low_priority_above: 70}", requestState{botScore: 70, botSeen: 3}, false, ClassSuspect},
		{"no low_priority_above", "", requestState{botScore: 99, botSeen: 3}, false, ClassDoubtful},
		{"shadow: the score says nothing", "bot_score: {low_priority_above: 70, shadow: true}", requestState{botScore: 99, botSeen: 30}, false, ClassNew},
		{"shadow: no trust from it either", "bot_score: {shadow: true}", requestState{botScore: 0, botSeen: 30}, false, ClassNew},
		{"a lying user agent", "", requestState{botScore: 0, botSeen: 30, mismatch: "claims Chrome"}, true, ClassSuspect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := tc.policy
			if !strings.Contains(policy, "admission") {
				policy += "\nadmission: {max_concurrency: 8}"
			}
			p, err := ReadPolicy(strings.NewReader(policy))
			if err != nil {
				t.Fatal(err)
			}
			g, base := startGateway(t, up.URL, func(c *Config) { c.Policy = p })
			r := pageRequest(t, "GET", base+"/")
			r.RemoteAddr = "192.0.2.7:4321"
			keys := newClientKeys(r, g.cfg.Trusted)
			if tc.clearing {
				c := g.challenges
				r.AddCookie(&http.Cookie{Name: ClearanceCookie, Value: c.signer.Clearance(c.client(r, keys), time.Hour, c.now())})
			}
			if got := g.classOf(r, &tc.st, keys); got != tc.want {
				t.Errorf("class %s, want %s", classNames[got], classNames[tc.want])
			}
		})
	}
}

// A client sending its body slowly waits for it without a slot at the
// shop: the slot is taken once the body is in.
func TestAdmissionAfterTheBody(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader("admission: {max_concurrency: 1, min_concurrency: 1, queue_timeout: 100ms}"))
	if err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, up.URL, func(c *Config) { c.Policy = policy })
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "card=4242424242424242&amount=100"
	fmt.Fprintf(conn, "POST /checkout HTTP/1.1\r\nHost: shop\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(50 * time.Millisecond) // the gateway reads what came
	if _, inFlight, _ := g.admit.state(); inFlight != 0 {
		t.Fatalf("%d requests in flight while a body trickles in, want 0", inFlight)
	}
	resp, err := http.Get(base + "/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another client while a body trickles in: %d, want 200", resp.StatusCode)
	}
	fmt.Fprint(conn, body[10:])
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), fmt.Sprintf("body=%d\n", len(body))) {
		t.Fatalf("the slow post: %d %q, want 200 and its whole body at the shop", resp.StatusCode, got)
	}
}
