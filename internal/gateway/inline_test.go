package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestProtectPolicy(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"routes:\n  - {name: a, path: /login, protect: login}", "routes[0].account_field: required by protect: login"},
		{"routes:\n  - {name: a, path: /r, protect: content}", "routes[0].content: protect: content needs content.text or content.title"},
		{"routes:\n  - {name: a, path: /r, protect: content, content: {kind: essay, text: body}}", `routes[0].content.kind: "essay" is not one of review, question`},
		{"routes:\n  - {name: a, path: /r, protect: everything}", `routes[0].protect: "everything" is not login or content`},
		{"routes:\n  - {name: a, path: /r, priority: high, content: {kind: review, text: body}}", "routes[0].content: only with protect: content"},
		{"routes:\n  - {name: a, path: /r, account_field: e, protect: login, success_statuses: [302, 500]}", "routes[0].success_statuses: 500 is not a status from 200 to 499"},
		{"routes:\n  - {name: a, path: /r, priority: high, success_statuses: [302]}", "routes[0].success_statuses: only with protect: login"},
	} {
		if _, err := ReadPolicy(strings.NewReader(tc.policy)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
	p, err := ReadPolicy(strings.NewReader("routes:\n  - {name: reviews, path: /r/*, protect: content, content: {kind: review, text: ' body ', rating: stars}}"))
	if err != nil || p.Routes[0].Content != (ContentFields{Kind: "review", Text: "body", Rating: "stars"}) {
		t.Fatalf("content route: %+v, %v", p.Routes, err)
	}
	// A protected route needs the API.
	cfg := testConfig()
	cfg.Upstream, cfg.Policy = mustURL(t, "http://127.0.0.1:1"), p
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `risk_url: required by route "reviews"`) {
		t.Errorf("no risk API: %v", err)
	}
	cfg.Risk = RiskAPI{URL: "http://127.0.0.1:1", Timeout: time.Second}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "risk_key_file: required") {
		t.Errorf("no key: %v", err)
	}
}

func TestLoginOutcome(t *testing.T) {
	plain, redirects := &Route{}, &Route{SuccessStatuses: []int{302, 303}}
	for _, tc := range []struct {
		rt     *Route
		status int
		want   string
	}{
		{plain, 200, "success"}, {plain, 302, "success"}, {plain, 401, "bad_password"}, {plain, 403, "bad_password"},
		{plain, 429, ""}, {plain, 500, ""}, {plain, 503, ""},
		{redirects, 302, "success"}, {redirects, 200, "bad_password"}, {redirects, 401, "bad_password"}, {redirects, 502, ""},
	} {
		if got := loginOutcome(tc.rt, tc.status); got != tc.want {
			t.Errorf("success %v, status %d: %q, want %q", tc.rt.SuccessStatuses, tc.status, got, tc.want)
		}
	}
}

// When the risk API does not answer, protected requests pass (fail open),
// counted, and the shop hears no decision, not even one the client made up.
func TestProtectFailsOpen(t *testing.T) {
	p, err := ReadPolicy(strings.NewReader("routes:\n  - {name: login, methods: [POST], path: /login, account_field: email, protect: login}"))
	if err != nil {
		t.Fatal(err)
	}
	var seen http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer up.Close()
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy = p
		c.Risk = RiskAPI{URL: "http://127.0.0.1:1", Key: "sg_test", Timeout: 200 * time.Millisecond}
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader("email=ada%40example.com&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(HeaderDecision, "allow")
	req.Header.Set(HeaderEventID, "ev_forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || seen == nil {
		t.Fatalf("status %d, shop reached %v", resp.StatusCode, seen != nil)
	}
	if seen.Get(HeaderDecision) != "" || seen.Get(HeaderEventID) != "" {
		t.Errorf("the shop heard %q / %q", seen.Get(HeaderDecision), seen.Get(HeaderEventID))
	}
	if n := testCounter(t, g, "shopguard_gateway_protected_requests_total"); n != 1 {
		t.Errorf("protected requests counted %v, want 1 (error)", n)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// FuzzBodyFields: whatever the body, reading its fields never fails and
// leaves the body for the shop exactly as it came.
func FuzzBodyFields(f *testing.F) {
	f.Add("application/json", `{"email":"a@b.c","stars":5,"ok":true,"x":null}`)
	f.Add("application/x-www-form-urlencoded", "email=a%40b.c&body=hi&stars=4")
	f.Add("application/json; charset=utf-8", `{"email":`)
	f.Add("text/plain", "email=a")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		got := bodyFields(r, "email", "", "stars", "ok")
		if len(got) != 4 || got[1] != "" {
			t.Fatalf("fields %q", got)
		}
		rest, err := io.ReadAll(r.Body)
		if err != nil || string(rest) != body {
			t.Fatalf("the shop gets %q (%v), want %q", rest, err, body)
		}
	})
}
