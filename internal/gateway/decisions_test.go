package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the gateway's flusher and the
// test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Refusals and challenges are logged as JSON lines and counted per client
// in the admin endpoint's status.
func TestDecisionLogAndStatus(t *testing.T) {
	p, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: per_ip, key: ip, rate: 1/1h, burst: 2}
routes:
  - {name: shop, path: /shop/*, limits: [per_ip]}
  - {name: account, path: /account/*, challenge: pow}
`))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer up.Close()
	var log syncBuffer
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy, c.MaxLimitKeys, c.DecisionLog = p, 100, &log
		c.ChallengeSecret = []byte(strings.Repeat("d", 32))
	})
	var codes []string
	for _, path := range []string{"/shop/a", "/shop/b", "/shop/c", "/shop/d", "/account/orders"} {
		code, _ := get(t, nil, pageRequest(t, "GET", base+path))
		codes = append(codes, fmt.Sprint(code))
	}
	if got := strings.Join(codes, " "); got != "200 200 429 429 403" {
		t.Fatalf("codes %s", got)
	}
	var lines []Decision
	deadline := time.Now().Add(5 * time.Second)
	for len(lines) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // flushed every second
		lines = lines[:0]
		sc := bufio.NewScanner(strings.NewReader(log.String()))
		for sc.Scan() {
			var d Decision
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("a line that is not a Decision: %q: %v", sc.Text(), err)
			}
			lines = append(lines, d)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d decisions logged, want 3: %s", len(lines), log.String())
	}
	if d := lines[0]; d.Client != "127.0.0.1" || d.Route != "shop" || d.Action != ActionRefused || d.Status != 429 || d.Reason != "limit per_ip" || d.Path != "/shop/c" {
		t.Errorf("first decision %+v", d)
	}
	if d := lines[2]; d.Action != ActionChallenged || d.Reason != "challenge of route account" || d.Status != 403 {
		t.Errorf("challenge %+v", d)
	}
	s := g.Status(20)
	if len(s.TopClients) != 1 || s.TopClients[0].Count != 3 || s.TopClients[0].Reasons["refused: limit per_ip"] != 2 ||
		s.TopClients[0].Reasons["challenged: challenge of route account"] != 1 || s.LimitKeys == 0 || !s.Healthy {
		t.Errorf("status %+v", s)
	}
	rec := httptest.NewRecorder()
	g.AdminHandler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"top_clients":[{"client":"127.0.0.1","count":3`) {
		t.Errorf("GET /status: %d %s", rec.Code, rec.Body)
	}
}

// The clients counted stay bounded, and a heavy hitter survives a crowd of
// one-off offenders.
func TestOffendersBounded(t *testing.T) {
	l := newDecisionLog(nil)
	for range 50 {
		l.record(Decision{Client: "heavy", Action: ActionRefused, Reason: "limit"})
	}
	for i := range 100_000 {
		l.record(Decision{Client: fmt.Sprint("10.0.", i/256, ".", i%256), Action: ActionRefused, Reason: fmt.Sprint("r", i%20)})
	}
	if n := len(l.top.byClient); n > maxOffenders {
		t.Errorf("%d clients counted, bound %d", n, maxOffenders)
	}
	top := l.topOffenders(1)
	if len(top) != 1 || top[0].Client != "heavy" || top[0].Count != 50 {
		t.Errorf("top %+v", top)
	}
	l.record(Decision{Client: "varied", Action: ActionRefused, Path: strings.Repeat("x", 1000)})
	for i := range 20 {
		l.record(Decision{Client: "varied", Action: ActionRefused, Reason: fmt.Sprint("r", i)})
	}
	for _, o := range l.topOffenders(maxOffenders) {
		if o.Client == "varied" && len(o.Reasons) > maxReasons {
			t.Errorf("%d reasons kept, bound %d", len(o.Reasons), maxReasons)
		}
	}
}
