package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
)

// inlineShop is a shop behind the gateway: a sign-in form (302 for the
// right password, 401 for a wrong one) and a review form; it records the
// decision headers the gateway sent it.
type inlineShop struct {
	mu   sync.Mutex
	seen []http.Header
}

func (s *inlineShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.mu.Unlock()
	switch r.URL.Path {
	case "/login":
		if r.FormValue("password") == "right" {
			http.Redirect(w, r, "/account", http.StatusFound)
			return
		}
		http.Error(w, "wrong e-mail or password", http.StatusUnauthorized)
	case "/reviews":
		w.WriteHeader(http.StatusCreated)
	default:
		fmt.Fprintln(w, "page")
	}
}

func (s *inlineShop) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return nil
	}
	return s.seen[len(s.seen)-1]
}

// TestGatewayInlineProtection runs the real API, a shop and the gateway
// between them: sign-ins and posts on protected routes are decided by the
// API before the shop sees them, the shop is told the decision, and a
// credential-stuffing run is stopped at the gateway once the API has seen
// its failures.
func TestGatewayInlineProtection(t *testing.T) {
	a, api := apptest.Start(t, "")
	key := apptest.Key(t, a, "shop", apikey.ScopeEventsWrite, apikey.ScopeEventsRead)
	shop := &inlineShop{}
	up := httptest.NewServer(shop)
	defer up.Close()
	policy, err := gateway.ReadPolicy(strings.NewReader(`
routes:
  - {name: login, methods: [POST], path: /login, account_field: email, protect: login}
  - name: reviews
    methods: [POST]
    path: /reviews
    protect: content
    content: {kind: review, text: body, rating: stars, target: product, author: user}
`))
	if err != nil {
		t.Fatal(err)
	}
	gc := config.Default().Gateway
	gc.Upstream = up.URL
	cfg, err := app.GatewayConfig(gc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = policy
	cfg.Risk = gateway.RiskAPI{URL: api.URL, Key: key, Timeout: 5 * time.Second}
	g, err := gateway.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(g)
	defer gw.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, from string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, gw.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		req.Header.Set("X-Shopguard-Decision", "allow") // a client's claim, never believed
		req.Header.Set("X-Forwarded-For", from)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sg, err := client.New(api.URL, key)
	if err != nil {
		t.Fatal(err)
	}

	// A customer signs in: the shop answers, told the API's decision.
	if code := post("/login", url.Values{"email": {"ada@example.com"}, "password": {"right"}}, ""); code != http.StatusFound {
		t.Fatalf("a customer's sign-in: %d", code)
	}
	h := shop.last()
	if h.Get(gateway.HeaderDecision) != "allow" || h.Get(gateway.HeaderEventID) == "" {
		t.Fatalf("the shop was told %q / %q", h.Get(gateway.HeaderDecision), h.Get(gateway.HeaderEventID))
	}
	ev, err := sg.Event(context.Background(), h.Get(gateway.HeaderEventID))
	if err != nil || ev.Kind != "login" {
		t.Fatalf("the attempt in the API: %+v, %v", ev, err)
	}

	// A review: judged, and the shop told to publish or hold it.
	if code := post("/reviews", url.Values{"body": {"Sturdy kettle, boils fast and the handle stays cool. Would buy again."},
		"stars": {"5"}, "product": {"kettle-1"}, "user": {"u-ada"}}, ""); code != http.StatusCreated {
		t.Fatalf("a review: %d", code)
	}
	if h := shop.last(); h.Get(gateway.HeaderModeration) != "publish" || h.Get(gateway.HeaderEventID) == "" {
		t.Errorf("a plain review: moderation %q, event %q", h.Get(gateway.HeaderModeration), h.Get(gateway.HeaderEventID))
	}
	spam := url.Values{"body": {"BEST PRICES!!! cheap replica watches, casino bonus, crypto giveaway: visit http://198.51.100.7/free-login-verify now and claim your prize!!!"},
		"stars": {"5"}, "product": {"kettle-1"}, "user": {"u-spam"}}
	code := post("/reviews", spam, "")
	if h := shop.last(); code == http.StatusCreated && h.Get(gateway.HeaderModeration) == "publish" {
		t.Errorf("a spam review was published (moderation %q)", h.Get(gateway.HeaderModeration))
	}

	// Credential stuffing from one network: many accounts, wrong
	// passwords. The outcomes reach the API, which soon refuses the
	// network's attempts; the gateway stops them before the shop.
	stopped := 0
	for i := range 60 {
		code := post("/login", url.Values{"email": {fmt.Sprintf("victim%d@example.com", i)}, "password": {"guess"}}, "")
		if code == http.StatusForbidden {
			stopped++
		}
		time.Sleep(20 * time.Millisecond) // let the outcome reports land
	}
	if stopped == 0 {
		t.Errorf("none of 60 stuffing attempts was stopped at the gateway")
	}
	t.Logf("stuffing: %d of 60 attempts stopped at the gateway", stopped)
}
